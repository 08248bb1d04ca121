"""No digit of a card in clear in the store, not even for the seconds before the next group is said
(issue 24, item 2): a segment the next words could still make part of a card is written redacted from
its first write and given its text back once nothing can join it; `kill -9` at any moment leaves no
card group in the store's file, its write-ahead log or its shared-memory file; a row that loses words
to a later judgement leaves no copy in free pages (secure_delete) or in the log (checkpointed and
truncated after the commit).

The kill test is a live call in a process of its own (tests/card_call_process.py: the demo recording
through the real pipeline and call writer, the customer reading a card in four groups), killed with
SIGKILL as soon as the store holds the first group, then the second, third and fourth; the raw bytes
of the three files are then searched for the groups in every spelling the store could keep."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from companion.store.db import open_store, write
from companion.store.rows import CallRows, insert_call
from tests.card_call_process import card_groups, cut_recording

ROOT = Path(__file__).resolve().parent.parent
SPEED = 3.0   # the call's clock runs 3x: a group every second or so, the writer commits every half second
NUMBER = re.compile(rb"(?<![a-z])(zero|oh|one|two|three|four|five|six|seven|eight|nine)(?![a-z])")
# in a file's raw bytes: a number word of four letters or more (a word kept alone, as in `words`), or any
# number word followed by another (a segment's text). Two or three letters alone ("oh", "one") turn up by
# chance in the bytes of the floats around them; every group of this card has a longer word in it
_WORD = rb"(zero|oh|one|two|three|four|five|six|seven|eight|nine)"
IN_BYTES = re.compile(rb"(?<![a-z])(zero|three|four|five|seven|eight|nine)(?![a-z])|(?<![a-z])" + _WORD + rb" " + _WORD
                      + rb"(?![a-z])")
DIGIT_WORDS = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
               "seven": "7", "eight": "8", "nine": "9"}


def card_digits() -> list[bytes]:
    """Each group as digits ("5425"), and the whole card."""
    from tests.test_events_file_privacy import CARD_GROUPS

    groups = ["".join(DIGIT_WORDS[w] for w in group.split()) for group in CARD_GROUPS]
    return [g.encode() for g in groups + ["".join(groups)]]


def store_files(data: Path) -> dict[str, bytes]:
    base = data / "calls.sqlite3"
    return {p.name: p.read_bytes() for p in (base, Path(f"{base}-wal"), Path(f"{base}-shm")) if p.exists()}


def in_clear(files: dict[str, bytes]) -> list[tuple[str, bytes]]:
    """Every number word (as `IN_BYTES` finds them) and each card group as digits in the files' raw
    bytes, with the bytes around each (no other number is said before or between the card's groups)."""
    found = [(name, raw[max(0, m.start() - 40):m.end() + 40]) for name, raw in files.items()
             for m in IN_BYTES.finditer(raw)]
    typed = [(name, raw[max(0, m.start() - 40):m.end() + 40]) for name, raw in files.items() for d in card_digits()
             for m in re.finditer(rb"(?<![0-9.])" + d + rb"(?![0-9.])", raw)]   # not the decimals of a time
    return found + typed


def kill_when(tmp: Path, wav: Path, groups: int, redaction: bool = True) -> dict[str, bytes]:
    """Run the card call, SIGKILL it as soon as the store holds `groups` of the card's segments; the
    store's files as the kill left them."""
    data = tmp / f"data-{groups}-{redaction}"
    env = dict(os.environ, COMPANION_DATA_DIR=str(data), COMPANION_CONFIG_DIR=str(tmp / "config"))
    args = [sys.executable, "-m", "tests.card_call_process", str(wav), str(SPEED)] + ([] if redaction else ["--no-redaction"])
    first = card_groups()[0][0] - 0.5
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reader = None
    try:
        while True:
            assert proc.poll() is None, proc.stderr.read().decode(errors="replace")
            try:
                if reader is None and (data / "calls.sqlite3").exists():
                    reader = sqlite3.connect(f"file:{data / 'calls.sqlite3'}?mode=ro", uri=True)
                held = reader.execute("SELECT count(*) FROM segments WHERE party = 'customer' AND start >= ?",
                                      (first,)).fetchone()[0] if reader else 0
            except sqlite3.OperationalError:   # the store not made yet, or busy this instant
                held = 0
            if held >= groups:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        if reader is not None:
            reader.close()   # read-only: it cannot checkpoint or delete the log
    return store_files(data)


@pytest.fixture(scope="module")
def call_wav(tmp_path_factory) -> Path:
    return cut_recording(tmp_path_factory.mktemp("card-call") / "card.wav")


def test_the_check_finds_a_card_group_left_in_clear(call_wav, tmp_path):
    files = kill_when(tmp_path, call_wav, 1, redaction=False)   # redaction off: the group stays as said
    assert any(b"five four two five" in context for _, context in in_clear(files)), list(files)


@pytest.mark.parametrize("groups", [1, 2, 3, 4])
def test_kill_9_mid_card_leaves_no_card_group_in_the_store_its_log_or_free_pages(call_wav, tmp_path, groups):
    files = kill_when(tmp_path, call_wav, groups)
    assert "calls.sqlite3" in files
    assert in_clear(files) == []   # (file, the bytes around each find)


# --- the rows themselves, on a real store file -----------------------------------------------------
def segment(rows: CallRows, party: str, text: str, t: float) -> None:
    words = [(w, t + i * 0.3, t + i * 0.3 + 0.25, 1.0) for i, w in enumerate(text.split())]
    write(rows.db, lambda db: rows.segment(party, words[0][1], words[-1][2], text, words))
    rows.after_commit()


def texts(db: sqlite3.Connection) -> list[str]:
    return [r[0] for r in db.execute("SELECT text FROM segments ORDER BY start")]


@pytest.fixture
def live(tmp_path):
    db = open_store(tmp_path / "calls.sqlite3")
    call = write(db, lambda db: insert_call(db, "2026-12-06T10:00:00+00:00", "live", None))
    yield CallRows(db, call, live=True)
    db.close()


def test_a_group_said_alone_is_stored_redacted_and_given_back_when_the_speaker_goes_on(live):
    segment(live, "customer", "it's four one one one", 1.0)
    assert texts(live.db) == ["it's " + " ".join(["[card]"] * 4)]   # the first of four groups, maybe
    segment(live, "customer", "sorry that was the wrong thing thanks", 4.0)   # words, not more digits
    assert texts(live.db)[0] == "it's four one one one"   # as the store keeps it said alone
    assert [r[0] for r in live.db.execute("SELECT word FROM words ORDER BY start")][:5] == "it's four one one one".split()
    assert live.db.execute("SELECT count(*) FROM segments_fts WHERE segments_fts MATCH 'four'").fetchone()[0] == 0


def test_a_group_said_last_is_given_back_when_the_call_is_over(live):
    segment(live, "customer", "my order number is five five two one", 1.0)
    assert "five" not in texts(live.db)[0]
    segment(live, "agent", "thank you let me look", 5.0)   # the other party: the customer may still go on
    assert "five" not in texts(live.db)[0]
    write(live.db, lambda db: live.call_over())
    assert texts(live.db)[0] == "my order number is five five two one"


def test_a_card_read_in_groups_is_never_in_a_row_in_clear(live):
    groups = ("five four two five", "two three three four", "three zero one zero", "nine nine zero three")
    for n, group in enumerate(groups):
        segment(live, "customer", group, 1.0 + 3 * n)
        if n < len(groups) - 1:
            segment(live, "agent", "yep", 3.2 + 3 * n)
        rows = " ".join(texts(live.db)) + " " + " ".join(r[0] for r in live.db.execute("SELECT word FROM words"))
        assert not NUMBER.search(rows.encode()), rows
    write(live.db, lambda db: live.call_over())
    assert texts(live.db) == [" ".join(["[card]"] * 4), "yep"] * 3 + [" ".join(["[card]"] * 4)]


def test_a_row_that_loses_words_leaves_them_in_no_page_and_no_log(tmp_path):
    path = tmp_path / "calls.sqlite3"
    db = open_store(path)
    call = write(db, lambda db: insert_call(db, "2026-12-06T10:00:00+00:00", "live", None))
    rows = CallRows(db, call)   # not live: the first half is written as said, rewritten by the second
    segment(rows, "customer", "it's four one one one", 1.0)
    assert texts(db) == ["it's four one one one"]   # alone, a short number: kept
    segment(rows, "customer", "one one one one one one one one one one one one", 4.0)
    assert texts(db) == ["it's " + " ".join(["[card]"] * 4), " ".join(["[card]"] * 12)]
    assert os.path.getsize(f"{path}-wal") == 0   # checkpointed into the store and truncated
    assert not IN_BYTES.search(path.read_bytes())   # and zeroed where the rows were (secure_delete)
    db.close()
