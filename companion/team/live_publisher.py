"""The agent's side of the live floor: `LivePublisher` sends this machine's live state (a
`companion.team.live_state.LiveState`, kept from the call's events) to the team server's live row,
raises the agent's hand, and hands supervisors' messages to the app.

- **Best effort, latest wins, never queued.** The state is written at most once per
  `publish_every_s` and at once on a change after that, at least every `heartbeat_s`; what is sent is
  always the newest state, and a state overtaken before it could be sent is simply gone (finished
  calls go through the outbox, not here). A raised hand is a flag: it is sent once the server answers.
- **The call never waits for it.** Everything that touches the network runs on the publisher's own
  daemon thread with its own connection. The bus subscriber only replaces a small frozen value under
  a lock. A dropped connection is tried again after `reconnect_first_s`, doubling up to
  `reconnect_max_s` (shortened at random by up to a fifth, so a room of agents does not come back at
  once), for as long as it takes; the state comes back with the connection.
- **Never audio**, and words only as companion.team.live_state says (the team's policy, redacted).
- Every connection goes through companion.team.connection.connect (companion.team.transport's rules,
  the schema version checked).

`start_live_publisher(session, …)` starts one when this machine is connected to a team server as an
agent and [live] publish is on (None otherwise); `stop()` marks the agent offline (best effort, a
bounded wait) and ends the thread.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Optional

from companion.events import MessageFromSupervisor
from companion.team import server_live
from companion.team.errors import TeamError
from companion.team.live_alerts import LiveTuning
from companion.team.live_state import LiveState, LiveTracker
from companion.team.server_schema_v3 import MAX_MESSAGE

MESSAGE_LOOK_S = 1.0  # how often a publisher with nothing to write looks for a supervisor's message



@dataclass(frozen=True)
class SupervisorMessage:
    """A supervisor's short text to this agent (shown as a banner of its own, not a coaching cue)."""

    id: int
    sender: str
    text: str
    at: datetime
    call_started_at: Optional[datetime] = None


@dataclass(frozen=True)
class LiveStatus:
    state: str            # "connected", "unreachable", "refused"
    message: str


class LivePublisher(threading.Thread):
    def __init__(self, dsn: str, tuning: Optional[LiveTuning] = None, password: Optional[str] = None,
                 on_message: Optional[Callable[[SupervisorMessage], None]] = None,
                 on_status: Optional[Callable[[LiveStatus], None]] = None):
        super().__init__(name="team-live", daemon=True)
        self.dsn, self.password = dsn, password
        self.tuning = tuning or LiveTuning()
        self.on_message, self.on_status = on_message, on_status
        self._wake = threading.Event()
        self._halt = threading.Event()
        self.tracker = LiveTracker(on_change=self._wake.set)
        self._hand_note: Optional[str] = None   # a raised hand not yet on the server ("" when without a note)
        self._hand_lock = threading.Lock()
        self.status: Optional[LiveStatus] = None
        self.sent = 0                            # states written (for tests and the bench)
        self.failures = 0
        self.last_message_id: Optional[int] = None
        self.messages: list[SupervisorMessage] = []
        self._conn: Any = None
        self._session: Any = None                # the call followed (attach): a message during it goes on its bus

    # --- the app's side (any thread, never blocks) ------------------------------------------------
    def attach(self, session: Any) -> "LivePublisher":
        """Follow `session`'s call: its bus's events, and its checklist's current step when it has one."""
        def current() -> Optional[str]:
            checklist = getattr(session, "checklist", None)
            if checklist is None:
                return None
            step_id = checklist.current  # a property: the step the conversation is at
            for step in checklist.playbook.steps:
                if step.id == step_id:
                    return str(step.title)
            return None

        self.tracker.current_step = current
        session.bus.subscribe(self.tracker)
        self._session = session
        return self

    def __call__(self, event: object) -> None:
        """A bus subscriber, for callers that do not use attach()."""
        self.tracker(event)

    def raise_hand(self, note: Optional[str] = None) -> None:
        """The agent asks their supervisors for help: on the server as soon as it answers."""
        with self._hand_lock:
            self._hand_note = (note or "").strip()[:MAX_MESSAGE]
        self.tracker.raise_hand(True)
        self._wake.set()

    def lower_hand(self) -> None:
        with self._hand_lock:
            self._hand_note = None
        self.tracker.raise_hand(False)

    @property
    def hand_up(self) -> bool:
        return self.tracker.snapshot().hand_up

    def set_idle(self) -> None:
        self.tracker.idle()

    def stop(self, timeout: float = 2.0) -> None:
        """Mark the agent offline (written if the server answers within `timeout`) and end the thread."""
        self.tracker.offline()
        self._halt.set()
        self._wake.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)

    # --- the thread -----------------------------------------------------------------------------------
    def run(self) -> None:
        retry_at = 0.0
        last_at = -1e9
        last_sent: Optional[LiveState] = None
        last_look = 0.0  # time.monotonic() of the last look for messages (each write looks too)
        seq = 0
        t = self.tuning
        try:
            while True:
                halting = self._halt.is_set()
                now = time.monotonic()
                if self._conn is None:
                    if now < retry_at and not halting:
                        self._wake.wait(min(0.5, retry_at - now))
                        self._wake.clear()
                        continue
                    if halting and self.failures:
                        break  # the server was away: leaving never waits for it
                    try:
                        self._connect()
                        self.failures = 0
                        last_sent = None  # whatever it had before, it gets the newest now
                    except TeamError as exc:
                        self._failed(exc.message)
                        retry_at = time.monotonic() + self._backoff()
                        if halting:
                            break
                        continue
                state = self.tracker.snapshot()
                now = time.monotonic()
                with self._hand_lock:
                    hand = self._hand_note
                changed = state != last_sent
                due = (changed and now - last_at >= t.publish_every_s) or now - last_at >= t.heartbeat_s \
                    or hand is not None or (halting and changed)
                if due:
                    seq += 1
                    try:
                        self._write(state, seq, hand)
                        last_sent, last_at = state, time.monotonic()
                        last_look = last_at
                    except Exception as exc:  # noqa: BLE001 - any failure: drop the connection, try again later
                        self._lost(exc)
                        retry_at = time.monotonic() + self._backoff()
                        continue
                if halting:
                    break
                if not due and changed:  # a change within the second: sent when the second is up
                    self._halt.wait(max(0.01, t.publish_every_s - (time.monotonic() - last_at)))
                else:  # a change (or a hand) wakes it at once
                    self._wake.wait(max(0.01, MESSAGE_LOOK_S - (time.monotonic() - last_look)))
                self._wake.clear()  # the next pass compares the newest state with what was sent anyway
                if time.monotonic() - last_look >= MESSAGE_LOOK_S:
                    try:
                        self._fetch_messages()
                        last_look = time.monotonic()
                    except Exception as exc:  # noqa: BLE001
                        self._lost(exc)
                        retry_at = time.monotonic() + self._backoff()
        finally:
            self._close()

    def _backoff(self) -> float:
        t = self.tuning
        wait = min(t.reconnect_max_s, t.reconnect_first_s * 2 ** max(0, self.failures - 1))
        return float(wait * (1.0 - 0.2 * random.random()))

    def _connect(self) -> None:
        from companion.team.connection import connect
        from companion.team.server_calls import policy
        from companion.team.server_errors import team_errors

        conn = connect(self.dsn, self.password)
        try:
            with team_errors("starting the live state"):
                self.tracker.share_text = bool(policy(conn)["share_text"])
                if self.last_message_id is None:  # from now on: what was said to an earlier session is not news
                    self.last_message_id = server_live.my_newest_message_id(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        self._say(LiveStatus("connected", "live state: connected to the team server"))
        self._fetch_messages()  # any sent while the connection was down

    def _write(self, state: LiveState, seq: int, hand: Optional[str]) -> None:
        """The state (and a raised hand) in one transaction, and any message for the agent with it."""
        rows = server_live.publish(self._conn, state.row(seq), hand, self.last_message_id or 0)
        if hand is not None:
            with self._hand_lock:
                if self._hand_note == hand:
                    self._hand_note = None
        self.sent += 1
        self._deliver(rows)

    def _fetch_messages(self) -> None:
        self._deliver(server_live.my_messages(self._conn, self.last_message_id or 0))

    def _deliver(self, rows: Any) -> None:
        for row in rows:
            if row[0] <= (self.last_message_id or 0):
                continue
            self.last_message_id = row[0]
            message = SupervisorMessage(row[0], row[1], row[2], row[3], row[4])
            self.messages.append(message)
            if self.tracker.snapshot().hand_up:
                self.lower_hand()  # a supervisor answered
            if self._on_the_call(message):
                continue  # the call's bus carries it: the window and `companion live` show it from there, the store keeps it
            if self.on_message is not None:
                try:
                    self.on_message(message)
                except Exception:  # noqa: BLE001 - a view's bug never stops the publisher
                    pass

    def _on_the_call(self, message: SupervisorMessage) -> bool:
        """During a call: the message as an event on the call's bus (companion.events.MessageFromSupervisor), at
        the call's time now, so it is kept with the call like everything else on it. False outside a call."""
        session = self._session
        if session is None or self.tracker.snapshot().state not in ("on_call", "paused"):
            return False
        ended = getattr(session, "ended", None)
        if ended is not None and ended.is_set():
            return False
        try:
            t = float(session.now())
        except Exception:  # noqa: BLE001 - a session without a clock: the newest call time the bus gave
            t = self.tracker.snapshot().call_s
        session.bus.publish(MessageFromSupervisor(round(max(0.0, t), 2), message.sender, message.text, message.id))
        return True

    def _lost(self, exc: BaseException) -> None:
        from companion.team.server_errors import explain

        self._close()
        error = exc if isinstance(exc, TeamError) else explain(exc, "sending the live state")
        self._failed(error.message)

    def _failed(self, message: str) -> None:
        self.failures += 1
        state = "unreachable" if "cannot be reached" in message or "was lost" in message else "refused"
        self._say(LiveStatus(state, f"live state: {message}"))

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001
                pass

    def _say(self, status: LiveStatus) -> None:
        old, self.status = self.status, status
        if old == status or self.on_status is None:
            return
        try:
            self.on_status(status)
        except Exception:  # noqa: BLE001
            pass


def start_live_publisher(session: Any = None, on_message: Optional[Callable[[SupervisorMessage], None]] = None,
                         on_status: Optional[Callable[[LiveStatus], None]] = None) -> Optional[LivePublisher]:
    """A running publisher following `session` (if given) when this machine is connected to a team
    server as an agent and its [live] publish is on; None otherwise (nothing to do). A team.toml that
    cannot be read is said through `on_status` and nothing is started."""
    from companion.team.live_alerts import load_tuning
    from companion.team.settings import load

    try:
        settings = load()
        if not settings.uploads:
            return None
        tuning = load_tuning()
    except TeamError as exc:
        if on_status is not None:
            on_status(LiveStatus("refused", f"live state: {exc.message}"))
        return None
    if not tuning.publish:
        return None
    assert settings.dsn is not None  # uploads: connected
    publisher = LivePublisher(settings.dsn, tuning, on_message=on_message, on_status=on_status)
    if session is not None:
        publisher.attach(session)
    publisher.start()
    return publisher
