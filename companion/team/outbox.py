"""The local outbox: finished team calls waiting for the team server, on the agent's SQLite store.

A call enters the outbox in the same SQLite transaction that closes it (`enqueue_closed`, from the
recorder's CallEnded write and from `_close_interrupted` for a call a crash left open), so a call is
never closed without being queued, nor queued half-written. It leaves only after the server has
committed it (`mark_sent`): delivery is at least once, and the server's upsert on the call's UUID
keeps one copy of a call sent twice.

Which calls are team calls: source 'live' only — calls the agent took on this machine (the window
or `companion live`) while it is connected to a team server as an agent. Not 'demo' (the bundled
demo call), not 'analyze' (someone's recording run through the coach), not 'import' (recordings
from elsewhere: often not this agent's calls, or calls taken before they joined) and not 'bundle'
(another machine's call, which that machine uploads itself).

Every function here runs inside the caller's transaction (`companion.store.db.write`), except
`pending` and `due`, which only read.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from typing import Callable, Optional

TEAM_SOURCES = ("live",)

_listeners: list[Callable[[], None]] = []
_listeners_lock = threading.Lock()


def on_enqueue(listener: Callable[[], None]) -> Callable[[], None]:
    """`listener()` is called (on the closing thread, inside its transaction: only set an Event) each
    time a call is queued in this process; returns a function that removes it."""
    with _listeners_lock:
        _listeners.append(listener)

    def remove() -> None:
        with _listeners_lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return remove


def _notify() -> None:
    with _listeners_lock:
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener()
        except Exception:  # noqa: BLE001 - a listener never stops a call from being closed
            pass


def enqueue_closed(db: sqlite3.Connection, call_id: int) -> bool:
    """In the transaction that closes `call_id` (complete or interrupted): queue it for the team server
    when it is a team call and this machine uploads. True when queued."""
    from companion.team.settings import uploads_here

    row = db.execute("SELECT source FROM calls WHERE id = ?", (call_id,)).fetchone()
    if row is None or row[0] not in TEAM_SOURCES or not uploads_here():
        return False
    enqueue(db, call_id)
    _notify()
    return True


def enqueue(db: sqlite3.Connection, call_id: int, now: Optional[float] = None) -> None:
    """Queue `call_id` (again: due at once, its attempts kept)."""
    now = time.time() if now is None else now
    db.execute("INSERT INTO outbox(call_id, queued_at, attempts, next_try) VALUES (?, ?, 0, ?) "
               "ON CONFLICT(call_id) DO UPDATE SET next_try = excluded.next_try", (call_id, now, now))


def pending(db: sqlite3.Connection) -> int:
    return db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]


def due(db: sqlite3.Connection, now: Optional[float] = None, limit: Optional[int] = None) -> list[dict]:
    """Queued calls whose next try has come (all of them with `now=None`), oldest first:
    {call_id, queued_at, attempts, next_try, last_error}."""
    sql, args = "SELECT call_id, queued_at, attempts, next_try, last_error FROM outbox", []
    if now is not None:
        sql += " WHERE next_try <= ?"
        args.append(now)
    sql += " ORDER BY queued_at, call_id"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [dict(zip(("call_id", "queued_at", "attempts", "next_try", "last_error"), r)) for r in db.execute(sql, args)]


def next_due(db: sqlite3.Connection) -> Optional[float]:
    """When the soonest queued call may be tried (None: nothing queued)."""
    return db.execute("SELECT MIN(next_try) FROM outbox").fetchone()[0]


def mark_sent(db: sqlite3.Connection, call_id: int) -> None:
    """The server has committed the call: it leaves the outbox."""
    db.execute("DELETE FROM outbox WHERE call_id = ?", (call_id,))


def mark_failed(db: sqlite3.Connection, call_id: int, error: str, backoff: Callable[[int, float], float],
                now: Optional[float] = None, postpone: bool = True) -> float:
    """One more failed try: `attempts` + 1, `last_error`, and (with `postpone`) the next try after
    `backoff(attempts, random)` seconds. Returns the next try's time."""
    now = time.time() if now is None else now
    row = db.execute("SELECT attempts, next_try FROM outbox WHERE call_id = ?", (call_id,)).fetchone()
    if row is None:
        return now
    attempts = row[0] + 1
    next_try = now + backoff(attempts, random.random()) if postpone else row[1]
    db.execute("UPDATE outbox SET attempts = ?, last_error = ?, next_try = ? WHERE call_id = ?",
               (attempts, (error or "")[:500], next_try, call_id))
    return next_try


def postpone(db: sqlite3.Connection, call_id: int, until: float, why: str) -> None:
    """Not yet (not a failure: `attempts` stays): the call is looked at again at `until`."""
    db.execute("UPDATE outbox SET next_try = ?, last_error = ? WHERE call_id = ?", (until, (why or "")[:500], call_id))


def note_error(db: sqlite3.Connection, call_ids: list[int], error: str) -> None:
    """The server could not be reached while these waited: said in `last_error`, the backoff is the
    worker's (one for the server, not one per call)."""
    db.executemany("UPDATE outbox SET last_error = ? WHERE call_id = ?", [((error or "")[:500], c) for c in call_ids])


# --- sync_state: a small key-value table ------------------------------------------------------------
def get_state(db: sqlite3.Connection, key: str) -> Optional[str]:
    row = db.execute("SELECT value FROM sync_state WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def all_state(db: sqlite3.Connection) -> dict:
    return {k: v for k, v in db.execute("SELECT key, value FROM sync_state")}


def set_state(db: sqlite3.Connection, **values: object) -> None:
    """Keys: feedback_since (the server's clock, ISO), last_sync_ok (time.time()), unreachable_since,
    refused_since, last_error, server_version; a None value removes the key."""
    for key, value in values.items():
        if value is None:
            db.execute("DELETE FROM sync_state WHERE key = ?", (key,))
        else:
            db.execute("INSERT INTO sync_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       (key, str(value)))
