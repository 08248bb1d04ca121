"""A recording a crash cut off is still repaired at the next start, and the start does not read every call to
find it: a recording being written carries a mark beside it (companion.store.cut_off), which the next
start looks for. A recordings folder from before the marks is looked over whole, once.
Real files, real FLACs, a real process killed with SIGKILL, the real command as the next start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from companion.store.cut_off import ALL_MARKED, mark_of, recordings_dir
from companion.store.db import open_store, write
from companion.store.flac_repair import TOTAL_AT, unknown_length
from companion.store.rows import insert_call
from tests.installed import OUTSIDE

RATE = 16000

# A recorder writing a call's audio, killed with SIGKILL once several seconds are on disk.
KILLED_WHILE_RECORDING = """
import os, sys, time
import numpy as np
from companion.events import FrameBlock
from companion.store.db import open_store, write
from companion.store.recording import CallAudioWriter, recordings_dir
from companion.store.rows import insert_call
from companion.store.writes import claim

db = open_store()
call_id = write(db, lambda db: insert_call(db, "2026-12-06T06:00:00+00:00", "live", None, status="active",
                                           writer_pid=os.getpid()))
claim(call_id)
path = recordings_dir() / f"call-{call_id}.flac"
writer = CallAudioWriter(path, 16000)
t = np.arange(8000) / 16000
for n in range(40):  # 20 s of call in blocks of 0.5 s (50 frames of 160 samples)
    tone = (0.3 * np.sin(2 * np.pi * (220 + n) * t)).astype(np.float32).reshape(50, 160)
    writer(FrameBlock(n * 50, tone, tone * 0.5))
deadline = time.time() + 30
while path.stat().st_size < 100_000 and time.time() < deadline:
    time.sleep(0.05)
print(call_id, flush=True)
os.kill(os.getpid(), 9)
"""


def _next_start(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "companion", "calls", "list", *args], cwd=OUTSIDE,
                          capture_output=True, text=True, timeout=120)


def _cut_off_flac(path: Path, seconds: float = 3.0) -> None:
    """A whole FLAC whose header no longer knows its length, as a killed writer leaves it."""
    t = np.arange(int(RATE * seconds)) / RATE
    sf.write(str(path), np.stack([0.3 * np.sin(2 * np.pi * 220 * t)] * 2, axis=1), RATE, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    data[TOTAL_AT] &= 0xF0
    data[TOTAL_AT + 1:TOTAL_AT + 5] = bytes(4)
    path.write_bytes(bytes(data))
    assert unknown_length(path)


def _interrupted_call(recording: Path | None) -> int:
    db = open_store()
    try:
        return write(db, lambda db: insert_call(db, "2026-12-06T06:00:00+00:00", "live", None, status="interrupted",
                                                duration_s=3.0, recording=str(recording) if recording else None))
    finally:
        db.close()


def test_a_recording_killed_while_written_is_repaired_at_the_next_start_and_its_mark_removed():
    killed = subprocess.run([sys.executable, "-c", KILLED_WHILE_RECORDING], cwd=OUTSIDE, capture_output=True,
                            text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    call_id = int(killed.stdout)
    path = recordings_dir() / f"call-{call_id}.flac"
    assert unknown_length(path) and mark_of(path).exists()  # as the crash left it: marked, length unknown
    assert _next_start().returncode == 0
    data, rate = sf.read(str(path))  # whole again
    assert rate == RATE and data.shape[1] == 2 and len(data) > RATE and np.abs(data).max() > 0.1
    assert not mark_of(path).exists()
    db = open_store()
    row = db.execute("SELECT status, recording FROM calls WHERE id = ?", (call_id,)).fetchone()
    assert (row["status"], row["recording"]) == ("interrupted", str(path))


def test_a_finished_recording_leaves_no_mark_and_its_new_folder_is_noted_as_marked():
    from companion.events import FrameBlock
    from companion.store.recording import CallAudioWriter

    path = recordings_dir() / "call-1.flac"
    writer = CallAudioWriter(path, RATE)
    assert mark_of(path).read_text() == str(os.getpid())  # marked while it is written
    tone = np.full((50, 160), 0.1, dtype=np.float32)
    for n in range(4):
        writer(FrameBlock(n * 50, tone, tone))
    writer.close()
    assert sf.info(str(path)).frames == 4 * 50 * 160
    assert sorted(os.listdir(recordings_dir())) == [ALL_MARKED, "call-1.flac"]


def test_a_recordings_folder_from_before_the_marks_is_looked_over_whole_once():
    folder = recordings_dir()
    old = folder / "call-1.flac"
    call_id = _interrupted_call(old)  # a store of calls...
    folder.mkdir(parents=True)
    _cut_off_flac(old)  # ...whose recording the version before the marks left cut off: no mark beside it
    assert _next_start().returncode == 0
    assert sf.info(str(old)).frames == 3 * RATE  # repaired all the same
    assert (folder / ALL_MARKED).exists()  # from now on the marks are enough
    db = open_store()
    assert db.execute("SELECT recording FROM calls WHERE id = ?", (call_id,)).fetchone()[0] == str(old)


def test_a_marked_recording_whose_writer_still_runs_is_left_alone_and_a_stale_mark_is_cleared():
    folder = recordings_dir()
    folder.mkdir(parents=True)
    (folder / ALL_MARKED).touch()
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        busy = folder / "call-1.flac"
        _cut_off_flac(busy)
        mark_of(busy).write_text(str(running.pid))
        db = open_store()
        call_id = write(db, lambda db: insert_call(db, "2026-12-06T06:00:00+00:00", "live", None, status="complete",
                                                   writer_pid=running.pid, recording=str(busy)))
        assert call_id == 1
        db.close()
        finished = folder / "call-2.flac"  # finished, then killed before its mark was removed
        _cut_off_flac(finished)
        sf.write(str(finished), np.zeros((RATE, 2)), RATE, subtype="PCM_16")
        mark_of(finished).write_text("999999999")
        _interrupted_call(finished)
        orphan = mark_of(folder / "call-20251206-000000-1.flac")  # its file never made, its writer long gone
        orphan.write_text("999999999")
        assert _next_start().returncode == 0
        assert unknown_length(busy) and mark_of(busy).exists()  # still being written: untouched
        assert not mark_of(finished).exists() and not orphan.exists()
    finally:
        running.kill()
        running.wait()
    assert _next_start().returncode == 0  # its writer gone now: repaired
    assert sf.info(str(busy)).frames == 3 * RATE and not mark_of(busy).exists()
