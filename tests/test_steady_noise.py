"""A steady noise close under the customer's voice (hiss on a wideband line, mains hum) does not take their soft
syllables away.

The voice activity's gate stands 9 dB over the quietest frame of the last 3 s: white noise 10 dB under the customer's
active level put it within a few dB of their voice, and their speaking time read 0.58 of the clean line's on the 48
calm calls of the main real-voice corpus (0.73 with 50 Hz hum at -42 dBFS; bench/line_conditions.py, docs/coaching.md),
so the agent's talk share tipped over its line.
A steady noise's frames flicker little around their mean: the gate is lowered to the noise's own reach
(companion/vad/voice_activity.py)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from companion.vad.voice_activity import VoiceActivity, frame_levels_db, to_pcm16
from tests import real_voices as rv
from tests.line_changes import hum


def _customer_speech_s(config, customer: np.ndarray) -> float:
    """The customer's turns, as the monitor's voice activity makes them (file blocks of 0.5 s)."""
    n = customer.size // config.audio.frame_len
    frames = customer[: n * config.audio.frame_len].reshape(n, -1).astype(np.float32)
    frames = frames - frames.mean(axis=1, keepdims=True)
    levels, pcm = frame_levels_db(frames), to_pcm16(frames)
    vad = VoiceActivity(config.vad, config.audio)
    total = 0
    for start in range(0, n, 25):
        _, _, changes = vad.process(start, pcm[start:start + 25], levels[start:start + 25])
        total += sum(c.end_frame - c.start_frame for c in changes if c.end_frame is not None)
    end = vad.finish(n)
    total += 0 if end is None or end.end_frame is None else end.end_frame - end.start_frame
    return total * config.audio.frame_s


# (noise, the least share of the clean line's speaking time): before the lowered gate this call read 0.74 (white) and
# 0.83 (hum), with it 0.87 and 0.91
@pytest.mark.parametrize("noise,least", [("white 10 dB under", 0.8), ("hum at -42 dBFS", 0.87)])
def test_a_calm_customers_speaking_time_holds_under_a_steady_noise(config, real_voices, noise, least):
    wav, _ = real_voices("calm", "MEO069", "espeak:en-us", "clean")
    customer, rate = sf.read(wav, dtype="float64", always_2d=True)
    customer = customer[:, 1]
    if noise.startswith("white"):
        added = np.random.default_rng(7).standard_normal(customer.size) * 10 ** ((rv.SPEECH_DB - 10.0) / 20.0)
    else:
        added = hum(customer.size, rate)
    clean, noisy = _customer_speech_s(config, customer), _customer_speech_s(config, customer + added)
    assert clean > 20.0
    assert noisy / clean >= least, (noisy, clean)
