"""Who spoke first hears a soft first word judged against the line's own noise (companion/vad/voice_activity.py).

On a noisy line a customer who resumes softly is a murmur a few dB over the office noise before their first clear word,
with dips back into the noise between syllables. The murmur is told from the noise by what the noise itself does on
this line: its frames flicker independently, so over a syllable's 0.1 s the noise's mean holds close to its own mean
while a murmur's stays up. A single noise frame over a fixed gate is no murmur."""

from __future__ import annotations

import numpy as np

from companion.config import load_config
from companion.vad.voice_activity import VoiceActivity

NOISE_DB, FLICKER_DB = -50.0, 0.66   # the noisy line of tests/real_voices.py: office noise, its frames' spread


class _Decisions:
    """webrtcvad's answer on the frames over the speech gate: every clearly loud frame is speech."""

    def is_speech(self, _pcm: bytes, _rate: int) -> bool:
        return True


def _opening(levels: np.ndarray) -> tuple[int, int]:
    """(first clear speech, where the opening says the party began) of the first turn in `levels` (dBFS per frame)."""
    config = load_config(use_user_default=False)
    va = VoiceActivity(config.vad, config.audio)
    va._vad = _Decisions()  # type: ignore[assignment]
    _, _, changes = va.process(0, np.zeros((levels.size, config.audio.frame_len), dtype=np.int16), levels)
    first = changes[0]
    assert first.end_frame is None
    return first.start_frame, first.start_frame if first.soft_start_frame is None else first.soft_start_frame


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
