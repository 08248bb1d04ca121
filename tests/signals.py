"""Crafted test signals: tones, harmonic voices, syllable-like bursts, silence."""

from __future__ import annotations

import numpy as np

RATE = 16000


def tone(freq: float, seconds: float, level_db: float = -20.0, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (10 ** (level_db / 20) * np.sqrt(2) * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def voice(f0: float, seconds: float, level_db: float = -20.0, rate: int = RATE) -> np.ndarray:
    """A buzzy, vowel-like signal: f0 with decaying harmonics up to 3.5 kHz."""
    t = np.arange(int(seconds * rate)) / rate
    x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, int(3500 / f0)))
    x = x / np.sqrt(np.mean(x**2))
    return (10 ** (level_db / 20) * x).astype(np.float32)


def syllables(rate_hz: float, seconds: float, f0: float = 140.0, level_db: float = -20.0, sr: int = RATE) -> np.ndarray:
    """A voice whose loudness rises and falls `rate_hz` times a second, like syllables."""
    t = np.arange(int(seconds * sr)) / sr
    envelope = 0.5 - 0.5 * np.cos(2 * np.pi * rate_hz * t)
    return (voice(f0, seconds, level_db, sr) * envelope ** 2).astype(np.float32)


def frames(x: np.ndarray, frame_len: int = 320) -> np.ndarray:
    n = len(x) // frame_len
    return x[: n * frame_len].reshape(n, frame_len)


def noise(seconds: float, level_db: float = -60.0, seed: int = 1, rate: int = RATE) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (10 ** (level_db / 20) * rng.standard_normal(int(seconds * rate))).astype(np.float32)
