"""The redaction rules: what in a text (a recogniser's words, a typed note) is personal, as spans of
the text with the label that replaces them. `find(text)` runs every rule; `redaction.py` applies them.

The words around numbers (cue words, fillers, units, e-mail words, letter names) are data, in
resources/redaction.toml, read once. Every number in the text is first turned into digits
(`spoken_numbers.normalise`); the rules read those digits, so a card number said as words and one
typed as digits meet the same rule.
"""

from __future__ import annotations

import functools
import re
import sys
from dataclasses import dataclass
from typing import Iterable, Optional

from companion.store import identity_rules
from companion.store.spoken_numbers import BOUNDARY, Normalised, Run, normalise

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

RESOURCE = "redaction.toml"
LABELS = ("[card]", "[code]", "[expiry]", "[id]", "[account]", "[phone]", "[email]", "[number]") + identity_rules.LABELS

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
IBAN_START = re.compile(r"[A-Za-z]{1,2}(?:\d{2}[A-Za-z0-9]{0,4})?")
SSN = re.compile(r"(?<![\w-])\d{3}[- ]\d{2}[- ]\d{4}(?![\w-])")


def _phrases(words: Iterable[str]) -> list[tuple[str, ...]]:
    return [tuple(w.split()) for w in words]


@dataclass(frozen=True)
class Config:
    gap_s: float
    max_pieces: int
    long_digits: int
    max_fillers: int
    fillers: tuple[str, ...]
    separators: tuple[str, ...]
    slash: tuple[str, ...]
    glue: frozenset[str]
    glue_words: int
    cues: dict[str, list[tuple[tuple[str, ...], str]]]   # first word -> [(phrase, kind)], longest first
    before: frozenset[str]
    after: frozenset[str]
    at: list[tuple[str, ...]]
    joiners: dict[tuple[str, ...], str]                  # phrase -> character
    tlds: frozenset[str]
    stop: frozenset[str]
    not_domain: frozenset[str]
    letters: dict[str, str]                              # spoken name -> letter
    months: frozenset[str]


@functools.lru_cache(maxsize=1)
def config() -> Config:
    from companion.resources import resource_path

    data = tomllib.loads(resource_path(RESOURCE).read_text(encoding="utf-8"))
    cues: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    kinds = ("card", "code", "expiry", "ssn", "national_insurance", "iban", "account", "id", "phone", "extension",
             "reference", "partial")
    for kind in kinds:
        for phrase in _phrases(data["cues"][kind]):
            cues.setdefault(phrase[0], []).append((phrase, kind))
    for entries in cues.values():
        entries.sort(key=lambda e: -len(e[0]))
    n = data["numbers"]
    letters: dict[str, str] = {}
    for letter, names in data["letters"]["names"]:
        for name in names:
            letters.setdefault(name, letter)
    months = frozenset(data["letters"]["months"])
    return Config(
        gap_s=float(data["segments"]["gap_s"]), max_pieces=int(data["segments"]["max_pieces"]),
        long_digits=int(n["long_digits"]), max_fillers=int(n["max_fillers"]), fillers=tuple(n["fillers"]),
        separators=tuple(n["separators"]), slash=tuple(n["slash"]),
        glue=frozenset(data["cues"]["glue"]) | months | {BOUNDARY}, glue_words=int(data["cues"]["glue_words"]),
        cues=cues, before=frozenset(data["amounts"]["before"]), after=frozenset(data["amounts"]["after"]),
        at=sorted(_phrases(data["email"]["at"]), key=len, reverse=True),
        joiners={tuple(p.split()): ch for p, ch in data["email"]["joiners"]},
        tlds=frozenset(data["email"]["tlds"]), stop=frozenset(data["email"]["stop"]),
        not_domain=frozenset(data["email"]["not_domain"]), letters=letters, months=months)


def _bare(low: str) -> str:
    """A word without its "'s" ("expiry's" -> "expiry")."""
    return low[:-2] if len(low) > 2 and low.endswith("'s") and (low[-3].isalnum() or low[-3] == "_") else low


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(compact: str) -> bool:
    compact = compact.upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact):
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


class _Text:
    """One text being judged: its tokens, runs and cues."""

    def __init__(self, text: str, cfg: Config):
        self.cfg = cfg
        self.n: Normalised = normalise(text, cfg.fillers, cfg.separators, cfg.slash, cfg.max_fillers)
        self.tok = self.n.tokens
        self.low = [_bare(t.low) for t in self.tok]   # "expiry's", "number's": the word
        self.cue_end: dict[int, tuple[str, int]] = {}    # last token of a cue -> (kind, first token)
        self.in_cue: set[int] = set()
        self._match_cues()

    def _words(self) -> list[int]:
        return [i for i, t in enumerate(self.tok) if not t.punct]

    def _match_cues(self) -> None:
        words = self._words()
        said = [self.low[w] for w in words]
        k = 0
        while k < len(words):
            for phrase, kind in self.cfg.cues.get(said[k], ()):
                if tuple(said[k:k + len(phrase)]) == phrase:
                    first, last = words[k], words[k + len(phrase) - 1]
                    self.cue_end[last] = (kind, first)
                    self.in_cue.update(range(first, last + 1))
                    k += len(phrase) - 1
                    break
            k += 1

    def cue_before(self, first: int) -> tuple[Optional[str], list[int]]:
        """The cue said before token `first` with only glue words between, and the tokens walked."""
        walked: list[int] = []
        words, k = 0, first - 1
        while k >= 0 and words <= self.cfg.glue_words:
            if k in self.cue_end:
                return self.cue_end[k][0], walked
            run = self.n.run_at.get(k)
            if run is not None and not self._inside_cue(run):
                return None, walked
            if run is None and not self.tok[k].punct and self.low[k] not in self.cfg.glue:
                return None, walked
            if not self.tok[k].punct:
                words += 1
            walked.append(k)
            k -= 1
        return None, walked

    def cue_after(self, last: int) -> Optional[str]:
        """"one two three is my security code": a cue right after, with at most "is my" between."""
        k, steps = last + 1, 0
        while k < len(self.tok) and steps <= 3:
            for _end, (kind, start) in self.cue_end.items():
                if start == k:
                    return kind if kind not in ("reference", "partial") else None
            if self.low[k] not in ("is", "was", "that's", "thats", "it's", "its", "my", "the", "your", "being", "as"):
                return None
            k, steps = k + 1, steps + 1
        return None

    def _inside_cue(self, run: Run) -> bool:
        return all(k in self.in_cue for k in range(run.first, run.last + 1))

    def span(self, first: int, last: int) -> tuple[int, int]:
        return self.tok[first].start, self.tok[last].end

    # --- numbers -----------------------------------------------------------------------------

    def amount_words(self, run: Run) -> bool:
        """Said with a currency or a unit: "two hundred and fifty pounds", "£45", "three days"."""
        before = self.low[max(0, run.first - 3):run.first]   # "the price is …", "£45"
        after = self.low[run.last + 1] if run.last + 1 < len(self.tok) else ""
        return any(w in self.cfg.before for w in before) or after in self.cfg.after

    def judge(self, run: Run, cue: Optional[str]) -> Optional[str]:
        digits = run.digits
        nd, long = len(digits), self.cfg.long_digits
        card = 13 <= nd <= 19 and luhn_ok(digits) and not run.point and run.plus is None and not digits.startswith("00")
        if card and cue not in ("phone", "account", "ssn", "id"):
            return "[card]"
        if run.point or run.colon:
            return None                                   # 45.99, 10:30: a price, a time
        if cue == "partial" and nd <= 4:
            return None                                   # "ending in one two three four": may be kept
        if self.amount_words(run) and nd < 13:
            return None
        if cue == "code" and 3 <= nd <= 8:
            return "[code]"
        if cue == "expiry" and (3 <= nd <= 8 or (nd == 2 and self._month_before(run))):
            return "[expiry]"
        if cue == "ssn" and nd in (4, 9):
            return "[id]"
        if cue in ("id", "national_insurance") and nd >= 5:
            return "[id]"
        if cue in ("account", "iban") and nd >= 6:
            return "[account]"
        if cue == "phone" and 7 <= nd <= 15:
            return "[phone]"
        if cue == "extension" and 1 <= nd <= 6:
            return "[phone]"
        if cue == "card" and 4 <= nd <= 12:
            return "[card]"                               # the first groups of a card number read with a pause
        if nd >= 13:
            return "[phone]" if nd <= 15 and (run.plus is not None or digits.startswith("00")) else "[number]"
        if run.amount or (run.slash and nd <= 8) or self._typed_date(run):
            return None                                   # "two hundred and fifty thousand", 12/05/2024, 2026-01-05
        if run.groups == [3, 2, 4] and not run.spoken:
            return "[id]"
        if 7 <= nd <= 15 and cue != "reference" and self._phone_shape(run):
            return "[phone]"
        return "[number]" if nd >= long else None

    @staticmethod
    def _typed_date(run: Run) -> bool:
        """2026-01-05, 05-01-2026, 5.1.2026: a date typed with separators (a delivery date, not a phone)."""
        if run.spoken or len(run.chunks) != 3 or run.point:
            return False
        parts = [int(c.render()) for c in run.chunks]
        lengths = [len(c.render()) for c in run.chunks]
        if lengths[0] == 4:
            year, a, b = parts
        elif lengths[2] == 4 and lengths[0] <= 2 and lengths[1] <= 2:
            a, b, year = parts
        else:
            return False
        return 1900 <= year <= 2100 and 1 <= min(a, b) and min(a, b) <= 12 and max(a, b) <= 31

    def _month_before(self, run: Run) -> bool:
        """"expires june twenty seven": a month right before the year."""
        return run.first > 0 and self.low[run.first - 1] in self.cfg.months

    @staticmethod
    def _phone_shape(run: Run) -> bool:
        digits, nd, groups = run.digits, len(run.digits), run.groups
        if run.plus is not None or digits.startswith("00") or (digits.startswith("0") and 10 <= nd <= 11) or nd in (7, 10) \
                or (nd == 11 and digits.startswith("1")):   # 1 800 …: a North American number with its country code
            return True
        return not run.spoken and len(groups) >= 2 and all(1 <= g <= 4 for g in groups) and nd <= 13

    def runs(self) -> list[tuple[int, int, str]]:
        out = []
        for run in self.n.runs:
            if self._inside_cue(run):
                continue
            cue, walked = self.cue_before(run.first)
            cue = cue or self.cue_after(run.last)
            label = self.judge(run, cue)
            if label is None:
                continue
            first = run.first
            if label == "[expiry]":   # "expires april twenty six": the month too
                months = [k for k in walked if self.low[k] in self.cfg.months]
                first = min(months, default=first)
            out.append((*self.span(first, run.last), label))
        return out

    # --- e-mail said aloud ---------------------------------------------------------------------

    def _phrase_at(self, k: int, phrases: Iterable[tuple[str, ...]]) -> int:
        """Length in tokens of the first of `phrases` that starts at token k, or 0."""
        for phrase in phrases:
            if tuple(self.low[k:k + len(phrase)]) == phrase:
                return len(phrase)
        return 0

    def _name_word(self, k: int) -> bool:
        if not 0 <= k < len(self.tok) or self.low[k] == BOUNDARY:
            return False
        return k in self.n.run_at or (not self.tok[k].punct and self.low[k] not in self.cfg.stop)

    def emails(self) -> list[tuple[int, int, str]]:
        out: list[tuple[int, int, str]] = []
        joiners, dots = sorted(self.cfg.joiners, key=len, reverse=True), [("dot",), ("period",), ("point",), (".",)]
        firsts = {phrase[0] for phrase in self.cfg.at}
        if not any(low in firsts for low in self.low):
            return out   # no "at" said: no address said aloud
        for k in range(1, len(self.tok)):
            size = self._phrase_at(k, self.cfg.at)
            if not size or not self._name_word(k - 1):
                continue
            j = k + size
            if not (j < len(self.tok) and self.tok[j].text.isalnum() and self.low[j] not in self.cfg.not_domain
                    and self.low[j] not in self.cfg.stop):
                continue
            end, last, words, dotted = j, j, 1, False
            while True:   # the domain: words joined by "dot" or "dash", ending in a known ending
                step = self._phrase_at(last + 1, dots) or self._phrase_at(last + 1, [("dash",), ("hyphen",), ("-",)])
                nxt = last + 1 + step
                if step and nxt < len(self.tok) and self.tok[nxt].text.isalnum():
                    dotted = dotted or bool(self._phrase_at(last + 1, dots))
                    last = nxt
                    if dotted and self.low[last] in self.cfg.tlds:
                        end = last
                    continue
                if not dotted and words < 3 and self._name_word(last + 1):   # "hot mail dot com"
                    last, words = last + 1, words + 1
                    continue
                break
            if end == j:
                continue
            first, back = k - 1, k - 1   # the name before "at": words, digits and "dot", "underscore", "dash"
            taken = 0
            while back >= 0 and taken < 8:
                size = next((len(p) for p in joiners if back - len(p) + 1 >= 0
                             and tuple(self.low[back - len(p) + 1:back + 1]) == p), 0) \
                    or (1 if self.low[back] in (".", "_", "-", "+") else 0)
                if size and self._name_word(back - size):
                    back -= size
                elif self._name_word(back) or (len(self.low[back]) == 1 and self.low[back].isalpha()
                                               and len(self.low[first]) == 1):   # spelled: "a l i c e"
                    first, back, taken = back, back - 1, taken + 1
                else:
                    break
            out.append((*self.span(first, end), "[email]"))
        return out

    # --- national insurance numbers and IBANs ------------------------------------------------

    def _letter(self, k: int, spoken_names: bool) -> Optional[str]:
        if not 0 <= k < len(self.tok) or k in self.n.run_at:
            return None
        low = self.low[k]
        if len(low) == 1 and low.isalpha():
            return low
        return self.cfg.letters.get(low) if spoken_names else None

    def insurance(self) -> list[tuple[int, int, str]]:
        """UK national insurance: two letters, six digits, a letter A–D ("q q one two three four five six c")."""
        out = []
        for _tok_i, tok in enumerate(self.tok):   # typed together: QQ123456C
            if re.fullmatch(r"[A-Za-z]{2}\d{6}[A-Da-d]?", tok.text):
                out.append((tok.start, tok.end, "[id]"))
        for run in self.n.runs:
            if len(run.digits) != 6 or run.point or run.slash:
                continue
            named = any(self.cue_before(k)[0] == "national_insurance" for k in range(run.first - 2, run.first + 1) if k >= 0)
            first = run.first
            if first > 0 and re.fullmatch(r"[a-z]{2}", self.low[first - 1]) and \
                    (named or self.tok[first - 1].text.isupper()):
                first -= 1
            else:
                a, b = self._letter(first - 2, named), self._letter(first - 1, named)
                if a and b:
                    first -= 2
            if first == run.first:
                continue
            last = run.last
            suffix = self._letter(last + 1, named)
            if suffix and suffix in "abcd":
                last += 1
            elif not named:
                continue
            out.append((*self.span(first, last), "[id]"))
        return out

    def ibans(self) -> list[tuple[int, int, str]]:
        """An IBAN typed or read out ("g b eight two west one two three four …"): checked by its mod-97 sum."""
        out, n = [], len(self.tok)
        said_iban = any(kind == "iban" for kind, _ in self.cue_end.values())   # else no token is "named"
        for k in range(n):
            if k in self.n.run_at or not re.fullmatch(r"[A-Za-z]{1,2}(?:\d{2}[A-Za-z0-9]{0,4})?|[a-z]+", self.tok[k].text):
                continue
            if not said_iban and not IBAN_START.fullmatch(self.tok[k].text):
                continue
            cue, _ = self.cue_before(k) if said_iban else (None, [])
            named = cue == "iban"
            if not (named or re.fullmatch(r"[A-Za-z]{1,2}(?:\d{2}[A-Za-z0-9]{0,4})?", self.tok[k].text)):
                continue
            compact, j, best, digits_end = "", k, None, None
            while j < n and len(compact) <= 34:
                run = self.n.run_at.get(j)
                if run is not None:
                    compact += run.digits
                    j = run.last + 1
                    digits_end = run.last
                elif letter := self._letter(j, named):
                    compact += letter
                    j += 1
                elif self.tok[j].text.isalnum() and len(self.tok[j].text) <= 4 + 2 * (j == k):
                    compact += self.tok[j].text
                    j += 1
                else:
                    break
                if len(compact) >= 4 and not re.fullmatch(r"[A-Za-z]{2}\d{2}.*", compact):
                    break
                if len(compact) >= 15 and iban_ok(compact):
                    best = j - 1
            if best is None and named and digits_end is not None and sum(ch.isdigit() for ch in compact) >= 10:
                best = digits_end   # said after "IBAN" but misheard: its sum fails, it is still an account
            if best is not None:
                out.append((*self.span(k, best), "[account]"))
        return out


def find(text: str) -> list[tuple[int, int, str]]:
    """Every personal thing in `text`: (start, end, label), in order, never overlapping; an earlier
    rule's find wins (an e-mail over the digits inside it, an IBAN over its account number)."""
    cfg = config()
    judged = _Text(text, cfg)
    candidates = [(m.start(), m.end(), "[email]") for m in EMAIL.finditer(text)]
    candidates += judged.emails() + judged.ibans() + judged.insurance()
    candidates += [(m.start(), m.end(), "[id]") for m in SSN.finditer(text)]
    candidates += identity_rules.find(judged)   # names, addresses, postcodes, dates of birth: before the numbers in them
    candidates += judged.runs()
    found: list[tuple[int, int, str]] = []
    taken = bytearray(len(text))  # the characters already in a find: one look per candidate, not one per find
    for start, end, label in candidates:
        if start >= end:  # an empty span (none of the rules makes one): judged against every find
            if not any(start < e and s < end for s, e, _ in found):
                found.append((start, end, label))
        elif taken.find(1, start, end) < 0:
            found.append((start, end, label))
            taken[start:end] = b"\x01" * (end - start)
    return sorted(found)
