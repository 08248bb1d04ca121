"""A calm customer is not called upset when their line hums or its level wanders, and an upset one is told on a noisy
line too (issue 21).

Calm calls of the fitted customer FEE083 (tests/real_voices.py), whose usual higher sentence near the end of the call
reads +3.6 dB and +4 semitones over her first 20 s on the clean line ("tense" against her 6 dB loudness line), with the
customer's channel changed as bench/line_conditions.py's `hum` and `drift` conditions change it:

- 50 Hz hum and two harmonics at -42 dBFS: the voice activity's gate rises to the hum, the mood hears her louder frames
  only and her loudness line falls to its floor, 3 dB. Her quieter sentences then re-based her level 2.6 dB down while
  the hum (the floor between her words) stood still, and the higher sentence read +3.5 dB: upset at 114 s.
- her level wandering +-5 dB over 40 s: her baseline's floor was the median of every floor read while it formed, 2.8 dB
  over the floor as her baseline's speech was heard, and each re-basing by the floor's step carried the difference:
  upset at 89.8 s (+8 dB).

`companion/monitor/customer.py` (`QUIETER_VOICE`, `FLOOR_AT_WINDOWS`; docs/coaching.md, the ninth session): both fail
without them."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from tests import real_voices as rv
from tests.line_changes import coloured_noise, hum
from tests.test_talkovers_drifting_line import drifting


def humming(wav, out):
    """`wav` with 50 Hz hum and two harmonics (-42 dBFS in all) on its customer's channel (the right one), as
    bench/line_conditions.py's `hum` condition adds it."""
    stereo, rate = sf.read(wav, dtype="float64", always_2d=True)
    stereo[:, 1] += hum(stereo.shape[0], rate)
    dest = out / f"{wav.stem}_hum.wav"
    sf.write(str(dest), stereo.astype(np.float32), rate, subtype="FLOAT")
    return dest


CHANGES = {"hum": humming, "drift": drifting}


@pytest.mark.parametrize("condition,agent,line", [("hum", "espeak:en-us", "clean"), ("drift", "real:MEE068", "noisy")])
def test_a_calm_customer_is_not_called_upset_on_a_humming_or_wandering_line(real_voices, analyze, tmp_path,
                                                                           condition, agent, line):
    wav, _ = real_voices("calm", "FEE083", agent, line)
    changed = analyze(CHANGES[condition](wav, tmp_path))
    assert [p for p in changed["prompts"] if p["kind"] == "customer_upset"] == []


def white_noise_under(wav, out, db=20.0):
    """`wav` with white noise `db` under the customer's active level on their channel (the right one), as
    bench/line_conditions.py's `white20` condition adds it."""
    stereo, rate = sf.read(wav, dtype="float64", always_2d=True)
    noise = coloured_noise("white", stereo.shape[0], rate, np.random.default_rng(7))
    stereo[:, 1] += noise * 10 ** ((rv.SPEECH_DB - db) / 20.0)
    dest = out / f"{wav.stem}_white{db:g}.wav"
    sf.write(str(dest), stereo.astype(np.float32), rate, subtype="FLOAT")
    return dest


def test_a_creaky_voice_read_at_the_edge_of_speaking_pitch_on_a_noisy_line_is_still_told_upset(real_voices, analyze,
                                                                                                tmp_path):
    """FEE087 speaks in creak (Praat reads her calm speech at about 88 Hz, a fifth of it voiced); our tracker reads her
    at 79-81 Hz on a clean line, under where adults speak (`SPEAKING_PITCH_HZ`, 85 Hz), so her spectrum stands in for
    her pitch and her raised voice is told. With white noise 20 dB under her voice it read her at 85-86 Hz: her pitch
    was taken as read, did not follow her raised voice, and her louder voice alone was taken for the line (re-based
    after 4 s of it): never told upset. Near that edge her spectrum stands in too (`SPECTRUM_NEAR_EDGE_ST`)."""
    wav, truth = real_voices("grows_upset", "FEE087", "piper:joe", "clean")
    doc = analyze(white_noise_under(wav, tmp_path))
    row = rv.judge(truth, doc)
    assert row["upset_ok"], row   # within 6 s of her raised voice, and none before it
    assert row["calmer_ok"], row  # within 30 s of her calm return
