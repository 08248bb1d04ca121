"""An agent's live state, made from the call's own events (the pipeline's bus): what the publisher
sends to the team server's live row (companion.team.server_schema_v3) and nothing more.

Plain data and one tracker: `LiveTracker(event)` is a bus subscriber that keeps a `LiveState` up to
date and says whether it changed. It never blocks: it runs on the monitor's thread.

Never audio. Words only when the team's policy shares text (`share_text`), and then only as they
come out of the events file's redaction (companion.event_redaction.EventRedactor, the store's own
rules, across segments), never while the call is paused for payment, whatever the local redaction
setting says.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable, Optional

from companion.events import (
    CallEnded,
    CallStarted,
    CustomerState,
    FinalSegment,
    Interruption,
    MetricsSnapshot,
    Prompt,
    StepTicked,
    StoringPaused,
)
from companion.team.server_schema_v3 import MAX_LIVE_TEXT, MAX_RECENT

MAX_S = 86400.0


def _s(value: Optional[float]) -> Optional[float]:
    """A call time as the server takes it: finite, 0 to a day (None otherwise)."""
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    if v != v or v in (float("inf"), float("-inf")):
        return None
    return round(min(MAX_S, max(0.0, v)), 2)


@dataclass(frozen=True)
class LiveState:
    state: str = "idle"                        # on_call, paused, wrapping_up, idle, offline
    call_started_at: Optional[float] = None    # Unix time of the call's start
    call_s: float = 0.0
    talk_share: Optional[float] = None         # the agent's share of talk, whole call so far
    last_prompt: Optional[str] = None          # its label ("Slow down")
    last_prompt_kind: Optional[str] = None
    last_prompt_reason: Optional[str] = None
    last_prompt_s: Optional[float] = None
    customer_mood: Optional[str] = None
    mood_since_s: Optional[float] = None
    prompts: int = 0
    interruptions: int = 0
    interruptions_by_agent: int = 0
    prompt_times: tuple[float, ...] = ()
    talkover_times: tuple[float, ...] = ()
    checklist_step: Optional[str] = None
    hand_up: bool = False
    live_text: Optional[str] = None

    def row(self, seq: int) -> dict[str, Any]:
        """The live row's columns, bounded as the server's constraints require."""
        started = (datetime.fromtimestamp(self.call_started_at, timezone.utc)
                   if self.call_started_at is not None else None)
        share = None if self.talk_share is None else min(1.0, max(0.0, float(self.talk_share)))
        return {"state": self.state, "call_started_at": started, "call_s": _s(self.call_s) or 0.0,
                "talk_share": share, "last_prompt": _cut(self.last_prompt, 200),
                "last_prompt_kind": self.last_prompt_kind, "last_prompt_reason": _cut(self.last_prompt_reason, 300),
                "last_prompt_s": _s(self.last_prompt_s), "customer_mood": self.customer_mood,
                "mood_since_s": _s(self.mood_since_s), "prompts": min(self.prompts, 200_000),
                "interruptions": min(self.interruptions, 200_000),
                "interruptions_by_agent": min(self.interruptions_by_agent, 200_000),
                "prompt_times": [t for t in map(_s, self.prompt_times[-MAX_RECENT:]) if t is not None],
                "talkover_times": [t for t in map(_s, self.talkover_times[-MAX_RECENT:]) if t is not None],
                "checklist_step": _cut(self.checklist_step, 200), "hand_up": bool(self.hand_up),
                "live_text": _cut(self.live_text, MAX_LIVE_TEXT, tail=True), "seq": seq}


def _cut(text: Optional[str], limit: int, tail: bool = False) -> Optional[str]:
    if text is None:
        return None
    text = str(text)
    if len(text) <= limit:
        return text or None
    return ("…" + text[-(limit - 1):]) if tail else (text[:limit - 1] + "…")


@dataclass
class LiveTracker:
    """Keeps the agent's LiveState from the call's events; `on_change()` is called (on the publishing
    thread, so it must return at once) when the state changed. `step_title(step_id)` and
    `current_step()` come from the session's checklist when there is one."""

    on_change: Callable[[], None] = lambda: None
    current_step: Callable[[], Optional[str]] = lambda: None
    share_text: bool = False                    # set by the publisher from the team's policy
    state: LiveState = field(default_factory=LiveState)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _redactor: Any = None
    _paused: bool = False

    def snapshot(self) -> LiveState:
        with self._lock:
            return self.state

    def _set(self, **changes: Any) -> None:
        with self._lock:
            new = replace(self.state, **changes)
            changed = new != self.state
            self.state = new
        if changed:
            self.on_change()

    # --- from the app -------------------------------------------------------------------------
    def raise_hand(self, up: bool = True) -> None:
        self._set(hand_up=up)

    def idle(self) -> None:
        """The agent is done with the call (the window's summary closed): idle until the next one."""
        self._set(state="idle", live_text=None)

    def offline(self) -> None:
        self._set(state="offline", live_text=None, hand_up=False)

    # --- from the call's bus ------------------------------------------------------------------
    def __call__(self, event: object) -> None:
        if self.share_text and not isinstance(event, CallStarted):
            self._feed(event)
        elif self._redactor is not None:
            self._redactor = None  # the policy stopped sharing text: nothing of it is kept
        handler = _ON_EVENT.get(type(event))
        if handler is not None:
            handler(self, event)

    def _on_metrics(self, event: MetricsSnapshot) -> None:
        s = self.state
        share = event.talk_share_call
        changes: dict[str, Any] = {"call_s": _s(event.t) or 0.0}
        if share is not None:
            changes["talk_share"] = round(float(share), 2)
        if event.customer_state is not None and s.customer_mood is None:
            changes.update(customer_mood=event.customer_state, mood_since_s=_s(event.t))
        if s.state in ("on_call", "paused") and (round(changes["call_s"]) != round(s.call_s)
                                                  or changes.get("talk_share", s.talk_share) != s.talk_share
                                                  or "customer_mood" in changes):
            self._set(**changes)
        elif s.state in ("on_call", "paused"):
            with self._lock:
                self.state = replace(self.state, **changes)  # sub-second: sent with the next change

    def _on_call_started(self, event: CallStarted) -> None:
        self._paused = False
        self._redactor = None
        self._set(**{**LiveState().__dict__, "state": "on_call", "call_started_at": event.wall,
                     "hand_up": self.state.hand_up})

    def _on_prompt(self, event: Prompt) -> None:
        from companion.prompt_kinds import prompt_kind

        s = self.state
        self._set(last_prompt=prompt_kind(event.kind).label, last_prompt_kind=event.kind,
                  last_prompt_reason=_redacted(event.reason), last_prompt_s=_s(event.t), prompts=s.prompts + 1,
                  prompt_times=(s.prompt_times + (_s(event.t) or 0.0,))[-MAX_RECENT:],
                  call_s=max(s.call_s, _s(event.t) or 0.0))

    def _on_customer_state(self, event: CustomerState) -> None:
        self._set(customer_mood=event.state, mood_since_s=_s(event.t))

    def _on_interruption(self, event: Interruption) -> None:
        s = self.state
        by_agent = event.by == "agent"
        self._set(interruptions=s.interruptions + 1, interruptions_by_agent=s.interruptions_by_agent + by_agent,
                  talkover_times=(s.talkover_times + ((_s(event.t) or 0.0,) if by_agent else ()))[-MAX_RECENT:])

    def _on_step(self, event: StepTicked) -> None:
        try:
            current = self.current_step()
        except Exception:  # noqa: BLE001 - the checklist's trouble never stops the live state
            current = None
        title = current or (event.title if event.done else self.state.checklist_step)
        self._set(checklist_step=title)

    def _on_storing_paused(self, event: StoringPaused) -> None:
        self._paused = event.paused
        if self.state.state in ("on_call", "paused"):
            self._set(state="paused" if event.paused else "on_call", live_text=None)

    def _on_call_ended(self, event: CallEnded) -> None:
        self._set(state="wrapping_up", call_s=_s(event.duration_s) or self.state.call_s, live_text=None)

    def _feed(self, event: object) -> None:
        """Words out of the events file's redaction, only while text is shared and not paused."""
        if self._redactor is None:
            from companion.event_redaction import EventRedactor

            self._redactor = EventRedactor()
        try:
            out = self._redactor.feed(event)
        except Exception:  # noqa: BLE001 - a redaction failure sends no words, never breaks the call
            self._redactor = None
            return
        said = [e for e in out if isinstance(e, FinalSegment)]
        if said and not self._paused and self.state.state == "on_call":
            last = said[-1]
            self._set(live_text=f"{last.party}: {last.text}")



# What the live state takes from each event of the call's bus; other events change nothing of it.
_ON_EVENT: dict[type, Callable[[LiveTracker, Any], None]] = {
    MetricsSnapshot: LiveTracker._on_metrics,
    CallStarted: LiveTracker._on_call_started,
    Prompt: LiveTracker._on_prompt,
    CustomerState: LiveTracker._on_customer_state,
    Interruption: LiveTracker._on_interruption,
    StepTicked: LiveTracker._on_step,
    StoringPaused: LiveTracker._on_storing_paused,
    CallEnded: LiveTracker._on_call_ended,
}

def _redacted(text: Optional[str]) -> Optional[str]:
    if not text:
        return None
    try:
        from companion.store.redaction import redact

        return redact(text)
    except Exception:  # noqa: BLE001 - no reason rather than one not redacted
        return None


def wall_clock() -> float:
    return time.time()
