"""The search index of what was said stays sound however many numbers are read across segments, and a
store whose index was broken (as merging it after every rewrite did on SQLite 3.40: `PRAGMA quick_check`
said ok while every segment written failed as "malformed") is repaired at the next start, saying so in
one line and losing nothing. Real store files, the app's own write path, the `companion` command."""

from __future__ import annotations

import os
import sqlite3

import pytest

from companion.store.calls import search
from companion.store.db import open_store, store_path, write
from companion.store.rows import CallRows, insert_call
from companion.store.schema import MIGRATIONS, VERSION
from companion.store.search_index import openable, problem
from tests.commands import companion

CARD_IN_FOUR = ("four one one one", "one one one one", "one one one one", "one one one one")
DIGITS = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}


def words(text: str, t: float) -> list[tuple[str, float, float, float]]:
    return [(w, t + i * 0.3, t + i * 0.3 + 0.25, 0.9) for i, w in enumerate(text.split())]


def live_call(db: sqlite3.Connection, n: int, close: bool = True) -> int:
    """One live call as the recorder writes it: a card number read in four groups with no cue before it
    (the second group makes the first a number, the fourth makes all four a card: 4 rewrites), then a
    line with the call's own word."""
    def work(db: sqlite3.Connection) -> int:
        cid = insert_call(db, "2026-01-05T09:00:00+00:00", "live", None, status="active")
        rows = CallRows(db, cid)
        rows.segment("agent", 0.5, 2.5, "how can i help", words("how can i help", 0.5))
        for k, group in enumerate(CARD_IN_FOUR):
            rows.segment("customer", 3.0 + 2 * k, 4.2 + 2 * k, group, words(group, 3.0 + 2 * k))
        rows.segment("agent", 12.0, 14.0, f"thanks call{n}", words(f"thanks call{n}", 12.0))
        if close:
            db.execute("UPDATE calls SET status = 'complete' WHERE id = ?", (cid,))
        return cid
    return write(db, work)


def vocabulary(db: sqlite3.Connection) -> set[str]:
    db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab USING fts5vocab(main, 'segments_fts', 'row')")
    return {r[0] for r in db.execute("SELECT term FROM temp.vocab")}


def test_hundreds_of_calls_with_numbers_read_across_segments_leave_the_index_sound():
    # 600 calls are 2,400 rewrites; merging the index after each one broke it after about 1,700 (call 418)
    db = open_store()
    for n in range(600):
        live_call(db, n)
    assert problem(db) is None
    db.execute("INSERT INTO segments_fts(segments_fts) VALUES ('integrity-check')")  # the full check too
    db.rollback()  # (a check is an INSERT: it began a transaction)
    assert [r[0] for r in db.execute("SELECT text FROM segments WHERE call_id = 1 ORDER BY start")] == [
        "how can i help", *["[card] [card] [card] [card]"] * 4, "thanks call0"]
    segments = db.execute("SELECT COUNT(*) FROM segments").fetchone()[0]
    assert segments == 600 * 6
    in_index = db.execute("SELECT COUNT(*) FROM segments_fts WHERE segments_fts MATCH 'card'").fetchone()[0]
    assert in_index == 600 * 4  # every group of every card, as its label, once its call was over
    assert not DIGITS & vocabulary(db)  # no group of the card ever went into the index, so none is left in its pages
    assert search(db, "call599") == [600] and search(db, "thanks") == list(range(600, 0, -1))
    live_call(db, 600)  # and the store still takes the next call
    assert search(db, "call600") == [601]


def test_a_segment_enters_the_index_once_nothing_can_change_it_and_a_cut_off_call_is_searchable():
    db = open_store()
    cid = live_call(db, 1, close=False)
    # still being written: the last seconds (the card's groups, the thanks) may yet be judged again, so they
    # are not in the index; the agent's greeting, 10 s before the thanks, can no longer change: it is
    held = [r[0] for r in db.execute("SELECT text FROM segments WHERE held <> 0 ORDER BY start")]
    assert held == ["[card] [card] [card] [card]"] * 4 + ["thanks call1"]
    assert search(db, "call1") == [] and search(db, "help") == [cid]
    later = 40.0  # the customer speaks again long after: the card's groups can no longer change
    write(db, lambda db: CallRows(db, cid).segment("customer", later, later + 1, "fine", words("fine", later)))
    write(db, lambda db: db.execute("UPDATE calls SET status = 'complete' WHERE id = ?", (cid,)))
    assert search(db, "call1") == [cid] and search(db, "fine") == [cid] and search(db, "card") == [cid]
    assert db.execute("SELECT COUNT(*) FROM segments WHERE held <> 0").fetchone()[0] == 0

    # a call whose app was killed: closed as interrupted at the next start, and its words searchable then
    other = live_call(db, 2, close=False)
    db.execute("UPDATE calls SET writer_pid = 2147483646 WHERE id = ?", (other,))  # no such process
    db.commit()
    db.close()
    listed = companion("calls", "list", "--search", "call2", "--json")
    assert listed.returncode == 0, listed.stderr
    assert '"status": "interrupted"' in listed.stdout and f'"id": {other}' in listed.stdout
    assert problem(db := open_store()) is None and not DIGITS & vocabulary(db)


def break_index_as_optimize_did(db: sqlite3.Connection) -> int:
    """What a merge after every rewrite did to the index on SQLite 3.40: a level more each time, until the
    index could not be read. Returns how many merges it took."""
    for n in range(1, 5000):
        try:
            db.execute('INSERT INTO segments(call_id, party, start, "end", text) VALUES (1, \'agent\', ?, ?, ?)',
                       (n, n + 1, f"word{n} and more"))
            db.execute("INSERT INTO segments_fts(segments_fts) VALUES ('optimize')")
            db.commit()
        except sqlite3.DatabaseError:
            db.rollback()
            return n
    raise AssertionError("the index never broke")


def test_a_store_broken_by_the_old_merges_is_repaired_at_the_next_start():
    if sqlite3.sqlite_version_info[:2] != (3, 40):
        pytest.skip("the merges broke the index on SQLite 3.40")
    # a store of the schema before (7), written as that version wrote it, then broken the way it broke
    data_dir = store_path().parent
    data_dir.mkdir(parents=True, exist_ok=True)
    old = sqlite3.connect(":memory:")   # made in memory (quick), then written to the store's file
    old.executescript("".join(MIGRATIONS[:7]) + "PRAGMA user_version = 7;")
    old.execute("INSERT INTO calls(id, started_at, source, status, uuid) VALUES (1, '2026-01-05T09:00:00+00:00', 'live', "
                "'complete', 'f0e1d2c3-0000-4000-8000-000000000001')")
    old.commit()
    merges = break_index_as_optimize_did(old)
    with sqlite3.connect(str(store_path())) as file:
        old.backup(file)
    old.close()
    old = sqlite3.connect(str(store_path()))
    assert old.execute("PRAGMA quick_check").fetchone()[0] == "ok"   # SQLite's own check saw nothing wrong
    assert not openable(old)
    with pytest.raises(sqlite3.DatabaseError, match="malformed|constructor failed"):   # every segment written fails
        old.execute('INSERT INTO segments(call_id, party, start, "end", text) VALUES (1, \'agent\', 0, 1, \'hello\')')
    old.close()
    aside_before = set(os.listdir(data_dir)) - {"logs"}  # the support log comes and goes with each command

    listed = companion("calls", "list", "--search", "word7")
    assert listed.returncode == 0, listed.stderr
    said = [line for line in listed.stderr.splitlines() if line.strip()]
    assert len(said) == 1 and "search index was damaged" in said[0] and f"{merges - 1} segments" in said[0], said
    assert set(os.listdir(data_dir)) - {"logs"} == aside_before   # the store was repaired, not set aside
    db = open_store()
    assert db.execute("PRAGMA user_version").fetchone()[0] == VERSION
    assert problem(db) is None and search(db, "word7") == [1] and search(db, f"word{merges - 1}") == [1]
    assert db.execute("SELECT COUNT(*) FROM segments").fetchone()[0] == merges - 1  # every transcript kept
    assert companion("calls", "list").stderr == ""   # said once: the start after is quiet


@pytest.mark.parametrize("damage", [
    "UPDATE segments_fts_data SET block = X'000000000A' WHERE id = 10",   # the index's structure unreadable
    "DELETE FROM segments_fts_data WHERE id = (SELECT MAX(id) FROM segments_fts_data)",  # one of its pages gone
])
def test_a_damaged_index_of_the_current_store_is_rebuilt_at_the_next_start(damage):
    db = open_store()
    for n in range(40):
        live_call(db, n)
    db.execute(damage)
    db.commit()
    assert db.execute("PRAGMA quick_check").fetchone()[0] == "ok" and problem(db) is not None
    db.close()

    listed = companion("calls", "list", "--search", "call7", "--json")
    assert listed.returncode == 0, listed.stderr
    assert '"id": 8' in listed.stdout
    [line] = [line for line in listed.stderr.splitlines() if line.strip()]
    assert line.startswith("companion: The call store's search index was damaged (") and "240 segments" in line
    db = open_store()
    assert problem(db) is None and search(db, "call39") == [40] and not DIGITS & vocabulary(db)
    live_call(db, 40)
    assert search(db, "call40") == [41]
