"""This agent's own acoustic-to-words ratio, learned while a transcriber runs.

The acoustic pace divides syllable nuclei by a ratio fitted on many voices
(`[pace] syllables_per_word`); one agent's voice and words may sit off it. When the
agent's speech is also transcribed, each final segment pairs the nuclei heard in it
with the words recognised in it. Segments too short to say much are left out, and so
are outliers (a segment whose ratio lies outside 1.5 interquartile ranges, e.g. one the
recogniser mostly missed); what is left gives the ratio for this call, once it rests
on at least `calibration_min_words` words.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass
from typing import Optional

import numpy as np

from companion.order_stats import percentile

MIN_SEGMENT_WORDS = 3   # fewer words than this: too few to weigh a ratio
KEEP_S = 120.0          # nucleus times kept to pair with segments that arrive late


@dataclass(frozen=True)
class CallCalibration:
    """What one call taught: nuclei per recognised word (per detector kind), and on how many words."""

    units_per_word: dict[str, float]
    words: int


class CalibrationLearner:
    def __init__(self, min_words: int):
        self.min_words = min_words
        self._nuclei: dict[str, list[float]] = defaultdict(list)  # kind -> sorted call times
        self._pairs: list[tuple[dict[str, int], int]] = []        # (nuclei per kind, words) per segment

    def nucleus(self, t: float, kind: str) -> None:
        times = self._nuclei[kind]
        times.append(t)
        if times[0] < t - 2 * KEEP_S:
            del times[: bisect_left(times, t - KEEP_S)]

    def segment(self, start: float, end: float, words: int) -> None:
        """A final segment of the agent's: `words` countable words between `start` and `end`."""
        if words < MIN_SEGMENT_WORDS or end <= start:
            return
        counts = {kind: bisect_right(times, end) - bisect_left(times, start) for kind, times in self._nuclei.items()}
        self._pairs.append((counts, words))

    def result(self) -> Optional[CallCalibration]:
        if not self._pairs:
            return None
        kinds = set().union(*(counts.keys() for counts, _ in self._pairs))
        ratios = {}
        used_words = 0
        for kind in kinds:
            pairs = [(counts.get(kind, 0), words) for counts, words in self._pairs]
            per = np.array([n / w for n, w in pairs])
            q1, q3 = percentile(per, 25.0), percentile(per, 75.0)
            fence = 1.5 * (q3 - q1)
            kept = [(n, w) for (n, w), r in zip(pairs, per) if q1 - fence <= r <= q3 + fence]
            words = sum(w for _, w in kept)
            nuclei = sum(n for n, _ in kept)
            if words >= self.min_words and nuclei > 0:
                ratios[kind] = nuclei / words
                used_words = max(used_words, words)
        return CallCalibration(ratios, used_words) if ratios else None
