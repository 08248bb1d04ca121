"""Speaking pace: syllable nuclei from the intensity envelope, and a rolling rate.

Acoustic estimate (de Jong & Wempe 2009, streaming): the energy in the vowel band
(default 300-3000 Hz, so a phone line and a headset look alike) is taken every
10 ms over 20 ms, smoothed, and every peak that rises and falls by `min_dip_db`
while the speaker is voiced is a syllable nucleus. Nuclei per minute of speaking
time, divided by syllables per word, is words per minute.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from companion.config import AudioConfig, PaceConfig
from companion.monitor.ledger import SpeechLedger

HOP_S = 0.01


class SyllableNuclei:
    """Streaming syllable-nucleus detector. Returns the call times of the nuclei it confirms."""

    def __init__(self, pace: PaceConfig, audio: AudioConfig):
        self.rate = audio.sample_rate
        self.hop = int(self.rate * HOP_S)
        if audio.frame_len % self.hop:
            raise ValueError("frame length must be a multiple of 10 ms")
        self.hops_per_frame = audio.frame_len // self.hop
        self.nfft = 1 << int(np.ceil(np.log2(self.hop)))
        freqs = np.fft.rfftfreq(self.nfft, 1.0 / self.rate)
        low, high = pace.envelope_band_hz
        self._band = (freqs >= low) & (freqs <= high)
        self._taps = max(1, round(pace.smoothing_s / HOP_S))
        self._dip = pace.min_dip_db
        self._history = np.zeros(self._taps, dtype=np.float64)  # last band energies, for smoothing
        self._prev_energy = 0.0
        self._hop_index = 0
        self._rising = False
        self._min = np.inf
        self._max = -np.inf
        self._max_at = 0
        self._max_ok = False

    def process(self, frames: np.ndarray, eligible: np.ndarray) -> list[float]:
        """`eligible[i]`: frame i is voiced speech of this speaker (a nucleus may sit there)."""
        n = frames.shape[0]
        if n == 0:
            return []
        hops = frames.reshape(n * self.hops_per_frame, self.hop).astype(np.float64)
        hops = hops - hops.mean(axis=1, keepdims=True)
        spec = np.abs(np.fft.rfft(hops, self.nfft, axis=1)) ** 2
        energy = spec[:, self._band].sum(axis=1) / self.nfft
        pair = (energy + np.concatenate(([self._prev_energy], energy[:-1]))) / 2.0
        self._prev_energy = float(energy[-1])
        db = 10.0 * np.log10(np.maximum(pair, 1e-12))
        padded = np.concatenate((self._history, db))
        csum = np.cumsum(np.concatenate(([0.0], padded)))
        smooth = (csum[self._taps :] - csum[: -self._taps])[1:] / self._taps
        self._history = padded[-self._taps :]
        ok = np.repeat(eligible, self.hops_per_frame)
        found: list[float] = []
        first = self._hop_index
        dip = self._dip
        rising, lo, hi, hi_at, hi_ok = self._rising, self._min, self._max, self._max_at, self._max_ok
        for j, value in enumerate(smooth.tolist()):
            if rising:
                if value > hi:
                    hi, hi_at, hi_ok = value, first + j, bool(ok[j])
                elif value < hi - dip:
                    if hi_ok:
                        # the smoothing delays the envelope by half its length
                        found.append((hi_at - (self._taps - 1) / 2.0) * HOP_S)
                    rising, lo = False, value
            else:
                if value < lo:
                    lo = value
                elif value > lo + dip:
                    rising, hi, hi_at, hi_ok = True, value, first + j, bool(ok[j])
        self._rising, self._min, self._max, self._max_at, self._max_ok = rising, lo, hi, hi_at, hi_ok
        self._hop_index += smooth.size
        return found


def rolling_wpm(
    ledger: SpeechLedger, now: float, pace: PaceConfig, units_per_word: float, kind: str = "syllables"
) -> tuple[Optional[float], float]:
    """Words per minute over the last `window_speech_s` of speaking time up to `now`, and the time it covers."""
    speech, units = ledger.recent_by_speech(now, pace.window_speech_s, kind)
    if speech < pace.min_speech_s:
        return None, speech
    return units / units_per_word / speech * 60.0, speech


def call_wpm(ledger: SpeechLedger, pace: PaceConfig, units_per_word: float, kind: str = "syllables") -> Optional[float]:
    """Words per minute of speaking time over the whole call."""
    if ledger.total_speech_s < pace.min_speech_s:
        return None
    return ledger.total_units(kind) / units_per_word / ledger.total_speech_s * 60.0


def countable_word(word: str, fillers: frozenset[str]) -> bool:
    """A recognised token that counts toward pace: not a filler ("um", "uh") nor unknown ("[unk]")."""
    token = word.strip().lower()
    return bool(token) and not token.startswith(("[", "<")) and token not in fillers
