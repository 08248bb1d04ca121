"""Colours and titles shared by the widgets."""

PARTY_COLOURS = {"agent": "#1f5fa8", "customer": "#1d7a46"}
PARTY_NAMES = {"agent": "You", "customer": "Customer"}

PROMPT_STYLES = {
    # kind: (title, background, text)
    "slow_down": ("Slow down", "#f5b025", "#2b1d00"),
    "speeding_up": ("You're speeding up", "#c9a227", "#2b1d00"),
    "lower_tone": ("Lower your tone", "#e4683f", "#ffffff"),
    "keep_listening": ("Keep listening — let them finish", "#3a78d0", "#ffffff"),
    "stop_apologizing": ("Stop apologising — move to the facts", "#8d5cc6", "#ffffff"),
    "dead_air": ("Dead air", "#6d7680", "#ffffff"),
    "device": ("Line problem", "#b3261e", "#ffffff"),
    "error": ("Something went wrong", "#b3261e", "#ffffff"),
}


def clock(seconds: float) -> str:
    minutes, secs = divmod(int(max(0.0, seconds)), 60)
    return f"{minutes:02d}:{secs:02d}"
