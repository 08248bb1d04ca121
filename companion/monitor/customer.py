"""The customer's mood from their own voice: `calm`, `tense` or `upset`.

Absolute levels say nothing across phone lines and people, so every cue is the customer
against themselves, from their first `baseline_speech_s` of speech in this call:

- loudness: the level of the louder part (`loudness_percentile`) of their last `window_speech_s`
  of speech, in dB above the baseline's;
- pitch: median f0 of that speech, in semitones above the baseline's (medians in semitones,
  so a stray octave error in a few frames moves nothing);
- pace: their syllable-nucleus rate over the last `pace_window_speech_s` of speech against the
  baseline's (the same detector both times, so words per syllable cancel out);
- talk-over: how often they held the floor over the agent in the last `talkover_window_s`.

A cue is raised past its line, and stays raised down to `release` of it. Anger and distress
raise pitch, loudness and rate together (Scherer 2003; Banse & Scherer 1996), while a phone
system's automatic gain or a moved handset changes the level alone: loudness counts only when
pitch or pace has moved at least `corroborate` of their lines (or the customer talks over the
agent), and a level change that stays alone through `rebase_speech_s` of speech becomes the new
baseline level. Pace, which varies from sentence to sentence by as much as anger raises it, only
adds to another raised cue. One raised cue is `tense`, `upset_cues` are `upset`. A new state is shown once it
has held `dwell_s` (a calmer one `calm_dwell_s`), so the state does not flicker.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass
from typing import Optional

import numpy as np

from companion.config import AudioConfig, CustomerMoodConfig, PaceConfig
from companion.events import CUSTOMER_STATES, CustomerState
from companion.monitor.ledger import SpeechLedger
from companion.monitor.pace import BASE_KIND, matched_kind, rolling_wpm

A4_HZ = 440.0
PACE_MIN_FRACTION = 0.75  # a pace is read once its window holds this much of its speech


@dataclass(frozen=True)
class MoodReading:
    """The customer's voice now against their baseline (None where it cannot be read yet)."""

    loudness_db: Optional[float] = None
    pitch_semitones: Optional[float] = None
    pace_rise: Optional[float] = None
    talkovers: int = 0


def semitones(f0_hz: np.ndarray) -> np.ndarray:
    return 12.0 * np.log2(f0_hz / A4_HZ)


class CustomerMood:
    def __init__(self, config: CustomerMoodConfig, audio: AudioConfig, pace: PaceConfig):
        self.config = config
        per_s = 1.0 / audio.frame_s
        self._frame_s = audio.frame_s
        self._baseline_frames = max(1, int(config.baseline_speech_s * per_s))
        self._levels: deque[float] = deque(maxlen=max(1, int(config.window_speech_s * per_s)))
        self._pitches: deque[float] = deque(maxlen=max(1, int(config.window_speech_s * per_s)))
        self._base_levels: list[float] = []
        self._base_pitches: list[float] = []
        self._pace = dataclasses.replace(pace, window_speech_s=config.pace_window_speech_s,
                                         min_speech_s=config.pace_window_speech_s * PACE_MIN_FRACTION)
        self.base_level: Optional[float] = None
        self.base_pitch: Optional[float] = None
        self.base_rate: Optional[float] = None   # nuclei per minute of speech over the baseline
        self._talkovers: deque[float] = deque()
        self.voiced = SpeechLedger()  # voiced time and nuclei: the articulation rate, pauses left out
        self._level_alone_s = 0.0
        self._new_speech_s = 0.0                   # customer speech since the last evaluation
        self.state: Optional[str] = None
        self._since = 0.0                          # when the shown state began
        self._pending: Optional[tuple[bool, float]] = None  # (rising, since)
        self.reading = MoodReading()

    # ---------------------------------------------------------------- input

    def add(self, levels_db: np.ndarray, f0_hz: np.ndarray, speech: np.ndarray, first_t: float) -> None:
        """Frames of the customer from call time `first_t`: level, f0 (0 when unvoiced), whether each is speech."""
        voiced = speech & (f0_hz > 0)
        for i in np.flatnonzero(voiced).tolist():
            self.voiced.add_speech(first_t + i * self._frame_s, self._frame_s)
        levels = levels_db[speech].tolist()
        pitches = semitones(f0_hz[voiced]).tolist()
        self._levels.extend(levels)
        self._pitches.extend(pitches)
        if self.base_level is None:
            self._base_levels.extend(levels)
            self._base_pitches.extend(pitches)
            if len(self._base_levels) >= self._baseline_frames:
                self.base_level = self._loudness(self._base_levels)
                # too few voiced frames to trust (a whisper, a noisy line): no pitch cue this call
                enough = len(self._base_pitches) >= len(self._base_levels) // 4
                self.base_pitch = float(np.median(self._base_pitches)) if enough else None
        self._new_speech_s += len(levels) * self._frame_s

    def nucleus(self, t: float, kind: str) -> None:
        """A syllable nucleus of the customer's (call time, the detector that found it)."""
        self.voiced.add_units(t, 1.0, kind)

    def talked_over(self, onset: float) -> None:
        """The customer held the floor over the agent from `onset` (counted once per onset)."""
        if not self._talkovers or self._talkovers[-1] != onset:
            self._talkovers.append(onset)

    # ---------------------------------------------------------------- reading

    def _loudness(self, levels) -> float:
        """The level of the louder part of the speech (its vowels): a percentile of the frames' levels."""
        return float(np.percentile(np.fromiter(levels, float), self.config.loudness_percentile))

    def _read(self, now: float) -> MoodReading:
        while self._talkovers and now - self._talkovers[0] > self.config.talkover_window_s:
            self._talkovers.popleft()
        talk = len(self._talkovers)
        if self.base_level is None or len(self._levels) < self._levels.maxlen:
            return MoodReading(talkovers=talk)
        loud = self._loudness(self._levels) - self.base_level
        pitch = None
        if self.base_pitch is not None and len(self._pitches) >= self._pitches.maxlen // 4:
            pitch = float(np.median(self._pitches)) - self.base_pitch
        return MoodReading(round(loud, 2), None if pitch is None else round(pitch, 2), self._pace_rise(now), talk)

    def _pace_rise(self, now: float) -> Optional[float]:
        ledger = self.voiced
        if self.base_rate is None:
            speech, units, last = ledger.first_by_speech(0.0, self.config.baseline_speech_s, BASE_KIND)
            if last < 0 or speech <= 0 or last >= int(now) - 1:
                return None
            matched = matched_kind(units / speech, self._pace)
            units = ledger.first_by_speech(0.0, self.config.baseline_speech_s, matched)[1]
            self.base_rate = units / speech * 60.0
        rate, _ = rolling_wpm(ledger, now, self._pace, 1.0)
        if rate is None or self.base_rate <= 0:
            return None
        return round(rate / self.base_rate - 1.0, 3)

    def _raised(self, r: MoodReading, factor: float) -> int:
        """How many cues are past `factor` of their lines (loudness only when corroborated)."""
        c = self.config
        pitch = r.pitch_semitones is not None and r.pitch_semitones >= c.pitch_above_semitones * factor
        pace = r.pace_rise is not None and r.pace_rise >= c.pace_above * factor
        talk = r.talkovers >= c.talkovers
        loud = r.loudness_db is not None and r.loudness_db >= c.loudness_above_db * factor
        corroborated = talk or (r.pitch_semitones or 0.0) >= c.pitch_above_semitones * c.corroborate \
            or (r.pace_rise or 0.0) >= c.pace_above * c.corroborate
        others = int(pitch) + int(talk) + int(loud and corroborated)
        return others + int(pace and others > 0)  # pace varies too much from sentence to sentence to stand alone

    def _level(self, cues: int) -> int:
        c = self.config
        return 2 if cues >= c.upset_cues else 1 if cues >= c.tense_cues else 0

    def _rebase(self, r: MoodReading, speech_s: float) -> MoodReading:
        """A level change with the voice itself unchanged, held through `rebase_speech_s`: the line.
        Returns the reading against the baseline level from now on."""
        c = self.config
        alone = (r.loudness_db is not None and abs(r.loudness_db) >= c.loudness_above_db * c.release
                 and r.talkovers < c.talkovers
                 and (r.pitch_semitones or 0.0) < c.pitch_above_semitones * c.corroborate
                 and (r.pace_rise or 0.0) < c.pace_above * c.corroborate)
        self._level_alone_s = self._level_alone_s + speech_s if alone else 0.0
        if self._level_alone_s < c.rebase_speech_s:
            return r
        self.base_level = self._loudness(self._levels)
        self._level_alone_s = 0.0
        return dataclasses.replace(r, loudness_db=0.0)

    def evaluate(self, now: float) -> Optional[CustomerState]:
        """Reads the customer at `now`; returns a change of their state."""
        r = self._read(now)
        speech_s, self._new_speech_s = self._new_speech_s, 0.0
        if self.base_level is None:
            self.reading = r
            return None
        if self.state is None:
            self.state, self._since = CUSTOMER_STATES[0], now
            self.reading = r
            return CustomerState(round(now, 3), self.state)
        r = self._rebase(r, speech_s)
        self.reading = r
        current = CUSTOMER_STATES.index(self.state)
        enter = self._level(self._raised(r, 1.0))
        held = self._level(self._raised(r, self.config.release))
        target = max(enter, min(held, current))
        if target == current:
            self._pending = None
            return None
        # the dwell runs from when the state first wanted to move this way (tense on the way to upset counts)
        rising = target > current
        if self._pending is None or self._pending[0] != rising:
            self._pending = (rising, now)
        if now - self._pending[1] < (self.config.dwell_s if rising else self.config.calm_dwell_s):
            return None
        wanted = CUSTOMER_STATES[target]
        self.state, self._since, self._pending = wanted, now, None
        return CustomerState(round(now, 3), wanted)

    def calm_s(self, now: float) -> float:
        """How long the customer has been calm (0 when not)."""
        return round(now - self._since, 2) if self.state == CUSTOMER_STATES[0] else 0.0
