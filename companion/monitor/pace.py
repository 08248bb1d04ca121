"""Speaking pace: syllable nuclei from the intensity envelope, and a rolling rate.

Acoustic estimate (de Jong & Wempe 2009, streaming): the energy in the vowel band
(default 300-3000 Hz, so a phone line and a headset look alike) is taken every
10 ms over 20 ms, smoothed, and every peak that rises and falls by `min_dip_db`
where the speaker's turn holds a vowel (a pitch, or a vowel's spectrum: `NucleusFrames`)
is a syllable nucleus. Nuclei per minute of speaking
time, divided by syllables per word, is words per minute.

The smoothing follows the speaker's own rate. Slow, drawn-out vowels wobble and split
into two peaks under a short smoothing; fast syllables merge under a long one. So the
envelope is smoothed several ways at once (`smoothing_s` up to `max_smoothing_s`, one
detector each, all on one spectrum), and the agent's rate over any stretch of speech is
read under the smoothing `RATE_SMOOTHING_PER_PERIOD` of that stretch's own nucleus period
(as the 40 ms smoothing measures it: under 20 ms a calm voice's split vowels look fast) at
4 nuclei/s, growing with the square of the period: a neural voice's fast syllables need
20 ms, drawn-out slow vowels 60-80 ms (the customer's rate, in customer.py, is still matched
as the shortest smoothing measures it, with `smoothing_per_period`). That rate leaves out a peak
under `close_peak_s` after the one before it with a dip under `close_peak_dip_db` between them
(`rate_kind`): a drawn-out vowel that wobbled in two on a phone line made a calm stretch look
fast and picked a shorter smoothing, which split more (flite's diphone voices). Between two
detectors the count is interpolated, so a reading never jumps when a stretch's rate
crosses from one detector to the next (a shifted or re-dithered call reads the same).
Fitted and judged leave-one-engine-out on espeak-ng, festival and Piper voices:
bench/pace_fit.py, docs/coaching.md.
"""

from __future__ import annotations

from typing import Callable, Mapping, Optional

import numpy as np

from companion.config import AudioConfig, PaceConfig
from companion.monitor.ledger import SpeechLedger

HOP_S = 0.01
BASE_KIND = "syllables"  # nuclei under the shortest smoothing (the acoustic kind; its rate is read at `rate_kind`)
REFERENCE_PERIOD_S = 0.25  # `smoothing_per_period` holds at this nucleus period (4 nuclei/s)
# The agent's pace reads its rate (which picks the smoothing) under 40 ms, not the shortest smoothing: under
# 20 ms a calm voice's drawn-out vowels split in office noise (a neural voice at a true 138 words/min showed
# 5 nuclei/s), which made the stretch look fast, chose 20 ms and read it 40-60 % fast; under 40 ms they do not.
# The smoothing is then 0.11 of the period so measured at 4 nuclei/s (in proportion to the period's square). The
# rate leaves out a peak close after the one before it with a shallow dip between them (`[pace] close_peak_s`,
# `close_peak_dip_db`; `rate_kind`); the nuclei read are still every detector's own.
# Fitted leave-one-engine-out with bench/pace_fit.py and bench/slow_down_latency.py (docs/coaching.md).
RATE_SMOOTHING_S = 0.04
RATE_SMOOTHING_PER_PERIOD = 0.11


def _taps(seconds: float) -> int:
    return max(1, round(seconds / HOP_S))


def smoothings(pace: PaceConfig) -> range:
    """The smoothing lengths (in 10 ms hops) that run side by side."""
    low = _taps(pace.smoothing_s)
    return range(low, max(low, _taps(pace.max_smoothing_s)) + 1)


def unit_kind(taps: int, pace: PaceConfig) -> str:
    """The ledger's name for nuclei found under `taps` hops of smoothing."""
    return BASE_KIND if taps == _taps(pace.smoothing_s) else f"{BASE_KIND}@{taps * 10}ms"


def matched_taps(nuclei_per_s: float, pace: PaceConfig, per_period: Optional[float] = None) -> float:
    """The smoothing (in hops, fractional) matched to this nucleus rate: `per_period` (default
    `smoothing_per_period`) of the period at `REFERENCE_PERIOD_S`, in proportion to the period's square
    elsewhere; within the detectors that run."""
    choices = smoothings(pace)
    if nuclei_per_s <= 0:
        return float(choices[-1])
    period = 1.0 / nuclei_per_s
    share = pace.smoothing_per_period if per_period is None else per_period
    taps = share * period * (period / REFERENCE_PERIOD_S) / HOP_S
    return min(max(taps, float(choices[0])), float(choices[-1]))


def matched_kind(nuclei_per_s: float, pace: PaceConfig) -> str:
    """The detector nearest the smoothing matched to this nucleus rate."""
    return unit_kind(round(matched_taps(nuclei_per_s, pace)), pace)


def rate_taps(pace: PaceConfig) -> int:
    """The smoothing whose nuclei measure a stretch's rate for the agent's pace (`RATE_SMOOTHING_S`, or the nearest
    that runs)."""
    choices = smoothings(pace)
    return min(max(_taps(RATE_SMOOTHING_S), choices[0]), choices[-1])


def rate_kind(pace: PaceConfig) -> str:
    """The ledger's name for the nuclei that measure a stretch's rate for the agent's pace: those of `rate_taps`,
    a close peak with a shallow dip before it counted with the peak before it (`[pace] close_peak_s`)."""
    return f"{unit_kind(rate_taps(pace), pace)}-rate"


def matched_units(units_of: Callable[[str], float], speech_s: float, pace: PaceConfig, units_per_word: float,
                  calibration: Optional[Mapping[str, float]] = None) -> tuple[float, float]:
    """(nuclei, nuclei per word) over a stretch of `speech_s` of speech, `units_of(kind)` giving each detector's
    count there: read under the smoothing matched to the stretch's own rate (as `rate_kind` counts it),
    interpolated between the two detectors either side of it (and between this agent's own nuclei per word for
    them, where calibrated)."""
    rate = units_of(rate_kind(pace)) / speech_s if speech_s > 0 else 0.0
    taps = matched_taps(rate, pace, RATE_SMOOTHING_PER_PERIOD)
    low = int(taps)
    frac = taps - low
    kinds = [unit_kind(low, pace)] + ([unit_kind(low + 1, pace)] if frac > 1e-9 else [])
    weights = [1.0 - frac, frac][: len(kinds)]
    units = sum(w * units_of(k) for w, k in zip(weights, kinds))
    per_word = sum(w * (calibration or {}).get(k, units_per_word) for w, k in zip(weights, kinds))
    return units, per_word


class _EnvelopePeaks:
    """Peaks of the band-energy envelope under one smoothing length, streaming."""

    def __init__(self, taps: int, dip_db: float, close_hops: int = 0, close_dip_db: float = 0.0):
        """`close_hops`, `close_dip_db`: a peak fewer hops after the last eligible one, with a dip under
        `close_dip_db` between them (below the lower of the two), does not stand apart from it (0: every one does)."""
        self.taps, self.dip = taps, dip_db
        self.close_hops, self.close_dip = close_hops, close_dip_db
        self._history = np.zeros(taps, dtype=np.float64)  # last envelope values, for smoothing
        self._rising = False
        self._min, self._max, self._max_at, self._max_ok = np.inf, -np.inf, 0, False
        self._last_at, self._last_max = -(1 << 40), -np.inf  # the last eligible peak (counted or not)

    def feed(self, db: np.ndarray, ok: np.ndarray, first_hop: int) -> list[tuple[float, bool]]:
        """The peaks confirmed in this block: (call time, whether it stands apart from the eligible peak before it)."""
        padded = np.concatenate((self._history, db))
        csum = np.cumsum(np.concatenate(([0.0], padded)))
        smooth = (csum[self.taps :] - csum[: -self.taps])[1:] / self.taps
        self._history = padded[-self.taps :]
        found: list[tuple[float, bool]] = []
        dip, delay = self.dip, (self.taps - 1) / 2.0  # the smoothing delays the envelope by half its length
        rising, lo, hi, hi_at, hi_ok = self._rising, self._min, self._max, self._max_at, self._max_ok
        last_at, last_max = self._last_at, self._last_max
        for j, value in enumerate(smooth.tolist()):
            if rising:
                if value > hi:
                    hi, hi_at, hi_ok = value, first_hop + j, bool(ok[j])
                elif value < hi - dip:
                    if hi_ok:  # `lo`: the envelope's lowest since the last peak
                        close = hi_at - last_at < self.close_hops and min(hi, last_max) - lo < self.close_dip
                        found.append(((hi_at - delay) * HOP_S, not close))
                        last_at, last_max = hi_at, hi
                    rising, lo = False, value
            else:
                if value < lo:
                    lo = value
                elif value > lo + dip:
                    rising, hi, hi_at, hi_ok = True, value, first_hop + j, bool(ok[j])
        self._rising, self._min, self._max, self._max_at, self._max_ok = rising, lo, hi, hi_at, hi_ok
        self._last_at, self._last_max = last_at, last_max
        return found


HARMONIC_FLATNESS = 0.2  # a vowel's spectrum (300-3000 Hz) is peaked by its harmonics and formants; noise is flat
FIRST_FORMANT_HZ = 1000.0  # a vowel's energy lies mostly under this (its first formant): a hiss's lies above it
FIRST_FORMANT_SHARE = 0.5


class NucleusFrames:
    """Which of the agent's frames may hold a syllable nucleus: frames inside their turn (where their speaking time
    counts, not only those the voice activity calls voiced one by one) where their voice is periodic (the pitch
    tracker gives an f0) or, where it is too weak or hoarse for the tracker, the frame's spectrum is a vowel's:
    harmonic (peaked, not flat like noise) with most of its power in the first formant's range.

    Flatness is the geometric over the arithmetic mean of the pitch tracker's power spectrum of the frame's window
    over the nuclei's band (300-3000 Hz): 0.00-0.05 on a voiced vowel; 0.27 or more on office noise or a line's
    floor alone (every line of the pace corpus: no frame of its noise under 0.27), so noise bursts in a noisy
    line's pauses are never counted, where a lower voicing threshold could not tell them from a hoarse vowel (its
    periodicity reaches 0.4-0.7 on a noisy headset). A sibilant's hiss is peaked too, but above 1 kHz: at least
    `FIRST_FORMANT_SHARE` of the band's power must lie under `FIRST_FORMANT_HZ` (without it a clean reader's "s"
    were syllables and he read 20 % fast: that test was chosen on the real recordings, its value was not tuned
    on them, 0.4-0.6 read alike). A real man hoarse with a cold had half his vowels called unvoiced by the voice
    activity's frame decision and a third by the pitch tracker, inside his turns: his pace read 32-78 % low;
    now -35 to +38 % (tests/test_pace_real.py, bench/real_pace_accuracy.py, docs/coaching.md)."""

    def __init__(self, pace: PaceConfig, rate: int, nfft: int):
        """`nfft`: the length of the pitch tracker's spectra (at `rate`); the band is the nuclei's own."""
        freqs = np.fft.rfftfreq(nfft, 1.0 / rate)
        low, high = pace.envelope_band_hz
        self._band = (freqs >= low) & (freqs <= high)
        self._low = freqs[self._band] < FIRST_FORMANT_HZ

    def eligible(self, in_turn: np.ndarray, f0: np.ndarray, asked: np.ndarray, spectra: Optional[np.ndarray]) -> np.ndarray:
        """`in_turn`: the agent's frames inside a turn (where their speaking time counts); `f0` their pitch (0 where
        unvoiced); `asked`: the frames the pitch tracker was asked about (all of `in_turn` among them), whose power
        spectra are `spectra`, in order."""
        out = in_turn & (f0 > 0)
        rows = np.flatnonzero(in_turn & ~out)
        if rows.size and spectra is not None:
            band = spectra[np.searchsorted(np.flatnonzero(asked), rows)][:, self._band] + 1e-20
            total = band.sum(axis=1)
            flatness = np.exp(np.log(band).mean(axis=1)) / (total / band.shape[1])
            vowel = band[:, self._low].sum(axis=1) >= FIRST_FORMANT_SHARE * total
            out[rows] = (flatness <= HARMONIC_FLATNESS) & vowel
        return out


class SyllableNuclei:
    """Streaming syllable-nucleus detector, under each smoothing of `smoothings(pace)`.
    Returns (call time, ledger kind) of the nuclei it confirms."""

    def __init__(self, pace: PaceConfig, audio: AudioConfig, agent: bool = False):
        """`agent`: the nuclei that measure the agent's rate (`rate_kind`) are given too: those of `rate_taps` that
        stand apart from the one before them (`[pace] close_peak_s`, `close_peak_dip_db`)."""
        self.rate = audio.sample_rate
        self.hop = int(self.rate * HOP_S)
        if audio.frame_len % self.hop:
            raise ValueError("frame length must be a multiple of 10 ms")
        self.hops_per_frame = audio.frame_len // self.hop
        self.nfft = 1 << int(np.ceil(np.log2(self.hop)))
        freqs = np.fft.rfftfreq(self.nfft, 1.0 / self.rate)
        low, high = pace.envelope_band_hz
        self._band = (freqs >= low) & (freqs <= high)
        self._rate_kind = rate_kind(pace) if agent else None
        self._detectors: list[tuple[str, _EnvelopePeaks, Optional[str]]] = [
            (unit_kind(taps, pace), _EnvelopePeaks(taps, pace.min_dip_db), None)
            for taps in smoothings(pace) if not (agent and taps == rate_taps(pace))]
        if agent:  # the rate's smoothing: each of its nuclei, and those that stand apart as the rate's
            close = (_taps(pace.close_peak_s), pace.close_peak_dip_db) if pace.close_peak_s > 0 else (0, 0.0)
            self._detectors.append((unit_kind(rate_taps(pace), pace), _EnvelopePeaks(rate_taps(pace), pace.min_dip_db, *close),
                                    self._rate_kind))
        self._prev_energy = 0.0
        self._hop_index = 0

    def process(self, frames: np.ndarray, eligible: np.ndarray) -> list[tuple[float, str]]:
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
        ok = np.repeat(eligible, self.hops_per_frame)
        found: list[tuple[float, str]] = []
        for kind, detector, apart_kind in self._detectors:
            for t, apart in detector.feed(db, ok, self._hop_index):
                found.append((t, kind))
                if apart and apart_kind is not None:
                    found.append((t, apart_kind))
        self._hop_index += db.size
        return found


def rolling_wpm(
    ledger: SpeechLedger, now: float, pace: PaceConfig, units_per_word: float, kind: str = BASE_KIND,
    calibration: Optional[Mapping[str, float]] = None,
) -> tuple[Optional[float], float]:
    """Words per minute over the last `window_speech_s` of speaking time up to `now`, and the time it covers.
    Acoustic (`kind` "syllables"): counted by the detector matched to that stretch's own rate, divided by
    this agent's own nuclei per word for that detector when `calibration` has it."""
    speech, units = ledger.recent_by_speech(now, pace.window_speech_s, kind)
    if speech < pace.min_speech_s:
        return None, speech
    if kind == BASE_KIND:
        units, units_per_word = matched_units(lambda k: ledger.recent_by_speech(now, pace.window_speech_s, k)[1],
                                              speech, pace, units_per_word, calibration)
    return units / units_per_word / speech * 60.0, speech


def call_wpm(ledger: SpeechLedger, pace: PaceConfig, units_per_word: float, kind: str = BASE_KIND,
             calibration: Optional[Mapping[str, float]] = None) -> Optional[float]:
    """Words per minute of speaking time over the whole call."""
    speech = ledger.total_speech_s
    if speech < pace.min_speech_s:
        return None
    units = ledger.total_units(kind)
    if kind == BASE_KIND:
        units, units_per_word = matched_units(ledger.total_units, speech, pace, units_per_word, calibration)
    return units / units_per_word / speech * 60.0


def countable_word(word: str, fillers: frozenset[str]) -> bool:
    """A recognised token that counts toward pace: not a filler ("um", "uh") nor unknown ("[unk]")."""
    token = word.strip().lower()
    return bool(token) and not token.startswith(("[", "<")) and token not in fillers
