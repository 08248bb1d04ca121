"""Calls are never half-saved while the app says "saved": a full disk mid-save is said, with what was
kept, and the next import finishes the job; rejected recordings leave nothing; every stored text is
redacted; the store's folder and exports are private; many processes may open a new store at once."""

from __future__ import annotations

import os
import re
import resource
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from companion.events import CallEnded, FinalSegment, Word
from companion.resources import resource_path
from companion.session import CallSession
from companion.store.calls import list_calls
from companion.store.db import open_store
from companion.store.recorder import CallRecorder
from tests.installed import OUTSIDE

CARD = "4111 1111 1111 1111"


def companion(*args, limit_bytes=None, env=None):
    """The installed command; `limit_bytes` caps the size of any file it writes (the disk is "full")."""

    def cap():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run([sys.executable, "-m", "ui", *map(str, args)], capture_output=True, text=True,
                          env=env or dict(os.environ), cwd=OUTSIDE, timeout=300, preexec_fn=cap if limit_bytes else None)


@pytest.fixture(scope="module")
def long_call(tmp_path_factory) -> Path:
    """Eight demo calls end to end (about 16 min), long enough to fill a small disk."""
    data, rate = sf.read(str(resource_path("demo/demo_call.flac")), dtype="float32")
    path = tmp_path_factory.mktemp("long") / "long-call.flac"
    sf.write(str(path), np.concatenate([data] * 8), rate)
    return path


def test_a_full_disk_during_analyze_save_fails_and_says_what_was_kept(long_call):
    run = companion("analyze", long_call, "--model", "none", "--save", limit_bytes=500_000)  # about a third of the call
    assert run.returncode != 0
    assert "saved as call" not in run.stderr
    [line] = [l for l in run.stderr.splitlines() if "Saving stopped" in l]
    kept_s = float(line.split("Saving stopped at ")[1].split(" s")[0])
    whole = sf.info(str(long_call)).duration
    assert 0 < kept_s < whole - 60 and f"of {whole:.0f} s" in line and "companion calls delete 1" in line
    [call] = list_calls(open_store())
    assert call["status"] == "interrupted" and call["duration_s"] == pytest.approx(kept_s, abs=1.0)


def test_an_import_cut_short_by_a_full_disk_is_done_again_next_time(long_call):
    first = companion("import", long_call, limit_bytes=300_000)
    assert first.returncode == 1 and "Saving stopped" in first.stderr
    second = companion("import", long_call)
    assert second.returncode == 0, second.stderr
    assert "did not finish; importing again" in second.stderr and "imported as call" in second.stderr
    [call] = list_calls(open_store())
    assert call["status"] == "complete" and call["duration_s"] == pytest.approx(sf.info(str(long_call)).duration, abs=1)
    third = companion("import", long_call)
    assert "already in the history as call 1" in third.stderr


def test_a_save_failure_reaches_the_calls_subscribers_as_an_event(tmp_path):
    """The window and `companion live` listen on the call's bus; a failed save is an event there."""
    script = (
        "from companion.config import load_config\n"
        "from companion.events import SaveFailed\n"
        "from companion.resources import resource_path\n"
        "from companion.session import CallSession\n"
        "s = CallSession(load_config(use_user_default=False))\n"
        "s.bus.subscribe(lambda e: print('EVENT', e.what, e.message, flush=True) if isinstance(e, SaveFailed) else None)\n"
        "s.keep('demo')\n"
        "s.start_demo(resource_path('demo/demo_call.flac'), speed=30.0)\n"
        "s.ended.wait(60)\n"
    )

    def cap():
        resource.setrlimit(resource.RLIMIT_FSIZE, (150_000, 150_000))

    open_store().close()  # the store as an agent has it; the disk fills during the call
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=OUTSIDE, timeout=120,
                         preexec_fn=cap)
    events = [l for l in run.stdout.splitlines() if l.startswith("EVENT")]
    assert events[0].startswith("EVENT call not saving: the disk is full") and "kept in memory" in events[0]
    assert "the rest was lost because the disk stayed full" in events[-1]


def test_a_disk_full_before_the_store_is_made_says_so_and_the_call_goes_on(tmp_path):
    """A first call on a nearly full disk: making the store fails half-way, and the agent is told the disk is
    full (not a database's own words about its rollback); the coaching goes on."""
    script = (
        "from companion.config import load_config\n"
        "from companion.events import Prompt, SaveFailed\n"
        "from companion.resources import resource_path\n"
        "from companion.session import CallSession\n"
        "s = CallSession(load_config(use_user_default=False))\n"
        "s.bus.subscribe(lambda e: print('EVENT', e.what, e.message, flush=True) if isinstance(e, SaveFailed) else None)\n"
        "s.bus.subscribe(lambda e: print('PROMPT', e.kind, flush=True) if isinstance(e, Prompt) else None)\n"
        "s.keep('demo')\n"
        "s.start_demo(resource_path('demo/demo_call.flac'), speed=30.0)\n"
        "s.ended.wait(60)\n"
    )

    def cap():
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=OUTSIDE, timeout=120,
                         preexec_fn=cap)
    events = [l for l in run.stdout.splitlines() if l.startswith("EVENT")]
    assert events and events[0].startswith("EVENT call not saving: the disk is full"), run.stdout + run.stderr
    assert not [e for e in events if "rollback" in e]
    assert "nothing of this call was saved because the disk stayed full" in events[-1]
    assert [l for l in run.stdout.splitlines() if l.startswith("PROMPT")]


def test_calls_delete_removes_a_call_and_its_recording(tmp_path):
    session = CallSession(_config(record_audio=True))
    recorder = session.keep("demo", record_audio=True)
    session.start_demo(resource_path("demo/demo_call.flac"), speed=30.0)
    assert session.ended.wait(60)
    recording = Path(open_store().execute("SELECT recording FROM calls").fetchone()[0])
    assert recording.is_file()
    run = companion("calls", "delete", recorder.call_id)
    assert run.returncode == 0, run.stderr
    assert list_calls(open_store()) == [] and not recording.exists()
    again = companion("calls", "delete", recorder.call_id)
    assert again.returncode == 2 and again.stderr.count("\n") == 1 and "No saved call" in again.stderr


def _config(record_audio=False):
    import dataclasses

    from companion.config import load_config

    config = load_config(use_user_default=False)
    return dataclasses.replace(config, privacy=dataclasses.replace(config.privacy, record_audio=record_audio))


def test_a_recording_analyze_rejects_is_not_kept(tmp_path):
    silent = tmp_path / "silent.wav"
    sf.write(str(silent), np.zeros((16000 * 60, 2)), 16000)
    run = companion("analyze", silent, "--model", "none", "--save")
    assert run.returncode == 2 and "No speech found" in run.stderr
    assert list_calls(open_store()) == []


# --- redaction of every stored text -------------------------------------------------------------

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _all_text(db: sqlite3.Connection) -> str:
    """Every text value of every table, as one string, the random ids (UUIDs) left out: one in 2,000 holds "4111"."""
    out = []
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'segments_fts%'"):
        for row in db.execute(f'SELECT * FROM "{table}"'):
            out += [UUID.sub("<id>", v) for v in row if isinstance(v, str)]
    return "\n".join(out)


def test_a_card_number_said_word_by_word_is_in_no_stored_column(tmp_path):
    recorder = CallRecorder("live")
    words = tuple(Word(w, 1.0 + i * 0.4, 1.3 + i * 0.4, 0.9) for i, w in enumerate(f"my card is {CARD} thanks".split()))
    recorder(FinalSegment("customer", words[0].start, words[-1].end, words))
    recorder(CallEnded(duration_s=5.0, dropped_blocks=0))
    recorder.close()
    db = open_store()
    assert "4111" not in _all_text(db) and "1111" not in _all_text(db)
    assert [r[0] for r in db.execute("SELECT word FROM words ORDER BY start")] == \
        ["my", "card", "is", "[card]", "[card]", "[card]", "[card]", "thanks"]


# --- the store's folder and files ---------------------------------------------------------------

def test_a_shared_data_folder_keeps_its_permissions_and_new_folders_are_private(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    monkeypatch.setenv("COMPANION_DATA_DIR", str(shared))
    open_store().close()
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert stat.S_IMODE((shared / "calls.sqlite3").stat().st_mode) == 0o600
    fresh = tmp_path / "new" / "deeper"
    monkeypatch.setenv("COMPANION_DATA_DIR", str(fresh))
    open_store().close()
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700 and stat.S_IMODE(fresh.parent.stat().st_mode) == 0o700


def test_exports_are_private_unless_asked(tmp_path):
    session = CallSession(_config())
    recorder = session.keep("demo")
    session.start_demo(resource_path("demo/demo_call.flac"), speed=30.0)
    assert session.ended.wait(60)
    for fmt in ("json", "csv", "html", "bundle"):
        target = tmp_path / f"export.{fmt}"
        run = companion("calls", "export", recorder.call_id, "--format", fmt, "-o", target)
        assert run.returncode == 0, run.stderr
        assert stat.S_IMODE(target.stat().st_mode) == 0o600, fmt
    shared = tmp_path / "for-the-team.html"
    assert companion("calls", "export", recorder.call_id, "--format", "html", "-o", shared, "--mode", "644").returncode == 0
    assert stat.S_IMODE(shared.stat().st_mode) == 0o644


def test_four_processes_opening_a_new_store_at_once_all_succeed(tmp_path):
    script = "from companion.store.db import open_store\ndb = open_store()\nprint(db.execute('PRAGMA user_version').fetchone()[0])\n"
    env = dict(os.environ, COMPANION_DATA_DIR=str(tmp_path / "fresh"))
    for _ in range(3):  # a race shows up only some of the time: try it a few times
        procs = [subprocess.Popen([sys.executable, "-c", script], env=env, cwd=OUTSIDE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(4)]
        results = [p.communicate(timeout=60) for p in procs]
        assert all(p.returncode == 0 for p in procs), [err for _, err in results]
        from companion.store.schema import VERSION

        assert {out.strip() for out, _ in results} == {str(VERSION)}
        for f in (tmp_path / "fresh").glob("calls.sqlite3*"):
            f.unlink()


def test_searching_for_nothing_is_one_clear_line():
    run = companion("calls", "list", "--search", "   ")
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "--search needs at least one word" in run.stderr
    ok = companion("calls", "list", "--search", 'refund "NEAR" AND OR *')
    assert ok.returncode == 0, ok.stderr
