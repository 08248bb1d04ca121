"""Opening the store: SQLite in the user data dir, WAL, foreign keys, owner-only files, migrated."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from typing import Optional

from companion.errors import CompanionError
from companion.paths import user_data_dir
from companion.store.schema import migrate


class StoreError(CompanionError):
    """The call store cannot be opened or written."""


def store_path() -> Path:
    return user_data_dir() / "calls.sqlite3"


_claimed: set[int] = set()  # calls this process is writing now
_claimed_lock = threading.Lock()


def claim(call_id: int) -> None:
    """This process writes `call_id`: opening the store again here never closes it as interrupted."""
    with _claimed_lock:
        _claimed.add(call_id)


def release(call_id: int) -> None:
    with _claimed_lock:
        _claimed.discard(call_id)


def private_dir(path: Path) -> Path:
    """Make `path` (and missing parents); only folders made here are made owner-only. A folder that
    already exists (a shared one named by COMPANION_DATA_DIR) keeps its own permissions."""
    missing = []
    at = Path(path)
    while not at.exists():
        missing.append(at)
        if at.parent == at:
            break
        at = at.parent
    path.mkdir(parents=True, exist_ok=True)
    for made in missing:
        os.chmod(made, 0o700)
    return path


def open_store(path: Optional[Path] = None, check_same_thread: bool = True) -> sqlite3.Connection:
    path = Path(path or store_path())
    try:
        private_dir(path.parent)
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


def _alive(pid: Optional[int], call_id: int) -> bool:
    if not pid:
        return False
    if pid == os.getpid():  # this process (or an earlier one that had the same number)
        with _claimed_lock:
            return call_id in _claimed
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
                if not _alive(r["writer_pid"], r["id"])]
        for row in rows:
            last = db.execute(
                "SELECT MAX(t) FROM (SELECT MAX(t) AS t FROM metrics WHERE call_id = ?1 "
                "UNION ALL SELECT MAX(\"end\") FROM turns WHERE call_id = ?1 "
                "UNION ALL SELECT MAX(t) FROM prompts WHERE call_id = ?1)", (row["id"],)).fetchone()[0]
            db.execute("UPDATE calls SET status = 'interrupted', duration_s = MAX(duration_s, ?) WHERE id = ?",
                       (last or 0.0, row["id"]))
    return len(rows)


def delete_call(db: sqlite3.Connection, call_id: int) -> Optional[str]:
    """Remove a call, everything stored with it and its recording; returns the recording's path, if any.
    A call still being written by a running app is refused."""
    row = db.execute("SELECT status, writer_pid, recording FROM calls WHERE id = ?", (call_id,)).fetchone()
    if row is None:
        raise StoreError(f"No saved call {call_id}; 'companion calls list' shows them.")
    if row["status"] == "active" and _alive(row["writer_pid"], call_id):
        raise StoreError(f"Call {call_id} is still being recorded (process {row['writer_pid']}); end that call first.")
    with db:
        db.execute("DELETE FROM calls WHERE id = ?", (call_id,))
    if row["recording"]:
        Path(row["recording"]).unlink(missing_ok=True)
    return row["recording"]
