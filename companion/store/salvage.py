"""What can still be read of a damaged store, copied into the fresh store that replaces it.

A damaged page loses the rows on it, not the whole store: the store set aside is copied (with its
WAL) to a private folder and read there, so the set-aside file stays exactly as it was. SQLite's own
`.recover` (the sqlite3 command-line tool, where it has it) rebuilds what it can into a sound
database first; without it, each table is read in rowid order and a read that meets a damaged page
skips past it (the next readable rowid is found by probing further and further on, then narrowed
down), so only the rows on damaged pages are lost. Rows whose call was lost go with it; calls keep
their ids, and the team sync's queue (`outbox`) is copied with them, so an unsent call is still sent.
When the queue itself could not be read whole, every call of this machine's is queued again: the
team server keeps one copy of a call sent twice.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Final, Literal, Optional, Union

from companion.store.writes import new_id

# every table of the store, parents first: (table, its key column or None, {column: parent table})
TABLES: tuple[tuple[str, Optional[str], dict[str, str]], ...] = (
    ("calls", "id", {}),
    ("turns", None, {"call_id": "calls"}),
    ("segments", "id", {"call_id": "calls"}),
    ("words", None, {"segment_id": "segments"}),
    ("prompts", "id", {"call_id": "calls"}),
    ("interruptions", None, {"call_id": "calls"}),
    ("metrics", None, {"call_id": "calls"}),
    ("ticks", None, {"call_id": "calls"}),
    ("notes", None, {"call_id": "calls"}),
    ("comments", "id", {"call_id": "calls", "prompt_id": "prompts"}),
    ("pauses", None, {"call_id": "calls"}),
    ("customer_states", None, {"call_id": "calls"}),
    ("outbox", None, {"call_id": "calls"}),
    ("sync_state", None, {}),
)
OPTIONAL_PARENT = {("comments", "prompt_id")}  # a comment whose prompt was lost keeps its text, without the link
MAX_ROWID = 2 ** 63 - 1
RECOVER_TIMEOUT_S = 600.0


@dataclass
class Salvaged:
    """What was copied, and what is known to be lost."""

    kept: dict[str, int] = field(default_factory=dict)        # rows copied, by table
    damaged: list[str] = field(default_factory=list)          # tables with rows that could not be read
    lost_calls: set[int] = field(default_factory=set)         # calls known to have been there (their rows were)
    queued: int = 0                                           # calls waiting for the team server, still queued
    queued_again: int = 0                                     # queued again: the queue could not be read whole
    recovered_by: str = "reading table by table"

    @property
    def calls(self) -> int:
        return self.kept.get("calls", 0)


def salvage(damaged: Path, into: sqlite3.Connection) -> Salvaged:
    """Copy what can be read of the store file `damaged` (left untouched) into the fresh store `into`."""
    with tempfile.TemporaryDirectory(prefix=".salvage-", dir=damaged.parent) as work:
        copy = Path(work) / "damaged.sqlite3"
        for suffix in ("", "-wal"):
            if Path(f"{damaged}{suffix}").exists():
                shutil.copyfile(f"{damaged}{suffix}", f"{copy}{suffix}")
        found = Salvaged()
        source_path = _recover(copy, Path(work) / "recovered.sqlite3")
        if source_path is not None:
            found.recovered_by = "SQLite's recovery"
        source = sqlite3.connect(str(source_path or copy))  # a copy: SQLite may write to it as it reads
        try:
            from companion.store.writes import write

            write(into, lambda db: _copy_all(source, db, found))
        finally:
            source.close()
    return found


def _recover(copy: Path, target: Path) -> Optional[Path]:
    """SQLite's `.recover` into a sound database at `target`, when the sqlite3 tool here can do it."""
    tool = shutil.which("sqlite3")
    if tool is None:
        return None
    try:
        dump = subprocess.run([tool, str(copy), ".recover --ignore-freelist"], capture_output=True,
                              timeout=RECOVER_TIMEOUT_S)
        if dump.returncode != 0 or b"rror" in dump.stderr or not dump.stdout.rstrip().endswith(b"COMMIT;"):
            return None  # a build without the sqlite_dbpage table cannot recover ("no such table")
        load = subprocess.run([tool, str(target)], input=dump.stdout, capture_output=True, timeout=RECOVER_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError):
        return None
    return target if load.returncode == 0 and target.is_file() else None


def _quoted(names: list[str]) -> str:
    return ", ".join('"' + name.replace('"', '""') + '"' for name in names)


def _columns(db: sqlite3.Connection, table: str) -> list[str]:
    try:
        return [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]
    except sqlite3.DatabaseError:
        return []


def _copy_all(source: sqlite3.Connection, into: sqlite3.Connection, found: Salvaged) -> None:
    ids: dict[str, dict[int, int]] = {}  # table -> {id in the damaged store: id here}
    for table, key, parents in TABLES:
        columns = [c for c in _columns(source, table) if c in set(_columns(into, table))]
        if not columns:
            continue
        rows, whole = _read(source, table, columns)
        if not whole:
            found.damaged.append(table)
        mapped = ids.setdefault(table, {}) if key else None
        kept = 0
        for row in rows:
            values = dict(zip(columns, row))
            if table == "outbox":
                values["claimed_by"] = values["claimed_at"] = None  # the sync pass that held it is gone
            missing = False
            for column, parent in parents.items():
                if values.get(column) is None:
                    continue
                there = ids.get(parent, {}).get(values[column])
                if there is None and (table, column) in OPTIONAL_PARENT:
                    values[column] = None
                elif there is None:
                    missing = True
                    if parent == "calls" and isinstance(values[column], int):
                        found.lost_calls.add(values[column])
                else:
                    values[column] = there
            if missing:
                continue  # its call (or segment) could not be read: it goes with it
            old_id = values.get(key) if key else None
            if key and into.execute(f'SELECT 1 FROM "{table}" WHERE "{key}" = ?', (old_id,)).fetchone():
                values.pop(key)  # taken in the new store already (another app started a call there): a new id
            names = list(values)
            try:
                cursor = into.execute(f'INSERT INTO "{table}"({_quoted(names)}) VALUES ({", ".join("?" * len(names))})',
                                      [values[n] for n in names])
            except sqlite3.DatabaseError:  # a row the damage garbled (a NULL where a value must be)
                if table not in found.damaged:
                    found.damaged.append(table)
                continue
            if mapped is not None and isinstance(old_id, int):   # (mapped: the table has a key)
                mapped[old_id] = new_id(cursor)
            kept += 1
        found.kept[table] = kept
    found.lost_calls -= set(ids.get("calls", {}))
    found.queued = found.kept.get("outbox", 0)
    if "outbox" in found.damaged:
        found.queued_again = _queue_again(into)
        found.queued += found.queued_again


def _queue_again(db: sqlite3.Connection) -> int:
    """Every finished call of this machine's that is not in the queue: queued (the server keeps one copy)."""
    from companion.store.hooks import call_closed
    from companion.store.outbox import not_queued

    return sum(call_closed(db, call_id) for call_id in not_queued(db))


def _read(source: sqlite3.Connection, table: str, columns: list[str]) -> tuple[list[tuple[Any, ...]], bool]:
    """The rows of `table` that can be read, in rowid order, and whether that was all of them."""
    wanted = f'SELECT rowid, {_quoted(columns)} FROM "{table}" WHERE rowid >= ? ORDER BY rowid'
    rows: list[tuple[Any, ...]] = []  # column values as SQLite gives them
    start, whole, last_resume = -MAX_ROWID - 1, True, None
    while True:
        try:
            for row in source.execute(wanted, (start,)):
                rows.append(row[1:])
                start = row[0] + 1
            return rows, whole
        except sqlite3.DatabaseError:
            pass
        while start <= MAX_ROWID:  # near the damage: one row at a time (a read in bulk looks a row ahead)
            try:
                row = source.execute(wanted + " LIMIT 1", (start,)).fetchone()
            except sqlite3.DatabaseError:
                break
            if row is None:
                return rows, whole
            rows.append(row[1:])
            start = row[0] + 1
        whole = False
        resume = _past_damage(source, table, start) if start <= MAX_ROWID else None
        if resume is None:
            return rows, whole
        # the same row again: reached by its rowid, its content cannot be read (a damaged overflow page)
        start, last_resume = (resume + 1 if resume == last_resume else resume), resume


class _Way(Enum):
    DAMAGED = "damaged"


_DAMAGED: Final = _Way.DAMAGED  # the way to a rowid runs through a damaged page


def _first_from(source: sqlite3.Connection, table: str, rowid: int) -> Union[int, None, Literal[_Way.DAMAGED]]:
    """The first rowid from `rowid` on (None: there is none), or _DAMAGED when the way there is damaged."""
    try:
        row = source.execute(f'SELECT rowid FROM "{table}" WHERE rowid >= ? ORDER BY rowid LIMIT 1', (rowid,)).fetchone()
    except sqlite3.DatabaseError:
        return _DAMAGED
    return None if row is None else row[0]


def _past_damage(source: sqlite3.Connection, table: str, start: int) -> Optional[int]:
    """The first rowid past the damaged pages from `start` on: probed at doubling distances, then
    narrowed down to the first probe that reads, so no readable row beyond the damage is skipped."""
    step, bad = 1, start - 1
    while True:
        probe = min(start - 1 + step, MAX_ROWID)
        found = _first_from(source, table, probe)
        if found is None:
            return None
        if found is not _DAMAGED:
            break
        if probe == MAX_ROWID:
            return None
        bad, step = probe, step * 2
    good = probe
    while good - bad > 1:
        middle = (good + bad) // 2
        if _first_from(source, table, middle) is _DAMAGED:
            bad = middle
        else:
            good = middle
    found = _first_from(source, table, good)
    return None if found is None or found is _DAMAGED else found


def describe(found: Optional[Salvaged]) -> str:
    """What was kept and what was lost, for the one notice of a damaged store."""
    if found is None or not found.calls:
        return ""
    queued = (f", {found.queued} of them still waiting for the team server (still queued)" if found.queued else "")
    kept = f"{found.calls} call{'s' if found.calls != 1 else ''}{queued}"
    lost = []
    if found.lost_calls:
        lost.append(f"the calls numbered {_ranges(sorted(found.lost_calls))}")
    elif "calls" in found.damaged:
        lost.append("some calls")
    parts = [_WHAT.get(t, t) for t in found.damaged if t != "calls"]
    if parts:
        lost.append("parts of " + ", ".join(dict.fromkeys(parts)) + " of the calls kept")
    said = f"what could be read of it ({found.recovered_by}): {kept}. "
    said += f"Lost with the damaged pages: {'; '.join(lost)}." if lost else "Nothing else was lost."
    if found.queued_again:
        said += (f" The team server's queue could not be read whole, so {found.queued_again} call"
                 f"{'s' if found.queued_again != 1 else ''} of this machine's will be sent again (the server keeps one copy).")
    return said


_WHAT = {"turns": "the turns", "segments": "the transcripts", "words": "the transcripts", "prompts": "the prompts",
         "interruptions": "the interruptions", "metrics": "the pace and volume curves", "ticks": "the checklists",
         "notes": "the notes", "comments": "the comments", "pauses": "the payment pauses",
         "customer_states": "the customer's moods", "outbox": "the team server's queue",
         "sync_state": "the team sync's bookmarks"}


def _ranges(ids: list[int]) -> str:
    out, start = [], None
    for n, value in enumerate(ids):
        if start is None:
            start = value
        if n + 1 == len(ids) or ids[n + 1] != value + 1:
            out.append(str(start) if start == value else f"{start}–{value}")
            start = None
    return ", ".join(out)
