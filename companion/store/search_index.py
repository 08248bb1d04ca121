"""The full-text index of what was said (`segments_fts`), checked and, when broken, rebuilt.

Triggers keep the index (schema V8): a segment goes in once no later segment can rewrite it, goes
out when it is deleted, and follows any change of its text; nothing merges the index by hand. A
broken index does not show in `PRAGMA quick_check` (its pages are sound b-tree pages), yet every
segment written fails with "database disk image is malformed". So the first opening of a store in
a process also runs FTS5's own integrity check, and an index that fails it, or cannot even be
opened, is emptied and rebuilt from the saved transcripts; the transcripts themselves lose nothing.
"""

from __future__ import annotations

import sqlite3

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

INDEX = "segments_fts"
SHADOWS = ("segments_fts_data", "segments_fts_idx", "segments_fts_docsize")  # what FTS5 keeps the index in


def _corrupt(exc: sqlite3.DatabaseError) -> bool:
    name = getattr(exc, "sqlite_errorname", "")
    return name.startswith("SQLITE_CORRUPT") or "malformed" in str(exc) or "constructor failed" in str(exc)


def openable(db: sqlite3.Connection) -> bool:
    """Can SQLite open the index at all (its structure record reads)? A statement naming it opens it."""
    try:
        db.execute(f"SELECT rowid FROM {INDEX} WHERE 0").fetchall()
    except sqlite3.DatabaseError as exc:
        if _corrupt(exc):
            return False
        raise
    return True


def problem(db: sqlite3.Connection) -> Optional[str]:
    """What is wrong with the index, in SQLite's words; None when FTS5's integrity check passes.
    Rank 0: the index's own consistency, without re-reading every transcript (where SQLite offers that)."""
    if not openable(db):
        return "it could not be opened"
    began = not db.in_transaction
    try:
        db.execute(f"INSERT INTO {INDEX}({INDEX}, rank) VALUES ('integrity-check', 0)")
    except sqlite3.DatabaseError as exc:
        if _corrupt(exc):
            return str(exc)
        raise
    finally:
        if began and db.in_transaction:
            db.rollback()  # the check is an INSERT: it began a write transaction, and changed nothing
    return None


def reset(db: sqlite3.Connection) -> None:
    """Empty the index by hand, to the state of a new one, so SQLite can open it again (a broken one
    cannot be rebuilt or dropped through FTS5). The empty state is taken from a new index made by
    this same SQLite, so it is always in the format it reads."""
    scratch = sqlite3.connect(":memory:")
    try:
        scratch.execute("CREATE VIRTUAL TABLE fresh USING fts5(text)")
        empty = scratch.execute("SELECT id, block FROM fresh_data").fetchall()
    finally:
        scratch.close()
    present = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for table in SHADOWS:
        if table in present:
            db.execute(f"DELETE FROM {table}")
    db.executemany(f"INSERT INTO {SHADOWS[0]}(id, block) VALUES (?, ?)", empty)


def rebuild(db: sqlite3.Connection) -> None:
    """Empty the index and put every segment it should hold back in (inside the caller's write transaction)."""
    reset(db)
    db.execute(f"INSERT INTO {INDEX}({INDEX}) VALUES ('rebuild')")


def check(db: sqlite3.Connection) -> Optional[str]:
    """At a store's first opening in a process: the index checked, and rebuilt when broken. Returns the
    one line to tell the user when it was rebuilt (or could not be), else None. A store this process
    cannot write now (a read-only folder, another process's long transaction) is checked at the next start."""
    from companion.store.writes import write

    if db.execute(f"SELECT 1 FROM sqlite_master WHERE name = '{INDEX}'").fetchone() is None:
        return None   # a new store, or one from before there was an index: the migration makes it
    try:
        said = problem(db)
    except sqlite3.DatabaseError:
        return None   # not to be checked now (a read-only folder, a store busy past the timeout): the next start
    if said is None:
        return None
    try:
        segments = write(db, _rebuilt)
    except sqlite3.DatabaseError as exc:
        return (f"The call store's search index is damaged ({said}) and could not be rebuilt now ({exc}); the saved "
                "calls are all there, searching their words may fail, and the next start tries again.")
    return (f"The call store's search index was damaged ({said}); it was rebuilt from the saved transcripts "
            f"({segments} segment{'s' if segments != 1 else ''}) and nothing saved was lost.")


def _rebuilt(db: sqlite3.Connection) -> int:
    rebuild(db)
    return int(db.execute(f"SELECT COUNT(*) FROM {INDEX}_docsize").fetchone()[0])
