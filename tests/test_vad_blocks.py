"""The speech detector hears a call the same whatever size of block it is fed: its noise floor is the
quietest frame of the last `noise_window_s` at every frame, and its speech frames and turns do not move."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from companion.config import load_config
from companion.vad.voice_activity import VoiceActivity, frame_levels_db, to_pcm16
from tests import signals


@lru_cache(maxsize=1)
def _call() -> np.ndarray:
    """20 s of a line whose noise rises and falls, with bursts of voice at several levels."""
    parts = [signals.noise(2.0, -65, seed=1), signals.voice(140.0, 1.5, -20) + signals.noise(1.5, -65, seed=2),
             signals.noise(3.0, -45, seed=3), signals.voice(220.0, 2.0, -30) + signals.noise(2.0, -45, seed=4),
             signals.noise(1.0, -70, seed=5), signals.tone(300.0, 4.0, -35), signals.noise(0.5, -55, seed=6),
             signals.voice(110.0, 3.0, -15) + signals.noise(3.0, -50, seed=7), signals.noise(3.0, -60, seed=8)]
    return np.concatenate(parts)


def _hear(block_frames: int) -> tuple[list[bool], list[tuple[int, int | None, int]]]:
    """(speech per frame, turn changes) of the call fed in blocks of `block_frames`."""
    config = load_config(use_user_default=False)
    vad = VoiceActivity(config.vad, config.audio)
    frames = signals.frames(_call())
    frames = frames - frames.mean(axis=1, keepdims=True)
    voiced: list[bool] = []
    changes: list[tuple[int, int | None, int]] = []
    for start in range(0, len(frames), block_frames):
        block = frames[start: start + block_frames]
        got_voiced, _, got = vad.process(start, to_pcm16(block), frame_levels_db(block))
        voiced += got_voiced.tolist()
        changes += [(c.start_frame, c.end_frame, c.decided_frame) for c in got]
    end = vad.finish(len(frames))
    if end is not None:
        changes.append((end.start_frame, end.end_frame, end.decided_frame))
    return voiced, changes


def _floors_every_frame(block_frames: int) -> np.ndarray:
    config = load_config(use_user_default=False)
    vad = VoiceActivity(config.vad, config.audio)
    frames = signals.frames(_call())
    levels = frame_levels_db(frames - frames.mean(axis=1, keepdims=True))
    return np.concatenate([vad._floors(levels[start: start + block_frames]) for start in range(0, len(levels), block_frames)])


@pytest.mark.parametrize("block_frames", [1, 5, 25, 149, 150, 151, 400])
def test_the_noise_floor_is_the_quietest_frame_of_the_last_window_at_every_frame(block_frames):
    config = load_config(use_user_default=False)
    window = round(config.vad.noise_window_s / config.audio.frame_s)
    frames = signals.frames(_call())
    levels = frame_levels_db(frames - frames.mean(axis=1, keepdims=True))
    expected = np.array([levels[max(0, i - window + 1): i + 1].min() for i in range(len(levels))])
    assert np.array_equal(_floors_every_frame(block_frames), expected)


def test_speech_and_turns_are_the_same_in_live_blocks_file_blocks_and_single_frames():
    voiced, changes = _hear(1)
    assert any(voiced) and len([c for c in changes if c[1] is not None]) >= 3  # the call has turns to compare
    for block_frames in (5, 25, 151):
        other_voiced, other_changes = _hear(block_frames)
        assert other_voiced == voiced and other_changes == changes
