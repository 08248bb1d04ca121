"""The store under pressure, with real processes and real files: a live call, an import and searches
share one store without "database is locked"; a full disk or a read-only data folder during a call
keeps the coaching going, says "not saving: …", and writes the call once it can (or says what was
lost); a damaged store is set aside, a fresh one started, and the user told."""

from __future__ import annotations

import ctypes
import os
import pickle
import re
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from companion.config import load_config
from companion.demo import demo_recording, demo_script
from companion.events import (
    CallEnded,
    FinalSegment,
    Interruption,
    MetricsSnapshot,
    Prompt,
    SaveFailed,
    SavingResumed,
    Turn,
)
from companion.session import CallSession
from companion.store import db as store_db
from companion.store.calls import list_calls
from companion.store.db import open_store, write
from companion.store.recorder import CallRecorder
from tests.installed import OUTSIDE

SPEED = 10.0  # the demo call (116 s) in about 12 s
CALL_TABLES = {  # in the order written (rowid), ids left out
    "turns": 'SELECT party, start, "end" FROM turns WHERE call_id = ? ORDER BY rowid',
    "segments": "SELECT party, start, text FROM segments WHERE call_id = ? ORDER BY id",
    "words": "SELECT COUNT(*) FROM words w JOIN segments s ON s.id = w.segment_id WHERE s.call_id = ?",
    "prompts": "SELECT t, kind FROM prompts WHERE call_id = ? ORDER BY id",
    "interruptions": "SELECT t, by FROM interruptions WHERE call_id = ? ORDER BY rowid",
    "metrics": "SELECT t FROM metrics WHERE call_id = ? ORDER BY rowid",
    "status": "SELECT status FROM calls WHERE id = ?",
}


def stored(db: sqlite3.Connection, call_id: int) -> dict:
    """Everything stored of one call, in the order it was written."""
    return {name: [tuple(row) for row in db.execute(sql, (call_id,))] for name, sql in CALL_TABLES.items()}


# The store takes names out, the agent's too (docs/privacy.md): the demo agent's greeting as it is kept.
NAMES_TAKEN_OUT = {"my name is Sam,": "my name is [name]"}


def as_kept(text: str) -> str:
    for said, kept in NAMES_TAKEN_OUT.items():
        text = text.replace(said, kept)
    return text


def handed_over(events: list) -> dict:
    """What the store must hold of a call whose bus carried `events`, in the same shape as `stored`."""
    segments = [e for e in events if isinstance(e, FinalSegment) and e.words]
    return {
        "turns": [(e.party, e.start, e.end) for e in events if isinstance(e, Turn)],
        "segments": [(e.party, e.words[0].start, as_kept(" ".join(w.word for w in e.words))) for e in segments],
        "words": [(sum(len(e.words) for e in segments),)],
        "prompts": [(e.t, e.kind) for e in events if isinstance(e, Prompt)],
        "interruptions": [(e.t, e.by) for e in events if isinstance(e, Interruption)],
        "metrics": [(e.t,) for e in events if isinstance(e, MetricsSnapshot)],
        "status": [("complete",)] if any(isinstance(e, CallEnded) for e in events) else [("active",)],
    }


def run_demo(speed: float = SPEED) -> tuple[CallRecorder, list]:
    """The demo call with its script, kept as a live call in this process; returns its recorder and events."""
    session = CallSession(load_config(use_user_default=False))
    events: list = []
    session.bus.subscribe(events.append)
    recorder = session.keep("live")
    session.start_demo(demo_recording(), speed=speed, script=demo_script())
    assert session.ended.wait(120)
    return recorder, events


def python(script: str, *args, preexec_fn=None, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script), *map(str, args)], capture_output=True,
                          text=True, cwd=OUTSIDE, timeout=timeout, preexec_fn=preexec_fn)


def companion(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ui", *map(str, args)], capture_output=True, text=True,
                          cwd=OUTSIDE, timeout=300)


# --- several processes on one store --------------------------------------------------------------

SEARCHER = """
    import contextlib, io, sys, time
    from pathlib import Path
    from companion.cli import main
    stop = Path(sys.argv[1])
    while not stop.exists():
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            rc = main(["calls", "list", "--search", "refund"])
        print(f"RC {rc} {err.getvalue().strip()}".strip(), flush=True)
        time.sleep(0.02)
"""


def test_a_live_call_an_import_and_searches_share_the_store_without_locking(tmp_path):
    folder = tmp_path / "recordings"
    folder.mkdir()
    data, rate = sf.read(str(demo_recording()), dtype="float32")
    for n in range(5):  # different bytes, so different content hashes: each is imported
        sf.write(str(folder / f"call-{n}.flac"), np.concatenate([data, data, np.zeros((n + 1, 2), np.float32)]), rate)
    stop = tmp_path / "stop-searching"
    importer = subprocess.Popen([sys.executable, "-m", "ui", "import", str(folder)], cwd=OUTSIDE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    searcher = subprocess.Popen([sys.executable, "-c", textwrap.dedent(SEARCHER), str(stop)], cwd=OUTSIDE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    live = []
    try:
        while importer.poll() is None or len(live) < 2:  # live calls all the while the import runs
            live.append(run_demo(speed=20.0))
    finally:
        stop.touch()
        imported = importer.communicate(timeout=300)
        searched = searcher.communicate(timeout=60)
    assert importer.returncode == 0, imported[1]
    assert "5 imported" in imported[1] and "locked" not in imported[0] + imported[1]
    assert searcher.returncode == 0, searched[1]
    runs = [line for line in searched[0].splitlines() if line.startswith("RC")]
    assert len(runs) >= 3 and all(line == "RC 0" for line in runs), runs
    assert "locked" not in searched[0] + searched[1]
    for recorder, events in live:
        assert recorder.complete and recorder.failed is None
        assert not [e for e in events if isinstance(e, SaveFailed)]
    db = open_store()
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    calls = list_calls(db)
    assert len(calls) == 5 + len(live) and {c["status"] for c in calls} == {"complete"}
    for recorder, events in live:
        assert stored(db, recorder.call_id) == handed_over(events)
    imported = [c for c in calls if c["id"] not in {r.call_id for r, _ in live}]
    assert [round(c["duration_s"]) for c in imported] == [round(2 * len(data) / rate)] * 5  # each recording to its end
    assert len({len(stored(db, c["id"])["metrics"]) for c in imported}) == 1  # and all of it


def test_a_write_that_meets_a_busy_store_waits_and_tries_again(tmp_path, monkeypatch):
    """Another process holds the write lock past the busy timeout: `write()` tries again and gets in."""
    open_store().close()
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sqlite3, sys, time
        db = sqlite3.connect(sys.argv[1], isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        print("holding", flush=True)
        time.sleep(0.6)
        db.execute("COMMIT")
    """), str(store_db.store_path())], stdout=subprocess.PIPE, text=True, cwd=OUTSIDE)
    assert holder.stdout.readline().strip() == "holding"
    monkeypatch.setattr(store_db, "BUSY_TIMEOUT_S", 0.25)
    db = open_store()  # opening reads only: a held write lock does not stop it
    assert write(db, lambda db: db.execute("INSERT INTO calls(started_at, source) VALUES ('now', 'live')").lastrowid) == 1
    holder.wait(10)


# --- a full disk, a read-only folder --------------------------------------------------------------

CALL_UNDER_PRESSURE = """
    import os, pickle, resource, sys, time
    from pathlib import Path
    from companion.config import load_config
    from companion.demo import demo_recording, demo_script
    from companion.events import SaveFailed
    from companion.session import CallSession
    import companion.store.spool as spool
    limit, speed, relief, spool_events, out = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
    spool.MAX_UNSAVED_EVENTS = spool_events
    data = Path(os.environ["COMPANION_DATA_DIR"])
    if limit:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))  # the disk is "full"
    session = CallSession(load_config(use_user_default=False))
    events = []
    session.bus.subscribe(events.append)
    recorder = session.keep("live")
    session.start_demo(demo_recording(), speed=speed, script=demo_script())
    while relief != "never" and sum(isinstance(e, SaveFailed) for e in events) < int(relief):
        time.sleep(0.05)
    if relief != "never":
        time.sleep(1.0)
        resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))  # space returns
        data.chmod(0o700)  # the folder can be written again
        (data / "calls.sqlite3").chmod(0o600)
    assert session.ended.wait(120)
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))  # for the events file
    with open(out, "wb") as fh:
        pickle.dump(events, fh)
    print("CALL", recorder.call_id, recorder.complete, recorder.stored_until, flush=True)
"""


def under_pressure(tmp_path: Path, limit: int = 0, relief: str = "1", spool_events: int = 10_000, preexec_fn=None):
    """The demo call in a process whose store cannot be written; `relief`: after how many SaveFailed
    events it can be again ("never": not during the call). Returns (events, call id, complete, stored until)."""
    out = tmp_path / "events.pickle"
    run = python(CALL_UNDER_PRESSURE, limit, SPEED, relief, spool_events, out, preexec_fn=preexec_fn)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    [(call_id, complete, stored_until)] = [line.split()[1:] for line in run.stdout.splitlines() if line.startswith("CALL ")]
    with open(out, "rb") as fh:
        events = pickle.load(fh)
    return events, int(call_id) if call_id != "None" else None, complete == "True", float(stored_until)


def said(events: list) -> list[str]:
    """What the call's subscribers were told about saving: failures, and saving resumed."""
    return [e.message for e in events if isinstance(e, (SaveFailed, SavingResumed))]


def assert_coaching_went_on(events: list) -> None:
    """After saving first failed, the prompts and the meters went on to the end of the call."""
    first = next(i for i, e in enumerate(events) if isinstance(e, SaveFailed))
    after = events[first:]
    assert any(isinstance(e, Prompt) for e in after)
    assert max(e.t for e in after if isinstance(e, MetricsSnapshot)) >= 90


def full_store() -> None:
    """A store that already exists (the WAL is what grows past the limit)."""
    open_store().close()


def test_a_full_disk_mid_call_keeps_coaching_and_writes_the_call_when_space_returns(tmp_path):
    full_store()
    events, call_id, complete, _ = under_pressure(tmp_path, limit=40_000, relief="1")
    told = said(events)
    assert told[0].startswith("not saving: the disk is full") and "kept in memory" in told[0], told
    assert told[1].startswith("saving again: the call is saved up to"), told
    assert len(told) == 2 and complete
    assert [type(e) for e in events if isinstance(e, (SaveFailed, SavingResumed))] == [SaveFailed, SavingResumed]
    assert_coaching_went_on(events)
    assert stored(open_store(), call_id) == handed_over(events)  # not a row missing


def test_a_disk_that_stays_full_says_what_was_lost(tmp_path):
    full_store()
    events, call_id, complete, stored_until = under_pressure(tmp_path, limit=40_000, relief="never")
    told = said(events)
    assert told[0].startswith("not saving: the disk is full"), told
    last = re.fullmatch(r"not saving: saved up to (\d\d):(\d\d) of (\d\d):(\d\d); the rest was lost because the disk "
                        r"stayed full\.", told[-1])
    assert last and len(told) == 2, told
    assert abs(int(last[3]) * 60 + int(last[4]) - sf.info(str(demo_recording())).duration) <= 1.0  # of the whole call
    assert not complete and int(last[1]) * 60 + int(last[2]) == int(stored_until)
    assert_coaching_went_on(events)
    [call] = list_calls(open_store())
    assert call["status"] == "interrupted" and call["duration_s"] == pytest.approx(stored_until, abs=1.0), \
        (call, stored_until, told)


def test_more_than_memory_holds_is_lost_and_said_and_leaves_no_gap(tmp_path):
    full_store()
    # room for the call's first seconds (the demo's greeting, its words and its search index), then full
    events, call_id, complete, _ = under_pressure(tmp_path, limit=100_000, relief="2", spool_events=100)
    told = said(events)
    assert told[0].startswith("not saving: the disk is full"), told
    assert told[1].startswith("not saving: the disk stayed full too long (more than 100 events waited); the call "
                              "is saved up to"), told
    assert told[2].startswith("not saving: saved up to") and told[2].endswith("the rest was lost because the disk "
                                                                             "stayed full."), told
    assert not complete and len(told) == 3
    assert_coaching_went_on(events)
    kept, sent = stored(open_store(), call_id), handed_over(events)
    for table in ("metrics", "turns"):  # what is stored is the call's beginning, exactly: no gap
        assert kept[table] == sent[table][: len(kept[table])] and len(kept[table]) < len(sent[table]), table
    assert kept["metrics"]


def _without_overriding_permissions() -> None:
    """Root (tests often run as root) writes through any mode bits: drop that power from the bounding
    set before exec, so the child is root whose writes the folder's mode refuses, like any user's."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _as_a_user(tmp_path: Path):
    """How to start a child whose writes a read-only folder refuses (None: this user's already are)."""
    if os.geteuid() != 0:
        return None
    probe = tmp_path / "probe"
    probe.mkdir(mode=0o500)
    try:
        run = python("import sys; open(sys.argv[1] + '/x', 'w')", probe, preexec_fn=_without_overriding_permissions)
    except OSError:  # the capability cannot be dropped here
        run = None
    if run is None or "PermissionError" not in run.stderr:
        pytest.skip("root's override of file permissions cannot be dropped here")
    return _without_overriding_permissions


def test_a_read_only_data_folder_keeps_coaching_and_writes_the_call_when_it_can(tmp_path):
    as_a_user = _as_a_user(tmp_path)
    folder = store_db.store_path().parent
    full_store()
    (folder / "calls.sqlite3").chmod(0o400)
    folder.chmod(0o500)
    try:
        events, call_id, complete, _ = under_pressure(tmp_path, relief="1", preexec_fn=as_a_user)
    finally:
        folder.chmod(0o700)
    told = said(events)
    assert told[0] == (f"not saving: the data folder is read-only ({folder}) — the call is kept in memory and saved "
                       "when the folder can be written again."), told
    assert told[1].startswith("saving again:") and len(told) == 2 and complete
    assert_coaching_went_on(events)
    assert stored(open_store(), call_id) == handed_over(events)


# --- a damaged store ------------------------------------------------------------------------------

def _set_aside(run: subprocess.CompletedProcess, folder: Path) -> Path:
    assert run.returncode == 0, run.stderr
    [line] = run.stderr.splitlines()
    match = re.search(r"set aside as (\S+calls\.sqlite3\.corrupt-\d{8}-\d{6}) and a new, empty store started", line)
    assert line.startswith("companion: The call store was damaged") and match, line
    aside = Path(match[1])
    assert aside.parent == folder and aside.is_file()
    return aside


def _fresh_store_works() -> None:
    again = companion("calls", "list")
    assert again.returncode == 0 and again.stderr == "" and again.stdout == "No saved calls yet.\n"
    recorder = CallRecorder("live")
    recorder(Turn("agent", 0.0, 2.0))
    recorder(CallEnded(duration_s=2.0, dropped_blocks=0))
    recorder.close()
    assert [c["status"] for c in list_calls(open_store())] == ["complete"]


def test_a_store_that_is_not_a_database_is_set_aside_and_a_fresh_one_started():
    folder = store_db.store_path().parent
    folder.mkdir(parents=True)
    garbage = os.urandom(50_000)
    for suffix, content in (("", garbage), ("-wal", b"wal" * 100), ("-shm", b"shm" * 100)):
        (folder / f"calls.sqlite3{suffix}").write_bytes(content)
    run = companion("calls", "list")
    aside = _set_aside(run, folder)
    assert "(file is not a database)" in run.stderr and aside.read_bytes() == garbage
    assert Path(f"{aside}-wal").read_bytes() == b"wal" * 100  # kept as it was: it may hold the latest writes
    assert Path(f"{aside}-shm").is_file()  # the WAL's index (SQLite rebuilds it from the WAL)
    assert sorted(p.name for p in folder.iterdir() if ".corrupt-" not in p.name)[0] == "calls.sqlite3"
    _fresh_store_works()


def test_a_store_cut_short_is_set_aside_and_a_fresh_one_started():
    recorder = CallRecorder("live")
    for n in range(5000):  # enough pages that cutting the file loses some
        recorder(Turn("agent" if n % 2 else "customer", n * 0.5, n * 0.5 + 0.4))
    recorder(CallEnded(duration_s=2500.0, dropped_blocks=0))
    recorder.close()
    path = store_db.store_path()
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    whole = path.read_bytes()
    assert whole.startswith(b"SQLite format 3\x00") and len(whole) > 100_000
    path.write_bytes(whole[: len(whole) // 3])  # the header still says SQLite; the pages are gone
    run = companion("calls", "list")
    aside = _set_aside(run, path.parent)
    assert "malformed" in run.stderr
    assert aside.read_bytes() == whole[: len(whole) // 3]
    _fresh_store_works()


def test_the_window_hears_of_a_damaged_store_through_the_notice_handler():
    heard: list[str] = []
    store_db.set_notice_handler(heard.append)
    try:
        path = store_db.store_path()
        path.parent.mkdir(parents=True)
        path.write_bytes(b"not a database at all" * 1000)
        db = open_store()
        assert db.execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 0  # the fresh store
    finally:
        store_db.set_notice_handler(None)
    [message] = heard
    assert "set aside as" in message and store_db.take_notices()[-1] == message and store_db.take_notices() == []
    [aside] = path.parent.glob("calls.sqlite3.corrupt-*")
    assert aside.read_bytes() == b"not a database at all" * 1000
