"""`companion analyze`, as a user runs it: one JSON document, or one clear line and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import numpy as np
import pytest
import soundfile as sf

from tests import scenarios, signals

NUM = {"type": "number"}
SCHEMA = {
    "type": "object",
    "required": ["file", "duration_s", "pace_source", "agent_wpm", "agent_talk_ratio", "longest_agent_monologue_s",
                 "turns", "interruptions", "prompts", "pace", "customer_states"],
    "additionalProperties": False,
    "properties": {
        "file": {"type": "string"},
        "duration_s": NUM,
        "pace_source": {"enum": ["asr", "acoustic"]},
        "agent_wpm": {"type": ["number", "null"]},
        "agent_talk_ratio": {"type": "number", "minimum": 0, "maximum": 1},
        "longest_agent_monologue_s": NUM,
        "turns": {"type": "array", "items": {
            "type": "object", "required": ["party", "start", "end", "text"], "additionalProperties": False,
            "properties": {"party": {"enum": ["agent", "customer"]}, "start": NUM, "end": NUM,
                           "text": {"type": ["string", "null"]}}}},
        "interruptions": {"type": "array", "items": {
            "type": "object", "required": ["t", "overlap_s", "by"], "additionalProperties": False,
            "properties": {"t": NUM, "overlap_s": NUM, "by": {"enum": ["agent", "customer"]}}}},
        "prompts": {"type": "array", "items": {
            "type": "object", "required": ["t", "kind", "reason"], "additionalProperties": False,
            "properties": {"t": NUM, "reason": {"type": "string"},
                           "kind": {"enum": ["slow_down", "speeding_up", "lower_tone", "keep_listening",
                                             "stop_apologizing", "dead_air", "customer_upset",
                                             "customer_calmer"]}}}},
        "pace": {"type": "array", "items": {
            "type": "object", "required": ["t", "wpm"], "additionalProperties": False,
            "properties": {"t": NUM, "wpm": NUM}}},
        "customer_states": {"type": "array", "items": {
            "type": "object", "required": ["t", "state"], "additionalProperties": False,
            "properties": {"t": NUM, "state": {"enum": ["calm", "tense", "upset"]}}}},
    },
}


def companion(*args, env=None):
    return subprocess.run([sys.executable, "-m", "ui", *map(str, args)], capture_output=True, text=True, env=env, timeout=120)


def test_analyze_json_follows_the_schema(make_call):
    wav, truth = make_call(scenarios.interrupter())
    run = companion("analyze", wav, "--json", "--model", "none")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["file"] == str(wav)
    assert doc["duration_s"] == pytest.approx(truth.duration_s, abs=0.05)
    assert doc["pace_source"] == "acoustic"
    assert all(t["end"] > t["start"] for t in doc["turns"])
    assert [p["t"] for p in doc["pace"]] == sorted(p["t"] for p in doc["pace"])


def test_the_same_file_always_gives_the_same_json(make_call):
    wav, _ = make_call(scenarios.calm_call())
    first = companion("analyze", wav, "--json", "--model", "none")
    second = companion("analyze", wav, "--json", "--model", "none")
    assert first.returncode == 0 and first.stdout == second.stdout


def test_two_mono_files_and_a_short_summary(make_call, tmp_path):
    wav, _ = make_call(scenarios.interrupter())
    data, rate = sf.read(str(wav))
    sf.write(str(tmp_path / "agent.wav"), data[:, 0], rate)
    sf.write(str(tmp_path / "customer.flac"), data[:, 1], rate)
    split = companion("analyze", tmp_path / "agent.wav", "--customer", tmp_path / "customer.flac", "--json", "--model", "none")
    whole = companion("analyze", wav, "--json", "--model", "none")
    assert json.loads(split.stdout)["interruptions"] == json.loads(whole.stdout)["interruptions"]
    summary = companion("analyze", wav, "--model", "none")
    assert summary.returncode == 0
    assert "Interruptions:   2 by the agent, 0 by the customer" in summary.stdout
    assert "keep_listening" in summary.stdout


def write_stereo(path, seconds=2.0):
    sf.write(str(path), np.stack([signals.tone(300, seconds), signals.tone(500, seconds)], axis=1), 16000)


@pytest.mark.parametrize(
    "make,args,message",
    [
        (lambda d: None, [], "No such file"),
        (lambda d: (d / "call.wav").write_bytes(b"RIFF\x00\x00garbage"), [], "not an audio file we can read"),
        (lambda d: write_stereo(d / "call.wav"), ["--customer-channel", "5"], "--customer-channel 5 does not exist"),
        (lambda d: write_stereo(d / "call.wav"), ["--agent-channel", "-1"], "--agent-channel must be 0 or more"),
        (lambda d: sf.write(str(d / "call.wav"), signals.tone(300, 1.0), 16000), [], "is mono"),
        (lambda d: sf.write(str(d / "call.wav"), np.zeros((0, 2)), 16000), [], "holds no audio"),
        (lambda d: sf.write(str(d / "call.wav"), np.zeros((16000 * 3, 2)), 16000), [], "No speech found"),
        (lambda d: sf.write(str(d / "call.wav"), signals.noise(3.0, -50)[:, None].repeat(2, 1), 16000), [], "No speech found"),
    ],
)
def test_bad_input_ends_with_one_clear_line_and_status_2(tmp_path, make, args, message):
    make(tmp_path)
    run = companion("analyze", tmp_path / "call.wav", "--model", "none", *args)
    assert run.returncode == 2
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in run.stderr


def test_a_broken_coaching_file_is_a_clear_error(tmp_path, make_call):
    wav, _ = make_call(scenarios.dead_air())
    (tmp_path / "c.toml").write_text("[coach.slow_down]\nspeed = 3\n")
    run = companion("analyze", wav, "--coaching", tmp_path / "c.toml", "--model", "none")
    assert run.returncode == 2 and "Unknown setting coaching.coach.slow_down.speed" in run.stderr


def test_version_and_help():
    assert companion("--version").stdout.startswith("companion ")
    assert "--customer-channel" in companion("analyze", "--help").stdout


def test_the_window_without_a_display_says_what_to_use_instead():
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    run = subprocess.run([sys.executable, "-m", "ui", "--demo"], capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 2 and "no display found" in run.stderr and "companion live" in run.stderr


def test_the_core_command_line_alone_says_where_the_window_is():
    """`python -m companion` is the core without the window (the core never imports `ui`): the headless
    commands work, and a command that needs a window names the command that opens one."""
    core = [sys.executable, "-m", "companion"]
    version = subprocess.run([*core, "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("companion ")
    for args in ([], ["--demo"], ["replay", "1"]):
        run = subprocess.run([*core, *args], capture_output=True, text=True, timeout=60)
        assert run.returncode != 0 and "'companion' command" in run.stderr and "Traceback" not in run.stderr, args
    checked = subprocess.run([*core, "--self-check"], capture_output=True, text=True, timeout=120)
    assert "window: not checked" in checked.stdout
