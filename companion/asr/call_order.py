"""The recognisers' events in call order, while each recogniser runs at its own pace.

In analysis (and the demo) each party's recogniser runs on its own thread and may run ahead of the
other by as much as its bounded queue holds: neither waits for the other. What a recogniser says
(partial text, final segments, a failure) is held here with the audio it had heard when it said it
(`heard`, in frames of the call), and the monitor thread takes it at the block that reaches that
audio (`until`): it publishes it and gives the words to the pace before it processes the block, as
if the two recognisers had waited for each other at every block. So the order of a file's events never
depends on how fast either recogniser runs (Vosk's own results can still differ a little from run to run:
a confidence, now and then a word), and every subscriber (the store's redaction of numbers read across
segments, the report, the checklist) sees the call in call order.
"""

from __future__ import annotations

import sys
import threading
from typing import Mapping, Optional, Protocol

from companion.events import PARTIES, Party

END = sys.maxsize  # `heard` of what a recogniser says at the end of the call


class Heard(Protocol):
    """What the order needs of a transcriber: wait until it has heard the call up to a frame."""

    def wait_for(self, frames: int) -> None: ...


class CallOrder:
    def __init__(self, transcribers: Mapping[Party, Heard]) -> None:
        self._transcribers = transcribers   # read at each block: a script's transcribers may replace the recognisers
        self._lock = threading.Lock()
        self._held: list[tuple[int, int, int, object]] = []   # (heard, party's place, arrival, event)
        self._arrivals = 0

    def hold(self, party: Party, heard: int, event: object) -> None:
        """Keep what `party`'s recogniser said once it had heard the call up to frame `heard`."""
        with self._lock:
            self._arrivals += 1
            self._held.append((heard, PARTIES.index(party), self._arrivals, event))

    def until(self, frames: Optional[int]) -> list[object]:
        """What was said by the time the recognisers heard the call up to frame `frames` (None: the end of
        the call), in call order; waits for every recogniser to get there (or to have stopped)."""
        for transcriber in list(self._transcribers.values()):
            transcriber.wait_for(END if frames is None else frames)
        return self._take(END if frames is None else frames)

    def held(self) -> list[object]:
        """Everything held so far, without waiting (a live call: the recognisers' words are not waited for)."""
        return self._take(END)

    def _take(self, frames: int) -> list[object]:
        with self._lock:
            if not self._held:
                return []
            ready = [h for h in self._held if h[0] <= frames]
            if len(ready) < len(self._held):
                self._held = [h for h in self._held if h[0] > frames]
            else:
                self._held = []
        ready.sort(key=lambda h: h[:3])
        return [h[3] for h in ready]
