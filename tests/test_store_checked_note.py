"""A store found whole is not read through again at every start while it stays as it was (the note beside it,
companion.store.db), and a store damaged after that note is still found damaged at the next start.
Real files, the real command as the next start."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

from companion.store.db import CHECKED_SUFFIX, _state, open_store, store_path, write
from companion.store.rows import insert_call
from tests.installed import OUTSIDE


def _next_start() -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "companion", "calls", "list"], cwd=OUTSIDE, capture_output=True,
                          text=True, timeout=120)


def _store_with_calls(n: int = 300) -> None:
    db = open_store()
    write(db, lambda db: [insert_call(db, f"2026-12-06T06:{i // 60 % 60:02d}:{i % 60:02d}+00:00", "import",
                                      f"call-{i}.wav", status="complete", duration_s=60.0) for i in range(n)])
    db.close()


def test_a_store_found_whole_is_noted_as_it_is_and_damage_after_the_note_is_still_found():
    _store_with_calls()
    assert _next_start().returncode == 0
    note = store_path().with_name(store_path().name + CHECKED_SUFFIX)
    assert _next_start().returncode == 0  # (the first start's closing may have folded the WAL into the file)
    assert note.read_text() == _state(store_path())  # the files as they are now: the next start need not read them
    db = sqlite3.connect(store_path())
    [page] = db.execute("SELECT pageno FROM dbstat WHERE name = 'calls' AND pagetype = 'leaf' LIMIT 1").fetchone()
    size = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    with open(store_path(), "r+b") as fh:  # a failing sector, after the note
        fh.seek((page - 1) * size)
        fh.write((b"\xde\xad\xbe\xef" + bytes(range(256)) * 16)[:size])
    damaged = _next_start()
    assert damaged.returncode == 0 and "The call store was damaged" in damaged.stderr, damaged.stderr
    assert list(store_path().parent.glob("calls.sqlite3.corrupt-*[0-9]"))
