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


def user_locale():
    """The user's locale for dates; None under the C/POSIX locale (whose "5 12 2025" nobody reads: ISO then)."""
    from PySide6.QtCore import QLocale

    locale = QLocale.system()
    return None if locale.language() == QLocale.Language.C else locale


def date_format() -> str:
    """A date edit's display format: the user's short date, or ISO under the C locale."""
    from PySide6.QtCore import QLocale

    locale = user_locale()
    return locale.dateFormat(QLocale.FormatType.ShortFormat) if locale is not None else "yyyy-MM-dd"


def local_datetime(iso: Optional[str]) -> str:
    """A stored UTC timestamp as this machine's local time, written the user's way ("—" for none)."""
    if not iso:
        return "—"
    try:
        when = datetime.fromisoformat(iso).astimezone()
    except ValueError:
        return iso[:16].replace("T", " ")
    locale = user_locale()
    if locale is None:
        return when.strftime("%Y-%m-%d %H:%M")
    from PySide6.QtCore import QDateTime, QLocale

    return locale.toString(QDateTime(when), QLocale.FormatType.ShortFormat)


def local_time(iso: Optional[str]) -> str:
    """A server timestamp in this machine's time zone, to the minute ("—" for none)."""
    if not iso:
        return "—"
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso[:16].replace("T", " ")
