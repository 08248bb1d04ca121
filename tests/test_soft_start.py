"""Who spoke first and last hears a soft first and last word, judged against the line's own noise
(companion/vad/voice_activity.py).

On a noisy line a customer who resumes softly is a murmur a few dB over the office noise before their first clear word,
with dips back into the noise between syllables; one who trails off is a murmur after their last. The murmur is told
from the noise by what the noise itself does on this line: its frames flicker independently around their own mean, so
a stretch that stays above that mean for longer than the flicker explains is someone speaking, and a frame or two over a
fixed gate is not."""

from __future__ import annotations

import numpy as np

from companion.config import load_config
from companion.vad.voice_activity import VoiceActivity

NOISE_DB, FLICKER_DB = -50.0, 0.66   # the noisy line of tests/real_voices.py: office noise, its frames' spread


class _Decisions:
    """webrtcvad's answer on the frames over the speech gate: every clearly loud frame is speech."""

    def is_speech(self, _pcm: bytes, _rate: int) -> bool:
        return True


def _changes(levels: np.ndarray) -> list:
    config = load_config(use_user_default=False)
    va = VoiceActivity(config.vad, config.audio)
    va._vad = _Decisions()  # type: ignore[assignment]
    return va.process(0, np.zeros((levels.size, config.audio.frame_len), dtype=np.int16), levels)[2]


def _opening(levels: np.ndarray) -> tuple[int, int]:
    """(first clear speech, where the opening says the party began) of the first turn in `levels` (dBFS per frame)."""
    first = _changes(levels)[0]
    assert first.end_frame is None
    return first.start_frame, first.start_frame if first.soft_start_frame is None else first.soft_start_frame


def _closing(levels: np.ndarray) -> tuple[int, int]:
    """(end of the clear speech, where the closing says the party stopped) of the first turn in `levels`."""
    last = _changes(levels)[1]
    assert last.end_frame is not None
    return last.end_frame, last.end_frame if last.soft_end_frame is None else last.soft_end_frame


def _noise(seconds: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(NOISE_DB, FLICKER_DB, round(seconds / 0.02))


def test_a_murmur_with_a_dip_into_the_noise_before_the_first_clear_word_is_heard_from_where_it_began():
    """A customer's murmur 3.5 dB over the office noise for 0.7 s, 0.3 s back in the noise (a syllable the line
    buries), then their first clear word: they began with the murmur (MEE009 resuming 0.24 s before the agent
    starts, on the noisy line, sounds like this)."""
    for seed in range(5):
        lead = _noise(6.0, seed)
        murmur = _noise(0.7, seed + 100) + 3.5
        dip = _noise(0.3, seed + 200)
        word = np.full(30, -20.0)
        clear, began = _opening(np.concatenate((lead, murmur, dip, word)))
        assert clear == lead.size + murmur.size + dip.size
        assert abs(began - lead.size) <= 3, (seed, began - lead.size)   # from the murmur's start, within 60 ms


def test_the_noise_just_before_a_word_does_not_move_its_start():
    """Office noise as it flickers, on 40 stretches of it before a clear word: nobody spoke before the word (a fixed
    gate 3 dB over the floor, with 0.2 s between its frames, moved 19 of these starts back onto the noise)."""
    for seed in range(40):
        clear, began = _opening(np.concatenate((_noise(6.6, seed), np.full(30, -20.0))))
        assert began == clear, (seed, clear - began)


def test_the_noise_flickering_over_a_fixed_gate_before_a_word_does_not_move_its_start():
    """Office noise whose single frames now and then stand 3-4 dB over the floor (as one frame in twenty does on the
    noisy line) just before a clear word: nobody spoke before the word."""
    for seed in range(5):
        lead = _noise(6.0, seed)
        before = _noise(0.6, seed + 300)
        floor = min(lead[-150:].min(), before.min())
        before[[-3, -9, -15, -21, -27]] = floor + 3.6   # every 0.12 s, one frame 3.6 dB over the floor
        word = np.full(30, -20.0)
        clear, began = _opening(np.concatenate((lead, before, word)))
        assert clear == lead.size + before.size
        assert began >= clear - 1, (seed, clear - began)   # at the word (a frame's smear at most)


def test_a_murmured_last_word_after_the_clear_speech_is_where_the_party_stopped():
    """A customer who trails off: 0.3 s of murmur 3.5 dB over the office noise after their last clear word. They
    stopped speaking at the murmur's end, not at the clear word's; with only the noise after the word, at the word."""
    for seed in range(5):
        lead = _noise(6.0, seed)
        word = np.full(40, -20.0)
        tail = _noise(0.3, seed + 400) + 3.5
        after = _noise(1.0, seed + 500)
        clear, stopped = _closing(np.concatenate((lead, word, tail, after)))
        assert clear == lead.size + word.size
        assert abs(stopped - (clear + tail.size)) <= 3, (seed, stopped - clear - tail.size)
        clear, stopped = _closing(np.concatenate((lead, word, after)))
        assert stopped == clear, (seed, stopped - clear)
