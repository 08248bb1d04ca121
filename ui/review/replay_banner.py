"""What the replay's banner shows at a position of the call, the way the call window showed it then: the prompt
(or the supervisor's message) said in the last few seconds, and, when nothing is, whether storing was paused for
payment there. A function of the position alone, so a seek shows the state at the new position, not whatever
the banner held before it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ui.banner import IDLE_TEXT

HOLD_S = 4.0  # a prompt stays in the banner this long after it came (call time)
PAUSED_TEXT = "Paused for payment here — nothing said was stored; coaching went on"
MESSAGE_KIND = "supervisor"  # the banner's kind for a supervisor's message


@dataclass(frozen=True)
class BannerState:
    kind: Optional[str]      # the prompt's kind (or MESSAGE_KIND) in the banner, None for an empty banner
    reason: str = ""         # its words
    idle_text: str = IDLE_TEXT  # what the empty banner says
    t: Optional[float] = None   # when the shown prompt or message came


def banner_moments(doc: dict) -> list[tuple[float, str, str]]:
    """(t, kind, words) of everything the call showed in its banner, in time order: prompts and supervisors' messages."""
    shown = [(p["t"], p["kind"], p["reason"]) for p in doc["prompts"]]
    shown += [(m["t"], MESSAGE_KIND, f"{m['sender']}: {m['text']}") for m in doc["call"].get("supervisor_messages") or []]
    return sorted(shown, key=lambda m: m[0])


def paused_at(doc: dict, t: float) -> bool:
    """Whether storing was paused for payment at `t` (a pause still open at the call's end runs to its end)."""
    end = doc.get("duration_s") or float("inf")
    return any(p["start"] <= t < (p["end"] if p.get("end") is not None else end) for p in doc["call"].get("pauses") or [])


def banner_at(doc: dict, t: float, hold_s: float = HOLD_S) -> BannerState:
    """The banner at `t`: the latest prompt or message of the last `hold_s` seconds, else an empty banner saying
    whether storing was paused there."""
    idle = PAUSED_TEXT if paused_at(doc, t) else IDLE_TEXT
    recent = [m for m in banner_moments(doc) if t - hold_s < m[0] <= t]
    if not recent:
        return BannerState(None, "", idle)
    came, kind, words = recent[-1]
    return BannerState(kind, words, idle, came)
