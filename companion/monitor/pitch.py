"""Fundamental frequency (f0) per frame by normalised autocorrelation.

Each frame is analysed over a window reaching back into the previous frame(s)
(at least 40 ms, two periods of a 50 Hz voice). The autocorrelation is divided by
the window's own autocorrelation (Boersma 1993) so voicing strength is comparable
across lags; a frame is voiced when the best peak passes `voicing_threshold`.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from companion.config import AudioConfig, PitchConfig

MIN_WINDOW_S = 0.04


class PitchTracker:
    def __init__(self, pitch: PitchConfig, audio: AudioConfig):
        self.rate = audio.sample_rate
        self.frame_len = audio.frame_len
        frames_back = int(np.ceil(MIN_WINDOW_S * self.rate / self.frame_len))
        self.window = max(2, frames_back) * self.frame_len
        self.min_lag = max(2, int(self.rate / pitch.max_hz))
        self.max_lag = int(np.ceil(self.rate / pitch.min_hz))
        self.threshold = pitch.voicing_threshold
        self.nfft = 1 << int(np.ceil(np.log2(self.window + self.max_lag + 1)))
        self._taper = np.hanning(self.window).astype(np.float64)
        taper_acf = np.fft.irfft(np.abs(np.fft.rfft(self._taper, self.nfft)) ** 2, self.nfft)[: self.max_lag + 2]
        self._taper_acf = taper_acf / taper_acf[0]
        self._tail = np.zeros(self.window - self.frame_len, dtype=np.float64)
        self._offsets = np.arange(self.window)[None, :]

    def process(self, frames: np.ndarray, only: Optional[np.ndarray] = None) -> np.ndarray:
        """f0 in Hz for each frame of the block; 0.0 where the frame is not voiced, or not in `only` (the
        frames the caller will read: its speech, so silence costs no spectrum)."""
        count = frames.shape[0]
        if count == 0:
            return np.zeros(0)
        rows = np.arange(count) if only is None else np.flatnonzero(only)
        out = np.zeros(count)
        keep = self.window - self.frame_len
        if not rows.size and count * self.frame_len >= keep:  # nothing to read: only the next block's history
            self._tail = frames.reshape(-1)[count * self.frame_len - keep:].astype(np.float64)
            return out
        stream = np.concatenate((self._tail, frames.astype(np.float64).reshape(-1)))
        self._tail = stream[-keep:]
        if rows.size:
            out[rows] = self._f0(stream, rows)
        return out

    def _f0(self, stream: np.ndarray, rows: np.ndarray) -> np.ndarray:
        n = rows.size
        windows = stream[rows[:, None] * self.frame_len + self._offsets]
        windows = windows - windows.mean(axis=1, keepdims=True)
        spec = np.fft.rfft(windows * self._taper, self.nfft, axis=1)
        acf = np.fft.irfft(np.abs(spec) ** 2, self.nfft, axis=1)[:, : self.max_lag + 2]
        energy = acf[:, :1]
        safe = np.where(energy > 1e-12, energy, 1.0)
        norm = acf / safe / self._taper_acf[None, :]
        lo, hi = self.min_lag, self.max_lag
        every = np.arange(n)
        best = np.argmax(norm[:, lo : hi + 1], axis=1) + lo
        peak = norm[every, best]
        # Prefer the shortest lag that is nearly as strong: avoids halving the pitch.
        for divisor in (3, 2):
            cand = np.clip(np.rint(best / divisor).astype(int), lo, hi)
            # the candidate and its neighbours within [lo, hi]; out of range never wins
            near = np.stack((cand - 1, cand, cand + 1), axis=1)
            inside = (near >= lo) & (near <= hi)
            values = np.where(inside, norm[every[:, None], np.clip(near, lo, hi)], -np.inf)
            take = (np.rint(best / divisor) >= lo) & (values.max(axis=1) >= 0.9 * peak)
            if take.any():
                best = np.where(take, near[every, np.argmax(values, axis=1)], best)
                peak = norm[every, best]
        # Parabolic interpolation around the chosen lag.
        left = norm[every, np.maximum(best - 1, 0)]
        right = norm[every, best + 1]
        denom = left - 2 * peak + right
        safe_denom = np.where(np.abs(denom) > 1e-12, denom, 1.0)
        shift = np.where(np.abs(denom) > 1e-12, 0.5 * (left - right) / safe_denom, 0.0)
        lag = best + np.clip(shift, -0.5, 0.5)
        voiced = (peak >= self.threshold) & (energy[:, 0] > 1e-9)
        return np.where(voiced, self.rate / lag, 0.0)
