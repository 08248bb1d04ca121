"""One agent's call so far, as a supervisor's floor has seen it: the views of companion.team.live_watch (what
`team watch --json` prints, read under row-level security through companion.team.server_live) gathered
into a call document the replay's timeline draws (ui/review/replay_timeline.py, opened from a tile of the
floor view: ui/team/live_call_view.py).

Only what the live row holds, and the messages and hands the floor reads: never audio, never a turn or
a transcript (the row has the last words only when the team shares text). So the document has:

- the prompts: the recent prompts' call times the row keeps (the last 20), each with its kind and reason
  when the floor saw it as the last prompt (a prompt the floor did not see as the last one is drawn as
  "Prompt", kind unknown);
- the customer's mood: each change the floor saw (the row says the mood and since when), from the first;
- the agent's talk-overs of the customer (the row's recent ones), as interruptions by the agent;
- pauses for payment, from when the floor saw the state go to paused and back;
- the supervisors' messages to the agent and the agent's raised hands, at the call's time they were sent
  (the server's clock on both sides: the message's time less the call's start).

A new call (another start) starts a new document. `status()` says in words where the call is: on call,
paused, ended, or the connection lost (and since how long)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional

from companion.timeline import MOOD_LABELS, clock

UNKNOWN_KIND = "prompt"  # a prompt whose kind the floor never saw (drawn as "Prompt")
SAME_S = 0.05            # two call times this close are the same moment (the row rounds them)
ENDED = ("wrapping_up", "idle", "offline")


def _when(value: Any) -> Optional[datetime]:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


@dataclass
class LiveCall:
    """What the floor has seen of one agent's current (or last) call."""

    agent: str
    started_at: Optional[str] = None          # the call's start (ISO, the agent's clock as the row says it)
    call_s: float = 0.0
    state: str = "idle"                       # the shown state (live_alerts.shown_state): connection_lost too
    on_a_call: bool = False                   # the floor has seen this call on (not only an agent between calls)
    ended_at_s: Optional[float] = None        # when the floor saw it end
    age_s: Optional[float] = None             # how long ago the row was written (the server's clock)
    mood: Optional[str] = None
    talk_share: Optional[float] = None
    prompts: dict[float, dict[str, Any]] = field(default_factory=dict)    # t -> {t, kind, reason}
    moods: list[dict[str, Any]] = field(default_factory=list)             # {t, state}, in time order
    talkovers: set[float] = field(default_factory=set)
    pauses: list[tuple[float, Optional[float]]] = field(default_factory=list)  # (start, end or None)
    messages: list[dict[str, Any]] = field(default_factory=list)          # {t, sender, text} / hands: {t, hand}
    last_text: Optional[str] = None
    views: int = 0

    # --- what arrives ----------------------------------------------------------------------------
    def add(self, view: dict[str, Any]) -> bool:
        """A view of this agent (`event` "state", "message" or "hand"); True when the call's picture changed."""
        if view.get("agent") != self.agent:
            return False
        if view.get("event") in ("message", "hand"):
            return self._message(view)
        if view.get("event") != "state":
            return False
        self.views += 1
        started = view.get("call_started_at")
        if started and started != self.started_at:
            self._new_call(started)
        state = view.get("state") or "offline"
        before = self.state
        self.state, self.age_s = state, view.get("age_s")
        call_s = float(view.get("call_s") or 0.0)
        if state in ("on_call", "paused"):
            self.on_a_call, self.ended_at_s = True, None
            self.call_s = max(self.call_s, call_s)
        elif state == "wrapping_up":
            self.on_a_call, self.call_s = True, max(self.call_s, call_s)
            if self.ended_at_s is None:
                self.ended_at_s = self.call_s
        elif state in ENDED and self.on_a_call and self.ended_at_s is None:
            self.ended_at_s = self.call_s
        if state == "connection_lost" and self.views == 1:
            self.call_s = max(self.call_s, call_s)  # first seen lost: the row's last word of the call is all there is
        elif state not in ("on_call", "paused", "wrapping_up"):
            return before != state
        self.talk_share = view.get("talk_share")
        self.last_text = view.get("text")
        self._pause(state)
        for t in view.get("prompt_times") or ():
            self.prompts.setdefault(round(float(t), 2), {"t": round(float(t), 2), "kind": UNKNOWN_KIND, "reason": ""})
        last_s, kind = view.get("last_prompt_s"), view.get("last_prompt_kind")
        if last_s is not None and kind:
            t = self._same(float(last_s))
            self.prompts[t] = {"t": t, "kind": kind, "reason": view.get("last_prompt_reason") or ""}
        for t in view.get("talkover_times") or ():
            self.talkovers.add(round(float(t), 2))
        mood, since = view.get("mood"), view.get("mood_since_s")
        self.mood = mood
        if mood and since is not None and (not self.moods or self.moods[-1]["state"] != mood):
            self.moods.append({"t": max(float(since), self.moods[-1]["t"] if self.moods else 0.0), "state": mood})
        return True

    def _same(self, t: float) -> float:
        """A time the row rounded: the prompt already known there, or this one."""
        near = [k for k in self.prompts if abs(k - t) <= SAME_S]
        return min(near, key=lambda k: abs(k - t)) if near else round(t, 2)

    def _new_call(self, started: str) -> None:
        """Another call: everything of the one before goes."""
        self.__dict__.update(LiveCall(self.agent, started_at=started).__dict__)

    def _pause(self, state: str) -> None:
        open_ = bool(self.pauses) and self.pauses[-1][1] is None
        if state == "paused" and not open_:
            self.pauses.append((self.call_s, None))
        elif state != "paused" and open_:
            self.pauses[-1] = (self.pauses[-1][0], self.call_s)

    def _message(self, view: dict[str, Any]) -> bool:
        at, started = _when(view.get("at")), _when(view.get("call_started_at"))
        if started is None or at is None or self.started_at is None or _when(self.started_at) != started:
            return False  # sent between calls, or during another call: not on this one's timeline
        t = round(max(0.0, (at - started).total_seconds()), 2)
        if view.get("event") == "hand":
            self.messages.append({"t": t, "hand": True, "text": view.get("text") or ""})
        else:
            self.messages.append({"t": t, "sender": view.get("from") or "", "text": view.get("text") or ""})
        return True

    # --- what is shown ---------------------------------------------------------------------------
    def document(self) -> dict[str, Any]:
        """The call so far in the shape the replay's timeline draws (companion.store.calls.CallDocument)."""
        duration = max(self.call_s, max(self.prompts, default=0.0), max(self.talkovers, default=0.0), 1.0)
        messages = [m for m in self.messages if not m.get("hand")]
        return {
            "file": f"{self.agent}'s call, live",
            "duration_s": round(duration, 2),
            "turns": [],
            "prompts": [self.prompts[t] for t in sorted(self.prompts)],
            "interruptions": [{"t": t, "by": "agent", "overlap_s": 0.0} for t in sorted(self.talkovers)],
            "pace": [],
            "customer_states": list(self.moods),
            "call": {"id": None, "started_at": self.started_at, "status": "active", "segments": [], "volume": [],
                     "pauses": [{"start": s, "end": e if e is not None else duration} for s, e in self.pauses],
                     "comments": [], "checklist": [], "notes": None,
                     "supervisor_messages": [{"t": m["t"], "sender": m["sender"], "text": m["text"]} for m in messages]},
        }

    def moments(self) -> list[str]:
        """The call's moments so far in time order, in words (the panel's list)."""
        from companion.prompt_kinds import prompt_kind

        rows: list[tuple[float, str]] = []
        for p in self.prompts.values():
            label = prompt_kind(p["kind"]).label if p["kind"] != UNKNOWN_KIND else "A prompt (its kind was not seen)"
            rows.append((p["t"], f"{label}{' — ' + p['reason'] if p['reason'] else ''}"))
        rows += [(m["t"], f"Customer {MOOD_LABELS.get(m['state'], m['state']).lower()}") for m in self.moods]
        rows += [(t, "Talked over the customer") for t in self.talkovers]
        rows += [(s, "Paused for payment" + (f" until {clock(e)}" if e is not None else "")) for s, e in self.pauses]
        for m in self.messages:
            if m.get("hand"):
                rows.append((m["t"], "Raised a hand" + (f": {m['text']}" if m["text"] else "")))
            else:
                rows.append((m["t"], f"Message from supervisor {m['sender']}: {m['text']}"))
        return [f"{clock(t)}  {text}" for t, text in sorted(rows, key=lambda r: r[0])]

    def status(self, stale_after_s: Optional[float] = None) -> str:
        """Where the call is, in one line."""
        if self.state == "connection_lost":
            age = f" — nothing heard from {self.agent} for {fresh(self.age_s)}" if self.age_s is not None else ""
            upto = f"; the timeline stops at {clock(self.call_s)}" if self.on_a_call else ""
            return f"Connection lost{age}{upto}."
        if self.on_a_call and self.ended_at_s is not None:
            after = {"wrapping_up": " — wrapping up", "idle": "", "offline": f" — {self.agent} went offline"}
            return f"Call ended at {clock(self.ended_at_s)}{after.get(self.state, '')}."
        if self.state in ("on_call", "paused"):
            parts = ["On call" if self.state == "on_call" else "Paused for payment", clock(self.call_s)]
            if self.mood:
                parts.append(f"customer {MOOD_LABELS.get(self.mood, self.mood).lower()}")
            if self.talk_share is not None:
                parts.append(f"{self.agent} talks {float(self.talk_share):.0%} of the time")
            parts.append(f"{len(self.prompts)} prompt{'' if len(self.prompts) == 1 else 's'} seen")
            return " · ".join(parts)
        if self.state == "offline":
            return f"{self.agent} is offline: no call."
        return f"{self.agent} is not on a call."


def fresh(age_s: Optional[float]) -> str:
    """How long ago, in words: "45 s", "3 min", "2 h"."""
    if age_s is None:
        return "a while"
    age = max(0.0, float(age_s))
    if age < 90:
        return f"{age:.0f} s"
    if age < 5400:
        return f"{age / 60:.0f} min"
    return f"{age / 3600:.0f} h"
