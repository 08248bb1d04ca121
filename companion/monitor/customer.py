"""The customer's mood from their own voice: `calm`, `tense` or `upset`.

Absolute levels say nothing across phone lines and people, and one person's calm voice moves a
lot from sentence to sentence (real speakers' calm turns span several semitones and decibels). So
every cue is the customer against **their own spread**, learned from their first
`baseline_speech_s` of talk in this call (their time in turns, pauses inside a turn included, so a
noisy line whose voice activity hears only part of their speech forms it as soon as a clean one):

- loudness: the level of the louder part (`loudness_percentile`) of their last `window_speech_s` of
  voiced speech;
- pitch: the median f0 of that speech, in semitones (a few octave errors move a median nothing);
- their voice's spectrum, pitch-free: how far (semitones) that speech's spectrum, on a log-frequency scale,
  sits above their baseline's (`SpectrumShift`). A voice the pitch tracker cannot read (on a clean line one
  speaker's energy lies mostly under 100 Hz, on a phone line the tracker's only peak is her first formant) still
  moves its harmonics and formants up when raised, and a line's gain moves none of it. It stands in for the pitch
  where the baseline's pitch lies outside adults' speaking range (`SPEAKING_PITCH_HZ`), and beside it just inside
  that range's edges (`SPECTRUM_NEAR_EDGE_ST`, where a line's noise moves a misread voice's reading across), not
  elsewhere: a speaker who says new sentences moves their spectrum by up to 7 semitones from one calm sentence to the
  next. Its line is `SPECTRUM_Z`
  of the spread of the baseline's own windows (their standard deviation: a voice whose sentences' spectra differ
  reads a few windows semitones off and most at none), between `SPECTRUM_LINE_LEAST` and `SPECTRUM_LINE_MOST`.
  For such a voice the pitch the tracker reads is evidence only while the spectrum has moved up with it
  (`MISREAD_PITCH_AGREES` of its line): a hoarse voice's misread pitch rose on a calm sentence whose spectrum fell.

The baseline is the distribution of these two readings over the baseline's own speech, read the same
way (windows of `window_speech_s`, every half second of speech): its median, and its spread (the
median absolute deviation, scaled to a standard deviation) held between a floor (a very steady voice
still varies) and a ceiling (a baseline that caught an odd sentence must not hide a raised voice).
A cue is **raised** `loudness_z` / `pitch_z` spreads above the median, and stays raised down to
`release` of that line. Both lines then move up together (by at most `OWN_RANGE_MOST`) until no window of the
baseline itself would read upset: a sentence of their own calm talk is their range, however far it sits from the rest.

Anger raises the level with the pitch (Scherer 2003; Banse & Scherer 1996), while a phone system's
gain or a moved handset moves the level alone: **upset** is louder *and* higher — the pitch up, with the higher
words themselves louder by the line (`HIGHER_WORDS`: louder and higher in the same words, not a loud low word
and then a held high "uh"), or the voice's spectrum up where the pitch cannot tell (or far higher, three
pitch lines, and nearly as loud, three quarters of the loudness line: the evidence weighed together,
as a voice raised +8 dB read only +5 to +7 dB over a 3 s window on a mu-law line while its pitch
stood 4 lines up); **tense** is one cue
over its line with a hint of the other (`corroborate` of its line: louder and a little higher, or higher and a little
louder; higher alone is a sentence of their own), or talking over the agent (`talkovers` in `talkover_window_s`:
cutting in is no anger by itself). Louder (or quieter) while their pitch over
all the speech since the level moved has not even a hint of a rise is the line: through
`REBASE_LOUDER_SPEECH_S` of speech (quieter: `rebase_speech_s`), while they are not upset, it becomes
the baseline level unless their spectrum moved up too (quieter not over a floor that stood still,
`QUIETER_VOICE`: a softer voice leaves the noise between its words where it was; the pitch is
judged over that whole stretch, not window by window: one naturally higher sentence must not hide
that the level moved and the voice did not). A line's gain also moves the noise between their words
by the same step, which a raised voice never does: when the channel's floor (`FLOOR_PERCENTILE` of
its last `FLOOR_WINDOW_S` of non-speech, digital silence left out) has settled where it follows the
level's change — by at least `FLOOR_FOLLOWS` of it and not much more than the level moved —, the
floor's step is taken as the line's and re-based after `FLOOR_SPEECH_S` of their speech, unless
their pitch rose by a whole line. A new state shows once it has held
`dwell_s` (a calmer one `calm_dwell_s`). Their reading stands still while they are silent (the window moves only
with their speech): upset holds through their silence, but tense gives way once their turn is over, and is not
entered from a reading that stands still (`TENSE_QUIET_S`) or is still mostly the speech before it (a new turn's
first `1 - loudness_percentile` of the window), unless it comes from their talk-overs.

The syllable rate is read too (`pace_window_speech_s`, as the agent's pace is) and shown, but it is
no evidence: on recorded speech made 25 % faster the nucleus rate moved by -10 to +10 % (bench/
real_voice_accuracy.py, docs/coaching.md), no more than between two calm sentences.

`calm_s`: how long since their voice was last heard raised (two seconds of their speech running past
both lines), while calm: the time they have been back within their own range.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np
import numpy.typing as npt

from companion.config import AudioConfig, CustomerMoodConfig, PaceConfig
from companion.events import CustomerState, Mood
from companion.monitor.ledger import SpeechLedger
from companion.monitor.pace import BASE_KIND, matched_kind, rolling_wpm
from companion.order_stats import median, percentile

A4_HZ = 440.0
PACE_MIN_FRACTION = 0.75   # a pace is read once its window holds this much of its speech
BASELINE_STRIDE_S = 0.5    # the baseline's readings: one per half second of its speech
MAD_TO_SD = 1.4826         # a median absolute deviation, scaled to a normal distribution's spread
MIN_PITCHED = 0.25         # a pitch is read from a window at least this much voiced with an f0 ...
MIN_IN_REGISTER = 0.1      # ... and this much of it in their register (not the tracker's subharmonics)
CHUNK_S = 1.0              # `calm_s` looks at the customer's speech a second at a time ...
CHUNK_GAP_S = 0.3          # ... each ending at a pause longer than this
BASELINE_WINDOWS = 2       # the baseline holds at least this many windows of voiced speech
EPISODE_MAX_S = 60.0       # a level change is judged over at most this much of their speech
REBASE_LOUDER_SPEECH_S = 4.0  # louder with the pitch not following: the line after 4 s of speech (quieter:
                              # `rebase_speech_s`; re-basing up can only make an upset later, down can make one)
FLOOR_WINDOW_S = 1.5       # the line's floor: the quiet frames among their last 1.5 s of non-speech ...
FLOOR_PERCENTILE = 10.0    # ... its 10th percentile
FLOOR_FOLLOWS = 0.5        # a level change the floor follows by at least half (and as far as the level's
                           # release line), in step: the line's gain
FLOOR_SPEECH_S = 1.0       # ... re-based after this much of their speech, once the floor has settled (its
FLOOR_SETTLED_DB = 1.0     # window's later half within 1 dB of the whole)
DIGITAL_SILENCE_DB = -90.0 # frames this quiet are digital silence (a muted or gated line), no floor to read
STRONG_PITCH = 3.0         # upset also when their pitch is 3 times its line over ...
NEAR_LOUDNESS = 0.75       # ... with their loudness at 3/4 of its own (a voice far higher and nearly as loud)
OWN_RANGE_MOST = 1.5       # the lines move up (at most this factor) until no window of the baseline itself reads upset ...
OWN_RANGE_MARGIN = 1.05    # ... and clear the highest of those by this much
REGISTER_HALF_WIDTH = 2.5  # their register: the pitch (semitones) with most of the baseline's voiced frames within
                           # 2.5 semitones of it ...
UNDER_REGISTER = 7.0       # ... and a frame read more than 7 semitones under it is the tracker's error, not their voice
                           # (its nearest error, half the f0, reads 12 under; a voice's own low words are a few under)
# Their voice's spectrum (pitch-free): where the voice's energy sits, on a log-frequency scale, against where it sat
# in their baseline. A raised voice moves its harmonics and its first formant up together (and a voice made higher
# moves everything); a line's gain moves none of it. Read from the pitch tracker's own spectra of their speech frames.
SPECTRUM_LOW_HZ = 200.0    # the points read: 200-3600 Hz, a quarter semitone apart (the shift's resolution) ...
SPECTRUM_HIGH_HZ = 3600.0
SPECTRUM_STEP = 0.25
SHIFT_FROM_HZ = 350.0      # ... the part of it compared (inside a phone line's 300-3400 Hz at every shift tried) ...
SHIFT_TO_HZ = 2500.0
SHIFT_DOWN = -6.0          # ... against their baseline's spectrum moved by -6 to +8 semitones
SHIFT_UP = 8.0
SPECTRUM_Z = 4.0           # the spectrum is up: 4 of its spreads over the baseline's windows ...
SPECTRUM_LINE_LEAST = 2.4  # ... and at least 2.4 semitones (the pitch line's floor) ...
SPECTRUM_LINE_MOST = 6.0   # ... at most 6
SPECTRUM_LEVEL_WEIGHT = 0.5  # a frame weighs in the window's spectrum as the square root of its power: the loud second
                             # after a line's 10 dB step weighs 3x, not 10x, and does not stand for the whole window
                             # (an IVR voice's line jump read +5 to +8 st); level-free frames (0) weigh the quiet ones
                             # as much as the vowels (FEE087 told on 8 of 12, not 12)
SPEAKING_PITCH_HZ = (85.0, 300.0)  # adults speak with a median f0 in about 85-255 Hz: a baseline read outside this is
                                   # the tracker's error (breath or rumble under 100 Hz, a first formant near 330 Hz),
                                   # and only then does the spectrum stand in for the pitch (on a voice whose sentences
                                   # differ, its spectrum moves by up to 7 semitones from one calm sentence to the next) ...
SPECTRUM_NEAR_EDGE_ST = 2.0  # ... or as well as the pitch, for a baseline read within 2 semitones inside either edge: a
                             # creaky voice read at 79-81 Hz on a clean line read 81-86 Hz under white noise 20 dB down
                             # (FEE087), where her pitch, taken as read, did not follow her raised voice
SPECTRUM_CORROBORATES = True  # the spectrum's shift stands in for the pitch as corroboration of a louder voice
MISREAD_PITCH_AGREES = 0.5    # a pitch read from a voice outside `SPEAKING_PITCH_HZ` is evidence only while their
                              # spectrum has moved up with it, half its line: a hoarse voice read at 65 Hz "rose" 2.9
                              # semitones on a calm sentence whose spectrum moved 1.75 down (M_mfa_cold_en, called upset),
                              # and rose 4-6 with his raised voice, his spectrum 2-2.5 up
HIGHER_WORDS = 0.5         # their higher words: the window's frames at least half the pitch line up; a pitch up its
                           # line corroborates a louder voice only when those words are themselves louder by the
                           # loudness line: a calm man's held "uh" 8 semitones up and 3-5 dB louder, after a loud low
                           # word, read +6.3 dB and +7 st over the window on a mu-law line and was called upset
TENSE_QUIET_S = 1.5        # tense gives way (and is not entered) once they have been silent this long (their turn is over:
                           # turns join across pauses up to 1.5 s, [interruptions]): the reading of their last 3 s of
                           # speech stands still through their silence, and a higher sentence of their own calm range
                           # kept them "tense" through the agent's whole reply (M_librivox_en: calmer 34 s, not 27 s).
                           # Upset holds (nothing calmer was heard), and so does a tense from their talk-overs. Nor
                           # does a new turn's first quarter window make them tense (the reading is still mostly the
                           # sentence before): he went tense again on resuming 4.4 s later, calmer at 30.5-31.5 s.
QUIETER_VOICE = True       # quieter while the noise between their words stayed where it was (it followed the level by
                           # less than `FLOOR_FOLLOWS`): their voice, not the line's gain, so no re-basing down. A calm
                           # woman's quiet sentences under 50 Hz hum re-based her 2.6 dB down, and her usual higher
                           # sentence then read +3.5 dB against a 3 dB line: upset (4 of 48 calm calls with the hum)
FLOOR_AT_WINDOWS = True    # the baseline's floor: the floor as each of its windows was heard (their median), the moments
                           # its level was read at, not every floor read while it formed: with her line's level
                           # wandering +-5 dB, the two medians stood 2-4 dB apart and each re-basing by the floor's step
                           # carried the difference (FEE083 called upset on 4 of 12 calm calls, 2 with this)
CALM_FROM_TURN_BEFORE = True  # their reading came back under the line within a new turn's first window of speech:
                           # that turn was calm from its start, so the raised voice ended with the turn before it, and
                           # `calm_s` counts from there (it was never "heard raised" second by second: a high voice whose
                           # seconds read louder and higher only now and then, FEO070, counted from the calm state's
                           # start, 1-2 s into her calm turn and 4-5 s after her raised voice: calmer at 31-32 s)
MOODS: tuple[Mood, ...] = tuple(Mood)  # in rising order: calm, tense, upset


@dataclass(frozen=True)
class MoodReading:
    """The customer's voice now against their baseline (None where it cannot be read yet)."""

    loudness_db: Optional[float] = None
    pitch_semitones: Optional[float] = None
    pace_rise: Optional[float] = None
    talkovers: int = 0
    spectrum_semitones: Optional[float] = None  # their voice's spectrum against the baseline's (pitch-free)
    higher_loudness_db: Optional[float] = None  # the loudness of their higher words alone (`HIGHER_WORDS`), read while
                                                # their pitch is up


@dataclass(frozen=True)
class Baseline:
    """The customer's own range: median and spread of their calm readings, and the lines drawn from them."""

    level_db: float
    level_spread_db: float
    pitch: Optional[float]            # semitones re A4; None when too little of it was voiced
    pitch_spread: float
    loud_line_db: float               # raised: this far above level_db
    pitch_line: float                 # and this far above pitch
    spectrum_spread: float = 0.0      # their spectrum's shift between the baseline's own windows
    spectrum_line: Optional[float] = None  # raised: the spectrum this far up (None: no spectra were given)


def semitones(f0_hz: np.ndarray) -> np.ndarray:
    return 12.0 * np.log2(f0_hz / A4_HZ)


def hz(semitone: float) -> float:
    """A pitch in semitones (as `semitones` reads it) back in Hz."""
    return float(A4_HZ * 2.0 ** (semitone / 12.0))


def spectrum_points(bins: int, rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the log-spaced points between `SPECTRUM_LOW_HZ` and `SPECTRUM_HIGH_HZ` fall in a power spectrum of
    `bins` bins (0 Hz to rate / 2): the bin under each, its weight against the next (linear interpolation), and
    the points' frequencies."""
    hz = np.linspace(0.0, rate / 2.0, bins)
    steps = int(np.floor(12.0 * np.log2(SPECTRUM_HIGH_HZ / SPECTRUM_LOW_HZ) / SPECTRUM_STEP)) + 1
    points = SPECTRUM_LOW_HZ * 2.0 ** (np.arange(steps) * SPECTRUM_STEP / 12.0)
    at = np.interp(points, hz, np.arange(bins))
    left = np.minimum(np.floor(at).astype(int), bins - 2)
    return left, at - left, points


class SpectrumShift:
    """How far (semitones) a stretch of speech's spectrum sits above a baseline's: the shift of the baseline's
    log-frequency spectrum that best matches it (least squares, levels taken out), over `SHIFT_FROM_HZ`-`SHIFT_TO_HZ`
    of the stretch. Level-free: a gain step moves no point against another."""

    def __init__(self, points: np.ndarray):
        lo = int(np.searchsorted(points, SHIFT_FROM_HZ))
        hi = int(np.searchsorted(points, SHIFT_TO_HZ))
        self.shifts = np.arange(round(SHIFT_DOWN / SPECTRUM_STEP), round(SHIFT_UP / SPECTRUM_STEP) + 1)
        lo, hi = max(lo, int(self.shifts[-1])), min(hi, points.size + int(self.shifts[0]))
        self._now = np.arange(lo, hi)
        self._base = self._now[None, :] - self.shifts[:, None]   # the baseline's point each point is matched with

    def __call__(self, now_power: np.ndarray, base_db: np.ndarray) -> Optional[float]:
        if not np.all(now_power[self._now] > 0.0):
            return None
        now = 10.0 * np.log10(now_power[self._now])
        diff = now[None, :] - base_db[self._base]
        diff -= diff.mean(axis=1, keepdims=True)
        best = int(np.argmin(np.einsum("ij,ij->i", diff, diff)))
        return float(self.shifts[best] * SPECTRUM_STEP)


def register(pitches: np.ndarray) -> float:
    """Where a voice's pitch lives: the pitch (semitones) with the most of its frames within `REGISTER_HALF_WIDTH`.
    An autocorrelation tracker reads some frames of a high voice at a half, a third or a quarter of its f0 (and
    breath or creak at the bottom of its range); those spread over an octave and more below, the voice itself
    gathers within a few semitones, so its densest stretch is the voice, where a median may fall among the errors."""
    p = np.sort(np.asarray(pitches, float)[~np.isnan(pitches)])
    within = np.searchsorted(p, p + 2 * REGISTER_HALF_WIDTH, side="right") - np.arange(p.size)
    start = int(np.argmax(within))
    return median(p[start: start + within[start]])


class CustomerMood:
    def __init__(self, config: CustomerMoodConfig, audio: AudioConfig, pace: PaceConfig):
        self.config = config
        self._frame_s = audio.frame_s
        per_s = 1.0 / audio.frame_s
        self._window = max(1, int(round(config.window_speech_s * per_s)))
        self._baseline_talk = config.baseline_speech_s
        # voiced speech now: (level, semitones or nan) per voiced frame
        self._levels: deque[float] = deque(maxlen=self._window)
        self._pitches: deque[float] = deque(maxlen=self._window)
        self._heard = 0   # their speech frames so far: the key of the window's readings below
        self._now_cache: tuple[int, float, Optional[float], Optional[float], Optional[float]] = (-1, 0.0, None, None,
                                                                                                 None)
        self._rate = audio.sample_rate
        self._points: Optional[tuple[np.ndarray, np.ndarray]] = None  # where the log-spaced points fall in a spectrum
        self._shift: Optional[SpectrumShift] = None
        self._spectra: Optional[np.ndarray] = None  # the window's frames' spectra, a ring of `_window` rows
        self._spectra_at = 0                        # speech frames written into it
        self._base_spectra: list[np.ndarray] = []
        self._base_db: Optional[np.ndarray] = None  # the baseline's spectrum, dB at the points
        self._base_levels: list[float] = []
        self._base_pitches: list[float] = []
        self._talk_s = 0.0                 # their talk so far: time in their turns
        self.baseline: Optional[Baseline] = None
        self._lowest: Optional[float] = None  # semitones: pitches under this are the tracker's subharmonics
        self._pace = dataclasses.replace(pace, window_speech_s=config.pace_window_speech_s,
                                         min_speech_s=config.pace_window_speech_s * PACE_MIN_FRACTION)
        self.base_rate: Optional[float] = None   # nuclei per minute of voiced speech over the baseline
        self._talkovers: deque[float] = deque()
        self.voiced = SpeechLedger()  # voiced time and nuclei: the articulation rate, pauses left out
        self._level_alone_s = 0.0     # speech through which their level has stood off the baseline, one way
        self._level_sign = 0.0        # which way (+1 louder, -1 quieter)
        self._recent_pitches: deque[float] = deque(maxlen=int(round(EPISODE_MAX_S * per_s)))
        self._floor_frames = max(1, int(round(FLOOR_WINDOW_S * per_s)))
        self._quiet: deque[float] = deque(maxlen=self._floor_frames)  # their channel's last non-speech levels
        self._base_floors: list[float] = []
        self.base_floor: Optional[float] = None   # the line's floor while their baseline formed
        self._base_floor_at: list[float] = []     # the floor as each of the baseline's frames was heard (nan: not read)
        self._new_speech_s = 0.0      # voiced speech since the last evaluation
        self.state: Optional[Mood] = None
        self._since = 0.0                          # when the shown state began
        self._pending: Optional[tuple[int, float]] = None  # (wanted state, since)
        self._pending_from: Optional[float] = None  # a calmer state wanted within a new turn's first window: when the
                                                    # turn before it ended
        self._chunk: list[tuple[float, float, float]] = []  # the speech second being gathered: (t, level, st)
        self._chunk_spectra: list[np.ndarray] = []         # and its frames' spectra (when given)
        self._last_raised: Optional[float] = None  # end of their last second of speech heard raised
        self._chunk_raised = False                 # and whether the second before it was too
        self.reading = MoodReading()
        self._last_speech_t = 0.0                  # the end of their last speech frame (call time)
        self._turn_frames = 0                      # their speech frames since their last silence of TENSE_QUIET_S
        self._turn_before_end: Optional[float] = None  # when the turn before this one ended

    @property
    def base_level(self) -> Optional[float]:
        return None if self.baseline is None else self.baseline.level_db

    @property
    def base_pitch(self) -> Optional[float]:
        return None if self.baseline is None else self.baseline.pitch

    # ---------------------------------------------------------------- input

    def add(self, levels_db: np.ndarray, f0_hz: np.ndarray, speech: np.ndarray, first_t: float,
            in_turn: Optional[np.ndarray] = None, spectra: Optional[np.ndarray] = None) -> None:
        """Frames of the customer from call time `first_t`: level, f0 (0 when unvoiced), whether each is speech
        (voiced), and whether each is inside one of their turns (None: the speech frames are their talk); `spectra`:
        the power spectra of the speech frames, one row each (the pitch tracker's), or None."""
        voiced = speech & (f0_hz > 0)
        for i in np.flatnonzero(voiced).tolist():
            self.voiced.add_speech(first_t + i * self._frame_s, self._frame_s)
        turn = speech if in_turn is None else (in_turn | speech)
        idx = np.flatnonzero(speech)
        levels = levels_db[idx]
        pitches = np.where(f0_hz[idx] > 0, semitones(np.maximum(f0_hz[idx], 1e-6)), np.nan)
        self._levels.extend(levels.tolist())
        self._pitches.extend(pitches.tolist())
        self._heard += len(idx)
        if idx.size:
            first_speech = first_t + int(idx[0]) * self._frame_s
            if first_speech - self._last_speech_t >= TENSE_QUIET_S:  # a new turn after their silence
                self._turn_frames = 0
                self._turn_before_end = self._last_speech_t if self._heard > idx.size else None  # (none: their first)
            self._turn_frames += int(idx.size)
            self._last_speech_t = first_t + (int(idx[-1]) + 1) * self._frame_s
        self._recent_pitches.extend(pitches.tolist())
        wanted = self.baseline is None or (SPECTRUM_CORROBORATES and self._spectrum_stands_in(self.baseline))
        rows = self._add_spectra(spectra) if wanted and spectra is not None and len(spectra) == idx.size and idx.size \
            else None  # (read while the baseline forms, then only where the spectrum stands in: `_spectrum_stands_in`)
        quiet = levels_db[~speech & (levels_db > DIGITAL_SILENCE_DB)]  # a line's noise: digital silence is none
        if quiet.size:
            self._quiet.extend(quiet.tolist())
            if self.baseline is None and len(self._quiet) == self._floor_frames:
                self._base_floors.append(self._floor())
        if self.baseline is None:
            floor_now = self._floor() if len(self._quiet) == self._floor_frames else np.nan
            self._base_floor_at.extend([floor_now] * idx.size)  # the line's floor as each of their frames was heard
            self._gather_baseline(levels, pitches, speech, turn)
        self._new_speech_s += idx.size * self._frame_s
        for k, (i, level, pitch) in enumerate(zip(idx.tolist(), levels.tolist(), pitches.tolist())):
            t = first_t + (i + 1) * self._frame_s
            if self._chunk and t - self._chunk[-1][0] > CHUNK_GAP_S:  # a pause: the second ends with their words
                self._judge_chunk()
            self._chunk.append((t, level, pitch))
            if rows is not None:
                self._chunk_spectra.append(rows[k])
            if len(self._chunk) * self._frame_s >= CHUNK_S:
                self._judge_chunk()

    def _add_spectra(self, spectra: np.ndarray) -> np.ndarray:
        """Their speech frames' power spectra (one row each): kept at the log-spaced points, which are returned."""
        if self._points is None:
            left, frac, points = spectrum_points(spectra.shape[1], self._rate)
            self._points = (left, frac)
            self._shift = SpectrumShift(points)
            self._spectra = np.zeros((self._window, points.size))
        left, frac = self._points
        rows: np.ndarray = spectra[:, left] * (1.0 - frac) + spectra[:, left + 1] * frac
        rows = rows / np.maximum(rows.sum(axis=1, keepdims=True), 1e-30) ** (1.0 - SPECTRUM_LEVEL_WEIGHT)
        if self.baseline is None:
            self._base_spectra.append(rows)
        assert self._spectra is not None
        last = rows[-self._window:]
        at = (self._spectra_at + np.arange(len(last))) % self._window  # the ring's oldest rows give way
        self._spectra[at] = last
        self._spectra_at += len(last)
        return rows

    def _spectrum_baseline(self) -> tuple[float, Optional[float]]:
        """The baseline's spectrum, and the spread of its own windows' shifts against it (None: no spectra)."""
        if not self._base_spectra or self._shift is None:
            return 0.0, None
        rows = np.concatenate(self._base_spectra)
        self._base_spectra = []
        if len(rows) < self._window:
            return 0.0, None
        self._base_db = 10.0 * np.log10(rows.sum(axis=0) + 1e-30)
        sums = np.cumsum(np.vstack((np.zeros((1, rows.shape[1])), rows)), axis=0)
        stride = max(1, int(round(BASELINE_STRIDE_S / self._frame_s)))
        shifts = [self._shift(sums[end] - sums[end - self._window], self._base_db)
                  for end in range(self._window, len(rows) + 1, stride)]
        sv = np.asarray([x for x in shifts if x is not None])
        if not sv.size:
            return 0.0, None
        # its spread: the standard deviation, tails and all (a calm voice whose sentences' spectra differ reads a few
        # windows semitones off, most windows at none: a median deviation would call that voice steady)
        spread = float(np.sqrt(np.mean((sv - sv.mean()) ** 2)))
        return spread, min(max(SPECTRUM_Z * spread, SPECTRUM_LINE_LEAST), SPECTRUM_LINE_MOST)

    def _spectrum_now(self) -> Optional[float]:
        """Their last `window_speech_s` of speech's spectrum against the baseline's (semitones; None: not read)."""
        if self._base_db is None or self._shift is None or self._spectra is None or self._spectra_at < self._window:
            return None
        if self.baseline is None or not self._spectrum_stands_in(self.baseline):
            return None  # read only where it stands in (`_spectrum_up`): no cost for the others
        return self._shift(self._spectra.sum(axis=0), self._base_db)

    def _gather_baseline(self, levels: np.ndarray, pitches: np.ndarray, speech: np.ndarray, turn: np.ndarray) -> None:
        self._base_levels.extend(levels.tolist())
        self._base_pitches.extend(pitches.tolist())
        self._talk_s += float(np.count_nonzero(turn)) * self._frame_s  # their time in turns, pauses included
        if self._talk_s >= self._baseline_talk and len(self._base_levels) >= BASELINE_WINDOWS * self._window:
            self.baseline = self._form_baseline()

    def _form_baseline(self) -> Baseline:
        c = self.config
        levels = np.asarray(self._base_levels)
        pitches = np.asarray(self._base_pitches)
        if np.any(~np.isnan(pitches)):
            # most of their frames read far under where their voice gathers: the tracker's subharmonics, not their
            # voice (a high voice on a clean line); from now on their pitch is read from their register alone
            lowest = register(pitches) - UNDER_REGISTER
            if float(np.nanmedian(pitches)) < lowest:
                self._lowest = lowest
        stride = max(1, int(round(BASELINE_STRIDE_S / self._frame_s)))
        lv_list: list[float] = []
        pv_list: list[Optional[float]] = []
        ends = range(self._window, len(levels) + 1, stride)
        for end in ends:
            lv_list.append(self._loudness(levels[end - self._window: end]))
            pv_list.append(self._pitch(pitches[end - self._window: end]))
        # the line's floor while it formed: as each window was heard (`FLOOR_AT_WINDOWS`), else every floor read
        floor_at = np.asarray(self._base_floor_at)[[end - 1 for end in ends]]
        floors = floor_at[~np.isnan(floor_at)] if FLOOR_AT_WINDOWS else np.asarray(self._base_floors)
        if floors.size:
            self.base_floor = median(floors)
        elif self._base_floors:
            self.base_floor = median(self._base_floors)
        lv = np.asarray(lv_list)
        level, level_spread = median(lv), MAD_TO_SD * median(np.abs(lv - median(lv)))
        pv = np.asarray([p for p in pv_list if p is not None])
        if pv.size >= max(1, len(lv) // 2):
            pitch, pitch_spread = median(pv), MAD_TO_SD * median(np.abs(pv - median(pv)))
        else:  # too few voiced frames to trust (a whisper, a noisy line): no pitch cue this call
            pitch, pitch_spread = None, 0.0
        loud_line = c.loudness_z * min(max(level_spread, c.loudness_spread_least_db), c.loudness_spread_most_db)
        pitch_line = c.pitch_z * min(max(pitch_spread, c.pitch_spread_least_semitones), c.pitch_spread_most_semitones)
        # their own calm speech is not upset: the lines clear the baseline's windows and the window ending at its last
        # frame (the first one read after it)
        if pitch is not None:
            last = len(levels) - self._window
            louder = np.append(lv, self._loudness(levels[last:])) - level
            higher = [None if x is None else x - pitch for x in pv_list + [self._pitch(pitches[last:])]]
            scale = self._own_range(louder, higher, loud_line, pitch_line)
            loud_line, pitch_line = loud_line * scale, pitch_line * scale
        spectrum_spread, spectrum_line = self._spectrum_baseline()
        return Baseline(round(level, 2), round(level_spread, 2), None if pitch is None else round(pitch, 2),
                        round(pitch_spread, 2), round(loud_line, 2), round(pitch_line, 2), round(spectrum_spread, 2),
                        None if spectrum_line is None else round(spectrum_line, 2))

    @staticmethod
    def _own_range(louder: np.ndarray, higher: Sequence[Optional[float]], loud_line: float, pitch_line: float) -> float:
        """How far both lines move up (a factor, 1 to `OWN_RANGE_MOST`) so that none of the baseline's own windows
        reads louder and higher past them (nor far higher and nearly as loud): their calm speech is not upset. A window
        right on the lines needs room too (`_level` reads a reading on its line as over it)."""
        need = 0.0
        for loud, high in zip(louder.tolist(), higher):
            if high is None or loud <= 0.0 or high <= 0.0:
                continue
            need = max(need, min(loud / loud_line, high / pitch_line),
                       min(loud / (loud_line * NEAR_LOUDNESS), high / (pitch_line * STRONG_PITCH)))
        return min(need * OWN_RANGE_MARGIN, OWN_RANGE_MOST) if need >= 1.0 else 1.0

    def nucleus(self, t: float, kind: str) -> None:
        """A syllable nucleus of the customer's (call time, the detector that found it)."""
        self.voiced.add_units(t, 1.0, kind)

    def talked_over(self, onset: float) -> None:
        """The customer held the floor over the agent from `onset` (counted once per onset)."""
        if not self._talkovers or self._talkovers[-1] != onset:
            self._talkovers.append(onset)

    # ---------------------------------------------------------------- reading

    def _loudness(self, levels: Sequence[float] | npt.NDArray[Any]) -> float:
        """The level of the louder part of the speech (its vowels): a percentile of the frames' levels."""
        return percentile(levels, self.config.loudness_percentile)

    def _floor(self) -> float:
        """The line's floor now: the quiet frames of their channel's last non-speech."""
        return percentile(self._quiet, FLOOR_PERCENTILE)

    def _floor_settled(self) -> bool:
        """The floor's window is full and its later half reads as the whole (not halfway through a step)."""
        if len(self._quiet) < self._floor_frames:
            return False
        later = np.asarray(self._quiet, float)[len(self._quiet) // 2:]
        return abs(percentile(later, FLOOR_PERCENTILE) - self._floor()) <= FLOOR_SETTLED_DB

    def _pitch(self, pitches: Sequence[float] | npt.NDArray[Any]) -> Optional[float]:
        """The median pitch of their voiced frames, leaving out the tracker's subharmonics (once their register is
        known): None when too few frames are pitched."""
        p = np.asarray(pitches, float)
        p = p[~np.isnan(p)]
        if not p.size or p.size < MIN_PITCHED * len(pitches):
            return None
        if self._lowest is not None:  # a raised high voice is read at its subharmonics more often: fewer frames left
            p = p[p >= self._lowest]
            if p.size < MIN_IN_REGISTER * len(pitches):
                return None
        return median(p)

    def _judge_chunk(self) -> None:
        """A second of their speech: heard raised (louder and higher, or louder with their spectrum up: past both
        lines, as was the second before) or not."""
        chunk, self._chunk = self._chunk, []
        spectra, self._chunk_spectra = self._chunk_spectra, []
        b = self.baseline
        if b is None or len(chunk) * self._frame_s < CHUNK_S / 4:
            return
        level = self._loudness([x[1] for x in chunk])
        pitch = None if b.pitch is None else self._pitch([x[2] for x in chunk])
        higher = pitch is not None and b.pitch is not None and pitch - b.pitch >= b.pitch_line
        if self._spectrum_stands_in(b):
            shift = None
            if SPECTRUM_CORROBORATES and len(spectra) == len(chunk) and self._base_db is not None \
                    and self._shift is not None and b.spectrum_line is not None:
                shift = self._shift(np.sum(spectra, axis=0), self._base_db)
            higher = (higher and self._pitch_counts(b, shift)) or \
                (shift is not None and b.spectrum_line is not None and shift >= b.spectrum_line)
        raised = level - b.level_db >= b.loud_line_db and higher
        if raised and self._chunk_raised:  # two seconds running: one louder, higher second is a calm voice's range
            self._last_raised = chunk[-1][0]
        self._chunk_raised = raised

    def _read(self, now: float) -> MoodReading:
        while self._talkovers and now - self._talkovers[0] > self.config.talkover_window_s:
            self._talkovers.popleft()
        talk = len(self._talkovers)
        b = self.baseline
        if b is None or len(self._levels) < self._window:
            return MoodReading(talkovers=talk)
        if self._now_cache[0] != self._heard:  # their window moves only with their speech, read at every snapshot
            pitch = self._pitch(self._pitches)
            up = pitch is not None and b.pitch is not None and \
                pitch - b.pitch >= b.pitch_line * min(1.0, self.config.release)   # (read only where it is used)
            self._now_cache = (self._heard, self._loudness(self._levels), pitch, self._spectrum_now(),
                               self._higher_loudness(b) if up else None)
        _, level, pitch, spectrum, higher = self._now_cache
        loud = level - b.level_db
        rise = None if pitch is None or b.pitch is None else round(pitch - b.pitch, 2)
        return MoodReading(round(loud, 2), rise, self._pace_rise(now), talk, spectrum,
                           None if higher is None else round(higher - b.level_db, 2))

    def _higher_loudness(self, b: Baseline) -> Optional[float]:
        """The loudness of the window's higher words alone (frames `HIGHER_WORDS` of the pitch line up; None: too
        few of them to read)."""
        assert b.pitch is not None
        pitches = np.asarray(self._pitches, float)
        higher = pitches >= b.pitch + b.pitch_line * HIGHER_WORDS   # (unvoiced frames, nan, are not)
        if np.count_nonzero(higher) < MIN_IN_REGISTER * len(pitches):
            return None
        return self._loudness(np.asarray(self._levels, float)[higher])

    def _pace_rise(self, now: float) -> Optional[float]:
        ledger = self.voiced
        if self.base_rate is None:
            seconds = self.config.pace_window_speech_s
            speech, units, last = ledger.first_by_speech(0.0, seconds, BASE_KIND)
            if last < 0 or speech <= 0 or last >= int(now) - 1:
                return None
            matched = matched_kind(units / speech, self._pace)
            units = ledger.first_by_speech(0.0, seconds, matched)[1]
            self.base_rate = units / speech * 60.0
        rate, _ = rolling_wpm(ledger, now, self._pace, 1.0)
        if rate is None or self.base_rate <= 0:
            return None
        return round(rate / self.base_rate - 1.0, 3)

    def _level(self, r: MoodReading, factor: float) -> int:
        """0 calm, 1 tense, 2 upset: the reading against the baseline's lines times `factor`."""
        b, c = self.baseline, self.config
        assert b is not None
        talk = r.talkovers >= c.talkovers
        loud = r.loudness_db is not None and r.loudness_db >= b.loud_line_db * factor
        read = r.pitch_semitones is not None and self._pitch_counts(b, r.spectrum_semitones)
        pitch = (r.pitch_semitones or 0.0) if read else 0.0
        high = read and pitch >= b.pitch_line * factor
        # the pitch corroborates only when the higher words are the louder ones (not a loud low word, then a held "uh")
        words = r.higher_loudness_db is not None and r.higher_loudness_db >= b.loud_line_db * factor
        if loud and ((high and words) or self._spectrum_up(r, factor)):  # (the spectrum: a voice the pitch misreads)
            return 2
        # far over the pitch line makes up for a loudness a little under its own: the evidence weighed together
        much_higher = read and pitch >= b.pitch_line * STRONG_PITCH * factor
        nearly_loud = r.loudness_db is not None and r.loudness_db >= b.loud_line_db * NEAR_LOUDNESS * factor
        if much_higher and nearly_loud and words:
            return 2
        # tense: one cue over its line with a hint of the other (`corroborate` of its line), or their talk-over. Not
        # higher alone: a real person's calm sentences differ by 3-4 semitones, and a higher one as loud as usual made
        # 61 of 204 calm calls "tense at times" (MEE075 on a mu-law line: 38 % of an 11-minute call)
        higher_hint = pitch >= b.pitch_line * c.corroborate
        louder_hint = r.loudness_db is not None and r.loudness_db >= b.loud_line_db * c.corroborate
        return 1 if (high and louder_hint) or talk or (loud and higher_hint) else 0

    @staticmethod
    def _pitch_readable(b: Baseline) -> bool:
        """Their baseline's pitch lies where adults speak: the tracker reads their voice."""
        return b.pitch is not None and SPEAKING_PITCH_HZ[0] <= hz(b.pitch) <= SPEAKING_PITCH_HZ[1]

    @staticmethod
    def _spectrum_stands_in(b: Baseline) -> bool:
        """Their spectrum may stand in for their pitch: the tracker misreads their voice, or reads it so near the edge
        of where adults speak that a line may have moved it across (`SPECTRUM_NEAR_EDGE_ST`)."""
        if b.pitch is None:
            return True
        inset = 2.0 ** (SPECTRUM_NEAR_EDGE_ST / 12.0)
        return not SPEAKING_PITCH_HZ[0] * inset <= hz(b.pitch) <= SPEAKING_PITCH_HZ[1] / inset

    def _pitch_counts(self, b: Baseline, spectrum: Optional[float]) -> bool:
        """Their pitch is evidence: the tracker reads their voice, or their spectrum moved up with it."""
        if self._pitch_readable(b):
            return True
        return spectrum is not None and b.spectrum_line is not None and spectrum >= b.spectrum_line * MISREAD_PITCH_AGREES

    def _spectrum_up(self, r: MoodReading, factor: float) -> bool:
        """Their voice's spectrum `factor` of its line up (pitch-free: a gain step does not move it)."""
        b = self.baseline
        line = None if b is None or not self._spectrum_stands_in(b) else b.spectrum_line
        return SPECTRUM_CORROBORATES and line is not None and r.spectrum_semitones is not None and \
            r.spectrum_semitones >= line * factor

    def _rebase(self, r: MoodReading, speech_s: float) -> MoodReading:
        """A level change that their pitch does not follow, held through `rebase_speech_s` of speech while they
        are not upset: the line. The pitch is judged over all the speech since the level changed (its median),
        not window by window: a real voice's sentences swing above and below its median, and one higher
        sentence must not hide that the level moved and the voice did not. Returns the reading against the
        baseline level from now on."""
        c, b = self.config, self.baseline
        assert b is not None
        loud = r.loudness_db
        off = loud is not None and abs(loud) >= b.loud_line_db * c.release
        sign = 0.0 if loud is None else float(np.sign(loud))
        if not off or self.state == Mood.UPSET or r.talkovers >= c.talkovers or sign != self._level_sign:
            self._level_alone_s = 0.0
        self._level_sign = sign if off else 0.0
        if not off or self.state == Mood.UPSET or r.talkovers >= c.talkovers:
            return r
        self._level_alone_s += speech_s
        # the floor between their words moved with their level: the line's gain, not their voice
        step = None if self.base_floor is None or not self._floor_settled() else (self._floor() - self.base_floor) * sign
        floor_moved = step is not None and max(FLOOR_FOLLOWS * abs(loud or 0.0), b.loud_line_db * c.release) <= step \
            <= abs(loud or 0.0) / FLOOR_FOLLOWS + b.loud_line_db  # in step with the level, neither far less nor more
        if QUIETER_VOICE and sign < 0 and step is not None and step < FLOOR_FOLLOWS * abs(loud or 0.0):
            return r  # quieter with the noise between their words where it was: their voice, not the line's gain
        need = min(c.rebase_speech_s, REBASE_LOUDER_SPEECH_S) if sign > 0 else c.rebase_speech_s
        if self._level_alone_s < (FLOOR_SPEECH_S if floor_moved else need):
            return r
        # the pitch over the speech since the level moved (and the part of the window that showed it)
        lead = (1.0 - self.config.loudness_percentile / 100.0) * self._window  # the window's loud part showed it
        frames = min(len(self._recent_pitches), int(round(lead + self._level_alone_s / self._frame_s)))
        since = self._pitch(list(self._recent_pitches)[-frames:]) if frames else None
        if since is not None and b.pitch is not None and \
                since - b.pitch >= b.pitch_line * (1.0 if floor_moved else c.corroborate):
            return r
        if self._spectrum_up(r, 1.0 if floor_moved else c.corroborate):  # the voice moved, not (only) the line
            return r
        shift = loud or 0.0
        if floor_moved and self.base_floor is not None:  # the line's gain moved the floor as much as the voice
            floor = self._floor()
            # the floor's step (the level's reading may still hold speech from before it), at most a line past the level's
            shift = sign * min(abs(floor - self.base_floor), abs(shift) + b.loud_line_db)
            self.base_floor = floor
        self.baseline = dataclasses.replace(b, level_db=round(b.level_db + shift, 2))
        self._level_alone_s, self._level_sign = 0.0, 0.0
        higher = None if r.higher_loudness_db is None else round(r.higher_loudness_db - shift, 2)
        return dataclasses.replace(r, loudness_db=round((loud or 0.0) - shift, 2), higher_loudness_db=higher)

    def evaluate(self, now: float) -> Optional[CustomerState]:
        """Reads the customer at `now`; returns a change of their state."""
        r = self._read(now)
        speech_s, self._new_speech_s = self._new_speech_s, 0.0
        if self.baseline is None:
            self.reading = r
            return None
        if self.state is None:
            self.state, self._since = MOODS[0], now
            self.reading = r
            return CustomerState(round(now, 3), self.state)
        if r.loudness_db is not None:
            r = self._rebase(r, speech_s)
        self.reading = r
        if r.loudness_db is None:
            return None
        current = MOODS.index(self.state)
        enter = self._level(r, 1.0)
        held = self._level(r, self.config.release)
        # their reading stands still in their silence, and is still mostly the speech before it until their new turn
        # fills the window's loud part (the frames that move its level percentile)
        lead = (1.0 - self.config.loudness_percentile / 100.0) * self._window
        still = now - self._last_speech_t >= TENSE_QUIET_S or self._turn_frames < lead
        if current < 2 and still and r.talkovers < self.config.talkovers:
            enter, held = (enter if enter == 2 else 0), 0  # a tense reading of their last words: not through silence
        target = max(enter, min(held, current))
        if target == current:
            self._pending = None
            return None
        # the dwell runs from when the state first wanted to move this way (tense on the way to upset counts)
        rising = target > current
        if self._pending is None or (self._pending[0] > current) != rising:
            self._pending = (target, now)
            in_new_turn = self._turn_frames < self._window and now - self._last_speech_t < TENSE_QUIET_S
            self._pending_from = self._turn_before_end if CALM_FROM_TURN_BEFORE and not rising and in_new_turn else None
        if now - self._pending[1] < (self.config.dwell_s if rising else self.config.calm_dwell_s):
            return None
        wanted = MOODS[target]
        # calmer since their voice first came back under the line (the dwell only keeps the strip from flickering), or
        # since the turn before a calm turn ended (`CALM_FROM_TURN_BEFORE`)
        if rising:
            since = now
        elif self._pending_from is None:
            since = self._pending[1]
        else:
            since = min(self._pending[1], self._pending_from)
        self.state, self._since, self._pending = wanted, since, None
        return CustomerState(round(now, 3), wanted)

    def calm_s(self, now: float) -> float:
        """How long the customer has been calm (0 when not): since their voice was last heard raised, or
        since the state turned calm if it never was."""
        if self.state != MOODS[0]:
            return 0.0
        since = self._since if self._last_raised is None else min(self._since, self._last_raised)
        return round(max(0.0, now - since), 2)
