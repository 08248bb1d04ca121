"""The supervisor's side of the live floor, without a window: `companion team watch [--json]` prints
one line per change of an agent's live state (agent, team, state, call time, mood, last prompt,
alerts), per raised hand and per message, for wallboards, scripts and tests. The floor view
(ui/team_floor.py) reads the same rows through `LiveFloor`.

How it stays current: the watcher LISTENs on the server's `cc_live` and `cc_live_messages` channels
(companion.team.server_schema_v3). A notification carries only a row's id; the watcher reads the rows
it names under row-level security, so it sees exactly the agents its login may see, and nothing of
anyone else. Every `refresh_s` it also reads all its rows again: a row nobody writes any more turns
into "connection lost" (by the server's clock) without a notification, and a notification missed
while the connection was down is made up for. A dropped connection is said once on stderr and tried
again, doubling the wait up to 30 s.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from datetime import datetime
from typing import IO, Callable, Optional

from companion.team.errors import TeamError
from companion.team.live_alerts import ALERT_LABELS, STATE_LABELS, LiveTuning, alerts, shown_state
from companion.team.server_schema_v3 import CHANNEL, MAX_MESSAGE, MESSAGE_CHANNEL

_ROW = ("SELECT l.id, l.agent_role, (SELECT string_agg(t.team, ',' ORDER BY t.team) FROM cc.team_members t "
        "WHERE t.role = l.agent_role) AS team, l.state, l.call_started_at, l.call_s, l.talk_share, l.last_prompt, "
        "l.last_prompt_kind, l.last_prompt_reason, l.last_prompt_s, l.customer_mood, l.mood_since_s, l.prompts, "
        "l.interruptions, l.interruptions_by_agent, l.prompt_times, l.talkover_times, l.checklist_step, l.hand_up, "
        "l.live_text, l.updated_at, extract(epoch FROM clock_timestamp() - l.updated_at)::float8 AS age_s "
        "FROM cc.live_state l")
_MESSAGE = ("SELECT m.id, m.kind, m.from_role, m.to_role, m.text, m.at, m.call_started_at, "
            "(SELECT string_agg(t.team, ',' ORDER BY t.team) FROM cc.team_members t "
            "WHERE t.role = coalesce(m.to_role, m.from_role)) AS team FROM cc.live_messages m")
_VOLATILE = ("updated_at", "age_s")


def _iso(value) -> Optional[str]:
    return value.isoformat() if isinstance(value, datetime) else value


def agent_view(row: dict, tuning: LiveTuning) -> dict:
    """One agent as `watch --json` prints it and the floor view draws it."""
    from companion.timeline import MOOD_LABELS, clock

    state = shown_state(row, tuning)
    found = alerts(row, tuning)
    mood = row.get("customer_mood")
    return {"event": "state", "agent": row["agent_role"], "team": row.get("team"), "state": state,
            "state_label": STATE_LABELS.get(state, state), "call_s": round(float(row.get("call_s") or 0.0), 1),
            "call_time": clock(float(row.get("call_s") or 0.0)),
            "call_started_at": _iso(row.get("call_started_at")), "mood": mood,
            "mood_label": MOOD_LABELS.get(mood) if mood else None, "talk_share": row.get("talk_share"),
            "last_prompt": row.get("last_prompt"), "last_prompt_kind": row.get("last_prompt_kind"),
            "last_prompt_reason": row.get("last_prompt_reason"), "prompts": row.get("prompts"),
            "interruptions": row.get("interruptions"), "interruptions_by_agent": row.get("interruptions_by_agent"),
            "checklist_step": row.get("checklist_step"), "hand_up": bool(row.get("hand_up")),
            "text": row.get("live_text"), "alerts": found, "alert": found[0] if found else None,
            "updated_at": _iso(row.get("updated_at")),
            "age_s": None if row.get("age_s") is None else round(float(row["age_s"]), 1)}


def message_view(row: dict) -> dict:
    kind, agent = row["kind"], row["to_role"] if row["kind"] == "message" else row["from_role"]
    view = {"event": "hand" if kind == "hand" else "message", "agent": agent, "team": row.get("team"),
            "text": row.get("text"), "at": _iso(row.get("at")), "call_started_at": _iso(row.get("call_started_at")),
            "alert": "raise_hand" if kind == "hand" else None}
    if kind == "message":
        view["from"] = row["from_role"]
    return view


class LiveFloor:
    """What one supervisor's login may see of the floor, kept current from the server: `poll(timeout)`
    waits for notifications (up to `timeout`) and returns the views that changed since the last call."""

    def __init__(self, dsn: str, tuning: LiveTuning, password: Optional[str] = None, team: Optional[str] = None,
                 refresh_s: float = 2.0):
        self.dsn, self.tuning, self.password, self.team, self.refresh_s = dsn, tuning, password, team, refresh_s
        self.conn = None
        self.agents: dict[str, dict] = {}       # agent -> last view given
        self._shown: dict[str, dict] = {}       # agent -> that view without the volatile keys
        self._last_message = 0
        self._refreshed = 0.0

    def open(self) -> list[dict]:
        """Connect, listen, and the whole floor as it is now (one view per agent)."""
        from companion.team.connection import connect, team_errors

        self.close()
        conn = connect(self.dsn, self.password)
        try:
            with team_errors("watching the team live"):
                conn.execute(f"LISTEN {CHANNEL}")
                conn.execute(f"LISTEN {MESSAGE_CHANNEL}")
                if not self._last_message:
                    self._last_message = conn.execute("SELECT coalesce(max(id), 0) FROM cc.live_messages").fetchone()[0]
        except BaseException:
            conn.close()
            raise
        self.conn = conn
        self._shown.clear()
        return self._changes(self._rows(None)) + self._messages()

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001
                pass

    def _rows(self, ids: Optional[list[int]]) -> list[dict]:
        from companion.team.connection import team_errors

        with team_errors("reading the live floor"):
            cur = self.conn.execute(_ROW + (" WHERE l.id = ANY(%s)" if ids is not None else "") + " ORDER BY l.agent_role",
                                    (ids,) if ids is not None else None)
            names = [d.name for d in cur.description]
            rows = [dict(zip(names, r)) for r in cur.fetchall()]
        if ids is None:
            self._refreshed = time.monotonic()
        return [r for r in rows if self.team is None or self.team in (r.get("team") or "").split(",")]

    def _messages(self) -> list[dict]:
        from companion.team.connection import team_errors

        with team_errors("reading the live messages"):
            cur = self.conn.execute(_MESSAGE + " WHERE m.id > %s ORDER BY m.id", (self._last_message,))
            names = [d.name for d in cur.description]
            rows = [dict(zip(names, r)) for r in cur.fetchall()]
        if rows:
            self._last_message = max(r["id"] for r in rows)
        return [message_view(r) for r in rows
                if self.team is None or self.team in (r.get("team") or "").split(",")]

    def _changes(self, rows: list[dict]) -> list[dict]:
        out = []
        for row in rows:
            view = agent_view(row, self.tuning)
            key = {k: v for k, v in view.items() if k not in _VOLATILE}
            if self._shown.get(view["agent"]) != key:
                self._shown[view["agent"]] = key
                self.agents[view["agent"]] = view
                out.append(view)
            else:
                self.agents[view["agent"]] = view
        return out

    def poll(self, timeout: float) -> list[dict]:
        """Wait up to `timeout` for the server's notifications; the views that changed (TeamError when
        the connection is lost)."""
        from companion.team.connection import explain

        states, messages = set(), False
        deadline = time.monotonic() + timeout
        try:
            def take(note) -> None:
                nonlocal messages
                if note.payload.startswith("s") and note.payload[1:].isdigit():
                    states.add(int(note.payload[1:]))
                elif note.payload.startswith("m"):
                    messages = True

            while True:
                left = min(deadline, self._refreshed + self.refresh_s) - time.monotonic()
                got = False
                # never break out of notifies(): the rest of a packet would be lost with the generator
                for note in self.conn.notifies(timeout=max(0.0, left), stop_after=1):
                    got = True
                    take(note)
                if got:  # what arrives with it: one query for a burst of notifications
                    for note in self.conn.notifies(timeout=0.02, stop_after=1000):
                        take(note)
                    break
                if time.monotonic() >= deadline or time.monotonic() >= self._refreshed + self.refresh_s:
                    break
            out = []
            if time.monotonic() >= self._refreshed + self.refresh_s:
                out += self._changes(self._rows(None))
            elif states:
                out += self._changes(self._rows(sorted(states)))
            if messages:
                out += self._messages()
            return out
        except TeamError:
            raise
        except Exception as exc:  # noqa: BLE001 - psycopg's, on a lost connection
            raise explain(exc, "watching the team live") from None


def line(view: dict) -> str:
    """A view as one line for a person."""
    from companion.timeline import clock

    when = time.strftime("%H:%M:%S")
    team = f" ({view['team']})" if view.get("team") else ""
    if view["event"] == "hand":
        note = f": {view['text']}" if view.get("text") else ""
        return f"{when}  {view['agent']}{team} RAISED A HAND{note}"
    if view["event"] == "message":
        return f"{when}  {view['from']} → {view['agent']}{team}: {view['text']}"
    parts = [f"{when}  {view['agent']}{team}", view["state_label"]]
    if view["state"] in ("on_call", "paused", "wrapping_up"):
        parts.append(clock(view["call_s"]))
        if view.get("mood_label"):
            parts.append(f"customer {view['mood_label'].lower()}")
        if view.get("last_prompt"):
            parts.append(f"last prompt: {view['last_prompt']}")
    if view["alerts"]:
        parts.append("ALERT: " + ", ".join(ALERT_LABELS.get(a, a) for a in view["alerts"]))
    return "  ".join(parts)


def watch(dsn: str, tuning: LiveTuning, out: IO[str] = sys.stdout, err: IO[str] = sys.stderr, as_json: bool = False,
          team: Optional[str] = None, stop: Optional[threading.Event] = None, duration: Optional[float] = None,
          password: Optional[str] = None, refresh_s: float = 2.0,
          say: Optional[Callable[[str], None]] = None) -> int:
    """Print the floor, then every change, until `stop` is set or `duration` passes. A server that
    refuses (a wrong password, an account that is not a member, a schema this app does not know) ends
    it (TeamError); one that cannot be reached, or drops the connection, is tried again."""
    from companion.team.errors import TeamUnreachable

    stop = stop or threading.Event()
    say = say or (lambda m: print(f"companion: {m}", file=err, flush=True))
    end = None if duration is None else time.monotonic() + duration
    floor = LiveFloor(dsn, tuning, password, team, refresh_s)
    failures, first = 0, True

    def emit(views: list[dict]) -> None:
        for view in views:
            print(json.dumps(view, ensure_ascii=False) if as_json else line(view), file=out, flush=True)

    try:
        while not stop.is_set() and (end is None or time.monotonic() < end):
            if floor.conn is None:
                try:
                    emit(floor.open())
                    if failures or first:
                        say("watching the team live" + (" again" if failures else "") + " (Ctrl-C ends it).")
                    failures, first = 0, False
                except TeamUnreachable as exc:
                    failures += 1
                    wait = min(30.0, 2.0 ** (failures - 1)) * (1.0 - 0.2 * random.random())
                    say(f"{exc.message} Trying again in {wait:.0f} s.")
                    stop.wait(wait if end is None else max(0.0, min(wait, end - time.monotonic())))
                    continue
            try:
                left = 0.5 if end is None else max(0.0, min(0.5, end - time.monotonic()))
                emit(floor.poll(left))
            except TeamUnreachable as exc:
                say(exc.message)
                floor.close()
                failures = max(failures, 1)
    finally:
        floor.close()
    return 0


def send_message(conn, agent: str, text: str) -> int:
    """A supervisor's message to `agent` (one of their team's); returns its id. TeamError when the text is
    empty or too long, or the agent is not one this login may reach (row-level security)."""
    from companion.team.connection import team_errors

    text = (text or "").strip()
    if not text:
        raise TeamError("The message is empty: give the text to show the agent.")
    if len(text) > MAX_MESSAGE:
        raise TeamError(f"The message is {len(text)} characters; at most {MAX_MESSAGE} fit the agent's banner.")
    import psycopg

    try:
        with conn.transaction():
            return conn.execute("INSERT INTO cc.live_messages (kind, to_role, text) VALUES ('message', %s, %s) "
                                "RETURNING id", (agent, text)).fetchone()[0]
    except psycopg.errors.InsufficientPrivilege:
        raise TeamError(f"{agent} is not an agent in your team(s) on the team server; nothing was sent.") from None
    except psycopg.Error as exc:
        with team_errors(f"sending a message to {agent}"):
            raise exc
