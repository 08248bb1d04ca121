"""Where a syllable nucleus may be counted when the pitch tracker cannot read the voice (a weak or hoarse vowel):
frames of the agent's turn whose spectrum is a vowel's — peaked by harmonics, most of its power under 1 kHz — and
never office noise or a line's floor (flat), nor a hiss (peaked, but above 1 kHz). A real man hoarse with a cold
read 60-80 % slow because only a third of his vowels had an f0 (tests/test_pace_real.py, docs/coaching.md).

Each sound is analysed by the real pitch tracker, whose power spectra the decision reads (no second transform), and
judged with its f0 withheld, so what is tested is the spectrum's evidence alone."""

from __future__ import annotations

import numpy as np
import pytest

from companion.monitor.pace import NucleusFrames
from companion.monitor.pitch import PitchTracker
from tests.pace_corpus import RATE, office_noise

SECONDS = 2.0


def harmonic_frames(config, audio: np.ndarray) -> np.ndarray:
    """Per 20 ms frame of `audio` (16 kHz): may a nucleus sit there, if the pitch tracker gave it no f0?"""
    frames = audio[: audio.size // config.audio.frame_len * config.audio.frame_len].reshape(-1, config.audio.frame_len)
    tracker = PitchTracker(config.pitch, config.audio)
    tracker.keep_spectra = True
    tracker.process(frames)
    every = np.ones(frames.shape[0], dtype=bool)
    decide = NucleusFrames(config.pace, config.audio.sample_rate, tracker.nfft)
    return decide.eligible(every, np.zeros(frames.shape[0]), every, tracker.spectra)[3:]  # the tracker's window filled


def breathy_vowel(f0: float, noise_below_db: float, seed: int = 1) -> np.ndarray:
    """A hoarse /a/: harmonics of `f0` shaped by formants at 700 and 1200 Hz, with breath noise this far below."""
    t = np.arange(int(SECONDS * RATE)) / RATE
    jitter = np.cumsum(np.random.default_rng(seed).normal(0.0, 0.002, t.size))  # a rough voice's wandering pitch
    voice = np.zeros(t.size)
    for k in range(1, int(3400 / f0)):
        hz = k * f0
        gain = 1.0 / (1.0 + ((hz - 700.0) / 150.0) ** 2) + 0.5 / (1.0 + ((hz - 1200.0) / 200.0) ** 2) + 0.02
        voice += gain * np.sin(2 * np.pi * hz * t + k * jitter)
    voice /= np.sqrt(np.mean(voice**2))
    breath = np.random.default_rng(seed + 1).normal(0.0, 1.0, t.size) * 10 ** (-noise_below_db / 20.0)
    return 0.05 * (voice + breath)


def test_office_noise_and_a_lines_floor_are_never_vowel_frames(config):
    """The pace corpus's office noise (pink and brown) and a white floor, at every level: not one frame."""
    for seed in (1, 2, 3):
        assert not harmonic_frames(config, office_noise(int(SECONDS * RATE), -30.0, seed)).any()
    floor = np.random.default_rng(4).normal(0.0, 10 ** (-60 / 20.0), int(SECONDS * RATE))
    assert not harmonic_frames(config, floor).any()


@pytest.mark.parametrize("f0", [95.0, 120.0, 210.0])
def test_a_hoarse_vowel_is_a_vowel_frame(config, f0):
    """Harmonics with breath noise 6 dB below them: nearly every frame (a low voice's 95 Hz harmonics lie closest
    together, so its spectrum is the least peaked: 90 % of frames), for a low, a middle and a high voice."""
    assert harmonic_frames(config, breathy_vowel(f0, 6.0)).mean() >= 0.85


def test_a_hiss_is_not_a_vowel_frame(config):
    """A sibilant: noise peaked around 2.5 kHz (an "s" through a headset). Peaked, so not flat, but not a vowel."""
    spectrum = np.fft.rfft(np.random.default_rng(5).normal(0.0, 1.0, int(SECONDS * RATE)))
    hz = np.fft.rfftfreq(int(SECONDS * RATE), 1.0 / RATE)
    hiss = np.fft.irfft(spectrum / (1.0 + ((hz - 2500.0) / 300.0) ** 2), int(SECONDS * RATE))
    assert not harmonic_frames(config, 0.05 * hiss / np.sqrt(np.mean(hiss**2))).any()
