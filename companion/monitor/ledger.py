"""Speaking time and counted units (syllables, words) per party, in one-second buckets.

Buckets let late corrections land where they belong: a turn's hangover taken
back when the turn closes, or recognised words that arrive after the audio.
"""

from __future__ import annotations


class SpeechLedger:
    def __init__(self) -> None:
        self._speech: list[float] = []
        self._units: dict[str, list[float]] = {}
        self.total_speech_s = 0.0
        self._totals: dict[str, float] = {}

    def _grow(self, second: int) -> None:
        if second >= len(self._speech):
            extra = second + 1 - len(self._speech)
            self._speech.extend([0.0] * extra)
            for units in self._units.values():
                units.extend([0.0] * extra)

    def add_speech(self, t: float, seconds: float) -> None:
        second = max(0, int(t))
        self._grow(second)
        self._speech[second] += seconds
        self.total_speech_s += seconds

    def add_units(self, t: float, count: float, kind: str = "syllables") -> None:
        second = max(0, int(t))
        self._grow(second)
        if kind not in self._units:
            self._units[kind] = [0.0] * len(self._speech)
            self._totals[kind] = 0.0
        self._units[kind][second] += count
        self._totals[kind] += count

    def total_units(self, kind: str = "syllables") -> float:
        return self._totals.get(kind, 0.0)

    def speech_between(self, start: float, end: float) -> float:
        """Speaking time in whole buckets from int(start) up to and including int(end)."""
        lo, hi = max(0, int(start)), min(len(self._speech) - 1, int(end))
        return sum(self._speech[lo : hi + 1]) if hi >= lo else 0.0

    def recent_by_speech(self, now: float, speech_s: float, kind: str = "syllables") -> tuple[float, float]:
        """(speaking time, units) over the most recent buckets up to `now` holding `speech_s` of speech."""
        units_list = self._units.get(kind)
        speech = units = 0.0
        second = min(len(self._speech) - 1, int(now))
        while second >= 0 and speech < speech_s:
            speech += self._speech[second]
            if units_list is not None:
                units += units_list[second]
            second -= 1
        return speech, units

    def first_by_speech(self, start: float, speech_s: float, kind: str = "syllables") -> tuple[float, float, int]:
        """(speaking time, units, last second) over the earliest buckets from `start` holding `speech_s` of speech;
        the last second is -1 while the ledger does not hold that much speech after `start`."""
        units_list = self._units.get(kind)
        speech = units = 0.0
        for second in range(max(0, int(start)), len(self._speech)):
            speech += self._speech[second]
            if units_list is not None:
                units += units_list[second]
            if speech >= speech_s:
                return speech, units, second
        return speech, units, -1
