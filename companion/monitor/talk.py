"""Floor-holding: the agent's monologues and the silences when nobody speaks."""

from __future__ import annotations

from typing import Optional

from companion.config import TalkConfig
from companion.events import DeadAir


class MonologueTracker:
    """An agent monologue runs from when the agent takes the floor until the customer
    speaks for longer than a backchannel or the agent pauses for `monologue_gap_s`."""

    def __init__(self, config: TalkConfig):
        self.config = config
        self._start: Optional[float] = None
        self._last_agent: float = -1e9
        self.longest_s = 0.0

    def agent_voiced(self, turn_start: float, until: float) -> None:
        if self._start is None or turn_start - self._last_agent > self.config.monologue_gap_s:
            self._start = turn_start
        self._last_agent = until
        self.longest_s = max(self.longest_s, until - self._start)

    def customer_spoke(self, turn_start: float, until: float) -> None:
        if until - turn_start > self.config.backchannel_max_s:
            self._start = None

    def current(self, now: float) -> float:
        if self._start is None or now - self._last_agent > self.config.monologue_gap_s:
            return 0.0
        return self._last_agent - self._start


class SilenceTracker:
    """Both parties silent, counted from the end of the last turn (not before the call's first words)."""

    def __init__(self, config: TalkConfig):
        self.config = config
        self._last_speech_end: Optional[float] = None
        self._speaking = 0

    def speech_started(self, now: float) -> Optional[DeadAir]:
        gap = None
        if self._speaking == 0 and self._last_speech_end is not None:
            if now - self._last_speech_end >= self.config.dead_air_s:
                gap = DeadAir(start=round(self._last_speech_end, 3), end=round(now, 3))
        self._speaking += 1
        return gap

    def speech_ended(self, end: float) -> None:
        self._speaking = max(0, self._speaking - 1)
        self._last_speech_end = end if self._last_speech_end is None else max(self._last_speech_end, end)

    def silence_s(self, now: float) -> float:
        if self._speaking or self._last_speech_end is None:
            return 0.0
        return max(0.0, now - self._last_speech_end)
