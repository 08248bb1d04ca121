"""The nuclei that measure the agent's rate (`rate_kind`, under 40 ms) count a drawn-out vowel that wobbles into two
envelope peaks close together with a shallow dip between them (`[pace] close_peak_s`, `close_peak_dip_db`) as one,
where every detector's own count (the agent's and the customer's) has two; a deeper dip, or fast syllables close
together with the envelope falling to silence between them, each count. Streaming: the same nuclei in any block size
(docs/coaching.md, Pace, tenth session). Without the rule the rate counts each wobble: these tests fail."""

from __future__ import annotations

import numpy as np
import pytest

from companion.monitor.pace import SyllableNuclei, rate_kind, rate_taps, unit_kind
from tests import signals

VOWELS = 10


def drawn_out_vowels(dip_db: float = 4.0) -> np.ndarray:
    """10 vowels of 0.25 s, each with a dip of `dip_db` in its middle (two envelope peaks about 0.13 s apart), 0.3 s
    of silence between them."""
    sr = signals.RATE
    vowel = np.arange(int(0.25 * sr)) / sr
    level_db = -dip_db * np.exp(-0.5 * ((vowel - 0.125) / 0.02) ** 2)
    edges = np.minimum(1.0, np.minimum(vowel, 0.25 - vowel) / 0.035)  # 35 ms on- and offsets
    one = np.concatenate((edges * 10 ** (level_db / 20), np.zeros(int(0.3 * sr))))
    envelope = np.tile(one, VOWELS)
    return (signals.voice(140.0, len(envelope) / sr) * envelope).astype(np.float32)


def nuclei(config, x: np.ndarray, agent: bool, block_frames: int) -> dict[str, list[float]]:
    counter = SyllableNuclei(config.pace, config.audio, agent=agent)
    frames = signals.frames(x)
    found: dict[str, list[float]] = {}
    for start in range(0, len(frames), block_frames):
        block = frames[start : start + block_frames]
        for t, kind in counter.process(block, np.ones(len(block), bool)):
            found.setdefault(kind, []).append(t)
    return found


@pytest.mark.parametrize("block_frames", [1, 7, 25])
def test_a_drawn_out_vowel_split_by_a_shallow_dip_is_one_nucleus_of_the_agents_rate(config, block_frames):
    agent = nuclei(config, drawn_out_vowels(), True, block_frames)
    customer = nuclei(config, drawn_out_vowels(), False, block_frames)
    assert len(customer[unit_kind(rate_taps(config.pace), config.pace)]) == 2 * VOWELS  # the wobble: a peak of its own
    assert len(agent.pop(rate_kind(config.pace))) == VOWELS
    assert agent == customer  # every detector's own count is not changed
    assert agent == {k: v for k, v in nuclei(config, drawn_out_vowels(), True, 25).items() if k != rate_kind(config.pace)}


def test_a_vowel_with_a_deep_dip_in_it_is_two_nuclei_of_the_rate_too(config):
    agent = nuclei(config, drawn_out_vowels(dip_db=8.0), True, 25)
    assert len(agent[rate_kind(config.pace)]) == 2 * VOWELS


def test_fast_syllables_close_together_all_count(config):
    x = signals.syllables(5.5, 6.0)  # 180 ms apart, the envelope falling to silence between them
    agent = nuclei(config, x, True, 25)
    assert len(agent[rate_kind(config.pace)]) == pytest.approx(5.5 * 6.0, abs=1.5)
    assert agent.pop(rate_kind(config.pace)) == agent[unit_kind(rate_taps(config.pace), config.pace)]
