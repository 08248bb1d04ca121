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


def _card(match: re.Match) -> str | None:
    digits = re.sub(r"\D", "", match.group(0))
    return "[card]" if 13 <= len(digits) <= 19 and luhn_ok(digits) else None


def _phone(match: re.Match) -> str | None:
    return "[phone]" if len(re.sub(r"\D", "", match.group(0))) >= 7 else None


# (pattern, label of a match or None to keep it), in order: an earlier rule's find wins
_RULES = ((CARD, _card), (EMAIL, lambda m: "[email]"), (PHONE, _phone), (DIGITS, lambda m: "[number]"))


def spans(text: str) -> list[tuple[int, int, str]]:
    """What to take out of `text`: (start, end, label), in order, never overlapping."""
    found: list[tuple[int, int, str]] = []
    for pattern, label_of in _RULES:
        for match in pattern.finditer(text):
            label = label_of(match)
            start, end = match.span()
            if label and not any(start < e and s < end for s, e, _ in found):
                found.append((start, end, label))
    return sorted(found)


def redact(text: str) -> str:
    out, at = [], 0
    for start, end, label in spans(text):
        out += [text[at:start], label]
        at = end
    return "".join(out) + text[at:]


def redact_words(words: list[str]) -> list[str]:
    """The words of one segment, redacted as the sentence they make: every word that is part of
    something taken out (a card number said in four groups) becomes that thing's label."""
    starts, at = [], 0
    for word in words:
        starts.append(at)
        at += len(word) + 1
    found = spans(" ".join(words))
    out = []
    for word, start in zip(words, starts):
        end = start + len(word)
        label = next((lab for s, e, lab in found if start < e and s < end), None)
        out.append(label if label is not None else word)
    return out
