"""Text from files and other machines made safe to print on a terminal or put in a spreadsheet."""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(value: object) -> str:
    """`value` as text without control characters (no terminal escape sequences, no line breaks)."""
    text = "" if value is None else str(value)
    text = _CONTROL.sub("", text)
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cs", "Co"))


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run: text starting with = + - @ (or a tab or carriage
    return) is prefixed with an apostrophe (OWASP's advice for CSV injection); numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
