"""Supervisors' feedback, pulled from the team server into the agent's local store (the sync's
second half; companion.team.sync calls `pull_feedback` after its uploads).

Nothing the server sends is trusted: it may be an older server without today's checks, or one that
lies. Each item is checked like any outside input and applied on its own (a savepoint), so one bad
item never stops the others, nor the next pull:

- a comment whose time is not a time in the call (NaN, an infinity, a negative time, one past the
  call's end) is kept, at the call's start (where a comment on the whole call sits), and counted
  in `Pulled.mended` for the sync's one line;
- an item that cannot be read at all (no id, no text, another shape) is skipped and counted in
  `Pulled.skipped`;
- the newest valid `at` seen becomes the next pull's start, so a bad item is not asked for again
  and again.

Comments land once each (keyed by their server id); a review is the call's state.
"""

from __future__ import annotations

import math
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterator, Optional

from companion.errors import CompanionError
from companion.store import outbox

FEEDBACK_OVERLAP = timedelta(minutes=5)  # feedback pulled again a little before the newest seen: none is missed
END_SLACK_S = 1.0  # a comment this little past the call's recorded end is at its end


@dataclass
class Pulled:
    comments: int = 0  # new comments in the local store
    reviews: int = 0   # calls whose review status changed here
    mended: int = 0    # comments with no valid time in the call: kept at its start
    skipped: int = 0   # items that could not be read at all


def pull_feedback(conn, db: sqlite3.Connection) -> Pulled:
    """Supervisors' comments and reviews on this agent's calls since the last pull, into the local
    store. TeamError when the server cannot be asked; never an error for what it answers."""
    from companion.store.db import write
    from companion.team.server_calls import feedback_since

    since = outbox.get_state(db, "feedback_since")
    ask = None
    if since:
        try:
            ask = (datetime.fromisoformat(since) - FEEDBACK_OVERLAP).isoformat()
        except (ValueError, TypeError, OverflowError):
            ask = None
    items = feedback_since(conn, ask)
    if not isinstance(items, list):
        items = []

    def apply(db: sqlite3.Connection) -> Pulled:
        pulled = Pulled()
        calls: dict = {}
        newest = since
        for item in items:
            try:
                with _savepoint(db):
                    _apply_item(db, item, calls, pulled)
            except (TypeError, ValueError, KeyError, AttributeError, OverflowError, sqlite3.IntegrityError,
                    sqlite3.InterfaceError):
                pulled.skipped += 1
            at = item.get("at") if isinstance(item, dict) else None
            if isinstance(at, str) and _iso(at) is not None and (newest is None or _later(at, newest)):
                newest = at
        outbox.set_state(db, feedback_since=newest, last_feedback=outbox.wall_clock())
        return pulled

    return write(db, apply)


def review_status(db: sqlite3.Connection, call_id: int) -> dict:
    """{"reviewed": bool, "reviewed_by", "reviewed_at"} of a local call, as last pulled from the server."""
    row = db.execute("SELECT reviewed_by, reviewed_at FROM calls WHERE id = ?", (call_id,)).fetchone()
    if row is None:
        raise CompanionError(f"No saved call {call_id}.")
    return {"reviewed": row[1] is not None, "reviewed_by": row[0], "reviewed_at": row[1]}


@contextmanager
def _savepoint(db: sqlite3.Connection) -> Iterator[None]:
    """One item: all of it or none of it, inside the pull's transaction."""
    db.execute("SAVEPOINT feedback_item")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK TO feedback_item")
        raise
    finally:
        db.execute("RELEASE feedback_item")


def _iso(value: str) -> Optional[datetime]:
    try:
        return datetime.fromisoformat(value)
    except (ValueError, TypeError):
        return None


def _later(a: str, b: str) -> bool:
    """Is ISO time `a` after `b`? (`b` unreadable: yes.)"""
    da, db_ = _iso(a), _iso(b)
    if da is None or db_ is None:
        return da is not None
    try:
        return da > db_
    except TypeError:  # one naive, one aware: not comparable; keep the one seen last
        return True


def _time_in_call(t: object, duration: object) -> Optional[float]:
    """`t` as a time in a call `duration` long (None: it is not one)."""
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0:
        return None
    end = duration if isinstance(duration, (int, float)) and math.isfinite(duration) and duration > 0 else None
    if end is None:
        return float(t)
    return float(min(t, end)) if t <= end + END_SLACK_S else None


def _apply_item(db: sqlite3.Connection, item: object, calls: dict, pulled: Pulled) -> None:
    """One comment or review from the server, checked like any outside input."""
    from companion.store.redaction import redact

    if not isinstance(item, dict):
        raise TypeError("not an item")
    uuid = item.get("call_uuid")
    if not isinstance(uuid, str):
        raise TypeError("no call")
    if uuid not in calls:
        row = db.execute("SELECT id, duration_s FROM calls WHERE uuid = ?", (uuid,)).fetchone()
        calls[uuid] = (row[0], row[1]) if row else None
    if calls[uuid] is None:
        return  # deleted on this machine: its feedback stays on the server
    cid, duration = calls[uuid]
    if item.get("type") == "comment":
        server_id, text, t, at = item.get("id"), item.get("text"), item.get("t"), item.get("at")
        if isinstance(server_id, bool) or not isinstance(server_id, int):
            raise TypeError("no id")
        if not isinstance(text, str) or not text.strip():
            raise ValueError("no text")
        where = _time_in_call(t, duration)
        cur = db.execute(
            "INSERT INTO comments(call_id, t, prompt_id, author, text, created_at, server_id) "
            "VALUES (?, ?, NULL, ?, ?, ?, ?) ON CONFLICT(server_id) DO NOTHING",
            (cid, 0.0 if where is None else where, redact(str(item.get("author") or "")) or None, redact(text),
             at if isinstance(at, str) else "", server_id))
        pulled.comments += cur.rowcount
        if cur.rowcount and where is None and t is not None:  # no time at all: a comment on the whole call
            pulled.mended += 1
    elif item.get("type") == "review":
        by, at = (item.get("by"), item.get("at")) if item.get("reviewed") else (None, None)
        if not isinstance(by, (str, type(None))) or not isinstance(at, (str, type(None))):
            raise TypeError("a review of another shape")
        cur = db.execute("UPDATE calls SET reviewed_by = ?, reviewed_at = ? WHERE id = ? "
                         "AND (reviewed_by IS NOT ? OR reviewed_at IS NOT ?)", (by, at, cid, by, at))
        pulled.reviews += cur.rowcount
