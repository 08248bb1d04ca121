"""The supervisor's side of the live floor, without a window: `companion team watch [--json]` prints
one line per change of an agent's live state (agent, team, state, call time, mood, last prompt,
alerts), per raised hand and per message, for wallboards, scripts and tests. The floor view
(ui/team/team_floor.py) reads the same rows through `LiveFloor`.

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
from typing import IO, Any, Callable, Optional

from companion.team import server_live
from companion.team.errors import TeamError
from companion.team.live_alerts import ALERT_LABELS, STATE_LABELS, LiveTuning, alerts, shown_state
from companion.team.server_schema_v3 import MAX_MESSAGE

BUSY_PER_S = 100.0   # live rows written a second above which a floor stops listening for each and reads in batches
BATCH_S = 0.5        # a busy floor reads the rows written since its last look this often
QUIET_PER_S = 20.0   # below this (for QUIET_FOR_S), a batching floor listens for each row again
QUIET_FOR_S = 5.0
TEAMS_EVERY_S = 60.0  # who is in which team is read again this often (and when an agent new to the floor shows)
MARGIN_S = 1.0       # a batch reads back this far before the newest row it has seen (a write committed late)
_VOLATILE = ("updated_at", "age_s")


def _iso(value: Any) -> Optional[str]:
    return value.isoformat() if isinstance(value, datetime) else value


def _time(value: Any) -> Optional[float]:
    return None if value is None else round(float(value), 2)


def _times(values: Any) -> list[float]:
    """The recent prompts' (or talk-overs') call times the row holds (the live timeline draws them)."""
    return [round(float(v), 2) for v in values or () if v is not None]


def agent_view(row: dict[str, Any], tuning: LiveTuning) -> dict[str, Any]:
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
            "last_prompt_reason": row.get("last_prompt_reason"), "last_prompt_s": _time(row.get("last_prompt_s")),
            "mood_since_s": _time(row.get("mood_since_s")), "prompts": row.get("prompts"),
            "prompt_times": _times(row.get("prompt_times")), "talkover_times": _times(row.get("talkover_times")),
            "interruptions": row.get("interruptions"), "interruptions_by_agent": row.get("interruptions_by_agent"),
            "checklist_step": row.get("checklist_step"), "hand_up": bool(row.get("hand_up")),
            "text": row.get("live_text"), "alerts": found, "alert": found[0] if found else None,
            "updated_at": _iso(row.get("updated_at")),
            "age_s": None if row.get("age_s") is None else round(float(row["age_s"]), 1)}


def message_view(row: dict[str, Any]) -> dict[str, Any]:
    kind, agent = row["kind"], row["to_role"] if row["kind"] == "message" else row["from_role"]
    view = {"event": "hand" if kind == "hand" else "message", "agent": agent, "team": row.get("team"),
            "text": row.get("text"), "at": _iso(row.get("at")), "call_started_at": _iso(row.get("call_started_at")),
            "alert": "raise_hand" if kind == "hand" else None}
    if kind == "message":
        view["from"] = row["from_role"]
    return view


class LiveFloor:
    """What one supervisor's login may see of the floor, kept current from the server: `poll(timeout)`
    waits for the server (up to `timeout`) and returns the views that changed since the last call.

    A quiet floor is pushed: each live row written is a notification, and the rows named are read at
    once. A busy one (more than BUSY_PER_S rows a second: hundreds of agents on calls) stops listening
    for each row (every notification wakes every listening backend on the server, which costs more
    than the rows themselves) and reads the rows written since its last look every BATCH_S instead;
    it listens again once the floor is quiet. Messages and hands are always pushed."""

    def __init__(self, dsn: str, tuning: LiveTuning, password: Optional[str] = None, team: Optional[str] = None,
                 refresh_s: float = 2.0):
        self.dsn, self.tuning, self.password, self.team, self.refresh_s = dsn, tuning, password, team, refresh_s
        self.conn: Any = None
        self.agents: dict[str, dict[str, Any]] = {}       # agent -> last view given
        self._shown: dict[str, dict[str, Any]] = {}       # agent -> that view without the volatile keys
        self._teams: dict[str, str] = {}        # agent -> their teams, comma-separated
        self._teams_read = 0.0
        self._last_message = 0
        self._refreshed = 0.0
        self.batching = False                   # reading in batches (a busy floor), not listening for each row
        self._newest = None                     # the newest updated_at seen (the server's clock)
        self._next_batch = 0.0
        self._quiet_since: Optional[float] = None

    def open(self) -> list[dict[str, Any]]:
        """Connect, listen, and the whole floor as it is now (one view per agent)."""
        from companion.team.connection import connect
        from companion.team.server_errors import team_errors

        self.close()
        conn = connect(self.dsn, self.password)
        try:
            with team_errors("watching the team live"):
                server_live.listen(conn, rows=not self.batching)
                if not self._last_message:
                    self._last_message = server_live.newest_message_id(conn)
        except BaseException:
            conn.close()
            raise
        self.conn = conn
        self._shown.clear()
        return self._changes(self._rows()) + self._messages()

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001
                pass

    def _query(self, read: Callable[..., list[dict[str, Any]]], *args: Any,
               what: str = "reading the live floor", **kwargs: Any) -> list[dict[str, Any]]:
        from companion.team.server_errors import team_errors

        with team_errors(what):
            return read(self.conn, *args, **kwargs)

    def _rows(self, ids: Optional[list[int]] = None, since: Any = None) -> list[dict[str, Any]]:
        """Every row (a refresh; the teams read again too), the rows with these ids, or those written since."""
        if ids is not None:
            rows = self._query(server_live.floor_rows, ids=ids)
        elif since is not None:
            rows = self._query(server_live.floor_rows, since=since, margin_s=MARGIN_S)
        else:
            if not self._teams or time.monotonic() - self._teams_read >= TEAMS_EVERY_S:
                from companion.team.server_errors import team_errors

                with team_errors("reading the teams"):
                    self._teams = server_live.team_names(self.conn)
                self._teams_read = time.monotonic()
            rows = self._query(server_live.floor_rows)
            self._refreshed = time.monotonic()
        if any(r["agent_role"] not in self._teams for r in rows) and (ids is not None or since is not None):
            from companion.team.server_errors import team_errors

            with team_errors("reading the teams"):  # an agent new to this floor
                self._teams = server_live.team_names(self.conn)
        for r in rows:
            r["team"] = self._teams.get(r["agent_role"])
            if self._newest is None or r["updated_at"] > self._newest:
                self._newest = r["updated_at"]
        return [r for r in rows if self._in_team(r["team"])]

    def _in_team(self, teams: Optional[str]) -> bool:
        return self.team is None or self.team in (teams or "").split(",")

    def _messages(self) -> list[dict[str, Any]]:
        rows = self._query(server_live.messages_after, self._last_message, what="reading the live messages")
        if rows:
            self._last_message = max(r["id"] for r in rows)
        out = []
        for r in rows:
            r["team"] = self._teams.get(r["to_role"] if r["kind"] == "message" else r["from_role"])
            if self._in_team(r["team"]):
                out.append(message_view(r))
        return out

    def _changes(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
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

    def poll(self, timeout: float) -> list[dict[str, Any]]:
        """Wait up to `timeout` for the server; the views that changed (TeamError when the connection is
        lost)."""
        from companion.team.server_errors import explain

        states, messages, count = set(), False, 0
        began = time.monotonic()
        deadline = began + timeout

        def take(note: Any) -> None:
            nonlocal messages, count
            if note.payload.startswith("s") and note.payload[1:].isdigit():
                states.add(int(note.payload[1:]))
                count += 1
            elif note.payload.startswith("m"):
                messages = True

        try:
            while True:
                wake = min(deadline, self._refreshed + self.refresh_s)
                if self.batching:
                    wake = min(wake, self._next_batch)
                got = False
                # never break out of notifies(): the rest of a packet would be lost with the generator
                for note in self.conn.notifies(timeout=max(0.0, wake - time.monotonic()), stop_after=1):
                    got = True
                    take(note)
                if got:  # what arrives with it: one query for a burst of notifications
                    for note in self.conn.notifies(timeout=0.05, stop_after=1000):
                        take(note)
                    break
                if time.monotonic() >= wake - 0.001:
                    break
            out = []
            now = time.monotonic()
            if now >= self._refreshed + self.refresh_s:
                out += self._changes(self._rows())
            elif self.batching and now >= self._next_batch:
                self._next_batch = now + BATCH_S
                newest = self._newest
                rows = self._rows(since=newest) if newest is not None else self._rows()
                changed = self._changes(rows)
                out += changed
                self._settle(len(changed) / BATCH_S, now)
            elif states:
                out += self._changes(self._rows(sorted(states)))
            if messages:
                out += self._messages()
            if not self.batching and count / max(0.25, time.monotonic() - began) > BUSY_PER_S:
                self._batch()
            return out
        except TeamError:
            raise
        except Exception as exc:  # noqa: BLE001 - psycopg's, on a lost connection
            raise explain(exc, "watching the team live") from None

    def _batch(self) -> None:
        """A busy floor: stop listening for each row; read them in batches."""
        server_live.unlisten_rows(self.conn)
        self.batching, self._next_batch, self._quiet_since = True, time.monotonic(), None

    def _settle(self, rate: float, now: float) -> None:
        """A batching floor that has been quiet for QUIET_FOR_S listens for each row again."""
        if rate >= QUIET_PER_S:
            self._quiet_since = None
        elif self._quiet_since is None:
            self._quiet_since = now
        elif now - self._quiet_since >= QUIET_FOR_S:
            server_live.listen(self.conn, messages=False)
            self.batching = False


def line(view: dict[str, Any]) -> str:
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

    def emit(views: list[dict[str, Any]]) -> None:
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


def send_message(conn: Any, agent: str, text: str) -> int:
    """A supervisor's message to `agent` (one of their team's); returns its id. TeamError when the text is
    empty or too long, or the agent is not one this login may reach (row-level security)."""
    from companion.team.server_errors import team_errors

    text = (text or "").strip()
    if not text:
        raise TeamError("The message is empty: give the text to show the agent.")
    if len(text) > MAX_MESSAGE:
        raise TeamError(f"The message is {len(text)} characters; at most {MAX_MESSAGE} fit the agent's banner.")
    import psycopg

    try:
        return server_live.send_message(conn, agent, text)
    except psycopg.errors.InsufficientPrivilege:
        raise TeamError(f"{agent} is not an agent in your team(s) on the team server; nothing was sent.") from None
    except psycopg.Error as exc:
        with team_errors(f"sending a message to {agent}"):
            raise exc
