"""A call's recording survives `kill -9`: the FLAC a killed `companion live` leaves behind (its header
never learned its length) is repaired at the next start, and plays to where the call was cut off.
Real devices: the test session's own PulseAudio server; the app in a process of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from companion.store.flac_repair import repair
from companion.store.recording import HOLD_S
from tests import scenarios
from tests.installed import OUTSIDE
from tests.test_live import read_events, split_parties


def _killed_mid_call(softphone, make_call, tmp_path) -> tuple[dict, Path]:
    """`companion live` recording a call, killed with SIGKILL in the middle of it."""
    wav, _ = make_call(scenarios.interrupter())
    agent, customer = split_parties(wav, tmp_path)
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    (config / "coaching.toml").write_text("[privacy]\nrecord_audio = true\n")
    env = dict(softphone, COMPANION_CONFIG_DIR=str(config), COMPANION_DATA_DIR=str(tmp_path / "data"))
    events = tmp_path / "events.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "ui", "live", "--agent-device", "agent_mic.monitor",
                             "--customer-device", "softphone.monitor", "--model", "none", "--events-jsonl", str(events)],
                            env=env, cwd=OUTSIDE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    players = []
    try:
        deadline = time.time() + 20
        while {e["party"] for e in read_events(events) if e["type"] == "device" and e["status"] == "capturing"} != \
                {"agent", "customer"}:
            assert proc.poll() is None and time.time() < deadline, "companion live never started capturing"
            time.sleep(0.05)
        players = [subprocess.Popen(["paplay", "-d", sink, str(f)], env=softphone)
                   for sink, f in (("agent_mic", agent), ("softphone", customer))]
        recording = tmp_path / "data" / "recordings"
        while not any(p.stat().st_size > 200_000 for p in recording.glob("*.flac")):  # several seconds of the call
            assert proc.poll() is None and time.time() < deadline + 20, "nothing was recorded"
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        for p in players + [proc]:
            if p.poll() is None:
                p.kill()
    [path] = recording.glob("*.flac")
    return env, path


def test_a_recording_cut_off_by_kill_9_plays_after_the_next_start(softphone, make_call, tmp_path):
    env, path = _killed_mid_call(softphone, make_call, tmp_path)
    with pytest.raises((ValueError, MemoryError, RuntimeError)):  # as kill -9 left it: "array is too big"
        sf.read(str(path))
    listed = subprocess.run([sys.executable, "-m", "ui", "calls", "list", "--json"], env=env, cwd=OUTSIDE,
                            capture_output=True, text=True, timeout=60)  # the next start
    assert listed.returncode == 0, listed.stderr
    data, rate = sf.read(str(path))  # libsndfile reads it whole now
    assert data.shape[1] == 2 and sf.info(str(path)).frames == len(data)
    os.environ["COMPANION_DATA_DIR"] = env["COMPANION_DATA_DIR"]
    from companion.store.calls import list_calls
    from companion.store.db import open_store

    db = open_store()
    [call] = list_calls(db)
    assert call["status"] == "interrupted"
    assert db.execute("SELECT recording FROM calls WHERE id = ?", (call["id"],)).fetchone()[0] == str(path)
    # the audio reaches where the call was cut off, less what was held back to silence a payment cue in time
    behind = call["duration_s"] - len(data) / rate
    assert -1.0 < behind < HOLD_S + 1.0, behind
    assert np.abs(data).max() > 0.01  # what was said is in it
    assert repair(path) is None  # repaired once: nothing left to do


def test_a_cut_off_flac_keeps_every_whole_frame_and_drops_a_half_written_one(tmp_path):
    """The repair on its own, on a file cut at every kind of place: only whole frames are kept, and
    they hold exactly the samples that were written."""
    t = np.arange(16000 * 6) / 16000
    audio = np.stack([0.3 * np.sin(2 * np.pi * 220 * t), 0.2 * np.sin(2 * np.pi * 330 * t)], axis=1)
    np.save(tmp_path / "audio.npy", audio)
    script = ("import os, sys, numpy as np, soundfile as sf\n"
              "f = sf.SoundFile(sys.argv[1], 'w', samplerate=16000, channels=2, format='FLAC', subtype='PCM_16')\n"
              "f.write(np.load(sys.argv[2]))\n"
              "sys.stdout.write('written'); sys.stdout.flush()\n"
              "os.kill(os.getpid(), 9)\n")
    killed = tmp_path / "killed.flac"
    run = subprocess.run([sys.executable, "-c", script, str(killed), str(tmp_path / "audio.npy")], capture_output=True,
                         text=True, timeout=60)
    assert run.stdout == "written" and run.returncode == -signal.SIGKILL
    whole = killed.read_bytes()
    sf.write(str(tmp_path / "closed.flac"), audio, 16000, subtype="PCM_16")  # the same audio, closed as it should be
    written, _ = sf.read(str(tmp_path / "closed.flac"), dtype="int16")
    for cut in (len(whole), len(whole) - 1, len(whole) * 2 // 3, len(whole) // 2 + 7):
        path = tmp_path / f"cut-{cut}.flac"
        path.write_bytes(whole[:cut])
        samples = repair(path)
        data, _ = sf.read(str(path), dtype="int16")
        assert samples == len(data) > 0 and len(data) % 4096 == 0  # whole frames of libFLAC's 4096 samples
        assert np.array_equal(data, written[:len(data)])
    assert repair(tmp_path / f"cut-{len(whole)}.flac") is None
