"""The local outbox: finished team calls waiting for the team server, on the agent's SQLite store.

A call enters the outbox in the same SQLite transaction that closes it (the team package's call-closed
hook, companion.team.queueing, run by the recorder's CallEnded write, by `_close_interrupted` for a call
a crash left open and by salvage: companion.store.hooks), so a call is never closed without being
queued, nor queued half-written. It leaves only after the server has
committed it (`mark_sent`): delivery is at least once, and the server's upsert on the call's UUID
keeps one copy of a call sent twice.

Which calls are team calls (companion.team.queueing decides): source 'live' only — calls the agent
took on this machine (the window or `companion live`) while it is connected to a team server as an
agent. Not 'demo' (the bundled demo call), not 'analyze' (someone's recording run through the coach),
not 'import' (recordings from elsewhere: often not this agent's calls, or calls taken before they
joined) and not 'bundle' (another machine's call, which that machine uploads itself).

Several syncs may share one store at once (`companion team sync` run three times, the window's worker
beside it): a sync pass first CLAIMS the rows it will send (`claim`, in a BEGIN IMMEDIATE transaction:
`claimed_by` = "pid:token" of the pass, `claimed_at`), sends only those and releases what is left
(`release`) as it ends. A claim another live pass holds is skipped, so each call is sent by one pass
and each pass counts only its own. A claim lapses when its process is gone (`kill -9` mid-upload:
the next sync takes the call at once), when the pass ended in this process, or `LEASE_S` after it
was last renewed (a hung process).

The clock: times are stored as time.time() (`wall_clock`), so a wait survives a restart. A wait is
never longer than the backoff's maximum, so a `next_try` further ahead than that (`max_wait_s`) can
only come from a clock that has since gone back (a call queued while the clock was 30 days ahead):
such a call is due at once. A clock that jumps forward only makes a wait end early. Claims follow the
same rule: one stamped further ahead than `LEASE_S` has lapsed.

Every function here runs inside the caller's transaction (`companion.store.db.write`), except
`pending`, `due`, `next_due`, `counts`, `held_elsewhere`, `source_of`, `oldest`, `refused` and the
state readers, which only read.
"""

from __future__ import annotations

import os
import random
import secrets
import sqlite3
import threading
import time
from typing import Any, Callable, Optional

LEASE_S = 600.0  # a claim not renewed for this long (its pass hung) is free again

_passes: set[str] = set()  # the claimants (sync passes) of this process that are running now
_passes_lock = threading.Lock()


def wall_clock() -> float:
    """time.time(): every time the outbox stores (the tests move it, to play a clock that jumps)."""
    return time.time()

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


def notify_enqueued() -> None:
    """A call was queued in this process: wake the listeners (`on_enqueue`)."""
    with _listeners_lock:
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener()
        except Exception:  # noqa: BLE001 - a listener never stops a call from being closed
            pass


def source_of(db: sqlite3.Connection, call_id: int) -> Optional[str]:
    """The call's source ('live', 'demo', 'analyze', 'import', 'bundle'); None for no such call."""
    row = db.execute("SELECT source FROM calls WHERE id = ?", (call_id,)).fetchone()
    return row[0] if row else None


def enqueue(db: sqlite3.Connection, call_id: int, now: Optional[float] = None) -> None:
    """Queue `call_id` (again: due at once, its attempts kept)."""
    now = wall_clock() if now is None else now
    db.execute("INSERT INTO outbox(call_id, queued_at, attempts, next_try) VALUES (?, ?, 0, ?) "
               "ON CONFLICT(call_id) DO UPDATE SET next_try = excluded.next_try", (call_id, now, now))


def pending(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])


def oldest(db: sqlite3.Connection) -> tuple[Optional[float], int]:
    """(when the oldest queued call was queued, the most tries any queued call has had)."""
    row = db.execute("SELECT MIN(queued_at), MAX(attempts) FROM outbox").fetchone()
    return row[0], row[1] or 0


def refused(db: sqlite3.Connection) -> tuple[int, Optional[str]]:
    """(queued calls the server would not take, one of the reasons it gave)."""
    row = db.execute("SELECT COUNT(*), MAX(last_error) FROM outbox WHERE attempts > 0 AND last_error IS NOT NULL "
                     "AND last_error <> ''").fetchone()
    return row[0], row[1]


def not_queued(db: sqlite3.Connection) -> list[int]:
    """The finished calls that are not in the queue (for salvage: a damaged outbox lost them)."""
    return [r[0] for r in db.execute(
        "SELECT id FROM calls WHERE status <> 'active' AND id NOT IN (SELECT call_id FROM outbox)").fetchall()]


_FIELDS = ("call_id", "queued_at", "attempts", "next_try", "last_error", "claimed_by", "claimed_at")


def _rows(db: sqlite3.Connection, now: Optional[float], max_wait_s: Optional[float]) -> list[dict[str, Any]]:
    sql, args = f"SELECT {', '.join(_FIELDS)} FROM outbox", []
    if now is not None:
        sql += " WHERE next_try <= ?"
        args.append(now)
        if max_wait_s is not None:  # further ahead than any wait: set by a clock that has gone back since
            sql += " OR next_try > ?"
            args.append(now + max_wait_s)
    sql += " ORDER BY queued_at, call_id"
    return [dict(zip(_FIELDS, r)) for r in db.execute(sql, args)]


def due(db: sqlite3.Connection, now: Optional[float] = None, limit: Optional[int] = None,
        max_wait_s: Optional[float] = None) -> list[dict[str, Any]]:
    """Queued calls whose next try has come (all of them with `now=None`) and that no other sync pass
    is sending, oldest first: {call_id, queued_at, attempts, next_try, last_error, claimed_by,
    claimed_at}. With `max_wait_s` (the backoff's maximum), a next try further ahead than that is due."""
    out = []
    at = wall_clock() if now is None else now
    for row in _rows(db, now, max_wait_s):
        if _held(row["claimed_by"], row["claimed_at"], at):
            continue
        out.append(row)
        if limit and len(out) >= limit:
            break
    return out


def next_due(db: sqlite3.Connection, now: Optional[float] = None, max_wait_s: Optional[float] = None) -> Optional[float]:
    """When the soonest queued call may be tried (None: nothing queued); with `max_wait_s`, a next try
    further ahead than that counts as `now`."""
    if max_wait_s is None:
        soonest = db.execute("SELECT MIN(next_try) FROM outbox").fetchone()[0]
        return None if soonest is None else float(soonest)
    now = wall_clock() if now is None else now
    soonest = db.execute("SELECT MIN(CASE WHEN next_try > ? THEN ? ELSE next_try END) FROM outbox",
                         (now + max_wait_s, now)).fetchone()[0]
    return None if soonest is None else float(soonest)


# --- claims: which sync pass is sending a call now ---------------------------------------------
def new_claimant() -> str:
    """A name for one sync pass of this process ("pid:token"); `end_claimant` when the pass ends."""
    claimant = f"{os.getpid()}:{secrets.token_hex(8)}"
    with _passes_lock:
        _passes.add(claimant)
    return claimant


def end_claimant(claimant: str) -> None:
    """The pass is over: whatever it still holds is free (even before `release` is written)."""
    with _passes_lock:
        _passes.discard(claimant)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, ValueError, OverflowError):
        return False  # gone, or no process could have that number
    except OSError:
        return True  # exists but not ours (EPERM), or this platform cannot tell: the lease decides
    return True


def _held(claimed_by: Optional[str], claimed_at: Optional[float], now: float) -> bool:
    """Is this claim held by a sync pass that is still running?"""
    if not claimed_by or claimed_at is None:
        return False
    if not (now - LEASE_S <= claimed_at <= now + LEASE_S):
        return False  # not renewed for too long, or stamped by a clock that has gone back since
    try:
        pid = int(claimed_by.split(":", 1)[0])
    except ValueError:
        return False
    if pid <= 0:
        return False
    if pid == os.getpid():  # this process (or an earlier one that had the same number)
        with _passes_lock:
            return claimed_by in _passes
    return _alive(pid)


def claim(db: sqlite3.Connection, claimant: str, limit: int, due_only: bool, now: Optional[float] = None,
          max_wait_s: Optional[float] = None) -> list[dict[str, Any]]:
    """In the caller's write transaction (BEGIN IMMEDIATE, `companion.store.db.write`, so two
    processes never claim the same row): up to `limit` queued calls that no running pass holds (only
    those due with `due_only`), oldest first, now held by `claimant`. Calls `claimant` holds already
    are not taken again (a pass tries each call once)."""
    now = wall_clock() if now is None else now
    taken = []
    for row in _rows(db, now if due_only else None, max_wait_s):
        if row["claimed_by"] == claimant or _held(row["claimed_by"], row["claimed_at"], now):
            continue
        taken.append(row)
        if len(taken) >= limit:
            break
    db.executemany("UPDATE outbox SET claimed_by = ?, claimed_at = ? WHERE call_id = ?",
                   [(claimant, now, row["call_id"]) for row in taken])
    return taken


def renew(db: sqlite3.Connection, claimant: str, now: Optional[float] = None) -> None:
    """The pass is still at work: its claims' lease starts again."""
    db.execute("UPDATE outbox SET claimed_at = ? WHERE claimed_by = ?", (wall_clock() if now is None else now, claimant))


def release(db: sqlite3.Connection, claimant: str) -> None:
    """What `claimant` still holds (not sent: failed, postponed, or the pass stopped) is free again."""
    db.execute("UPDATE outbox SET claimed_by = NULL, claimed_at = NULL WHERE claimed_by = ?", (claimant,))


def held_elsewhere(db: sqlite3.Connection, claimant: Optional[str] = None, now: Optional[float] = None) -> int:
    """Calls another running sync pass (not `claimant`) is sending now."""
    return counts(db, claimant, now)[1]


def counts(db: sqlite3.Connection, claimant: Optional[str] = None, now: Optional[float] = None) -> tuple[int, int]:
    """(calls queued, of which another running sync pass is sending now), read at one moment."""
    now = wall_clock() if now is None else now
    rows = db.execute("SELECT claimed_by, claimed_at FROM outbox").fetchall()
    return len(rows), sum(1 for by, at in rows if by and by != claimant and _held(by, at, now))


def mark_sent(db: sqlite3.Connection, call_id: int) -> None:
    """The server has committed the call: it leaves the outbox."""
    db.execute("DELETE FROM outbox WHERE call_id = ?", (call_id,))


def mark_failed(db: sqlite3.Connection, call_id: int, error: str, backoff: Callable[[int, float], float],
                now: Optional[float] = None, postpone: bool = True) -> float:
    """One more failed try: `attempts` + 1, `last_error`, and (with `postpone`) the next try after
    `backoff(attempts, random)` seconds. Returns the next try's time."""
    now = wall_clock() if now is None else now
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


def all_state(db: sqlite3.Connection) -> dict[str, str]:
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
