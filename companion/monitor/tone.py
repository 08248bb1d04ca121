"""The agent's volume and pitch against their own running baseline.

Absolute levels mean nothing across headsets, so only the change counts: the
median level of the agent's last second of speech against the median over their
last two minutes, and the same for f0 over voiced speech.
"""

from __future__ import annotations

from collections import deque
from typing import Optional

import numpy as np

from companion.config import AudioConfig, ToneConfig


class ToneTracker:
    def __init__(self, tone: ToneConfig, audio: AudioConfig):
        per_s = 1.0 / audio.frame_s
        self._frame_s = audio.frame_s
        self._min_frames = int(tone.baseline_min_speech_s * per_s)
        self._level_base: deque[float] = deque(maxlen=int(tone.baseline_window_s * per_s))
        self._level_now: deque[float] = deque(maxlen=max(1, int(tone.loudness_window_s * per_s)))
        self._pitch_base: deque[float] = deque(maxlen=int(tone.baseline_window_s * per_s))
        self._pitch_now_len = max(1, int(tone.pitch_window_s * per_s))
        self._pitch_now: deque[float] = deque(maxlen=self._pitch_now_len)
        self.speech_frames = 0
        # the two-minute medians move slowly: read again after each second of new speech, not at every look
        self._refresh_frames = max(1, int(per_s))
        self._base_cache: dict[str, tuple[int, Optional[float]]] = {}

    def add(self, levels_db: np.ndarray, f0_hz: np.ndarray, speech: np.ndarray) -> None:
        """Frames of the agent: level, f0 (0 when unvoiced) and whether each frame is speech."""
        for level, f0 in zip(levels_db[speech].tolist(), f0_hz[speech].tolist()):
            self.speech_frames += 1
            self._level_base.append(level)
            self._level_now.append(level)
            if f0 > 0:
                self._pitch_base.append(f0)
                self._pitch_now.append(f0)

    @property
    def has_baseline(self) -> bool:
        return self.speech_frames >= self._min_frames

    def loudness(self) -> tuple[Optional[float], Optional[float]]:
        """(recent, baseline) level in dBFS; baseline is None until there is enough speech."""
        if not self._level_now:
            return None, None
        now = float(np.median(self._level_now))
        base = self._baseline("level", self._level_base) if self.has_baseline else None
        return now, base

    def pitch(self) -> tuple[Optional[float], Optional[float]]:
        if len(self._pitch_now) < self._pitch_now_len // 4:
            return None, None
        now = float(np.median(self._pitch_now))
        enough = self.has_baseline and len(self._pitch_base) >= self._min_frames // 4
        return now, self._baseline("pitch", self._pitch_base) if enough else None

    def _baseline(self, name: str, values: deque[float]) -> float:
        """The median of `values`, read again once a second of speech has come in since the last reading."""
        at, cached = self._base_cache.get(name, (-self._refresh_frames, None))
        if cached is None or self.speech_frames - at >= self._refresh_frames:
            cached = float(np.median(np.fromiter(values, float, len(values))))
            self._base_cache[name] = (self.speech_frames, cached)
        return cached
