"""Writing to the store, below everything else in it: the one write transaction (`write`: BEGIN
IMMEDIATE, all or nothing, tried again while another process holds the store), which calls this
process is writing (`claim`, `release`, `writer_alive`), the owner-only folder, and the store's error.
companion.store.db opens the store; the store's other modules write through here."""

from __future__ import annotations

import _thread  # (threading's own lock, without importing threading to open a store)
import os
import sqlite3
import time

from companion.errors import CompanionError
from companion.paths import pure

TYPE_CHECKING = False  # typing and pathlib are not imported to open the store
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Callable, Optional, TypeVar

    T = TypeVar("T")
    PathText = TypeVar("PathText", str, Path)

BUSY_ATTEMPTS = 3       # `write()` tries this many times when the store stays busy


class StoreError(CompanionError):
    """The call store cannot be opened or written; `cause` is what SQLite or the system said."""

    def __init__(self, message: str, cause: Optional[BaseException] = None):
        super().__init__(message)
        self.cause = cause


_claimed: set[int] = set()  # calls this process is writing now
_claimed_lock = _thread.allocate_lock()


def claim(call_id: int) -> None:
    """This process writes `call_id`: opening the store again here never closes it as interrupted."""
    with _claimed_lock:
        _claimed.add(call_id)


def release(call_id: int) -> None:
    with _claimed_lock:
        _claimed.discard(call_id)


def private_dir(path: PathText) -> PathText:
    """Make `path` (and missing parents); only folders made here are made owner-only. A folder that
    already exists (a shared one named by COMPANION_DATA_DIR) keeps its own permissions."""
    missing = []
    at = pure(os.fspath(path))
    while not os.path.exists(at):
        missing.append(at)
        up = parent(at)
        if up == at:
            break
        at = up
    os.makedirs(path, exist_ok=True)
    for made in missing:
        os.chmod(made, 0o700)
    return path


def parent(path: str) -> str:
    """`str(Path(path).parent)` for a path already `pure`."""
    head = os.path.dirname(path)
    return pure(head) if head else "."


def is_busy(exc: BaseException) -> bool:
    """Another process held the store past the busy timeout ("database is locked")."""
    return getattr(exc, "sqlite_errorname", "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))


def write(db: sqlite3.Connection, work: Callable[[sqlite3.Connection], T], attempts: int = BUSY_ATTEMPTS) -> T:
    """`work(db)` in one write transaction that takes the write lock first; all of it or nothing.
    A store still busy after the busy timeout is tried again, `attempts` times in all."""
    for attempt in range(1, attempts + 1):
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                result = work(db)
                db.commit()
            except BaseException:
                db.rollback()
                raise
            return result
        except sqlite3.OperationalError as exc:
            if attempt == attempts or not is_busy(exc):
                raise
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


def new_id(cursor: sqlite3.Cursor) -> int:
    """The rowid an INSERT just gave its row (SQLite always gives one)."""
    rowid = cursor.lastrowid
    if rowid is None:
        raise AssertionError("an INSERT gave no rowid")
    return rowid


def writer_alive(pid: Optional[int], call_id: int) -> bool:
    """Is the process that wrote call `call_id` (`writer_pid`) still running?"""
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
