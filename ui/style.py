"""Colours and titles shared by the widgets."""

from companion.prompt_kinds import PROMPT_KINDS
from companion.timeline import clock  # noqa: F401 - the widgets' clock is the core's

PARTY_COLOURS = {"agent": "#1f5fa8", "customer": "#1d7a46"}
PARTY_NAMES = {"agent": "You", "customer": "Customer"}

PROMPT_STYLES = {
    # kind: (title, background, text)
    **{k.kind: (k.title, k.colour, k.text_colour) for k in PROMPT_KINDS.values()},
    "device": ("Line problem", "#b3261e", "#ffffff"),
    "error": ("Something went wrong", "#b3261e", "#ffffff"),
}
