"""Who talks over whom.

An interruption is one party starting to speak while the other is already
mid-turn (for at least `min_lead_s`) and both keep voicing for `min_overlap_s`.
Shorter overlaps are backchannels ("mm-hmm", "right") and are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from companion.config import InterruptionConfig
from companion.events import Interruption

OTHER = {"agent": "customer", "customer": "agent"}


@dataclass
class _Overlap:
    by: str
    onset: float
    paused: Optional[str] = None     # a party whose turn closed during the overlap
    paused_at: float = 0.0           # and when its speech ended


class InterruptionTracker:
    def __init__(self, config: InterruptionConfig):
        self.config = config
        self._open: dict[str, Optional[float]] = {"agent": None, "customer": None}
        self._last_voiced: dict[str, float] = {"agent": -1.0, "customer": -1.0}
        self._overlap: Optional[_Overlap] = None
        self.confirmed_since: Optional[float] = None  # onset of a confirmed ongoing overlap
        self.confirmed_by: Optional[str] = None
        self.counts = {"agent": 0, "customer": 0}

    def turn_opened(self, party: str, start: float) -> Optional[Interruption]:
        """A turn starts; returns an interruption that this turn shows to be over."""
        self._open[party] = start
        ov = self._overlap
        if ov is not None and ov.paused is not None:
            if ov.paused == party and start - ov.paused_at <= self.config.resume_s:
                ov.paused = None  # a breath between sentences: the same turn goes on
                return None
            ended = self._end(ov.paused_at)
            ov = None
        else:
            ended = None
        other_start = self._open[OTHER[party]]
        if ov is None and other_start is not None and start - other_start >= self.config.min_lead_s:
            self._overlap = _Overlap(by=party, onset=start)
        return ended

    def voiced(self, party: str, until: float) -> None:
        """`party` was voiced up to time `until`; confirms an overlap once both have kept going."""
        self._last_voiced[party] = until
        ov = self._overlap
        if ov is not None and ov.paused is None and self.confirmed_since is None:
            both = min(self._last_voiced["agent"], self._last_voiced["customer"])
            if both - ov.onset >= self.config.min_overlap_s:
                self.confirmed_since, self.confirmed_by = ov.onset, ov.by

    def turn_closed(self, party: str, end: float) -> Optional[Interruption]:
        """A turn ends. The overlap waits `resume_s` in case the same party goes on."""
        self._open[party] = None
        ov = self._overlap
        if ov is None:
            return None
        if ov.paused is not None:  # both have stopped: the overlap ended at the first stop
            return self._end(ov.paused_at)
        ov.paused, ov.paused_at = party, end
        return None

    def expire(self, now: float) -> Optional[Interruption]:
        """Ends an overlap whose paused party did not come back within `resume_s`."""
        ov = self._overlap
        if ov is not None and ov.paused is not None and now - ov.paused_at > self.config.resume_s:
            return self._end(ov.paused_at)
        return None

    def _end(self, end: float) -> Optional[Interruption]:
        ov = self._overlap
        if ov is None:
            return None
        self._overlap = None
        self.confirmed_since = self.confirmed_by = None
        overlap = end - ov.onset
        if overlap >= self.config.min_overlap_s:
            self.counts[ov.by] += 1
            return Interruption(t=round(ov.onset, 3), by=ov.by, overlap_s=round(overlap, 3))
        return None

    def ongoing(self, now: float) -> tuple[Optional[float], float]:
        """(onset, overlap so far) of a confirmed interruption by the agent, else (None, 0)."""
        if self.confirmed_since is not None and self.confirmed_by == "agent":
            return self.confirmed_since, now - self.confirmed_since
        return None, 0.0
