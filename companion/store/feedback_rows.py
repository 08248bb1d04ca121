"""Supervisors' feedback as the agent's store keeps it: comments pulled from the team server and each
call's review status (companion.team.feedback pulls them; this writes them, inside its transaction)."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from typing import Any, Iterator, Optional

from companion.errors import CompanionError


def review_status(db: sqlite3.Connection, call_id: int) -> dict[str, Any]:
    """{"reviewed": bool, "reviewed_by", "reviewed_at"} of a local call, as last pulled from the server."""
    row = db.execute("SELECT reviewed_by, reviewed_at FROM calls WHERE id = ?", (call_id,)).fetchone()
    if row is None:
        raise CompanionError(f"No saved call {call_id}.")
    return {"reviewed": row[1] is not None, "reviewed_by": row[0], "reviewed_at": row[1]}


@contextmanager
def savepoint(db: sqlite3.Connection) -> Iterator[None]:
    """One item: all of it or none of it, inside the caller's transaction."""
    db.execute("SAVEPOINT feedback_item")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK TO feedback_item")
        raise
    finally:
        db.execute("RELEASE feedback_item")


def call_by_uuid(db: sqlite3.Connection, uuid: str) -> Optional[tuple[int, Optional[float]]]:
    """(call id, duration) of the local call with this UUID; None when it is not (or no longer) here."""
    row = db.execute("SELECT id, duration_s FROM calls WHERE uuid = ?", (uuid,)).fetchone()
    return (row[0], row[1]) if row else None


def add_server_comment(db: sqlite3.Connection, call_id: int, t: float, author: Optional[str], text: str,
                       created_at: str, server_id: int) -> int:
    """A supervisor's comment (already redacted by the caller), once per server id: 1 when new, 0 when
    it was pulled before."""
    cur = db.execute("INSERT INTO comments(call_id, t, prompt_id, author, text, created_at, server_id) "
                     "VALUES (?, ?, NULL, ?, ?, ?, ?) ON CONFLICT(server_id) DO NOTHING",
                     (call_id, t, author, text, created_at, server_id))
    return cur.rowcount


def set_review(db: sqlite3.Connection, call_id: int, by: Optional[str], at: Optional[str]) -> int:
    """The call's review status as the server has it: 1 when that changed it here, else 0."""
    cur = db.execute("UPDATE calls SET reviewed_by = ?, reviewed_at = ? WHERE id = ? "
                     "AND (reviewed_by IS NOT ? OR reviewed_at IS NOT ?)", (by, at, call_id, by, at))
    return cur.rowcount
