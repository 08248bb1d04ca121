"""Personal data out of stored text: card numbers (Luhn-checked), security codes, expiry dates,
national ID and bank numbers, phone numbers, e-mail addresses and long digit runs, whether typed as
digits or said aloud and written as words by the speech recogniser ("four one one one …",
"oh seven seven double nine …", "john dot smith at gmail dot com"); and identity details: names,
street addresses, postcodes and dates of birth (`identity_rules`, their cue words in
resources/identity.toml).

Numbers said as words are turned into digits first (`spoken_numbers`); the rules
(`redaction_rules`, their cue words in resources/redaction.toml) read those digits. `RULES` says
what is removed of numbers and e-mail addresses, `IDENTITY_RULES` of identity details; the settings
show both. docs/privacy.md has the measured recall and precision."""

from __future__ import annotations

from typing import Sequence

from companion.store.redaction_rules import LABELS, find, luhn_ok  # noqa: F401  (luhn_ok: public)
from companion.store.spoken_numbers import BOUNDARY

RULES = (
    ("card number", "13–19 digits that pass the Luhn check, typed or said in any grouping "
                    "(\"four one one one …\", \"forty one eleven …\", with \"double\", \"dash\" or pauses) → [card]"),
    ("security code and PIN", "the digits after \"security code\", \"CVV\", \"CVC\", \"the three digits on the back\", "
                              "\"PIN\" → [code]"),
    ("expiry date", "the date after \"expiry\", \"expires\", \"expiration\", \"valid until\" → [expiry]"),
    ("national ID", "US social security numbers (3-2-4 or 9 digits after \"social security\"), UK national "
                    "insurance numbers (\"QQ 12 34 56 C\", letters spelled out), passport and licence numbers → [id]"),
    ("bank details", "IBANs (checked by their mod-97 sum, typed or read out), account numbers, sort codes and "
                     "routing numbers after those words → [account]"),
    ("phone number", "7–15 digits with a + or leading 0, a phone's grouping, or said after \"phone\", \"mobile\", "
                     "\"call me on\", and extensions → [phone]"),
    ("e-mail address", "name@domain, and addresses said aloud (\"john dot smith at gmail dot com\", \"underscore\", "
                       "\"dash\") → [email]"),
    ("long number", "any other 6 or more digits in a row → [number]; prices, times, dates, years, quantities and "
                    "short numbers are kept"),
)

IDENTITY_RULES = (
    ("name", "the words after \"my name is\", \"the account holder is\", \"this is … speaking\", a title (\"mrs\", "
             "\"mister\") or the agent's \"can I take your name\", and names spelled letter by letter → [name]"),
    ("street address", "a house number, street words and a street type (\"twenty two acacia avenue\"), with a flat or "
                       "unit → [address]"),
    ("postcode", "UK and Canadian postcodes said letter by letter, US ZIP and ZIP+4 after \"zip\" → [postcode]"),
    ("date of birth", "the date after \"date of birth\", \"born on\", \"D O B\", \"birthday\" → [dob]"),
)


def spans(text: str) -> list[tuple[int, int, str]]:
    """What to take out of `text`: (start, end, label), in order, never overlapping."""
    return find(text)


def redact(text: str) -> str:
    out, at = [], 0
    for start, end, label in spans(text):
        out += [text[at:start], label]
        at = end
    return "".join(out) + text[at:]


def redact_words(words: Sequence[str]) -> list[str]:
    """The words of one segment, redacted as the sentence they make: every word that is part of
    something taken out (a card number said as sixteen words) becomes that thing's label."""
    starts, at = [], 0
    for word in words:
        starts.append(at)
        at += len(word) + 1
    found = spans(" ".join(words))  # in order, never overlapping: one pass over the words and the finds
    out, at = [], 0
    for word, start in zip(words, starts):
        end = start + len(word)
        while at < len(found) and found[at][1] <= start:
            at += 1
        label = found[at][2] if at < len(found) and found[at][0] < end else None
        out.append(label if label is not None else word)
    return out


def redact_together(pieces: Sequence[tuple[Sequence[str], bool]]) -> list[list[str]]:
    """Several segments judged as one text: `pieces` are (words, continues), where `continues` says
    the piece goes on from the one before (the same speaker: a number may run on across them); a
    piece that does not continue is kept apart (another speaker: its cue words count, "what's the
    security code", but its numbers never join ours). Returns each piece's words, redacted."""
    words: list[str] = []
    bounds = []
    for n, (piece, continues) in enumerate(pieces):
        if n and not continues:
            words.append(BOUNDARY)
        bounds.append((len(words), len(words) + len(piece)))
        words.extend(piece)
    said = redact_words(words)
    return [said[a:b] for a, b in bounds]


def is_label(word: str) -> bool:
    return word in LABELS


