"""Recordings a crash cut off, found and repaired when the store is opened — without reading every call.

A FLAC learns its length only when it is closed: one whose writer was killed (`kill -9`, a crash, a
power cut) says "unknown length" and libsndfile cannot read it whole. While the recorder
(companion.store.recording) writes a call's audio, a mark lies beside the file —
`.call-12.flac.writing`, holding the writer's process id — made before the file and removed once the
file is closed and on disk. So the recordings that may be unfinished are the marked ones: opening the
store lists the recordings folder (one call, whatever the history's size), and looks up only the calls
of the marks it finds. A store with 100,000 calls and none cut off opens without reading a call's row.

The marks began with this version: a recordings folder from before them (or one a shared bundle
created) is looked over whole once — every ended call's recording, as before — and then noted as
marked (`.writing-marked`). A store elsewhere than the user data folder (a bundle's, a test's) is
always looked over whole: its recordings may lie anywhere.

Numpy and soundfile are not imported here: the repair reads and patches the FLAC's own bytes
(companion.store.flac_repair). Nor are pathlib and re until a recording is to be looked at: a start that
finds no mark lists one folder and is done."""

from __future__ import annotations

import os

from companion.paths import joined, user_data_text
from companion.store.writes import write, writer_alive

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
    from pathlib import Path
    from typing import Iterable, Optional

    # (the recording, its call's id or None, the process writing it, its mark or None)
    _Found = tuple[Path, Optional[int], Optional[int], Optional[Path]]

WRITING = ".writing"          # `.call-12.flac.writing`: call-12.flac is being written
ALL_MARKED = ".writing-marked"  # in a recordings folder: every recording written here since has its mark
BY_ID = r"call-(\d+)\.flac"  # a recording's name when its call had its id


def recordings_text() -> str:
    """`str(recordings_dir())`, without pathlib."""
    return joined(user_data_text(), "recordings")


def recordings_dir() -> Path:
    from pathlib import Path

    return Path(recordings_text())


def mark_of(recording: Path) -> Path:
    """Where the mark of a recording being written lies (beside it, hidden)."""
    return recording.with_name(f".{recording.name}{WRITING}")


def note_all_marked(folder: Path) -> None:
    """`folder`'s recordings all carry their marks from now on (a failure only means one more look over all)."""
    try:
        os.close(os.open(folder / ALL_MARKED, os.O_WRONLY | os.O_CREAT, 0o600))
    except OSError:
        pass


def repair_cut_off(db: sqlite3.Connection, default_store: bool = True) -> list[Path]:
    """The recordings of calls whose writer is gone (closed as interrupted, or killed after its call
    ended but before its audio was finished) made readable again; returns the files repaired. A
    recording that a running app is still writing is left alone. `default_store`: the store in the
    user data folder, whose recordings lie in its recordings folder, marked while they are written."""
    if not default_store:
        return _repair(db, _every_ended_call(db, None, set()))
    try:
        names = set(os.listdir(recordings_text()))
    except OSError:
        return []  # no recordings folder: nothing was ever recorded here
    marks = sorted(n for n in names if n.startswith(".") and n.endswith(WRITING) and n != ALL_MARKED)
    if ALL_MARKED in names and not marks:
        return []  # the usual start: no recording was cut off
    folder = recordings_dir()
    if ALL_MARKED not in names:  # from before the marks: every ended call looked over, once
        repaired = _repair(db, _every_ended_call(db, folder, names))
        note_all_marked(folder)
        return repaired
    return _repair(db, _marked(db, folder, marks))


def _every_ended_call(db: sqlite3.Connection, folder: Optional[Path], present: set[str]) -> Iterable[_Found]:
    from pathlib import Path

    for row in db.execute("SELECT id, recording, writer_pid FROM calls WHERE status <> 'active'").fetchall():
        if row["recording"]:
            path = Path(row["recording"])
        else:
            name = f"call-{row['id']}.flac"  # killed before its row noted its recording
            if folder is None or name not in present:
                continue
            path = folder / name
        mark = mark_of(path)
        yield path, row["id"], row["writer_pid"], mark if folder is not None and mark.name in present else None


def _marked(db: sqlite3.Connection, folder: Path, marks: list[str]) -> Iterable[_Found]:
    import re

    for mark_name in marks:
        mark = folder / mark_name
        path = folder / mark_name[1:-len(WRITING)]
        by_id = re.fullmatch(BY_ID, path.name)
        if by_id:
            row = db.execute("SELECT id, recording, writer_pid, status FROM calls WHERE id = ?",
                             (int(by_id.group(1)),)).fetchone()
            if row is not None and row["recording"] not in (None, str(path)):
                row = None  # that call's recording is another file: this one is no call's of this store
        else:  # named before its call had an id: found by the path its row notes (rare, so unindexed)
            row = db.execute("SELECT id, recording, writer_pid, status FROM calls WHERE recording = ?",
                             (str(path),)).fetchone()
        if row is None:
            yield path, None, _pid_in(mark), mark  # no call of this store: repaired once its writer is gone
        elif row["status"] != "active":  # an active call's writer is running (a dead one's was closed just before)
            yield path, row["id"], row["writer_pid"], mark


def _pid_in(mark: Path) -> Optional[int]:
    try:
        return int(mark.read_text(encoding="ascii").strip() or 0) or None
    except (OSError, ValueError):
        return None


def _gone(pid: Optional[int], call_id: Optional[int]) -> bool:
    if call_id is not None:
        return not writer_alive(pid, call_id)
    if not pid or pid == os.getpid():
        return not pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _repair(db: sqlite3.Connection, found: Iterable[_Found]) -> list[Path]:
    from companion.store.flac_repair import repair, unknown_length

    repaired: list[Path] = []
    noted: list[tuple[Optional[str], int]] = []   # (recording, call id)
    done: list[Path] = []                          # marks of recordings now whole (or gone)
    for path, call_id, pid, mark in found:
        if not _gone(pid, call_id):
            continue  # still being written
        if not path.exists():
            if mark is not None:
                done.append(mark)
            continue
        if not unknown_length(path):
            if mark is not None:
                done.append(mark)  # finished, then killed before its mark was removed
            continue
        try:
            samples = repair(path)
        except OSError:
            continue  # unreadable or read-only: left as it was (and marked), tried again at the next start
        if samples == 0:  # killed before any of its audio was written: nothing to play
            path.unlink(missing_ok=True)
            if call_id is not None:
                noted.append((None, call_id))
        elif call_id is not None:
            noted.append((str(path), call_id))
        repaired.append(path)
        if mark is not None:
            done.append(mark)
    if noted:
        write(db, lambda db: db.executemany("UPDATE calls SET recording = ? WHERE id = ?", noted))
    for mark in done:  # only once the calls' rows say where their audio is
        mark.unlink(missing_ok=True)
    return repaired
