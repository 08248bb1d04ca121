"""A customer's line whose level wanders (a speakerphone, a head turning, an AGC) is no customer talking over the agent.

Real-voice calls (tests/real_voices.py) with the customer's channel multiplied by 10**(5 sin(2 pi t / 40) / 20), the
`drift` condition of bench/line_conditions.py. Read against the noise of the 5 s before it, the look-back for a soft
first word (companion/vad/voice_activity.py) found the line's own rising noise a murmur and moved the customer's turn
1.6 s back over the agent's last words: a talk-over by the customer that never happened, on 7 of 48 calm calls. The
look-back now reads a moving line's noise as moving on (docs/coaching.md, voice activity)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from tests.line_changes import drift_gain


def drifting(wav, out):
    """`wav` with its customer's channel (the right one) drifting (`tests.line_changes.drift_gain`)."""
    stereo, rate = sf.read(wav, dtype="float64", always_2d=True)
    stereo[:, 1] *= drift_gain(stereo.shape[0], rate)
    dest = out / f"{wav.stem}_drift.wav"
    sf.write(str(dest), stereo.astype(np.float32), rate, subtype="FLOAT")
    return dest


# the customer's next turn opens as her line is rising ~0.5-0.8 dB/s: 46.08 s on the clean line (the look-back went back
# to 44.48 s, into the agent's turn), 44.82 s on the noisy one (back to 43.56 s), where the drift also widens the
# noise's spread over the 5 s
@pytest.mark.parametrize("customer,agent,line", [("MEO069", "real:MEE068", "clean"), ("FEE078", "real:MEE068", "noisy")])
def test_a_calm_call_whose_customer_line_drifts_has_no_customer_talk_over(real_voices, analyze, tmp_path,
                                                                         customer, agent, line):
    wav, _ = real_voices("calm", customer, agent, line)
    plain, drifted = analyze(wav), analyze(drifting(wav, tmp_path))
    assert plain["interruptions"] == []
    assert drifted["interruptions"] == [], drifted["interruptions"]
    assert [p for p in drifted["prompts"] if p["kind"] == "keep_listening" and "talked over" in p["reason"]] == []
