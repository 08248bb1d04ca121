"""Live capture through a virtual softphone: PulseAudio with two null sinks (the agent's microphone and the
softphone), scripted speech played into each with paplay, captured by `companion live` from their monitors."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import soundfile as sf

from tests import scenarios
from tests.installed import OUTSIDE

ROOT = Path(__file__).resolve().parent.parent
RECOVERY_WAIT_S = 8.0  # longest wait for the app to hear a replugged softphone before the customer speaks again


def pactl(env, *args):
    return subprocess.run(["pactl", *args], env=env, capture_output=True, text=True, check=True).stdout


def split_parties(wav: Path, out: Path) -> tuple[Path, Path]:
    data, rate = sf.read(str(wav), dtype="float32")
    agent, customer = out / f"{wav.stem}.agent.wav", out / f"{wav.stem}.customer.wav"
    sf.write(str(agent), data[:, 0], rate)
    sf.write(str(customer), data[:, 1], rate)
    return agent, customer


def read_events(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def live_call(env, tmp_path, agent_wav, customer_wav, seconds, during=None, extra=()):
    """Run `companion live` while the parties' audio plays into the two sinks. Returns (events, offset):
    `offset` maps script time to call time."""
    events_path = tmp_path / "events.jsonl"
    run_env = dict(env, COMPANION_CONFIG_DIR=str(tmp_path / "cfg"), COMPANION_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "ui", "live", "--agent-device", "agent_mic.monitor",
         "--customer-device", "softphone.monitor", "--model", "none", "--events-jsonl", str(events_path),
         "--duration", str(seconds + 4), *extra],
        env=run_env, cwd=OUTSIDE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.time() + 20
    while time.time() < deadline:
        capturing = {e["party"] for e in read_events(events_path) if e["type"] == "device" and e["status"] == "capturing"}
        if capturing == {"agent", "customer"}:
            break
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("companion live never started capturing: " + str(proc.communicate()))
    started = time.time()
    players = [subprocess.Popen(["paplay", "-d", sink, str(f)], env=env)
               for sink, f in (("agent_mic", agent_wav), ("softphone", customer_wav))]
    if during is not None:
        threading.Thread(target=during, args=(started,), daemon=True).start()
    for p in players:
        p.wait(timeout=seconds + 30)
    out, err = proc.communicate(timeout=seconds + 60)
    assert proc.returncode == 0, err
    events = read_events(events_path)
    call_start = next(e for e in events if e["type"] == "call_start")
    return events, started - call_start["wall"], out, err


@pytest.fixture(scope="session")
def live_run(softphone, make_call, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("live")
    wav, truth = make_call(scenarios.live_call())
    agent, customer = split_parties(wav, tmp)
    events, offset, out, err = live_call(softphone, tmp, agent, customer, truth.duration_s)
    return truth, events, offset, out, err


def test_every_agent_interruption_is_reported_live_at_the_right_time(live_run):
    truth, events, offset, _, _ = live_run
    found = [e for e in events if e["type"] == "interruption" and e["by"] == "agent"]
    expected = [i for i in truth.interruptions if i["by"] == "agent"]
    assert len(expected) == 2 and len(found) == 2, found
    for want, got in zip(expected, found):
        assert abs(got["t"] - (want["t"] + offset)) <= 1.0
    assert not [e for e in events if e["type"] == "interruption" and e["by"] == "customer"]


def test_keep_listening_arrives_within_3_s_of_the_interrupting_speech(live_run):
    truth, events, offset, out, _ = live_run
    prompts = [e for e in events if e["type"] == "prompt" and e["kind"] == "keep_listening"]
    for interruption in truth.interruptions:
        onset = interruption["t"] + offset
        assert [p for p in prompts if onset < p["t"] <= onset + 3.0], (onset, prompts)
    assert "Keep listening" in out  # printed as it happens


def test_a_fast_talker_is_told_to_slow_down(live_run):
    truth, events, offset, out, _ = live_run
    fast = truth.of("agent", "fast")[0]
    slow = [e for e in events if e["type"] == "prompt" and e["kind"] == "slow_down"]
    assert slow and fast.start + offset < slow[0]["t"] <= fast.end + offset + 1.0
    assert "Slow down" in out


def test_turns_line_up_with_the_script(live_run):
    truth, events, offset, _, _ = live_run
    turns = [e for e in events if e["type"] == "turn"]
    for utt in truth.utterances:
        start, end = utt.start + offset, utt.end + offset
        own = [t for t in turns if t["party"] == utt.party]
        begins_here = any(abs(t["start"] - start) <= 1.0 for t in own)
        # a short pause after the previous utterance of the same party may join the two into one turn
        joined = any(t["start"] < start and t["end"] >= end - 1.0 for t in own)
        assert begins_here or joined, utt


def test_the_events_file_is_complete_json_lines(live_run):
    _, events, _, _, err = live_run
    types = {e["type"] for e in events}
    assert {"call_start", "device", "turn", "interruption", "prompt", "metrics", "call_end"} <= types
    metrics = [e for e in events if e["type"] == "metrics"]
    assert len(metrics) >= 40 and all("t" in e and "type" in e for e in events)
    assert events[-1]["type"] in ("call_end", "metrics")
    assert "0 capture overflows" in err


def test_a_softphone_unplugged_mid_call_is_reported_and_recovered(softphone, tmp_path, make_call):
    wav, truth = make_call(scenarios.unplugged())
    agent, customer = split_parties(wav, tmp_path)
    first = truth.of("customer")[0]
    again = tmp_path / "customer_again.wav"  # the customer's first words, said again once the softphone is back
    audio, rate = sf.read(str(customer), dtype="float32")
    sf.write(str(again), audio[: int((first.end + 0.5) * rate)], rate)
    state = {}

    def unplug_and_return(started):
        time.sleep(max(0.0, started + 12.0 - time.time()))
        module = next(line.split("\t")[0] for line in pactl(softphone, "list", "short", "modules").splitlines()
                      if "sink_name=softphone" in line)
        pactl(softphone, "unload-module", module)
        state["gone"] = time.time() - started
        time.sleep(6.0)
        pactl(softphone, "load-module", "module-null-sink", "sink_name=softphone")
        state["back"] = time.time() - started
        deadline = time.time() + RECOVERY_WAIT_S  # the customer speaks again once the app hears the softphone
        while time.time() < deadline and not [e for e in read_events(tmp_path / "events.jsonl")
                                              if e["type"] == "device" and e["status"] == "recovered"]:
            time.sleep(0.05)
        time.sleep(0.5)
        subprocess.run(["paplay", "-d", "softphone", str(again)], env=softphone, timeout=120)

    seconds = max(truth.duration_s, 18.0 + RECOVERY_WAIT_S + 0.5 + first.end + 0.5)
    events, offset, _, err = live_call(softphone, tmp_path, agent, customer, seconds, during=unplug_and_return)
    device = [e for e in events if e["type"] == "device" and e["party"] == "customer"]
    statuses = [e["status"] for e in device]
    assert statuses[:3] == ["capturing", "lost", "recovered"], device
    lost, back = device[1], device[2]
    assert abs(lost["t"] - (state["gone"] + offset)) <= 2.0
    assert back["gap_start"] == lost["t"] and back["gap_end"] == back["t"] >= state["back"] + offset - 0.5
    # the agent kept going through the gap, the customer is heard again after it, the call ended cleanly
    agent_turns = [e for e in events if e["type"] == "turn" and e["party"] == "agent"]
    assert [t for t in agent_turns if lost["t"] < t["start"] < back["t"]]
    customer_turns = [e for e in events if e["type"] == "turn" and e["party"] == "customer"]
    assert [t for t in customer_turns if t["start"] < lost["t"]] and [t for t in customer_turns if t["start"] > back["t"]]
    assert not [t for t in customer_turns if lost["t"] + 0.5 < t["start"] < back["t"] - 0.5]
    assert events[-1]["type"] in ("call_end", "metrics")


def test_devices_lists_pulse_sources_including_monitors(softphone):
    run = subprocess.run([sys.executable, "-m", "ui", "devices"], env=softphone, cwd=OUTSIDE,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "softphone.monitor" in run.stdout and "agent_mic.monitor" in run.stdout
    assert "Defaults: --agent-device" in run.stdout


def test_a_device_that_does_not_exist_is_one_clear_line(softphone, tmp_path):
    env = dict(softphone, COMPANION_CONFIG_DIR=str(tmp_path), COMPANION_DATA_DIR=str(tmp_path / "data"))
    run = subprocess.run([sys.executable, "-m", "ui", "live", "--agent-device", "agent_mic.monitor",
                          "--customer-device", "no-such-phone", "--model", "none", "--duration", "1"],
                         env=env, cwd=OUTSIDE, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert "No input device matches 'no-such-phone'" in run.stderr and "Traceback" not in run.stderr


def test_the_device_choice_is_remembered(softphone, tmp_path):
    env = dict(softphone, COMPANION_CONFIG_DIR=str(tmp_path), COMPANION_DATA_DIR=str(tmp_path / "data"))
    base = [sys.executable, "-m", "ui", "live", "--model", "none", "--duration", "1"]
    first = subprocess.run(base + ["--agent-device", "agent_mic.monitor", "--customer-device", "softphone.monitor"],
                           env=env, cwd=OUTSIDE, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    again = subprocess.run(base, env=env, cwd=OUTSIDE, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0
    assert "the agent is agent_mic.monitor" in again.stderr and "the customer is softphone.monitor" in again.stderr


def test_sigterm_stops_cleanly_and_flushes(softphone, tmp_path):
    import signal

    events_path = tmp_path / "e.jsonl"
    env = dict(softphone, COMPANION_CONFIG_DIR=str(tmp_path), COMPANION_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.Popen([sys.executable, "-m", "ui", "live", "--agent-device", "agent_mic.monitor",
                             "--customer-device", "softphone.monitor", "--model", "none", "--events-jsonl", str(events_path)],
                            env=env, cwd=OUTSIDE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 20
    while time.time() < deadline and not [e for e in read_events(events_path) if e["type"] == "metrics" and e["t"] >= 2]:
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert read_events(events_path)[-1]["type"] in ("call_end", "metrics")
    assert "call ended" in err
    listed = subprocess.run([sys.executable, "-m", "ui", "calls", "list", "--json"], env=env, cwd=OUTSIDE,
                            capture_output=True, text=True, timeout=60)
    calls = json.loads(listed.stdout)  # every live call is kept
    assert len(calls) == 1 and calls[0]["status"] == "complete" and calls[0]["duration_s"] >= 2


def test_each_live_call_starts_its_events_file_afresh_unless_told_to_append(softphone, tmp_path):
    """A second call's events never mix with the first's: --events-jsonl starts the file anew; --append adds."""
    events_path = tmp_path / "events.jsonl"
    run_env = dict(softphone, COMPANION_CONFIG_DIR=str(tmp_path / "cfg"), COMPANION_DATA_DIR=str(tmp_path / "data"))

    def call(*extra):
        run = subprocess.run([sys.executable, "-m", "ui", "live", "--agent-device", "agent_mic.monitor",
                              "--customer-device", "softphone.monitor", "--model", "none", "--events-jsonl",
                              str(events_path), "--duration", "1.5", *extra],
                             env=run_env, cwd=OUTSIDE, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        return [e["type"] for e in read_events(events_path)]

    assert call().count("call_start") == 1
    assert call().count("call_start") == 1  # started afresh
    types = call("--append")
    assert types.count("call_start") == 2 and types.count("call_end") == 2
    lonely = subprocess.run([sys.executable, "-m", "ui", "live", "--append"], env=run_env, cwd=OUTSIDE,
                            capture_output=True, text=True, timeout=60)
    assert lonely.returncode == 2 and "--append adds to an events file" in lonely.stderr
    helptext = subprocess.run([sys.executable, "-m", "ui", "live", "--help"], capture_output=True, text=True).stdout
    assert "started afresh" in " ".join(helptext.split())


def test_a_customer_growing_upset_on_a_live_call_is_in_the_json_lines_and_prompted_within_5_s(softphone, make_call,
                                                                                             tmp_path):
    from tests import mood_scenarios

    wav, truth = make_call(mood_scenarios.upset_soon())
    agent, customer = split_parties(wav, tmp_path)
    events, offset, out, err = live_call(softphone, tmp_path, agent, customer, truth.duration_s)
    states = [e for e in events if e["type"] == "customer_state"]
    assert states and states[0]["state"] == "calm"
    raised = truth.of("customer", "upset")[0].start + offset
    upset = [e["t"] for e in events if e["type"] == "prompt" and e["kind"] == "customer_upset"]
    assert upset and raised < upset[0] <= raised + 5.0, (raised, states, upset)
    assert [e for e in events if e["type"] == "metrics" and e["customer_state"] == "upset"]
    assert "Customer upset" in out and "(customer: upset)" in err
