"""A folder imported on several cores hands out its longest recordings first: a long call left for last would
keep one core busy while the others wait for it. (What each file gives is the same on one core and two:
tests/test_same_call.py.)"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import soundfile as sf

from companion.resources import resource_path
from tests.installed import OUTSIDE


def test_the_longest_recording_is_started_first_on_two_cores(tmp_path):
    data, rate = sf.read(str(resource_path("demo/demo_call.flac")), dtype="float32")
    folder = tmp_path / "folder"
    folder.mkdir()
    for i, name in enumerate(("a", "b", "c")):  # three short calls, then the long one, last by name
        sf.write(str(folder / f"{name}.flac"), data[i * rate:(i + 15) * rate], rate)
    sf.write(str(folder / "d.flac"), data[:100 * rate], rate)
    env = dict(os.environ, COMPANION_DATA_DIR=str(tmp_path / "data"))
    run = subprocess.run([sys.executable, "-m", "companion", "import", str(folder), "--jobs", "2"], capture_output=True,
                         text=True, env=env, cwd=OUTSIDE, timeout=600)
    assert run.returncode == 0 and "4 imported, 0 already in the history, 0 not imported" in run.stderr, run.stderr
    db = sqlite3.connect(tmp_path / "data" / "calls.sqlite3")
    try:
        started = {Path(file).name: call_id for call_id, file in db.execute("SELECT id, file FROM calls")}
    finally:
        db.close()
    # a call's row is written as its analysis starts: the long one began with the first pair (in the folder's
    # order it would have waited for a core to be free again)
    assert started["d.flac"] in (1, 2), started
    assert "[4/4] d.flac: imported as call" in run.stderr  # the files keep their numbers in the folder's order
