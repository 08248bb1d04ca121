"""The agent's volume and pitch against their own usual voice.

Absolute levels mean nothing across headsets, so only the change counts. A real person's speech is
sentences with pauses, quiet consonants and breath in them, so:

- **level now**: the `loudness_percentile` (90th) of the agent's speech frames over their last
  `loudness_window_s` (2 s) of speech — the vowels, which rise with a raised voice, not the pauses
  and consonants whose share of a second swings a median by ±6 dB on a calm sentence;
- **pitch now**: the median f0 over their last `pitch_window_s` of voiced speech;
- **usual voice**: the median of these readings, taken once a second of speech over their last
  `baseline_window_s` of speech, leaving out the most recent `baseline_lag_s` — a raised stretch is
  judged against the voice before it, not against a baseline it has already pulled up (the first
  `baseline_min_speech_s` of readings are the baseline until the lag has passed).
"""

from __future__ import annotations

from collections import deque
from typing import Optional

import numpy as np

from companion.config import AudioConfig, ToneConfig
from companion.order_stats import median, percentile


class ToneTracker:
    def __init__(self, tone: ToneConfig, audio: AudioConfig):
        per_s = 1.0 / audio.frame_s
        self._percentile = tone.loudness_percentile
        self._level_now: deque[float] = deque(maxlen=max(1, int(round(tone.loudness_window_s * per_s))))
        self._pitch_now_len = max(1, int(round(tone.pitch_window_s * per_s)))
        self._pitch_now: deque[float] = deque(maxlen=self._pitch_now_len)
        self._reading_frames = max(1, int(round(per_s)))  # one reading of the usual voice per second of speech
        readings = max(1, int(tone.baseline_window_s))
        self._lag = int(round(tone.baseline_lag_s))
        self._min_readings = max(1, int(round(tone.baseline_min_speech_s)))
        self._level_readings: deque[float] = deque(maxlen=readings + self._lag)
        self._pitch_readings: deque[Optional[float]] = deque(maxlen=readings + self._lag)
        self.speech_frames = 0
        self._base_cache: dict[str, tuple[int, Optional[float]]] = {}
        # the readings now change only when a speech frame comes in, but are asked for at every snapshot
        self._level_cache: tuple[int, float] = (-1, 0.0)
        self._pitch_cache: tuple[int, Optional[float]] = (-1, None)

    def add(self, levels_db: np.ndarray, f0_hz: np.ndarray, speech: np.ndarray) -> None:
        """Frames of the agent: level, f0 (0 when unvoiced) and whether each frame is speech."""
        for level, f0 in zip(levels_db[speech].tolist(), f0_hz[speech].tolist()):
            self.speech_frames += 1
            self._level_now.append(level)
            if f0 > 0:
                self._pitch_now.append(f0)
            if self.speech_frames % self._reading_frames == 0:
                self._level_readings.append(self._level_reading())
                self._pitch_readings.append(self._pitch_reading())

    def _level_reading(self) -> float:
        at, level = self._level_cache
        if at != self.speech_frames:
            level = percentile(np.fromiter(self._level_now, float, len(self._level_now)), self._percentile)
            self._level_cache = (self.speech_frames, level)
        return level

    def _pitch_reading(self) -> Optional[float]:
        at, f0 = self._pitch_cache
        if at != self.speech_frames:
            f0 = None if len(self._pitch_now) < self._pitch_now_len // 4 else float(
                median(np.fromiter(self._pitch_now, float, len(self._pitch_now))))
            self._pitch_cache = (self.speech_frames, f0)
        return f0

    @property
    def has_baseline(self) -> bool:
        return len(self._level_readings) >= self._min_readings

    def _usual(self, name: str, readings: deque[Optional[float]] | deque[float]) -> Optional[float]:
        """The median of the readings before the lag (at least the first `baseline_min_speech_s` of them),
        read again only when a new reading came in."""
        count = len(readings)
        at, cached = self._base_cache.get(name, (-1, None))
        if at != self.speech_frames // self._reading_frames:
            usable = [r for r in list(readings)[: max(self._min_readings, count - self._lag)] if r is not None]
            cached = median(usable) if len(usable) >= max(1, self._min_readings // 2) else None
            self._base_cache[name] = (self.speech_frames // self._reading_frames, cached)
        return cached

    def loudness(self) -> tuple[Optional[float], Optional[float]]:
        """(recent, usual) level in dBFS; the usual level is None until there is enough speech."""
        if not self._level_now:
            return None, None
        base = self._usual("level", self._level_readings) if self.has_baseline else None
        return self._level_reading(), base

    def pitch(self) -> tuple[Optional[float], Optional[float]]:
        now = self._pitch_reading()
        if now is None:
            return None, None
        return now, self._usual("pitch", self._pitch_readings) if self.has_baseline else None
