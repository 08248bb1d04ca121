"""How a call's time is shown: mm:ss clocks, a time axis with round steps, and words for a turn
that has no transcript. Shared by the replay window, the HTML report, `live` and the summaries."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

PARTY_NAMES = {"agent": "Agent", "customer": "Customer"}
PAUSE_COLOUR = "#9aa0a6"  # a pause for payment on any timeline: nothing said there was stored
MESSAGE_COLOUR = "#2d2a6e"  # a supervisor's message during the call, on any timeline: its banner's colour, no prompt's
# The customer's mood (companion/monitor/customer.py): its words and colour on every band and strip
MOOD_LABELS = {"calm": "Calm", "tense": "Tense", "upset": "Upset"}
MOOD_COLOURS = {"calm": "#7fbf8e", "tense": "#f0b94a", "upset": "#d0453a"}
MOOD_UNKNOWN_COLOUR = "#d7dadd"  # before their baseline is known
_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)


def state_spans(states: Sequence[Mapping[str, Any]], end: float) -> list[tuple[float, float, str]]:
    """[{t, state}, ...] as (start, end, state) spans up to `end`."""
    ordered = sorted(states, key=lambda c: c["t"])
    following: list[Optional[Mapping[str, Any]]] = [*ordered[1:], None]
    return [(c["t"], nxt["t"] if nxt else end, c["state"]) for c, nxt in zip(ordered, following)]


def clock(seconds: float) -> str:
    """'mm:ss' (minutes go past 59 on a long call: '75:02')."""
    minutes, secs = divmod(int(max(0.0, seconds)), 60)
    return f"{minutes:02d}:{secs:02d}"


def tick_step(duration_s: float, max_ticks: int = 10) -> int:
    """The smallest round step (1 s … 1 h) that puts no more than `max_ticks` ticks on the axis."""
    for step in _STEPS_S:
        if duration_s / step <= max_ticks:
            return step
    return _STEPS_S[-1] * max(1, int(duration_s / (_STEPS_S[-1] * max_ticks)) + 1)


def time_ticks(duration_s: float, max_ticks: int = 10) -> list[float]:
    """Tick times from 0 to the end of the call, every `tick_step` seconds."""
    if duration_s <= 0:
        return [0.0]
    step = tick_step(duration_s, max_ticks)
    return [float(t) for t in range(0, int(duration_s) + 1, step)]


def speech_without_text(party: str, start: float, end: float) -> str:
    """What a turn with no transcript says: who spoke, and how long ('Customer spoke for 4 s')."""
    seconds = max(0.0, end - start)
    length = f"{seconds:.0f} s" if seconds >= 1.5 else f"{seconds:.1f} s"
    return f"{PARTY_NAMES.get(party, party.capitalize())} spoke for {length}"
