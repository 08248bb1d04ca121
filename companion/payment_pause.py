"""Pause for payment: the stretches of a call in which nothing said is kept (the customer reading out
card details). Everything that keeps a call asks the same `PauseSpans`: the store's writer drops the
words said inside a span (a recogniser's final words arrive a second or two late, so it is the time
the words were said that counts, not when they arrive), the audio recording writes silence there,
and the events file leaves their text out. Coaching from the sound is not affected."""

from __future__ import annotations

import math
import threading
from typing import Iterable, Optional, Sequence, TypeVar

from companion.events import StoringPaused

W = TypeVar("W")


class PauseSpans:
    """The paused stretches so far, fed with StoringPaused events (any thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spans: list[list[float]] = []  # [start, end]; end is inf while paused

    def __call__(self, event: object) -> None:
        if isinstance(event, StoringPaused):
            self.apply(event)

    def apply(self, event: StoringPaused) -> bool:
        """Returns True when the event changed the state (a second pause while paused changes nothing)."""
        with self._lock:
            open_now = bool(self._spans) and math.isinf(self._spans[-1][1])
            if event.paused and not open_now:
                self._spans.append([event.t, math.inf])
                return True
            if not event.paused and open_now:
                self._spans[-1][1] = max(event.t, self._spans[-1][0])
                return True
            return False

    @property
    def paused(self) -> bool:
        with self._lock:
            return bool(self._spans) and math.isinf(self._spans[-1][1])

    def spans(self, until: Optional[float] = None) -> list[tuple[float, float]]:
        """(start, end) of each pause; one still open ends at `until` (or stays open: inf)."""
        with self._lock:
            return [(s, e if not math.isinf(e) or until is None else max(s, until)) for s, e in self._spans]

    def covers(self, start: float, end: Optional[float] = None) -> bool:
        """True when any of [start, end] lies inside a pause."""
        end = start if end is None else end
        with self._lock:
            return any(s <= end and start <= e for s, e in self._spans)

    def kept(self, words: Sequence[W], times: Iterable[tuple[float, float]]) -> list[W]:
        """The words said outside every pause (`times`: each word's start and end)."""
        return [w for w, (a, b) in zip(words, times) if not self.covers(a, b)]
