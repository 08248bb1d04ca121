"""Bad recordings get one clear line, never a hang, a traceback or a quietly wrong analysis."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from companion.resources import resource_path
from tests.installed import OUTSIDE


def companion(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "ui", *map(str, args)], capture_output=True, text=True,
                          env=dict(os.environ), cwd=OUTSIDE, timeout=timeout)


@pytest.fixture(scope="module")
def demo():
    data, rate = sf.read(str(resource_path("demo/demo_call.flac")), dtype="float32")
    return data, rate


def analysed(path):
    run = companion("analyze", path, "--json", "--model", "none")
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout), run.stderr


def test_one_nan_sample_changes_nothing_and_is_reported_once(demo, tmp_path):
    data, rate = demo
    clean, damaged = tmp_path / "clean.wav", tmp_path / "damaged.wav"
    sf.write(str(clean), data, rate, subtype="FLOAT")
    bad = data.copy()
    bad[rate * 30, 0] = np.nan      # inside the agent's speech
    bad[rate * 50, 1] = np.inf
    sf.write(str(damaged), bad, rate, subtype="FLOAT")
    good, quiet = analysed(clean)
    doc, said = analysed(damaged)
    assert "warning" not in quiet
    assert len(doc["turns"]) == len(good["turns"])
    assert doc["agent_wpm"] == pytest.approx(good["agent_wpm"], rel=0.02)
    assert [p["kind"] for p in doc["prompts"]] == [p["kind"] for p in good["prompts"]]
    assert said.count("warning") == 2  # once per party, not once per block
    assert "The agent's audio holds 1 sample that is not a number" in said


def test_a_wav_shorter_than_its_header_says_is_analysed_with_a_warning(demo, tmp_path):
    data, rate = demo
    full = tmp_path / "full.wav"
    sf.write(str(full), data[: rate * 60], rate, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])  # a copy that stopped half-way
    doc, said = analysed(cut)
    assert doc["duration_s"] == pytest.approx(30.0, abs=0.1)
    assert "cut.wav ends at 30.0 s but its header says 60.0 s" in said and said.count("\n") == 1
    _, nothing = analysed(full)
    assert "warning" not in nothing


def test_a_pipe_is_refused_at_once_instead_of_hanging(tmp_path):
    fifo = tmp_path / "call.wav"
    os.mkfifo(fifo)
    run = companion("analyze", fifo, "--model", "none", timeout=60)
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "not a regular file" in run.stderr
