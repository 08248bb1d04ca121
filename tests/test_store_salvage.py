"""A store with a damaged page loses what was on that page, not every call: at the next start the store
is set aside, a fresh one started with everything that can still be read, the calls waiting for the
team server still queued, and one line says what was kept and what was lost. Real stores written by the
app, damaged on disk, opened again by the `companion` command."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from companion.events import CallEnded, FinalSegment, Turn, Word
from companion.store.db import open_store, store_path
from companion.store.outbox import due
from companion.store.recorder import CallRecorder
from tests.installed import OUTSIDE

CALLS = 15


def said(party: str, text: str, t: float) -> FinalSegment:
    words = tuple(Word(w, t + i * 0.35, t + i * 0.35 + 0.3, 0.9) for i, w in enumerate(text.split()))
    return FinalSegment(party, words[0].start, words[-1].end, words)


def _store_with_calls() -> dict[int, dict]:
    """CALLS calls written by the app's recorder on an agent's machine (every other one a live call, so
    queued for the team server); the recording's long file name fills the calls table's pages quickly."""
    config = Path(os.environ["COMPANION_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "team.toml").write_text('[server]\ndsn = "host=/tmp/nowhere dbname=calls user=ann"\nrole = "agent"\n'
                                      'connected_at = "2026-01-05T09:00:00+00:00"\n')
    calls = {}
    for i in range(CALLS):
        source = "live" if i % 2 else "analyze"
        recorder = CallRecorder(source, file=f"/recordings/{'queue-' * 150}{i}.wav" if source != "live" else None)
        for event in (Turn("customer", 0.5, 4.0), said("customer", f"my parcel number {i} never came", 0.6),
                      Turn("agent", 4.5, 8.0), said("agent", f"let me check parcel {i} for you", 4.6),
                      CallEnded(duration_s=9.0, dropped_blocks=0)):
            recorder(event)
        recorder.close()
        assert recorder.complete, recorder.failed
        calls[recorder.call_id] = {"source": source, "text": f"my parcel number {i} never came"}
    db = open_store()
    queued = {row["call_id"] for row in due(db)}
    assert queued == {cid for cid, c in calls.items() if c["source"] == "live"}
    for cid in calls:
        calls[cid]["queued"] = cid in queued
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the file itself, as after any quiet spell
    db.close()
    return calls


def _damage_a_page_of(table: str, which: int = 1) -> tuple[int, int]:
    """Write garbage over one leaf page of `table` (the `which`-th), as a failing disk sector would;
    returns how many leaf pages the table has, and where the damage starts."""
    path = store_path()
    db = sqlite3.connect(path)
    leaves = [r[0] for r in db.execute("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno",
                                       (table,))]
    size = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    page = leaves[min(which, len(leaves) - 1)]
    with open(path, "r+b") as fh:
        fh.seek((page - 1) * size)
        fh.write((b"\xde\xad\xbe\xef" + bytes(range(256)) * 16)[:size])
    return len(leaves), (page - 1) * size


def _next_start() -> str:
    run = subprocess.run([sys.executable, "-m", "ui", "calls", "list"], capture_output=True, text=True,
                         env=dict(os.environ), cwd=OUTSIDE, timeout=120)
    assert run.returncode == 0, run.stderr
    [line] = run.stderr.splitlines()  # one message: what was kept and what was lost
    return line


def test_a_damaged_page_of_calls_loses_only_its_calls_and_the_rest_are_still_queued():
    calls = _store_with_calls()
    leaves, at = _damage_a_page_of("calls")
    assert leaves >= 3
    line = _next_start()
    db = open_store()
    kept = {r["id"]: r for r in db.execute("SELECT id, source, status FROM calls")}
    lost = set(calls) - set(kept)
    assert kept and lost and set(kept) <= set(calls)
    first, last = min(lost), max(lost)
    assert lost == set(range(first, last + 1))  # the calls of one page
    waiting = sum(calls[cid]["queued"] for cid in kept)
    assert re.fullmatch(
        rf"companion: The call store was damaged \(.+\); it was set aside as \S+calls\.sqlite3\.corrupt-\S+ and a new "
        rf"store started in its place with what could be read of it \(.+\): {len(kept)} calls, {waiting} of them still "
        rf"waiting for the team server \(still queued\)\. Lost with the damaged pages: the calls numbered "
        rf"{first}(–{last})?\. Keep that file: a recovery tool may get more out of it\.", line), line
    for cid, row in kept.items():  # each kept call whole: its transcript, and its place in the queue
        assert row["source"] == calls[cid]["source"] and row["status"] == "complete"
        texts = [r[0] for r in db.execute("SELECT text FROM segments WHERE call_id = ? ORDER BY start", (cid,))]
        assert texts[0] == calls[cid]["text"] and len(texts) == 2
    assert {row["call_id"] for row in due(db)} == {cid for cid in kept if calls[cid]["queued"]}
    assert not db.execute("SELECT 1 FROM segments WHERE call_id NOT IN (SELECT id FROM calls)").fetchone()
    hits = db.execute("SELECT rowid FROM segments_fts WHERE segments_fts MATCH 'parcel'").fetchall()
    assert len(hits) == 2 * len(kept)  # the search index holds what was kept
    [aside] = store_path().parent.glob("calls.sqlite3.corrupt-*[0-9]")
    assert aside.read_bytes()[at:at + 4] == b"\xde\xad\xbe\xef"  # set aside as it was, damage and all


def test_a_damaged_queue_sends_every_call_again_rather_than_none():
    calls = _store_with_calls()
    _damage_a_page_of("outbox", which=0)
    line = _next_start()
    live = {cid for cid, c in calls.items() if c["source"] == "live"}
    assert f"{len(calls)} calls, {len(live)} of them still waiting for the team server" in line, line
    assert "the team server's queue could not be read whole" in line or "parts of the team server's queue" in line
    db = open_store()
    assert len(db.execute("SELECT id FROM calls").fetchall()) == len(calls)
    assert {row["call_id"] for row in due(db)} == live  # the server keeps one copy of what it already had


def test_a_damaged_page_of_transcripts_keeps_every_call_and_says_which_part_is_gone():
    calls = _store_with_calls()
    _damage_a_page_of("words", which=0)
    line = _next_start()
    assert "with what could be read of it (" in line and f": {len(calls)} calls," in line
    assert "Lost with the damaged pages: parts of the transcripts of the calls kept." in line, line
    db = open_store()
    assert len(db.execute("SELECT id FROM calls").fetchall()) == len(calls)
    assert db.execute("SELECT COUNT(*) FROM segments").fetchone()[0] == 2 * len(calls)
