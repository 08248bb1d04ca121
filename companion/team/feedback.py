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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Optional

from companion.store import outbox
from companion.store.feedback_rows import add_server_comment, call_by_uuid, savepoint, set_review

if TYPE_CHECKING:
    from psycopg import Connection

FEEDBACK_OVERLAP = timedelta(minutes=5)  # feedback pulled again a little before the newest seen: none is missed
END_SLACK_S = 1.0  # a comment this little past the call's recorded end is at its end


@dataclass
class Pulled:
    comments: int = 0  # new comments in the local store
    reviews: int = 0   # calls whose review status changed here
    mended: int = 0    # comments with no valid time in the call: kept at its start
    skipped: int = 0   # items that could not be read at all


def pull_feedback(conn: Connection[Any], db: sqlite3.Connection) -> Pulled:
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
        calls: dict[str, Any] = {}
        newest = since
        for item in items:
            try:
                with savepoint(db):
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


def _apply_item(db: sqlite3.Connection, item: object, calls: dict[str, Any], pulled: Pulled) -> None:
    """One comment or review from the server, checked like any outside input."""
    from companion.store.redaction import redact

    if not isinstance(item, dict):
        raise TypeError("not an item")
    uuid = item.get("call_uuid")
    if not isinstance(uuid, str):
        raise TypeError("no call")
    if uuid not in calls:
        calls[uuid] = call_by_uuid(db, uuid)
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
        added = add_server_comment(db, cid, 0.0 if where is None else where,
                                   redact(str(item.get("author") or "")) or None, redact(text),
                                   at if isinstance(at, str) else "", server_id)
        pulled.comments += added
        if added and where is None and t is not None:  # no time at all: a comment on the whole call
            pulled.mended += 1
    elif item.get("type") == "review":
        by, at = (item.get("by"), item.get("at")) if item.get("reviewed") else (None, None)
        if not isinstance(by, (str, type(None))) or not isinstance(at, (str, type(None))):
            raise TypeError("a review of another shape")
        pulled.reviews += set_review(db, cid, by, at)
