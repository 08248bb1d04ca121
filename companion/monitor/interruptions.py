"""Who talks over whom.

A party's **turn at the floor** is their voice-activity turns joined across pauses of up to
`resume_s`: a breath, a pause between two sentences, or a soft word the voice activity missed does
not give the floor away.

A talk-over is one party starting while the other holds the floor, and both keeping at it for
`min_overlap_s` (their turns at the floor overlapping that long, at least a third of it both voiced;
shorter overlaps are backchannels, "mm-hmm", "right"):
- starting over the other's speech, when the other's turn at the floor has lasted `min_lead_s`
  (two parties starting within `min_lead_s` of each other after a silence start together: no one's);
- or starting inside the other's short pause (within `resume_s` of their last word), when they carry
  on with their turn: the one who carried on is talked over. The customer carries on through a pause of
  up to `resume_s`, or coming back within twice `min_lead_s` of the agent's start (an order the voice
  activity cannot tell: a soft first word is heard late), so a customer who resumes 0.24 s before the
  agent starts is talked over by the agent. The agent carries on only through `agent_resume_s` (a
  breath, a pause between their sentences), or when their start is heard no later than the customer's:
  a customer who answered in a longer pause of the agent's holds the floor (they did not start over the
  agent), and an agent who comes back over that answer talks over them, however soon after its start it
  was heard (a noisy line hears an answer's first sounds late: 0.26 s before the agent who cut in 0.5 s
  into it) — an agent cutting in 0.5 s into an answer that came 0.5 s after their last word was once the
  customer's cut-in.

Starts are the ones heard (a soft first word, companion/vad/voice_activity.py), ends the last clear word, and whether the other
was speaking is judged at the moment a start was heard from: a soft first word is known only when the clear word comes,
by when the other's turn may have closed. A party's own pause (is it shorter than `resume_s`?) runs from their last
sound to their next, soft words included at both ends: a low voice that fades off a noisy line and carries on has not
paused for longer than its soft last word says. Only their own pause: the fading end of the other's word does not make a
reply that starts in it a cut-in.

A party who has been talked over, stops, and comes back within `reclaim_s` while the turn that cut in
on them goes on is carrying on with their own turn: not a talk-over of theirs, and the same talk-over
of the other's (counted once, its overlap summed). A talk-over is reported as soon as the one cut in on
has let `resume_s` pass, or the one who cut in has given up the floor. One ended too short because the one who cut in
fell silent goes on if their next turn, known only from its clear word, turns out to have started softly within their
pause (they never gave the floor up).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from companion.config import InterruptionConfig
from companion.events import Interruption, Party

OTHER: dict[Party, Party] = {"agent": "customer", "customer": "agent"}
VOICED_SHARE = 1.0 / 3.0   # of min_overlap_s: how much of a talk-over must be both voiced at once


@dataclass
class _Party:
    open: Optional[float] = None         # start of the voice-activity turn in progress
    last_end: Optional[float] = None     # end of the last closed one (its last clear word)
    last_sound: Optional[float] = None   # ... and of its soft last sound after it (a murmur under the gate), if any
    floor_start: Optional[float] = None  # start of the turn at the floor (turns joined across short pauses)
    floor_before: Optional[float] = None  # ... as it was before the turn in progress opened
    last_voiced: float = -1.0


@dataclass
class _TalkOver:
    by: Party
    onset: float
    floor_since: Optional[float]         # both holding the floor since (None: not now)
    floor_s: float = 0.0                 # both holding the floor: stretches already closed
    voiced_since: Optional[float] = None  # both in a voice-activity turn since
    voiced_s: float = 0.0
    last_both: float = 0.0               # when both last talked together
    counted: bool = False
    suspended: bool = False              # the one cut in on stopped; they may come back and reclaim


class InterruptionTracker:
    def __init__(self, config: InterruptionConfig):
        self.config = config
        self._p: dict[Party, _Party] = {"agent": _Party(), "customer": _Party()}
        self.over: Optional[_TalkOver] = None  # the talk-over in progress (None: nothing for `expire` to do)
        self.confirmed_since: Optional[float] = None  # onset of a confirmed ongoing talk-over
        self.confirmed_by: Optional[Party] = None
        self.counts: dict[Party, int] = {"agent": 0, "customer": 0}
        self._gave_up: Optional[_TalkOver] = None  # a talk-over ended too short as the one who cut in fell silent

    # ---------------------------------------------------------------- the floor

    def _holds_floor(self, party: Party, now: float) -> bool:
        """In a turn, or paused no longer than `resume_s`."""
        p = self._p[party]
        return p.open is not None or (p.last_end is not None and now - p.last_end <= self.config.resume_s)

    def turn_opened(self, party: Party, start: float) -> Optional[Interruption]:
        """A voice-activity turn starts; returns a talk-over this shows to be over. A start heard from a soft first word
        is known only when the clear word comes: when the other's turn opened after it meanwhile, their opening is taken
        back and the two are heard in the order they spoke (an answer that began with a murmur and was cut in on before
        its first clear word was once logged as the customer talking over the agent who cut in)."""
        other = self._p[OTHER[party]]
        if other.open is not None and other.open > start and self.over is None:
            theirs = other.open
            other.open, other.floor_start = None, other.floor_before
            first = self._open(party, start)
            return self._open(OTHER[party], theirs) or first
        return self._open(party, start)

    def _open(self, party: Party, start: float) -> Optional[Interruption]:
        c = self.config
        me, other = self._p[party], self._p[OTHER[party]]
        me.floor_before = me.floor_start
        # my pause: from my last sound to my first (each heard, a soft word too)
        resuming = me.last_sound is not None and start - me.last_sound <= c.resume_s
        # the other was speaking when I started: in a turn, or in one that ended after my start (a start heard from a
        # soft first word is known only when the clear word comes, and the other's turn may have closed meanwhile)
        other_speaking = other.open is not None or (other.last_end is not None and other.last_end > start)
        # the other started inside my short pause and I carry on my turn (or come back as they start, which the
        # voice activity cannot order: a soft first word is heard late): they cut into my turn. The customer's turn
        # holds through `resume_s`; the agent's only through `agent_resume_s`, and the agent comes back "as they
        # start" only when heard no later than them: past that, the customer answered in the agent's pause and holds
        # the floor (they took it; they did not start over the agent), and an agent who comes back over them talks
        # over them, however soon after the answer was heard (not `min_lead_s`: on a noisy line its start is late)
        started_in_pause = (other_speaking and me.last_end is not None and other.floor_start is not None
                            and 0.0 <= other.floor_start - me.last_end <= c.resume_s)
        holds, together = (c.resume_s, 2 * c.min_lead_s) if party == "customer" else (c.agent_resume_s, 0.0)
        cut_into = started_in_pause and other.floor_start is not None and (
            start - other.floor_start <= together or (me.last_sound is not None and start - me.last_sound <= holds))
        took_floor = started_in_pause and not cut_into
        if took_floor or not (resuming or cut_into):
            me.floor_start = start
        me.open = start
        ended = self._expire_floors(start)
        gave_up, self._gave_up = self._gave_up, None
        if self.over is None and gave_up is not None and gave_up.by == party and resuming \
                and me.last_end is not None and start - me.last_end <= c.resume_s and self._holds_floor(OTHER[party], start):
            # they had not given the floor up: this turn, known only from its clear word, started soft inside their
            # pause, before that talk-over was ended for their silence (a reader's title, a pause, the line after it)
            self.over, gave_up.floor_since = gave_up, start
        over = self.over
        if over is not None:
            if over.suspended and over.by != party:  # the one cut in on comes back: reclaiming their turn
                over.suspended = False
                over.floor_since = start
        elif cut_into:
            assert other.floor_start is not None
            self.over = _TalkOver(OTHER[party], other.floor_start, floor_since=other.floor_start)
        elif other_speaking and (took_floor or not resuming) and other.floor_start is not None \
                and start - other.floor_start >= (0.0 if took_floor else c.min_lead_s):
            self.over = _TalkOver(party, start, floor_since=start)
        self._voiced_changed(start)
        return ended

    def voiced(self, party: Party, until: float) -> None:
        """`party` was voiced up to time `until`; confirms a talk-over once both have kept at it long enough."""
        self._p[party].last_voiced = until
        over = self.over
        if over is not None and not over.suspended and self.confirmed_since is None and self._long_enough(over):
            self.confirmed_since, self.confirmed_by = over.onset, over.by

    def turn_closed(self, party: Party, end: float, soft_end: Optional[float] = None) -> Optional[Interruption]:
        """A voice-activity turn ends (at its last voiced frame; `soft_end`: where a soft last sound after it ended)."""
        p = self._p[party]
        p.open, p.last_end = None, end
        p.last_sound = end if soft_end is None else max(end, soft_end)
        self._voiced_changed(end)
        over = self.over
        if over is not None and OTHER[over.by] == party and end <= over.onset and not over.counted:
            # their turn had ended before the other started (its close is only known a hangover later): a reply
            self.over = None
            self.confirmed_since = self.confirmed_by = None
        return None

    def expire(self, now: float) -> Optional[Interruption]:
        """Reports a talk-over whose floor has changed hands for good by `now`."""
        return self._expire_floors(now)

    # ---------------------------------------------------------------- the talk-over's course

    def _both_voiced_until(self) -> float:
        """The last moment both were heard: each party's last voiced time (at most their closed turn's end)."""
        return min(p.last_voiced if p.open is not None or p.last_end is None else min(p.last_voiced, p.last_end)
                   for p in self._p.values())

    def _voiced_changed(self, t: float) -> None:
        over = self.over
        if over is None:
            return
        both = all(p.open is not None for p in self._p.values())
        if both and over.voiced_since is None:
            over.voiced_since = max(p.open for p in self._p.values() if p.open is not None)  # both open
        elif not both and over.voiced_since is not None:
            over.voiced_s += max(0.0, t - over.voiced_since)
            over.voiced_since = None

    def _floor_s(self, over: _TalkOver) -> float:
        now = over.floor_s
        if over.floor_since is not None:
            now += max(0.0, self._both_voiced_until() - over.floor_since)
        return now

    def _voiced_s(self, over: _TalkOver) -> float:
        now = over.voiced_s
        if over.voiced_since is not None:
            now += max(0.0, self._both_voiced_until() - over.voiced_since)
        return now

    def _long_enough(self, over: _TalkOver) -> bool:
        need = self.config.min_overlap_s
        return self._floor_s(over) >= need and self._voiced_s(over) >= need * VOICED_SHARE

    def _close_floor(self, over: _TalkOver) -> None:
        if over.floor_since is not None:
            until = self._both_voiced_until()
            over.floor_s += max(0.0, until - over.floor_since)
            over.last_both = max(over.last_both, until)
            over.floor_since = None

    def _expire_floors(self, now: float) -> Optional[Interruption]:
        over = self.over
        if over is None:
            return None
        if not self._holds_floor(over.by, now):       # the one who cut in gave the floor up: over
            self._close_floor(over)
            self.over = None
            reported = self._report(over)
            self._gave_up = None if over.counted else over   # (too short: it may yet go on, `_open`)
            return reported
        cut_in_on = self._p[OTHER[over.by]]
        if not over.suspended and not self._holds_floor(OTHER[over.by], now):  # the one cut in on stopped
            self._close_floor(over)
            over.suspended = True
            return self._report(over)
        if over.suspended and cut_in_on.last_end is not None and now - cut_in_on.last_end > self.config.reclaim_s:
            self.over = None                          # and did not come back to carry on
        return None

    def _report(self, over: _TalkOver) -> Optional[Interruption]:
        self.confirmed_since = self.confirmed_by = None
        if over.counted or not self._long_enough(over):
            return None
        over.counted = True
        self.counts[over.by] += 1
        return Interruption(t=round(over.onset, 3), by=over.by, overlap_s=round(over.last_both - over.onset, 3))

    def ongoing(self, now: float) -> tuple[Optional[float], float]:
        """(onset, overlap so far) of a confirmed talk-over by the agent, else (None, 0)."""
        if self.confirmed_since is not None and self.confirmed_by == "agent":
            return self.confirmed_since, now - self.confirmed_since
        return None, 0.0
