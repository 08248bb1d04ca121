"""Every kind of coaching prompt, named once: its short label (timelines, legends, lists), the
banner's longer title, and its colour. The coach, the window, `live`, exports and the replay
window all read them from here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PromptKind:
    kind: str
    label: str       # short: a legend, a marker, a list ("Slow down")
    title: str       # the banner's words ("Keep listening — let them finish")
    colour: str      # background of the banner, marker colour on timelines
    text_colour: str  # text on that background


_ALL = (
    PromptKind("slow_down", "Slow down", "Slow down", "#f5b025", "#2b1d00"),
    PromptKind("speeding_up", "Speeding up", "You're speeding up", "#c9a227", "#2b1d00"),
    PromptKind("lower_tone", "Lower your tone", "Lower your tone", "#e4683f", "#ffffff"),
    PromptKind("keep_listening", "Keep listening", "Keep listening — let them finish", "#3a78d0", "#ffffff"),
    PromptKind("stop_apologizing", "Stop apologising", "Stop apologising — move to the facts", "#8d5cc6", "#ffffff"),
    PromptKind("dead_air", "Dead air", "Dead air", "#6d7680", "#ffffff"),
    PromptKind("customer_upset", "Customer upset", "Customer is upset — let them finish, keep your voice low",
               "#b3261e", "#ffffff"),
    PromptKind("customer_calmer", "Customer calmer", "They're calmer — now approach the issue", "#2e7d4f", "#ffffff"),
)

PROMPT_KINDS: dict[str, PromptKind] = {k.kind: k for k in _ALL}
KINDS: tuple[str, ...] = tuple(PROMPT_KINDS)
UNKNOWN_COLOUR = "#5b4a8a"


def prompt_kind(kind: str) -> PromptKind:
    """The kind's description; a kind from a newer version is shown by its own name."""
    found = PROMPT_KINDS.get(kind)
    if found is not None:
        return found
    readable = kind.replace("_", " ").capitalize()
    return PromptKind(kind, readable, readable, UNKNOWN_COLOUR, "#ffffff")
