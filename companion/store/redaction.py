"""Personal data out of stored text: card numbers (Luhn-checked), long digit runs, e-mail
addresses and phone numbers. The rules are data (`RULES`), shown in the settings."""

from __future__ import annotations

import re

CARD = re.compile(r"(?<![\w])(?:\d[ -]?){12,18}\d(?![\w])")
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){1,4}(?![\w])")
DIGITS = re.compile(r"(?<![\w])\d{6,}(?![\w])")

RULES = (
    ("card number", "13–19 digits that pass the Luhn check → [card]"),
    ("e-mail address", "name@domain → [email]"),
    ("phone number", "groups of digits with +, (), spaces, dots or dashes, 7 or more digits → [phone]"),
    ("long number", "6 or more digits in a row → [number]"),
)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[card]" if 13 <= len(digits) <= 19 and luhn_ok(digits) else match.group(0)


def _phone(match: re.Match) -> str:
    return "[phone]" if len(re.sub(r"\D", "", match.group(0))) >= 7 else match.group(0)


def redact(text: str) -> str:
    text = CARD.sub(_card, text)
    text = EMAIL.sub("[email]", text)
    text = PHONE.sub(_phone, text)
    return DIGITS.sub("[number]", text)
