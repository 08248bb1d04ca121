"""`companion live` offers 'p' and Enter for pause for payment only where it reads them (stdin a terminal),
says what works otherwise, and writes its events file owner-only (an existing one is tightened)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time

from tests.installed import OUTSIDE


def live(softphone, tmp_path, events_path, stdin, seconds, *extra):
    env = dict(softphone, COMPANION_CONFIG_DIR=str(tmp_path / "cfg"), COMPANION_DATA_DIR=str(tmp_path / "data"))
    return subprocess.Popen([sys.executable, "-m", "ui", "live", "--agent-device", "agent_mic.monitor",
                             "--customer-device", "softphone.monitor", "--model", "none", "--events-jsonl",
                             str(events_path), "--duration", str(seconds), *extra],
                            env=env, cwd=OUTSIDE, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def events(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def wait_for(path, kind, count=1, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline and len([e for e in events(path) if e["type"] == kind]) < count:
        time.sleep(0.05)


def test_without_a_terminal_live_says_how_to_pause_and_tightens_the_events_file(softphone, tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"t": 0.0, "type": "call_start", "wall": 1.0}\n')   # a call before, kept by --append
    path.chmod(0o644)
    proc = live(softphone, tmp_path, path, subprocess.DEVNULL, 2, "--append")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert f"kill -USR1 {proc.pid}" in err and "keys are not read" in err
    assert "p and Enter" not in err     # nothing reads the keys: not offered
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and "it is owner-only (0600) now" in err
    written = events(path)
    assert written[0] == {"t": 0.0, "type": "call_start", "wall": 1.0} and written[-1]["type"] == "call_end"


def test_on_a_terminal_p_and_enter_pauses_and_resumes(softphone, tmp_path):
    path = tmp_path / "events.jsonl"
    main, terminal = os.openpty()
    try:
        proc = live(softphone, tmp_path, path, terminal, 8)
        os.close(terminal)
        wait_for(path, "call_start")
        os.write(main, b"p\n")
        wait_for(path, "pause", 1)
        os.write(main, b"p\n")
        wait_for(path, "pause", 2)
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(main)
    assert proc.returncode == 0, err
    assert f"with p and Enter, or kill -USR1 {proc.pid}; again to resume." in err
    assert [e["paused"] for e in events(path) if e["type"] == "pause"] == [True, False]
    assert "Paused for payment: nothing said is stored until you resume (p and Enter" in err
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
