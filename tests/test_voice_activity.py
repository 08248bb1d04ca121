"""The speech detector's turns: a turn opens only after `onset_s` of speech — after a turn has closed too."""

from __future__ import annotations

import numpy as np

from companion.config import load_config
from companion.vad.voice_activity import VoiceActivity


class _Decisions:
    """webrtcvad's per-frame answer, scripted (the frames' audio is beside the point here)."""

    def __init__(self, voiced: list[bool]):
        self.voiced, self.i = voiced, 0

    def is_speech(self, _pcm: bytes, _rate: int) -> bool:
        self.i += 1
        return self.voiced[self.i - 1]


def _turns(pattern: list[bool]) -> list[tuple[int, int | None]]:
    config = load_config(use_user_default=False)
    va = VoiceActivity(config.vad, config.audio)
    frame = config.audio.frame_len
    levels = np.array([-20.0 if v else -70.0 for v in pattern])  # loud enough above the floor to ask
    va._vad = _Decisions([v for v in pattern if v])  # type: ignore[assignment]  # only loud frames are asked
    _, _, changes = va.process(0, np.zeros((len(pattern), frame), dtype=np.int16), levels)
    return [(c.start_frame, c.end_frame) for c in changes]


def test_one_voiced_frame_right_after_a_turn_closes_opens_no_new_turn():
    config = load_config(use_user_default=False)
    onset = max(1, round(config.vad.onset_s / config.audio.frame_s))
    hangover = max(1, round(config.vad.hangover_s / config.audio.frame_s))
    assert onset > 1
    lead, speech, pause = [False] * 50, [True] * 20, [False] * hangover  # the floor is learnt from the lead
    turns = _turns(lead + speech + pause + [True] + [False] * 40)
    assert turns == [(50, None), (50, 70)]  # the turn opened and closed; the lone frame after it is no turn
    again = _turns(lead + speech + pause + [True] * onset + [False] * 40)
    start = 70 + hangover
    assert again[2:] == [(start, None), (start, start + onset)]  # a real onset after it still opens one


def _turns_from_levels(levels: list[float]) -> list[tuple[int, int | None]]:
    config = load_config(use_user_default=False)
    va = VoiceActivity(config.vad, config.audio)
    loud = [lv >= -40 for lv in levels]
    va._vad = _Decisions([True] * sum(loud))  # type: ignore[assignment]  # every clearly loud frame is speech
    _, _, changes = va.process(0, np.zeros((len(levels), config.audio.frame_len), dtype=np.int16), np.array(levels))
    return [(c.soft_start_frame if c.soft_start_frame is not None else c.start_frame, c.end_frame) for c in changes]


def test_a_soft_start_under_the_gate_is_heard_from_where_the_murmur_began():
    """On a noisy line a customer who resumes softly is only heard from their first clear word, a second later:
    the opening says where their murmur began (within `preroll_s`, gaps between syllables allowed), so the
    talk-over tracker knows they were speaking before the agent started."""
    config = load_config(use_user_default=False)
    preroll = round(config.vad.preroll_s / config.audio.frame_s)
    noise = [-70.0, -69.0, -68.5, -69.5] * 50                 # office noise: within 1.5 dB of its floor
    murmur = [-66.0] * 20 + [-69.5] * 6 + [-66.5] * 20         # 4 dB over the floor, a short gap between syllables
    speech = [-20.0] * 30
    start = len(noise)
    assert _turns_from_levels(noise + murmur + speech + noise)[0] == (start, None)
    assert _turns_from_levels(noise + murmur + noise) == []   # a murmur alone opens no turn
    long_murmur = [-66.0] * (preroll + 40)                    # no further back than `preroll_s`
    opened = _turns_from_levels(noise + long_murmur + speech)[0][0]
    assert opened == start + len(long_murmur) - preroll
