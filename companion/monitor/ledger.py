"""Speaking time and counted units (syllables, words) per party, in one-second buckets.

Buckets let late corrections land where they belong: a turn's hangover taken
back when the turn closes, or recognised words that arrive after the audio.

A rolling pace reads the same stretch of speech for several detectors at every look:
which seconds hold the last (or first) so many seconds of speech is worked out once per
change of the speaking time and kept; each kind's units are then summed over those seconds,
in the same order as a walk would, so every reading is the same to the last bit.
"""

from __future__ import annotations

from typing import Sequence


class SpeechLedger:
    def __init__(self) -> None:
        self._speech: list[float] = []
        self._units: dict[str, list[float]] = {}
        self.total_speech_s = 0.0
        self._totals: dict[str, float] = {}
        self.changes = 0  # how many times what it holds has changed: readings at the same count read the same
        # stretches of speech already walked, valid until the speaking time changes:
        # (last second, speech wanted) -> (first second, speech held); (start second, wanted) -> (speech, last second, buckets' last)
        self._recent: dict[tuple[int, float], tuple[int, float]] = {}
        self._first: dict[tuple[int, float], tuple[float, int, int]] = {}

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
        self.changes += 1
        if self._recent:
            self._recent.clear()
        if self._first:
            self._first.clear()

    def add_speech_frames(self, frames: Sequence[int], frame_s: float, seconds: float) -> None:
        """`add_speech(frame * frame_s, seconds)` for each of `frames` (ascending, none negative), in their order:
        the same additions in the same order, so the same sums to the last bit."""
        if not frames:
            return
        if frames[0] < 0:
            raise ValueError(f"frames before the call's start: {frames[0]}")
        self._grow(int(frames[-1] * frame_s))  # the last frame's second is the highest
        buckets, total = self._speech, self.total_speech_s
        for frame in frames:
            buckets[int(frame * frame_s)] += seconds
            total += seconds
        self.total_speech_s = total
        self.changes += 1
        if self._recent:
            self._recent.clear()
        if self._first:
            self._first.clear()

    def add_units(self, t: float, count: float, kind: str = "syllables") -> None:
        second = max(0, int(t))
        self._grow(second)
        if kind not in self._units:
            self._units[kind] = [0.0] * len(self._speech)
            self._totals[kind] = 0.0
        self._units[kind][second] += count
        self._totals[kind] += count
        self.changes += 1

    def total_units(self, kind: str = "syllables") -> float:
        return self._totals.get(kind, 0.0)

    def speech_between(self, start: float, end: float) -> float:
        """Speaking time in whole buckets from int(start) up to and including int(end)."""
        lo, hi = max(0, int(start)), min(len(self._speech) - 1, int(end))
        return sum(self._speech[lo : hi + 1]) if hi >= lo else 0.0

    def recent_by_speech(self, now: float, speech_s: float, kind: str = "syllables") -> tuple[float, float]:
        """(speaking time, units) over the most recent buckets up to `now` holding `speech_s` of speech."""
        last = min(len(self._speech) - 1, int(now))
        if last < 0:
            return 0.0, 0.0
        key = (last, speech_s)
        span = self._recent.get(key)
        if span is None:
            speech, second = 0.0, last
            buckets = self._speech
            while second >= 0 and speech < speech_s:
                speech += buckets[second]
                second -= 1
            span = self._recent[key] = (second + 1, speech)
        first, speech = span
        units_list = self._units.get(kind)
        # newest first, as the walk adds them
        units = sum(units_list[last : first - 1 : -1] if first else units_list[last::-1], 0.0) if units_list is not None else 0.0
        return speech, units

    def first_by_speech(self, start: float, speech_s: float, kind: str = "syllables") -> tuple[float, float, int]:
        """(speaking time, units, last second) over the earliest buckets from `start` holding `speech_s` of speech;
        the last second is -1 while the ledger does not hold that much speech after `start`."""
        begin = max(0, int(start))
        key = (begin, speech_s)
        span = self._first.get(key)
        if span is None or (span[1] < 0 and len(self._speech) - 1 != span[2]):
            speech, last = 0.0, -1
            for second in range(begin, len(self._speech)):
                speech += self._speech[second]
                if speech >= speech_s:
                    last = second
                    break
            span = self._first[key] = (speech, last, len(self._speech) - 1)
        speech, last, _ = span
        units_list = self._units.get(kind)
        if units_list is None:
            return speech, 0.0, last
        end = last if last >= 0 else len(self._speech) - 1
        return speech, sum(units_list[begin : end + 1], 0.0), last
