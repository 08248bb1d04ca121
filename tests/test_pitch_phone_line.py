"""The pitch of a real voice on a phone line (tests/real_voices.py: recorded meeting speech on a 300-3400 Hz μ-law
line, which takes the fundamental away) is read where the same voice's clean-line reading puts it: the line's
missing fundamental no longer makes the tracker read the voice an octave (or a twelfth) up, and it does not read
it an octave down instead. Frame by frame, the customer's channel of one calm call on both lines."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from companion.monitor.pitch import PitchTracker


@pytest.fixture(scope="module")
def calm_call(real_voices):
    def make(customer: str, line: str):
        return real_voices("calm", customer, "espeak:en-us", line)[0]

    return make


def customer_f0(config, wav) -> np.ndarray:
    audio = sf.read(wav, dtype="float32", always_2d=True)[0][:, 1].astype(np.float64)
    n = audio.size // config.audio.frame_len
    frames = audio[: n * config.audio.frame_len].reshape(n, -1)
    return PitchTracker(config.pitch, config.audio).process(frames - frames.mean(axis=1, keepdims=True))


# MEO069 (a man) read an octave or a twelfth up on 17.6 % of his μ-law frames, FEE083 (a woman) on 26 %
@pytest.mark.parametrize("customer,most_up", [("MEO069", 0.14), ("FEE083", 0.22)])
def test_a_voice_on_a_mulaw_line_is_read_at_its_clean_line_pitch(config, calm_call, customer, most_up):
    clean, phone = customer_f0(config, calm_call(customer, "clean")), customer_f0(config, calm_call(customer, "mulaw"))
    n = min(clean.size, phone.size)
    both = (clean[:n] > 0) & (phone[:n] > 0)
    semitones = 12 * np.log2(phone[:n][both] / clean[:n][both])
    assert both.sum() > 1000
    assert np.mean(semitones > 9) < most_up            # an octave or more up
    assert np.mean(semitones < -9) < 0.05              # and not down instead
