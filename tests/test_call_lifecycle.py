"""A call's end is never lost: closing the window mid-call, or stopping `companion live`, keeps the
last words, marks the call complete and finishes its audio file. Real devices: the test session's
own PulseAudio server, the window in a process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import soundfile as sf

from companion.store.calls import list_calls, load_call
from companion.store.db import open_store
from tests import scenarios
from tests.installed import OUTSIDE
from tests.test_live import split_parties

WINDOW = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from companion.audio.device_choice import DeviceChoice, save_choice
from ui.app import build_window

save_choice(DeviceChoice("agent_mic.monitor", "softphone.monitor"))
app = QApplication([])
window = build_window(model="none")
window.show()
window.start_call(demo=False)
print("in call" if window.in_call else "no call", flush=True)
QTimer.singleShot(int(float(sys.argv[1]) * 1000), window.close)  # the agent closes the window mid-call
app.exec()
print("closed", flush=True)
"""


def test_closing_the_window_mid_call_keeps_the_end_of_the_call_and_its_audio(softphone, make_call, tmp_path):
    wav, _ = make_call(scenarios.interrupter())
    agent, customer = split_parties(wav, tmp_path)
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config" / "coaching.toml").write_text("[privacy]\nrecord_audio = true\n")
    env = dict(softphone, COMPANION_CONFIG_DIR=str(tmp_path / "config"), COMPANION_DATA_DIR=str(tmp_path / "data"),
               QT_QPA_PLATFORM="offscreen")
    seconds = 12.0
    proc = subprocess.Popen([sys.executable, "-c", WINDOW, str(seconds)], env=env, cwd=OUTSIDE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "in call", proc.communicate()
    players = [subprocess.Popen(["paplay", "-d", sink, str(f)], env=softphone)
               for sink, f in (("agent_mic", agent), ("softphone", customer))]
    try:
        out, err = proc.communicate(timeout=seconds + 30)
    finally:
        for player in players:
            player.kill()
    assert proc.returncode == 0 and "closed" in out, err
    os.environ["COMPANION_DATA_DIR"] = env["COMPANION_DATA_DIR"]
    db = open_store()
    [call] = list_calls(db)
    assert call["status"] == "complete"  # not "interrupted": the window finished the call before it went
    assert call["duration_s"] == pytest.approx(seconds, abs=2.0)
    doc = load_call(db, call["id"])
    assert doc["turns"] and max(t["end"] for t in doc["turns"]) > seconds - 4.0  # the last seconds are in
    recording = db.execute("SELECT recording FROM calls WHERE id = ?", (call["id"],)).fetchone()[0]
    info = sf.info(recording)  # a finished FLAC: readable, its length in the header
    assert info.channels == 2 and info.duration == pytest.approx(call["duration_s"], abs=1.0)
    data, _ = sf.read(recording)
    assert abs(data[-int(info.samplerate * 3):]).max() > 0.01  # the end of the call is in the audio too


def test_stopping_live_with_sigterm_keeps_the_call_complete_with_its_audio(softphone, make_call, tmp_path):
    wav, _ = make_call(scenarios.interrupter())
    agent, customer = split_parties(wav, tmp_path)
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config" / "coaching.toml").write_text("[privacy]\nrecord_audio = true\n")
    env = dict(softphone, COMPANION_CONFIG_DIR=str(tmp_path / "config"), COMPANION_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.Popen([sys.executable, "-m", "ui", "live", "--agent-device", "agent_mic.monitor",
                             "--customer-device", "softphone.monitor", "--model", "none"],
                            env=env, cwd=OUTSIDE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    players = [subprocess.Popen(["paplay", "-d", sink, str(f)], env=softphone)
               for sink, f in (("agent_mic", agent), ("softphone", customer))]
    time.sleep(8.0)
    proc.terminate()
    out, err = proc.communicate(timeout=30)
    for player in players:
        player.kill()
    assert proc.returncode == 0, err
    os.environ["COMPANION_DATA_DIR"] = env["COMPANION_DATA_DIR"]
    db = open_store()
    [call] = list_calls(db)
    assert call["status"] == "complete"
    recording = db.execute("SELECT recording FROM calls WHERE id = ?", (call["id"],)).fetchone()[0]
    assert sf.info(recording).duration == pytest.approx(call["duration_s"], abs=1.0)
