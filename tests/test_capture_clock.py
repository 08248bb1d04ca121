"""Both parties stay on one call clock in live capture, however their audio arrives.

The capture thread (`LiveCapture._move_audio`) is driven here with the clock it would read and rings filled as
devices fill them; the real PortAudio/PulseAudio path is tests/test_live.py's (the virtual softphone)."""

from __future__ import annotations

import numpy as np
import pytest

from companion.audio.capture import LiveCapture
from companion.audio.devices import InputDevice
from companion.config import load_config

RATE = 16000
POLL_S = 0.05


def capture_of_two_devices():
    config = load_config(use_user_default=False)
    blocks = []
    devices = {"agent": (InputDevice("1", "headset", "ALSA", 1, RATE, 1), 0),
               "customer": (InputDevice("2", "softphone", "ALSA", 1, RATE, 2), 0)}
    cap = LiveCapture(devices, config.audio, config.capture, lambda block: blocks.append(block) or True, lambda event: None)
    for inp in cap.inputs:
        inp.state, inp.first_data = "ok", 0.0
    cap.t0 = 0.0
    return cap, blocks, config


def click_at(seconds: float, total_s: float) -> np.ndarray:
    audio = np.zeros(int(total_s * RATE), np.float32)
    at = int(seconds * RATE)
    audio[at: at + 160] = 0.9
    return audio


def first_loud_frame(blocks, party: str) -> int:
    frames = np.concatenate([getattr(b, party) for b in blocks])
    return int(np.flatnonzero(np.abs(frames).max(axis=1) > 0.5)[0])


def run(cap, arrivals: dict[str, callable], audio: dict[str, np.ndarray], seconds: float) -> None:
    """Every poll: each device's ring gets what it has handed over by then (`arrivals[party](t)` seconds of it)."""
    given = {party: 0 for party in audio}
    lines = {line.party: line for inp in cap.inputs for line in inp.lines}
    for step in range(1, int(seconds / POLL_S) + 1):
        t = step * POLL_S
        for party, until in arrivals.items():
            upto = min(len(audio[party]), int(until(t) * RATE))
            if upto > given[party]:
                lines[party].ring.write(audio[party][given[party]:upto])
                given[party] = upto
        cap._move_audio(t)
    cap._move_audio(seconds + POLL_S, final=True)


def stalls(late_s: float, at_s: float = 3.0):
    """A device that hands its audio over on time but for one stretch: from `at_s` nothing comes for `late_s`, then
    everything at once (a sound server held up on a busy machine)."""
    return lambda t: at_s if at_s <= t < at_s + late_s else t


def bursts(every_s: float):
    """A device that hands its audio over `every_s` at a time, each piece when it is whole."""
    return lambda t: t // every_s * every_s


@pytest.mark.parametrize("arrival", [stalls(0.3), stalls(0.6), stalls(1.0), bursts(0.3), bursts(0.5)],
                         ids=["held 0.3 s", "held 0.6 s", "held 1 s", "0.3 s bursts", "0.5 s bursts"])
def test_audio_that_arrives_late_keeps_its_place_on_the_call_clock(arrival):
    # the customer's audio comes late (held up, or in bursts); the agent's headset is on time. A click said by both
    # at 6.0 s is on the same frame: no silence was put in front of the customer's late audio
    cap, blocks, config = capture_of_two_devices()
    total = 12.0
    audio = {"agent": click_at(6.0, total), "customer": click_at(6.0, total)}
    run(cap, {"agent": lambda t: t, "customer": arrival}, audio, total)
    assert first_loud_frame(blocks, "customer") == first_loud_frame(blocks, "agent") == int(6.0 / config.audio.frame_s)


def test_a_device_whose_clock_runs_slow_is_kept_near_the_call_clock():
    # a headset 2 % slow falls 0.24 s behind in 12 s: padded, so its click at 20 s (call time) is within the skew
    cap, blocks, config = capture_of_two_devices()
    total = 24.0
    audio = {"agent": click_at(20.0 * 0.98, total), "customer": click_at(20.0, total)}
    run(cap, {"agent": lambda t: t * 0.98, "customer": lambda t: t}, audio, total)
    apart = (first_loud_frame(blocks, "agent") - first_loud_frame(blocks, "customer")) * config.audio.frame_s
    assert abs(apart) <= config.capture.max_skew_s + 0.05


def test_a_stream_whose_first_audio_comes_late_is_placed_where_it_began(monkeypatch):
    # the customer's first callback comes 0.4 s after its audio began (the machine was busy), then its backlog comes
    # at once; the agent's callbacks are on time. Their clicks at 6.0 s land on the same frame.
    import companion.audio.capture as capture

    clock = {"now": 0.0}
    monkeypatch.setattr(capture.time, "monotonic", lambda: clock["now"])
    cap, blocks, config = capture_of_two_devices()
    inputs = {inp.lines[0].party: inp for inp in cap.inputs}
    for inp in cap.inputs:
        inp.first_data = None
    total, piece = 10.0, 320   # 20 ms callbacks
    audio = {"agent": click_at(6.0, total), "customer": click_at(6.0, total)}
    sent = {"agent": 0, "customer": 0}
    for step in range(1, int(total / 0.01) + 1):
        clock["now"] = t = step * 0.01
        for party in ("agent", "customer"):
            taken = int(t * RATE) if party == "agent" or t >= 0.4 else 0   # what the device has by now
            while sent[party] + piece <= taken:  # each callback hands over one piece (the late one: its backlog)
                inputs[party].callback(audio[party][sent[party]:sent[party] + piece][:, None], piece, None, None)
                sent[party] += piece
        if step % 5 == 0:
            cap._move_audio(t)
    cap._move_audio(total + 0.05, final=True)
    assert abs(inputs["customer"].first_data - inputs["agent"].first_data) < 0.02
    assert first_loud_frame(blocks, "customer") == first_loud_frame(blocks, "agent")
