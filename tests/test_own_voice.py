"""A party's own voice and other people farther off in the room (companion/vad/own_voice.py), frame by frame: their
voice's level forms from their own speech, speech far under it is not theirs once their voice is over, and the answer
is the same whatever the blocks a call comes in."""

from __future__ import annotations

import numpy as np
import pytest

from companion.config import load_config
from companion.vad.own_voice import OwnVoice

FRAME_S = 0.02


@pytest.fixture(scope="module")
def config():
    return load_config(None, use_user_default=False)


def a_call(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Speech frames and their levels: the party at about -22 dBFS (3 s), a pause, someone 32 dB under them (2 s), the
    party again (1 s), someone under them again (2 s). Returns (speech, levels, whose: 1 theirs, 2 someone else's)."""
    parts = [(3.0, -22.0, 1), (0.5, None, 0), (2.0, -54.0, 2), (1.0, -22.0, 1), (2.0, -54.0, 2)]
    speech, levels, whose = [], [], []
    for seconds, level, who in parts:
        n = round(seconds / FRAME_S)
        speech.append(np.full(n, level is not None))
        levels.append(rng.normal(level if level is not None else -70.0, 3.0, n))
        whose.append(np.full(n, who))
    return np.concatenate(speech), np.concatenate(levels), np.concatenate(whose)


def kept_in_blocks(config, speech, levels, block: int) -> np.ndarray:
    own = OwnVoice(config.vad, config.audio)
    return np.concatenate([own.keep(s, speech[s:s + block], levels[s:s + block]) for s in range(0, speech.size, block)])


def test_someone_far_under_the_party_is_not_them_once_their_voice_is_known(config):
    speech, levels, whose = a_call(np.random.default_rng(3))
    kept = kept_in_blocks(config, speech, levels, 25)
    assert kept[whose == 1].all()                 # every frame of the party's own speech
    hold = round(config.vad.own_voice_hold_s / FRAME_S)
    theirs, other = np.flatnonzero(whose == 1), np.flatnonzero(whose == 2)
    # the other voice counts only within the hold after the party's last frame within range, never past it
    last_theirs = np.array([theirs[theirs < k].max() for k in other])
    assert not kept[other[other - last_theirs > hold]].any()
    assert kept[other].sum() <= 2 * hold


def test_before_the_party_has_spoken_a_second_all_speech_counts(config):
    speech = np.ones(40, dtype=bool)
    levels = np.r_[np.full(20, -54.0), np.full(20, -22.0)]
    assert kept_in_blocks(config, speech, levels, 25).all()


@pytest.mark.parametrize("block", [1, 5, 7, 50, 333])
def test_the_same_frames_are_theirs_whatever_the_blocks(config, block):
    speech, levels, _ = a_call(np.random.default_rng(5))
    assert np.array_equal(kept_in_blocks(config, speech, levels, block), kept_in_blocks(config, speech, levels, 25))
