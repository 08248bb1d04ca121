"""Colours and titles shared by the widgets."""

from datetime import datetime
from typing import Optional

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


def local_time(iso: Optional[str]) -> str:
    """A server timestamp in this machine's time zone, to the minute ("—" for none)."""
    if not iso:
        return "—"
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso[:16].replace("T", " ")
