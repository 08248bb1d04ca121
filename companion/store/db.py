"""Opening the store: SQLite in the user data dir, WAL, foreign keys, owner-only files, migrated."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Optional

from companion.errors import CompanionError
from companion.paths import user_data_dir
from companion.store.schema import migrate


class StoreError(CompanionError):
    """The call store cannot be opened or written."""


def store_path() -> Path:
    return user_data_dir() / "calls.sqlite3"


def open_store(path: Optional[Path] = None, check_same_thread: bool = True) -> sqlite3.Connection:
    path = Path(path or store_path())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)  # created owner-only, never world-readable
        os.close(fd)
        db = sqlite3.connect(str(path), timeout=10, check_same_thread=check_same_thread)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA synchronous=NORMAL")
        migrate(db)
        close_interrupted(db)
        return db
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"The call store {path} cannot be used ({exc}).") from None
    except OSError as exc:
        raise StoreError(f"Cannot open the call store in {path.parent}: {exc.strerror or exc}.") from None


def _alive(pid: Optional[int]) -> bool:
    if not pid or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, ValueError):
        return True  # exists but not ours, or this platform cannot tell: leave it alone
    return True


def close_interrupted(db: sqlite3.Connection) -> int:
    """Calls left 'active' by a crash or kill (their writer is gone): closed as 'interrupted' with what was written."""
    with db:
        rows = [r for r in db.execute("SELECT id, writer_pid FROM calls WHERE status = 'active'").fetchall()
                if not _alive(r["writer_pid"])]
        for row in rows:
            last = db.execute(
                "SELECT MAX(t) FROM (SELECT MAX(t) AS t FROM metrics WHERE call_id = ?1 "
                "UNION ALL SELECT MAX(\"end\") FROM turns WHERE call_id = ?1 "
                "UNION ALL SELECT MAX(t) FROM prompts WHERE call_id = ?1)", (row["id"],)).fetchone()[0]
            db.execute("UPDATE calls SET status = 'interrupted', duration_s = MAX(duration_s, ?) WHERE id = ?",
                       (last or 0.0, row["id"]))
    return len(rows)
