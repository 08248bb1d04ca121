"""Numbers as a speech recogniser writes them ("oh seven seven double nine", "forty one eleven",
"four thousand one hundred and eleven"), and as people type them, turned into digit strings.

`normalise(text)` finds every run of number words and digits in `text` and gives it back as a
`Normalised`: the text with each run written as digits, a map from every character of that text
back to the characters of `text` that produced it, and the runs themselves (where they are, their
digits, how they were said). The redaction rules read the digits; the map tells them which words
of the original to take out.

What a run is, said the way people read numbers:
- digits, one by one: zero / oh / o / nought, one … nine; "double nine" = 99, "triple five" = 555;
- numbers: ten … nineteen, twenty … ninety ("twenty one", "twenty-one"), "hundred", "thousand",
  "million", with "and" after them ("two hundred and fifty" = 250, "four thousand one hundred and
  eleven" = 4111, "forty one eleven" = 4111, "nineteen ninety nine" = 1999);
- digits already written as digits, alone or mixed with words ("4-5-3-2", "four 111 one");
- "point" between digits is a decimal point ("forty five point nine nine" = 45.99); a leading
  "plus" (or +) is kept ("plus forty four …" = +44…);
- fillers ("uh", "um", "sorry", a comma) and separators ("dash", "slash") between two digits do not
  end the run, so a card number read in groups is one run.
"twenty first" is an ordinal (a date), not a number; "oh" and "o" are zero only next to another number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, NamedTuple, Optional

UNITS = {"zero": 0, "oh": 0, "o": 0, "nought": 0, "naught": 0, "one": 1, "two": 2, "three": 3, "four": 4,
         "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
         "seventeen": 17, "eighteen": 18, "nineteen": 19}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
        "eighty": 80, "ninety": 90}
MULTIPLIERS = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
REPEATS = {"double": 2, "triple": 3, "treble": 3}
ORDINALS = {"first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "1st", "2nd",
            "3rd", "4th", "5th", "6th", "7th", "8th", "9th"}
WEAK_ZEROS = {"oh", "o"}   # zero only beside another number ("oh I see" is not a number)

TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|\S")

# what ends a run, whatever else is said: a hard boundary between two speakers' words
BOUNDARY = "\u2016"


class Token(NamedTuple):
    text: str
    start: int
    end: int
    low: str          # lowercase, with a typographic apostrophe as "'"
    digits: bool      # written as digits
    punct: bool       # one character that is not a letter or a digit


def tokenize(text: str) -> list[Token]:
    out: list[Token] = []
    for m in TOKEN.finditer(text):   # each token's forms worked out once: the rules ask for them many times
        word = m.group(0)
        out.append(Token(word, m.start(), m.end(), word.lower().replace("’", "'"), word.isdecimal(),
                         len(word) == 1 and not word.isalnum()))
    return out


@dataclass
class Chunk:
    """One number said as a unit: a digit ("four"), a number ("forty one", "two hundred and fifty"),
    a repeat ("double nine") or digits as written ("4111")."""
    first: int
    last: int
    small: int = 0
    big: int = 0
    text: Optional[str] = None      # digits as written, or a repeat
    slot: Optional[str] = None      # "units" after a tens word, "sub100" after a multiplier or "and"
    last_mult: Optional[int] = None
    hundred: bool = False
    multiplied: bool = False
    decimal: bool = False           # after "point"

    def render(self) -> str:
        if self.text is not None and not self.multiplied:
            return self.text
        return str(self.big + self.small)


@dataclass
class Run:
    """A run of digits in the text: tokens first…last (inclusive), what they say as digits."""
    first: int
    last: int
    chunks: list[Chunk] = field(default_factory=list)
    plus: Optional[int] = None       # index of a leading "+" / "plus" token
    marks: dict[int, str] = field(default_factory=dict)   # chunk index -> ".", "/", ":" or "-" said before it
    spoken: bool = False             # some of it said as words

    @property
    def digits(self) -> str:
        return "".join(c.render() for c in self.chunks)

    @property
    def point(self) -> bool:
        return "." in self.marks.values()

    @property
    def slash(self) -> bool:
        return "/" in self.marks.values()

    @property
    def colon(self) -> bool:
        return ":" in self.marks.values()

    @property
    def groups(self) -> list[int]:
        """Lengths of the groups the run was written or said in, split at dashes, slashes and typed spaces."""
        out, n = [], 0
        for i, chunk in enumerate(self.chunks):
            if i in self.marks and n:
                out.append(n)
                n = 0
            n += len(chunk.render())
        return out + [n]

    @property
    def amount(self) -> bool:
        """One number with a multiplier in it ("two hundred and fifty thousand"): an amount, not an ID."""
        return len(self.chunks) == 1 and self.chunks[0].multiplied

    def render(self) -> str:
        out = "+" if self.plus is not None else ""
        for i, chunk in enumerate(self.chunks):
            out += self.marks.get(i, "") if self.marks.get(i) != "-" else ""
            out += chunk.render()
        return out


class _Lexicon:
    def __init__(self, fillers: Iterable[str] = (), separators: Iterable[str] = (), slash: Iterable[str] = (),
                 max_fillers: int = 2):
        self.fillers = set(fillers) | {","}
        self.separators = set(separators) | {"-"}  # an en or em dash is a range ("aim for 140–160"), not a group break
        self.slash = set(slash) | {"/"}
        self.max_fillers = max_fillers


def _unit(tok: Token) -> Optional[int]:
    if tok.low in UNITS:
        return UNITS[tok.low]
    return None


class _Parser:
    def __init__(self, tokens: list[Token], lex: _Lexicon):
        self.t, self.lex, self.n = tokens, lex, len(tokens)

    def low(self, i: int) -> str:
        return self.t[i].low if 0 <= i < self.n else ""

    def next_word(self, i: int) -> int:
        """The next token after i that is not a filler or separator."""
        j = i + 1
        while j < self.n and (self.low(j) in self.lex.fillers or self.low(j) in self.lex.separators):
            j += 1
        return j

    def numberish(self, i: int, after_number: bool = False) -> bool:
        """Token i can be (part of) a number here."""
        if not 0 <= i < self.n:
            return False
        tok, low = self.t[i], self.low(i)
        if tok.digits:
            return True
        if low in WEAK_ZEROS:
            if after_number:
                return True
            k = self.next_word(i)
            while self.low(k) in WEAK_ZEROS:   # "oh oh seven"
                k = self.next_word(k)
            return self.numberish(k, True) and self.low(k) not in MULTIPLIERS
        if low in UNITS or low in TEENS:
            return True
        if low in TENS:
            return self.low(i + 1) not in ORDINALS and not (self.low(i + 1) == "-" and self.low(i + 2) in ORDINALS)
        if low in MULTIPLIERS:
            return after_number
        if low in REPEATS:
            j = i + 1
            return j < self.n and (self.low(j) in UNITS or (self.t[j].digits and len(self.t[j].text) == 1))
        if low == "a":
            return self.low(i + 1) in MULTIPLIERS
        return False

    def runs(self) -> list[Run]:
        out, i = [], 0
        while i < self.n:
            start = i
            plus = None
            if self.low(i) in ("+", "plus") and self.numberish(i + 1):
                plus, i = i, i + 1
            if self.numberish(i):
                run, i = self.run(i)
                if plus is not None:
                    run.plus, run.first = plus, plus
                if run.first > 0 and self.low(run.first - 1) == "(" and self.t[run.first].digits:
                    run.first -= 1
                out.append(run)
            else:
                i = start + 1
        return out

    def run(self, i: int) -> tuple[Run, int]:
        run = Run(i, i)
        cur: Optional[Chunk] = None
        gap: list[int] = []       # fillers and separators since the last number token
        mark: Optional[str] = None
        decimal = False
        j = i
        while j < self.n:
            tok, low = self.t[j], self.low(j)
            if low == BOUNDARY:
                break
            if low in self.lex.fillers or low in self.lex.separators or low in self.lex.slash or low in (":", ".", ")"):
                if low == ")":
                    if self.t[j - 1].digits:
                        run.last = j
                    j += 1
                    continue
                if low == "." and not (self.t[j - 1].digits and j + 1 < self.n and self.t[j + 1].digits
                                       and self.t[j - 1].end == tok.start == self.t[j + 1].start - 1):
                    break  # a full stop ends the run; only 45.99 written together is a decimal point
                if low == "," and not (self._spoken_side(j)) and not (len(self.t[j - 1].text) >= 4 and
                                                                       j + 1 < self.n and len(self.t[j + 1].text) >= 4):
                    break  # "12, 15, 18": a list, not one number
                gap.append(j)
                if len([g for g in gap if self.low(g) not in (",", "-")]) > self.lex.max_fillers:
                    break
                joined = low == "-" and not self.t[j - 1].digits and self.t[j - 1].end == tok.start
                mark = "/" if low in self.lex.slash else ":" if low == ":" else "." if low == "." else \
                    "-" if low in self.lex.separators and not joined else mark
                j += 1
                continue
            if low == "point" and cur is not None and not decimal and self.numberish(j + 1):
                decimal, mark = True, "."
                j += 1
                continue
            if low == "and" and cur is not None and cur.slot == "sub100" and not gap and \
                    (self.low(j + 1) in UNITS or self.low(j + 1) in TEENS or self.low(j + 1) in TENS):
                j += 1
                continue
            if not self.numberish(j, after_number=cur is not None):
                break
            if tok.digits and not gap and cur is not None and self.t[j - 1].digits and mark is None:
                mark = "-"  # typed groups "4111 1111": a group break
            cur = self.word(run, cur, j, mark, decimal)
            mark = None
            run.last = self.consumed - 1
            gap = []
            j = self.consumed
        if run.last + 1 < self.n and self.low(run.last + 1) == ")" and self.t[run.last].digits:
            run.last += 1
        return run, max(run.last + 1, i + 1)

    def _spoken_side(self, j: int) -> bool:
        return not (self.t[j - 1].digits if j > 0 else False) or not (self.t[j + 1].digits if j + 1 < self.n else False)

    def word(self, run: Run, cur: Optional[Chunk], j: int, mark: Optional[str], decimal: bool) -> Chunk:
        """Take number token j into the run; returns the chunk now open. Sets self.consumed."""
        tok, low = self.t[j], self.low(j)
        self.consumed = j + 1

        def new(small: int = 0, text: Optional[str] = None, slot: Optional[str] = None, multiplied: bool = False) -> Chunk:
            chunk = Chunk(j, j, small=small, text=text, slot=slot, multiplied=multiplied, decimal=decimal)
            if mark is not None:
                run.marks[len(run.chunks)] = mark
            run.chunks.append(chunk)
            return chunk

        open_ = cur if cur is not None and mark is None and cur.decimal == decimal else None  # the chunk this word may join
        if tok.digits:
            chunk = new(small=int(tok.text) if len(tok.text) <= 3 else 0, text=tok.text)
            return chunk
        run.spoken = True
        if low in REPEATS:
            digit = self.t[j + 1]
            self.consumed = j + 2
            chunk = new(text=(digit.text if digit.digits else str(UNITS[digit.low])) * REPEATS[low])
            chunk.last = j + 1
            return chunk
        if low == "a":
            return new(small=1)
        value = _unit(tok)
        if value is not None:
            if value and open_ and open_.slot in ("units", "sub100") and open_.text is None:
                open_.small += value
                open_.slot = None
                open_.last = j
                return open_
            return new(small=value, text=str(value) if value == 0 else None)
        if low in TEENS or low in TENS:
            value = TEENS.get(low) or TENS[low]
            if open_ and open_.slot == "sub100" and open_.small % 100 == 0:
                open_.small += value
                open_.slot = "units" if low in TENS else None
                open_.last = j
                return open_
            return new(small=value, slot="units" if low in TENS else None)
        mult = MULTIPLIERS[low]
        if open_ and mult == 100 and 1 <= open_.small <= 99 and not open_.hundred and (open_.text is None or len(open_.text) <= 2):
            open_.small, open_.hundred, open_.multiplied, open_.slot, open_.last = open_.small * 100, True, True, "sub100", j
            return open_
        if open_ and mult > 100 and open_.small and (open_.last_mult is None or mult < open_.last_mult) and \
                (open_.text is None or len(open_.text) <= 3):
            open_.big += open_.small * mult
            open_.small, open_.hundred, open_.multiplied, open_.slot, open_.last_mult, open_.last = 0, False, True, "sub100", mult, j
            return open_
        chunk = new(small=mult, slot="sub100", multiplied=True)
        chunk.hundred = mult == 100
        chunk.last_mult = mult if mult > 100 else None
        if mult > 100:
            chunk.big, chunk.small = mult, 0
        return chunk


@dataclass
class Normalised:
    """`text` with every run written as digits; `origin[i]` is the (start, end) in the source of what
    produced character i of `text`."""
    source: str
    text: str
    origin: list[tuple[int, int]]
    tokens: list[Token]
    runs: list[Run]
    run_at: dict[int, Run]           # token index -> the run holding it

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """The part of the source that produced text[start:end]."""
        cover = self.origin[start:end]
        return min(a for a, _ in cover), max(b for _, b in cover)


def normalise(text: str, fillers: Iterable[str] = (), separators: Iterable[str] = (), slash: Iterable[str] = (),
              max_fillers: int = 2) -> Normalised:
    tokens = tokenize(text)
    runs = _Parser(tokens, _Lexicon(fillers, separators, slash, max_fillers)).runs()
    out: list[str] = []
    origin: list[tuple[int, int]] = []
    run_at: dict[int, Run] = {}
    at = 0
    for run in runs:
        for k in range(run.first, run.last + 1):
            run_at[k] = run
        start, end = tokens[run.first].start, tokens[run.last].end
        for ch_at in range(at, start):   # what lies between runs, as it was
            out.append(text[ch_at])
            origin.append((ch_at, ch_at + 1))
        whole, begin = (start, end), len(origin)
        if run.plus is not None:
            out.append("+")
            origin.append((tokens[run.plus].start, tokens[run.plus].end))
        for i, chunk in enumerate(run.chunks):
            mark = run.marks.get(i)
            if mark and mark != "-":
                out.append(mark)
                origin.append(whole)
            span = (tokens[chunk.first].start, tokens[chunk.last].end)
            for ch in chunk.render():
                out.append(ch)
                origin.append(span)
        origin[begin] = (start, origin[begin][1])   # "(" and "+" before, ")" after the digits
        origin[-1] = (origin[-1][0], end)
        at = end
    for ch_at in range(at, len(text)):
        out.append(text[ch_at])
        origin.append((ch_at, ch_at + 1))
    return Normalised(text, "".join(out), origin, tokens, runs, run_at)
