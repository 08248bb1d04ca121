"""Opening the store: SQLite in the user data dir, WAL, foreign keys, owner-only files, migrated.

Several processes share one store (the window recording a call, `companion import`, `calls list`):
WAL lets readers and the one writer go on together, every write transaction takes the write lock
first (BEGIN IMMEDIATE: two writers never deadlock upgrading a read lock), a writer waits up to
`BUSY_TIMEOUT_S` for another's short transaction, and `write()` tries again if one still meets a busy
store. A damaged store is set aside beside itself, a fresh one started with what could still be read
of it (companion.store.salvage: calls, and the team server's queue with them), and the user told
what was kept and what was lost, in one notice.

Opening a store imports neither pathlib nor typing (paths are text here, as `str()` of their Path would
write them); `open_existing_store` opens one only where there is one (companion.store.location tells,
without sqlite3), so what only reads the history makes no store."""

from __future__ import annotations

import _thread  # (threading's own lock, without importing threading to open a store)
import os
import sqlite3
import sys
import time

from companion.paths import pure
from companion.store.location import STORE_NAME as STORE_NAME  # (these from here too)
from companion.store.location import has_store, store_text
from companion.store.location import store_file as store_file
from companion.store.schema import migrate
from companion.store.writes import BUSY_ATTEMPTS as BUSY_ATTEMPTS  # (these from here too)
from companion.store.writes import StoreError as StoreError
from companion.store.writes import claim as claim
from companion.store.writes import is_busy, parent, private_dir, writer_alive
from companion.store.writes import release as release
from companion.store.writes import write as write

BUSY_TIMEOUT_S = 15.0   # how long a write waits for another process's transaction before SQLITE_BUSY
DAMAGED = ("SQLITE_NOTADB", "SQLITE_CORRUPT")  # "file is not a database", "database disk image is malformed"

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Callable, Optional

    from companion.store.location import StorePath


class _Damaged(Exception):
    """The store file is not a database or is malformed; `db` is still open (closing it first would let
    SQLite delete or checkpoint the -wal beside it, which is set aside with it)."""

    def __init__(self, detail: str, inode: int, db: sqlite3.Connection):
        super().__init__(detail)
        self.detail, self.inode, self.db = detail, inode, db


def store_path() -> Path:
    from pathlib import Path

    return Path(store_file())


# --- telling the user ------------------------------------------------------------------------
def _to_stderr(message: str) -> None:
    print(f"companion: {message}", file=sys.stderr, flush=True)


_notice_handler: Callable[[str], None] = _to_stderr
_notices: list[str] = []
_notices_lock = _thread.allocate_lock()


def set_notice_handler(handler: Optional[Callable[[str], None]]) -> None:
    """Where the store's notices go (a damaged store set aside): stderr unless the window takes them.
    The handler may be called on any thread that opens the store."""
    global _notice_handler
    _notice_handler = handler or _to_stderr


def take_notices() -> list[str]:
    """The notices said since the last call (for a window that starts listening late)."""
    with _notices_lock:
        said = list(_notices)
        _notices.clear()
    return said


def notice(message: str) -> None:
    with _notices_lock:
        _notices.append(message)
    _notice_handler(message)


# --- opening ----------------------------------------------------------------------------------
_checked: set[str] = set()  # stores this process has already checked (quick_check, WAL)


def open_existing_store(path: Optional[StorePath] = None, check_same_thread: bool = True) -> Optional[sqlite3.Connection]:
    """The store opened as `open_store` opens it, or None when there is no store there yet (nothing was ever
    saved): what only reads the history makes no store."""
    if not has_store(path):
        return None
    return open_store(path, check_same_thread)


def open_store(path: Optional[StorePath] = None, check_same_thread: bool = True) -> sqlite3.Connection:
    path = store_text(path)
    try:
        try:
            return _connect(path, check_same_thread)
        except _Damaged as damaged:
            try:
                aside = _set_aside(path, damaged)
            finally:
                damaged.db.close()
            db = _connect(path, check_same_thread)
            if aside is not None:
                _salvage(db, path, aside, damaged.detail)
            return db
    except _Damaged as damaged:
        damaged.db.close()
        raise StoreError(f"The call store {path} is damaged ({damaged.detail}) and could not be replaced.") from None
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"The call store {path} cannot be used ({exc}).", exc) from None
    except OSError as exc:
        raise StoreError(f"Cannot open the call store in {parent(path)}: {exc.strerror or exc}.", exc) from None


_create_lock = _thread.allocate_lock()


def _create_private(path: str) -> None:
    """Create the store file owner-only (never world-readable), once. Only a file that did not exist is
    opened here: closing a descriptor of a file SQLite has open in this process would drop that
    connection's POSIX locks, and another process could then checkpoint or delete the WAL under it."""
    with _create_lock:  # no thread here connects to the file between its creation and that close
        if not os.path.exists(path):
            try:
                os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                pass  # another process made it first


def _connect(path: str, check_same_thread: bool) -> sqlite3.Connection:
    private_dir(parent(path))
    _create_private(path)
    inode = os.stat(path).st_ino
    # isolation_level: every implicit transaction (`with db:`) is BEGIN IMMEDIATE too
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, check_same_thread=check_same_thread,
                         isolation_level="IMMEDIATE")
    try:
        db.row_factory = sqlite3.Row
        mode = _journal_mode_wal(db)
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA synchronous=NORMAL")
        unchanged = _state(path)
        problems = _check_once(db, path, mode, unchanged)
        if problems:
            raise _Damaged(problems, inode, db)
        if _check_search_index(db, path) and unchanged is not None:
            _note_checked(path, unchanged)
        migrate(db)
        _repair_recordings(db, path, closed=close_interrupted(db))
        return db
    except _Damaged:
        raise
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorname", "").startswith(DAMAGED):
            raise _Damaged(str(exc), inode, db) from None
        db.close()
        raise
    except BaseException:
        db.close()
        raise


def _journal_mode_wal(db: sqlite3.Connection) -> str:
    """Write-ahead logging asked for. On a new store another process may be creating its tables in the old
    journal mode; the switch needs the file to itself and SQLite's busy handler does not always wait for
    that, so it is tried again (for up to the busy timeout) while the other process finishes."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            return str(db.execute("PRAGMA journal_mode=WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


# The whole-store checks (quick_check, the search index's integrity check) read every page: 0.2 s at 100,000
# calls. Once they find nothing, a note beside the store keeps what the files were then (inode, size, time of
# the last change; the WAL's too); a later process that finds the files as noted does not check them again.
# Anything that writes to the store (a call, a crash in the middle of one, another tool) changes them.
CHECKED_SUFFIX = ".checked"


def _state(path: str) -> Optional[str]:
    try:
        main = os.stat(path)
        try:
            wal = os.stat(f"{path}-wal")
            wal_state = f"{wal.st_size} {wal.st_mtime_ns}" if wal.st_size else "0"  # an empty WAL is made at each opening
        except FileNotFoundError:
            wal_state = "0"
    except OSError:
        return None
    return f"{main.st_ino} {main.st_size} {main.st_mtime_ns} {wal_state}"


def _checked_before(path: str, state: Optional[str]) -> bool:
    if state is None:
        return False
    try:
        with open(f"{path}{CHECKED_SUFFIX}", encoding="ascii") as fh:
            return fh.read().strip() == state
    except (OSError, ValueError):
        return False


def _note_checked(path: str, state: str) -> None:
    """The store was found whole in the state `state` (a note that cannot be written: checked again next time)."""
    temporary = f"{path}{CHECKED_SUFFIX}.{os.getpid()}"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(state)
        os.replace(temporary, f"{path}{CHECKED_SUFFIX}")
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass


def _check_once(db: sqlite3.Connection, path: str, mode: str, state: Optional[str]) -> Optional[str]:
    """The first opening in this process checks the file and its WAL, unless they are as they were when last found
    whole; returns what is damaged, if anything."""
    key = _resolved(path)
    if key in _checked:
        return None
    if _checked_before(path, state):
        _checked.add(key)
        _indexed.add(key)
        if mode.lower() != "wal":
            notice(f"The call store {path} cannot use write-ahead logging here (journal mode {mode}); two apps using "
                   "it at once may have to wait for each other.")
        return None
    problems = [row[0] for row in db.execute("PRAGMA quick_check(3)")]
    if problems != ["ok"]:
        return "; ".join(problems)
    _checked.add(key)
    if mode.lower() != "wal":
        notice(f"The call store {path} cannot use write-ahead logging here (journal mode {mode}); two apps using "
               "it at once may have to wait for each other.")
    return None


_indexed: set[str] = set()  # stores whose search index this process has checked


def _check_search_index(db: sqlite3.Connection, path: str) -> bool:
    """Once per process: the search index checked, and rebuilt (said in one line) when broken. True when it was
    checked here and found whole."""
    key = _resolved(path)
    if key in _indexed:
        return False
    from companion.store.search_index import check

    said = check(db)
    _indexed.add(key)
    if said:
        notice(said)
    return not said


_swept: set[str] = set()  # stores whose recordings this process has looked over


def _repair_recordings(db: sqlite3.Connection, path: str, closed: int) -> None:
    """The audio of calls a crash cut off, made readable (companion.store.cut_off): once per process,
    and again whenever calls were just closed as interrupted. Only the recordings marked as being
    written are looked at (one listing of the recordings folder), and neither the recorder nor numpy
    is imported for it. A failure waits for the next start."""
    key = _resolved(path)
    if key in _swept and not closed:
        return
    from companion.store.cut_off import repair_cut_off

    try:
        repair_cut_off(db, default_store=key == _resolved(store_file()))
    except (sqlite3.Error, OSError):
        return
    _swept.add(key)


def _resolved(path: str) -> str:
    """`str(Path(path).resolve())`: absolute, every link followed."""
    return pure(os.path.realpath(path))


def _set_aside(path: str, damaged: _Damaged) -> Optional[Path]:
    """Rename the damaged store (and its -wal/-shm) to calls.sqlite3.corrupt-YYYYmmdd-HHMMSS; returns where.
    Another process that found it damaged first has already done it: the file there now is left alone (None)."""
    try:
        if os.stat(path).st_ino != damaged.inode:
            return None
    except FileNotFoundError:
        return None
    from pathlib import Path

    stamp = time.strftime("%Y%m%d-%H%M%S")
    store = Path(path)
    aside, n = store.with_name(f"{store.name}.corrupt-{stamp}"), 1
    while aside.exists():
        n += 1
        aside = store.with_name(f"{store.name}.corrupt-{stamp}-{n}")
    try:
        os.unlink(f"{path}{CHECKED_SUFFIX}")  # it spoke of the file set aside
    except OSError:
        pass
    for suffix in ("-wal", "-shm", ""):  # the main file last: a crash in between leaves it findable
        try:
            os.replace(f"{path}{suffix}", f"{aside}{suffix}")
        except FileNotFoundError:
            pass
    return aside


def _salvage(db: sqlite3.Connection, path: str, aside: Path, detail: str) -> None:
    """What can be read of the store set aside, into the fresh one; then one notice saying what was kept and lost."""
    from companion.store.salvage import describe, salvage

    found, failed = None, ""
    try:
        found = salvage(aside, db)
    except Exception as exc:  # noqa: BLE001 - a full disk, say: the fresh store opens as it is, the file set aside keeps all
        failed = f" What it held could not be copied ({getattr(exc, 'message', None) or exc})."
    kept = describe(found)
    if kept:
        notice(f"The call store was damaged ({detail}); it was set aside as {aside} and a new store started in its "
               f"place with {kept} Keep that file: a recovery tool may get more out of it.")
        _repair_recordings(db, path, closed=close_interrupted(db))  # salvaged calls a crash had left open
    else:
        notice(f"The call store was damaged ({detail}); it was set aside as {aside} and a new, empty store started "
               f"in its place.{failed} The calls saved before are not in the history; keep that file to recover them.")


def close_interrupted(db: sqlite3.Connection) -> int:
    """Calls left 'active' by a crash or kill (their writer is gone): closed as 'interrupted' with what was written."""
    if not any(not writer_alive(r["writer_pid"], r["id"])
               for r in db.execute("SELECT id, writer_pid FROM calls WHERE status = 'active'").fetchall()):
        return 0  # the usual case: nothing to close, and no write lock taken
    return write(db, _close_interrupted)


def _close_interrupted(db: sqlite3.Connection) -> int:
    from companion.store.hooks import call_closed
    from companion.store.rows import mood_totals

    rows = [r for r in db.execute("SELECT id, writer_pid FROM calls WHERE status = 'active'").fetchall()
            if not writer_alive(r["writer_pid"], r["id"])]
    for row in rows:
        last = db.execute(
            "SELECT MAX(t) FROM (SELECT MAX(t) AS t FROM metrics WHERE call_id = ?1 "
            "UNION ALL SELECT MAX(\"end\") FROM turns WHERE call_id = ?1 "
            "UNION ALL SELECT MAX(\"end\") FROM segments WHERE call_id = ?1 "
            "UNION ALL SELECT MAX(t) FROM interruptions WHERE call_id = ?1 "
            "UNION ALL SELECT MAX(t) FROM prompts WHERE call_id = ?1 "
            "UNION ALL SELECT MAX(t) FROM customer_states WHERE call_id = ?1)", (row["id"],)).fetchone()[0]
        db.execute("UPDATE calls SET status = 'interrupted', duration_s = MAX(duration_s, ?) WHERE id = ?",
                   (last or 0.0, row["id"]))
        end = db.execute("SELECT duration_s FROM calls WHERE id = ?", (row["id"],)).fetchone()[0]
        mood_totals(db, row["id"], end)  # the customer's last state lasts to where the call was cut off
        call_closed(db, row["id"])  # issue 14: a crashed team call goes to the team server too, as interrupted
    return len(rows)


def delete_call(db: sqlite3.Connection, call_id: int) -> Optional[str]:
    """Remove a call, everything stored with it and its recording; returns the recording's path, if any.
    A call still being written by a running app is refused."""
    row = db.execute("SELECT status, writer_pid, recording FROM calls WHERE id = ?", (call_id,)).fetchone()
    if row is None:
        raise StoreError(f"No saved call {call_id}; 'companion calls list' shows them.")
    if row["status"] == "active" and writer_alive(row["writer_pid"], call_id):
        raise StoreError(f"Call {call_id} is still being recorded (process {row['writer_pid']}); end that call first.")
    write(db, lambda db: db.execute("DELETE FROM calls WHERE id = ?", (call_id,)))
    recording: Optional[str] = row["recording"]
    if recording:
        from pathlib import Path

        from companion.store.cut_off import mark_of

        Path(recording).unlink(missing_ok=True)
        mark_of(Path(recording)).unlink(missing_ok=True)  # a cut-off recording's mark goes with it
    return recording
