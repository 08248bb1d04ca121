"""Fundamental frequency (f0) per frame by normalised autocorrelation.

Each frame is analysed over a window reaching back into the previous frame(s)
(at least 40 ms, two periods of a 50 Hz voice). The autocorrelation is divided by
the window's own autocorrelation (Boersma 1993) so voicing strength is comparable
across lags; a frame is voiced when the best peak passes `voicing_threshold`. On a line that has never carried a voice's
fundamental (a phone line's 300-3400 Hz), frames without it choose between the lag and its double or triple on
their band's compressed spectrum (`PitchTracker._missing_fundamental`): fewer frames read an octave up.

Both parties' frames of a block go through one batch of spectra (`f0_together`): every
frame's f0 is worked out on its own row, so it is the same to the last bit as alone.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from companion.config import AudioConfig, PitchConfig

MIN_WINDOW_S = 0.04
# A phone line (300-3400 Hz) takes the fundamental away: a low voice's window then repeats at half (or a third of)
# its period nearly as well as at the period, and the tracker reads it an octave (or a twelfth) up. Only frames with
# little power below FUNDAMENTAL_HZ against the voice band up to BAND_TOP_HZ are looked at again; their choice
# between the lag and its double or triple is then made on the autocorrelation of the band's compressed spectrum
# (each harmonic counts nearly alike, so the odd harmonics a longer period needs weigh in), taking the longer lag
# when the chosen one reaches less than LONGER_LAG_SHARE of it. A line that carries the fundamental (WIDE_LINE_FRAMES
# voiced frames with at least WIDE_LOW_SHARE of the band's power below FUNDAMENTAL_HZ) is left as it is from then on:
# there a frame without power down there is a high voice, not a missing fundamental.
FUNDAMENTAL_HZ = 250.0
BAND_TOP_HZ = 3400.0
LOW_POWER_SHARE = 0.05
COMPRESSION = 0.33
LONGER_LAG_SHARE = 0.9
WIDE_LOW_SHARE = 0.5
WIDE_LINE_FRAMES = 10


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
        # lags the octave check may move to: the candidates at best/3 and best/2 and their neighbours
        self._lags = np.arange(self.max_lag + 2)
        self._near = np.array((-1, 0, 1))
        hz = np.fft.rfftfreq(self.nfft, 1.0 / self.rate)
        self._low_bins = np.flatnonzero((hz >= pitch.min_hz) & (hz < FUNDAMENTAL_HZ))
        self._band_bins = np.flatnonzero((hz >= FUNDAMENTAL_HZ) & (hz <= BAND_TOP_HZ))
        self.wide_frames = 0   # voiced frames so far whose fundamental the line carried (WIDE_LOW_SHARE)
        self.keep_spectra = False   # keep each block's power spectra of the frames asked about (`spectra`)
        self.spectra: Optional[np.ndarray] = None  # (frames asked about, nfft // 2 + 1): their windows' power

    def process(self, frames: np.ndarray, only: Optional[np.ndarray] = None) -> np.ndarray:
        """f0 in Hz for each frame of the block; 0.0 where the frame is not voiced, or not in `only` (the
        frames the caller will read: its speech, so silence costs no spectrum)."""
        return f0_together([(self, frames, only)])[0]

    def _windows(self, frames: np.ndarray, only: Optional[np.ndarray]) -> tuple[np.ndarray, Optional[np.ndarray]]:
        """The rows asked about and the frames their windows are made of, the history first (None when no row is
        asked about); keeps the history the next block needs. Row r's window is frames r to r + window // frame_len - 1
        of those: the frame asked about and the ones before it."""
        count = frames.shape[0]
        rows = np.arange(count) if only is None else np.flatnonzero(only)
        keep = self.window - self.frame_len
        if not rows.size:
            if count * self.frame_len >= keep:  # nothing to read: only the next block's history
                self._tail = frames.reshape(-1)[count * self.frame_len - keep:].astype(np.float64)
            elif count:
                self._tail = np.concatenate((self._tail, frames.astype(np.float64).reshape(-1)))[-keep:]
            return rows, None
        stream = np.concatenate((self._tail, frames.astype(np.float64).reshape(-1)))
        self._tail = stream[-keep:]
        return rows, stream.reshape(-1, self.frame_len)

    def _f0(self, padded: np.ndarray, owners: Sequence[tuple["PitchTracker", int]]) -> tuple[np.ndarray, np.ndarray]:
        """f0 of each window (the first `window` samples of each row of `padded`, zeros after them; changed in
        place), and the windows' power spectra (Hann-tapered, `nfft` points). `owners`: the tracker each run of rows
        belongs to and the run's length, in order (whether a tracker's line carries the fundamental is its own)."""
        n = padded.shape[0]
        taken = padded[:, : self.window]
        taken -= taken.mean(axis=1, keepdims=True)
        taken *= self._taper
        spec = np.fft.rfft(padded, axis=1)
        power = np.abs(spec)
        power **= 2
        acf = np.fft.irfft(power, self.nfft, axis=1)[:, : self.max_lag + 2]
        energy = acf[:, :1]
        safe = np.where(energy > 1e-12, energy, 1.0)
        norm = acf / safe
        norm /= self._taper_acf
        lo, hi = self.min_lag, self.max_lag
        every = np.arange(n)
        best = np.argmax(norm[:, lo : hi + 1], axis=1) + lo
        peak = norm[every, best]
        # Prefer the shortest lag that is nearly as strong: avoids halving the pitch. Only rows whose candidate
        # (best / divisor) reaches `lo` can move; the candidate is then at most hi / 2, so only its left neighbour
        # may fall outside [lo, hi], and that one never wins.
        for divisor in (3, 2):
            centre = np.rint(best / divisor)
            rows = np.flatnonzero(centre >= lo)
            if not rows.size:
                continue
            cand = centre[rows].astype(np.intp)
            values = norm[rows[:, None], cand[:, None] + self._near]
            values[cand == lo, 0] = -np.inf
            take = values.max(axis=1) >= 0.9 * peak[rows]
            if take.any():
                rows = rows[take]
                best[rows] = cand[take] + np.argmax(values[take], axis=1) - 1
                peak[rows] = norm[rows, best[rows]]
        voiced = (peak >= self.threshold) & (energy[:, 0] > 1e-9)
        self._missing_fundamental(power, norm, best, voiced, owners)
        peak = norm[every, best]
        flat = norm.reshape(-1)
        base = every * norm.shape[1]
        # Parabolic interpolation around the chosen lag.
        left = flat[base + np.maximum(best - 1, 0)]
        right = flat[base + best + 1]
        denom = left - 2 * peak + right
        curved = np.abs(denom) > 1e-12
        shift = 0.5 * (left - right) / np.where(curved, denom, 1.0)
        shift[~curved] = 0.0
        lag = best + np.clip(shift, -0.5, 0.5)
        return np.where(voiced, self.rate / lag, 0.0), power

    def _missing_fundamental(self, power: np.ndarray, norm: np.ndarray, best: np.ndarray, voiced: np.ndarray,
                             owners: Sequence[tuple["PitchTracker", int]]) -> None:
        """Moves `best` (in place) to its double or triple where the window has hardly any power below
        FUNDAMENTAL_HZ and the band's compressed-spectrum autocorrelation says the longer period is the voice's."""
        low = power[:, self._low_bins].sum(axis=1)
        band = power[:, self._band_bins].sum(axis=1)
        wide = voiced & (low >= WIDE_LOW_SHARE * band)
        narrow = np.empty(best.size, dtype=bool)
        at = 0
        for tracker, count in owners:  # each frame: has this tracker's line carried a fundamental up to it?
            seen = tracker.wide_frames + np.cumsum(wide[at : at + count])
            narrow[at : at + count] = seen < WIDE_LINE_FRAMES
            tracker.wide_frames = int(seen[-1]) if count else tracker.wide_frames
            at += count
        rows = np.flatnonzero(voiced & narrow & (low < LOW_POWER_SHARE * band) & (2 * best + 2 <= self.max_lag))
        if not rows.size:
            return
        flat = np.zeros((rows.size, power.shape[1]))
        flat[:, self._band_bins] = power[rows[:, None], self._band_bins] ** COMPRESSION
        acf = np.fft.irfft(flat, self.nfft, axis=1)[:, : self.max_lag + 2]
        acf /= np.where(acf[:, :1] > 0, acf[:, :1], 1.0)
        acf /= self._taper_acf
        lag = best[rows]
        each = np.arange(rows.size)[:, None]

        def strongest(multiple: int) -> tuple[np.ndarray, np.ndarray]:
            reach = np.arange(-multiple, multiple + 1)
            cand = np.clip(multiple * lag[:, None] + reach, self.min_lag, self.max_lag)
            return acf[each, cand].max(axis=1), cand

        here, _ = strongest(1)
        moved = np.zeros(rows.size, dtype=bool)
        for multiple in (2, 3):
            there, cand = strongest(multiple)
            fits = multiple * lag + multiple <= self.max_lag + 1
            move = fits & ~moved & (here < LONGER_LAG_SHARE * there)
            if move.any():
                pick = cand[move]
                best[rows[move]] = pick[np.arange(pick.shape[0]), np.argmax(norm[rows[move][:, None], pick], axis=1)]
                moved |= move


def f0_together(jobs: Sequence[tuple[PitchTracker, np.ndarray, Optional[np.ndarray]]]) -> list[np.ndarray]:
    """`PitchTracker.process` for several trackers (of one configuration) and their blocks at once: one batch of
    spectra for all the frames asked about. Each result is the same as the tracker's own. A tracker that keeps its
    spectra (`keep_spectra`) holds its frames' power spectra in `spectra` after the call (the customer's mood reads
    their voice's spectrum from them: no second transform)."""
    outs, asked = [], []
    for tracker, frames, only in jobs:
        out = np.zeros(frames.shape[0])
        rows, by_frame = tracker._windows(frames, only)
        outs.append(out)
        tracker.spectra = None
        if by_frame is not None:
            asked.append((tracker, out, rows, by_frame))
    if asked:
        first = jobs[0][0]
        width, back = first.frame_len, first.window // first.frame_len
        padded = np.zeros((sum(rows.size for _, _, rows, _ in asked), first.nfft))  # every window, zero-padded
        at = 0
        for _, _, rows, by_frame in asked:
            for k in range(back):
                padded[at : at + rows.size, k * width : (k + 1) * width] = by_frame[rows + k]
            at += rows.size
        f0, power = first._f0(padded, [(tracker, rows.size) for tracker, _, rows, _ in asked])
        at = 0
        for tracker, out, rows, _ in asked:
            out[rows] = f0[at : at + rows.size]
            if tracker.keep_spectra:
                tracker.spectra = power[at : at + rows.size]
            at += rows.size
    return outs
