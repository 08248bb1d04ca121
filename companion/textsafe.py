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


def _escape(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte of a file name that is not UTF-8 (Python's surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def shown(value: object) -> str:
    """A name the user gave (a file, a folder) to print on a terminal: every control or invisible
    formatting character written as its escape (ESC as \\x1b), so no escape sequence reaches the
    terminal and the user can still tell which file is meant."""
    text = "" if value is None else str(value)
    return "".join(_escape(ch) if _CONTROL.match(ch) or unicodedata.category(ch) in ("Cf", "Cs", "Co") else ch
                   for ch in text)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run: text starting with = + - @ (or a tab or carriage
    return) is prefixed with an apostrophe (OWASP's advice for CSV injection); numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
