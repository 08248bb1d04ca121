"""The customer's mood on a saved call, as the HTML report and the replay show it: the spans of the
"Customer mood" band (calm / tense / upset from `companion.report.state_spans`, and the stretch
before their baseline was known), the band's legend, and the key-number card's words. Colours and
words come from `companion.timeline` only, so every band reads the same."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

from companion.events import CUSTOMER_STATES
from companion.report import mood_summary, state_spans
from companion.store.calls import CallDocument
from companion.timeline import MOOD_COLOURS, MOOD_LABELS, MOOD_UNKNOWN_COLOUR, clock

BAND_NAME = "Customer mood"
NOT_READ = "Mood not read yet"  # before their baseline was known (or never: too little of their speech)


class MoodSpan(NamedTuple):
    start: float
    end: float
    state: Optional[str]  # None: not read yet

    @property
    def colour(self) -> str:
        return MOOD_COLOURS.get(self.state or "", MOOD_UNKNOWN_COLOUR)

    @property
    def label(self) -> str:
        return MOOD_LABELS[self.state] if self.state in MOOD_LABELS else "Not read"

    def title(self) -> str:
        """'00:52–02:02 Upset': the span's tooltip."""
        return f"{clock(self.start)}–{clock(self.end)} {self.label if self.state else NOT_READ}"


def known_states(doc: CallDocument) -> list[dict[str, Any]]:
    """The call's customer states that this app knows ({t, state}; a store or bundle may hold others)."""
    return [s for s in doc.get("customer_states") or [] if s.get("state") in MOOD_COLOURS
            and isinstance(s.get("t"), (int, float))]


def mood_spans(doc: CallDocument) -> list[MoodSpan]:
    """The band across the whole call: not read until the first state, then each state until the next."""
    duration = max(float(doc["duration_s"]), 0.0)
    spans = [MoodSpan(max(0.0, a), min(b, duration), s) for a, b, s in state_spans(known_states(doc), duration)]
    spans = [s for s in spans if s.end > s.start]
    first = spans[0].start if spans else duration
    return ([MoodSpan(0.0, first, None)] if first > 0 else []) + spans


def legend_items(doc: CallDocument) -> list[tuple[str, str, Optional[str]]]:
    """(label, colour, state) for the band's legend: the three states always (the scale), and the
    not-read colour when the band shows it."""
    items: list[tuple[str, str, Optional[str]]] = [(f"Mood: {MOOD_LABELS[s].lower()}", MOOD_COLOURS[s], s)
                                                   for s in CUSTOMER_STATES]
    if any(span.state is None for span in mood_spans(doc)):
        items.append((NOT_READ, MOOD_UNKNOWN_COLOUR, None))
    return items


def worst_state(doc: CallDocument) -> Optional[str]:
    """The most upset the customer was on the call; None when their mood was never read."""
    return max((s["state"] for s in known_states(doc)), key=CUSTOMER_STATES.index, default=None)


def card_text(doc: CallDocument) -> tuple[str, str, str]:
    """The key-number card: (value, the summary line, the colour of its edge)."""
    worst = worst_state(doc)
    value = MOOD_LABELS[worst] if worst else "—"
    return value, mood_summary(known_states(doc), doc["duration_s"]), MOOD_COLOURS.get(worst or "", MOOD_UNKNOWN_COLOUR)
