"""Identity details in a text, as a speech recogniser writes them: names after the cues people use
("my name is jane doe", "this is tom baker speaking", "the account holder is …", "mrs patel",
"spelled k o w a l s k i"), street addresses (a house number, street words and a street type:
"twenty two acacia avenue"), postcodes (UK "s w one a one a a", Canadian "k one a zero b one", US
ZIP "nine oh two one oh" after "zip") and dates of birth after "date of birth", "born on", "d o b"
("fourth of july nineteen eighty two", "oh four oh seven eighty two").

`find(judged)` is called by `redaction_rules.find` with the text already tokenised and its numbers
read as digits (`spoken_numbers`), so "twenty two" is a house number and "nine oh two one oh" a ZIP.
The cue words and word lists are data, in resources/identity.toml. The names of both parties are
taken out alike: the agent's "my name is sarah" too (docs/privacy.md says why).
"""

from __future__ import annotations

import functools
import re
import sys
from dataclasses import dataclass
from typing import Iterable, Optional, Protocol

from companion.store.spoken_numbers import BOUNDARY, MULTIPLIERS, TEENS, TENS, UNITS, Normalised, Token

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

RESOURCE = "identity.toml"
LABELS = ("[name]", "[address]", "[postcode]", "[dob]")

UK = re.compile(r"[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?\d[ABD-HJLNP-UW-Z]{2}")
UK_OUTWARD = re.compile(r"[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?")
CANADA = re.compile(r"[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z]\d[ABCEGHJ-NPRSTV-Z]\d")
TYPED_POSTCODE = re.compile(r"[A-Za-z]{1,2}\d[A-Za-z\d]?|\d[A-Za-z]{2}|[A-Za-z]{1,2}\d[A-Za-z\d]?\d[A-Za-z]{2}"
                            r"|[A-Za-z]\d[A-Za-z]|\d[A-Za-z]\d|[A-Za-z]\d[A-Za-z]\d[A-Za-z]\d")
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
TYPED_ORDINAL = re.compile(r"(\d{1,2})(?:st|nd|rd|th)")
SPELL_JOINERS = ("apostrophe", "hyphen", "dash", "space", "-", "'", ".")
DATE_REACH = 12       # a date this many words after "date of birth" is the date of birth (a name may come first)
SPELLED_ALONE = 5     # letters said one by one, no cue: an acronym has fewer ("b b c", "h m r c")
UNIT_WORDS = ("flat", "apartment", "apt", "unit", "suite")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _phrases(words: Iterable[str]) -> list[tuple[str, ...]]:
    return [tuple(w.split()) for w in words]


@dataclass(frozen=True)
class IdentityConfig:
    cues: dict[str, list[tuple[tuple[str, ...], str]]]   # first word -> [(phrase, kind)], longest first
    glue: frozenset[str]
    glue_words: int
    name_ends: frozenset[str]
    titles: frozenset[str]
    weak_titles: frozenset[str]
    max_name_words: int
    function: frozenset[str]     # never a word of a name or of a street
    never: frozenset[str]        # never a word of a name
    street_types: frozenset[str]
    weak_types: frozenset[str]
    units: frozenset[str]
    after_number: frozenset[str]
    max_street_words: int
    states: dict[str, list[tuple[str, ...]]]             # first word -> state names, longest first
    ordinals: dict[str, int]
    months: dict[str, int]
    nato: frozenset[str]
    also_names: frozenset[str]   # ordinary words that are names too ("will", "grace"), after a cue and before a name
    person: frozenset[str]       # "the lady … was called priya": a person said before "called"


@functools.lru_cache(maxsize=1)
def config() -> IdentityConfig:
    from companion.resources import resource_path

    data = tomllib.loads(resource_path(RESOURCE).read_text(encoding="utf-8"))
    c, names, streets, dates = data["cues"], data["names"], data["addresses"], data["dates"]
    cues: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for kind in ("name", "name_if_ended", "name_if_person", "spell", "address", "postcode", "dob", "not_identity"):
        for phrase in _phrases(c[kind]):
            cues.setdefault(phrase[0], []).append((phrase, kind))
    for entries in cues.values():
        entries.sort(key=lambda e: -len(e[0]))
    function = frozenset(names["function"])
    states: dict[str, list[tuple[str, ...]]] = {}
    for phrase in sorted(_phrases(streets["us_states"]), key=len, reverse=True):
        states.setdefault(phrase[0], []).append(phrase)
    nato = frozenset(("alpha", "alfa", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
                      "juliet", "juliett", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo",
                      "sierra", "tango", "uniform", "victor", "whiskey", "whisky", "xray", "x-ray", "yankee", "zulu"))
    return IdentityConfig(
        cues=cues, glue=frozenset(c["glue"]) | {BOUNDARY}, glue_words=int(c["glue_words"]),
        name_ends=frozenset(names["after"]), titles=frozenset(names["titles"]),
        weak_titles=frozenset(names["weak_titles"]), max_name_words=int(names["max_words"]),
        function=function, never=function | frozenset(names["ordinary"]) | frozenset(WEEKDAYS),
        street_types=frozenset(streets["street_types"]), weak_types=frozenset(streets["weak_types"]),
        units=frozenset(streets["units"]), after_number=frozenset(streets["after_number"]),
        max_street_words=int(streets["max_street_words"]), states=states,
        ordinals={w: n for w, n in dates["ordinals"]}, months={w: n for w, n in dates["months"]}, nato=nato,
        also_names=frozenset(names["also_names"]), person=frozenset(names["person"]))


class _Words(Protocol):
    @property
    def letters(self) -> dict[str, str]: ...   # spoken name -> letter

    @property
    def after(self) -> frozenset[str]: ...     # the words after an amount's number


class Judged(Protocol):
    """What this module reads of redaction_rules' view of a text (which imports this module)."""

    tok: list[Token]
    low: list[str]          # each token's word, without its "'s"
    n: Normalised

    @property
    def cfg(self) -> _Words: ...

    def span(self, first: int, last: int) -> tuple[int, int]: ...   # tokens first…last as a span of the text


NUMBER_WORDS = frozenset(UNITS) | frozenset(TEENS) | frozenset(TENS) | frozenset(MULTIPLIERS) | {"double", "triple"}


class Identity:
    """One text's identity details. `judged` is redaction_rules' view of the text (tokens, runs)."""

    def __init__(self, judged: Judged, cfg: IdentityConfig):
        self.j, self.cfg = judged, cfg
        self.tok = judged.tok
        self.n = len(self.tok)
        self.low = [t.low for t in self.tok]
        self.bare = judged.low                     # "name's" -> "name"
        self.run_at = judged.n.run_at
        self.letters = [self._spelled_letter(k) for k in range(self.n)]
        self.matches: list[tuple[int, int, str]] = []   # (first, last, kind) of every cue said
        self.in_cue: set[int] = set()
        self._match_cues()

    # --- cues ----------------------------------------------------------------------------------
    def _match_cues(self) -> None:
        for k in range(self.n):   # "the name on the policy is", "the name of the account holder is"
            if self.bare[k] in ("name", "surname", "names") and not any(last == k for _, last, _ in self.matches):
                j = k + 1
                while j < min(self.n, k + 6) and (self.low[j] in self.cfg.never) and self.low[j] not in ("is", "was"):
                    j += 1
                between = set(self.low[k + 1:j])
                whose = "on" in between or (between & (self.cfg.person | {"holder", "payer", "owner", "customer"}))
                if j < self.n and j > k + 1 and self.low[j] in ("is", "was") and whose:   # not "the name of the plan is"
                    self.matches.append((k, j, "name"))
                    self.in_cue.update(range(k, j + 1))
        for k in range(self.n):
            for word in {self.low[k], self.bare[k]}:
                for phrase, kind in self.cfg.cues.get(word, ()):
                    last = k + len(phrase) - 1
                    if last < self.n and all(phrase[i] in (self.low[k + i], self.bare[k + i]) for i in range(len(phrase))):
                        self.matches.append((k, last, kind))
                        self.in_cue.update(range(k, last + 1))

    def _skip(self, k: int, glue: bool = True, extra: tuple[str, ...] = ()) -> Optional[int]:
        """The first token from k that is not glue, punctuation or another cue's word (None past the end)."""
        words = 0
        while k < self.n:
            if self.tok[k].punct or self.low[k] == BOUNDARY:
                k += 1
                continue
            if k in self.run_at:
                return k                  # "oh" is glue, but not in "oh four oh seven"
            if k in self.in_cue or (glue and (self.low[k] in self.cfg.glue or self.low[k] in extra)):
                words += 1
                if words > self.cfg.glue_words + 4:
                    return None
                k += 1
                continue
            return k
        return None

    def _starts(self, kind: str, extra: tuple[str, ...] = ()) -> list[tuple[int, int]]:
        """(cue's last token, where the detail may start) for each cue of `kind`: the first token after
        the cue and its glue, and, when the cue ends a question with a few more words ("and the date of
        birth on the account"), the first after the other party's answer begins."""
        out = []
        for _first, last, k in self.matches:
            if k != kind:
                continue
            at = self._skip(last + 1, glue=kind not in ("name_if_ended", "name_if_person"), extra=extra)
            if at is None:
                continue
            out.append((last, at))
            answer = next((i for i in range(at, min(self.n, at + 8)) if self.low[i] == BOUNDARY), None)
            if answer is not None:
                again = self._skip(answer + 1, extra=extra)
                if again is not None and again != at:
                    out.append((last, again))
        return out

    def _blocked(self, k: int) -> bool:
        """Said right after "order", "reference", "flight" …: a reference, not an address or a postcode."""
        words, j = 0, k - 1
        while j >= 0 and words <= 2:
            for _first, last, kind in self.matches:
                if last == j and kind == "not_identity":
                    return True
            if not self.tok[j].punct:
                if self.low[j] not in ("is", "it's", "its", "the", "your", "my", "number", "no", "was", "code"):
                    return False
                words += 1
            j -= 1
        return False

    # --- words -----------------------------------------------------------------------------------
    def _letter(self, k: int) -> Optional[str]:
        """The letter token k spells ("s", "sierra"), or None."""
        return self.letters[k] if 0 <= k < self.n else None

    def _spelled_letter(self, k: int) -> Optional[str]:
        if k in self.run_at:
            return None
        text = self.tok[k].text
        if len(text) == 1 and text.isalpha() and text.isascii():
            return text.lower()
        if self.low[k] in self.cfg.nato:
            return self.low[k][0]
        return None

    def _name_word(self, k: int, weak: bool = False) -> bool:
        if not 0 <= k < self.n or k in self.run_at:
            return False
        text, low = self.tok[k].text, self.low[k]
        if len(text) < 2 or not WORD.fullmatch(text):
            return False
        if low in self.cfg.never or self.bare[k] in self.cfg.never or low in NUMBER_WORDS or low in self.cfg.ordinals:
            return False
        if weak and len(low) >= 5 and low.endswith(("ing", "ly", "ed")):
            return False
        return True

    def _spelled(self, k: int) -> Optional[int]:
        """A name spelled letter by letter from token k ("k o w a l s k i", "b e double l",
        "s for sugar m i t h"): its last token, when two letters or more were said."""
        letters, last, j = 0, None, k
        while j < self.n:
            if self._letter(j) is not None:
                letters, last, j = letters + 1, j, j + 1
                if j + 1 < self.n and self.low[j] in ("for", "like") and WORD.fullmatch(self.tok[j + 1].text):
                    last, j = j + 1, j + 2          # "s for sugar"
                elif j + 2 < self.n and self.low[j] == "as" and self.low[j + 1] == "in" and WORD.fullmatch(self.tok[j + 2].text):
                    last, j = j + 2, j + 3          # "d as in delta"
                continue
            if self.low[j] in ("double", "triple") and self._letter(j + 1) is not None:
                letters, last, j = letters + 2, j + 1, j + 2
                continue
            if letters and self.low[j] in SPELL_JOINERS and self._letter(j + 1) is not None:
                j += 1
                continue
            break
        if self.low[k] in ("a", "i") and letters < 3:
            return None               # "i", "a": words, unless a longer spelling starts with them
        return last if letters >= 2 else None

    def _name(self, k: int, weak: bool = False, ended: bool = False) -> Optional[tuple[int, int]]:
        """A name said from token k: (first, last) of its words, a title before it left out."""
        cfg = self.cfg
        j = k
        while j < self.n and self.low[j] in cfg.titles and self._name_word(j + 1, weak):
            j += 1
        first, last, words = j, None, 0
        while j < self.n:
            spelled = self._spelled(j)
            if spelled is not None:
                last, words, j = spelled, words + 1, spelled + 1
                continue
            if self._letter(j) is not None and self.low[j] not in ("a", "i") and words and self._name_word(j + 1, weak):   # "jane m doe"
                last, j = j, j + 1
                continue
            if words < cfg.max_name_words and (self._name_word(j, weak) or (
                    not words and not weak and self.low[j] in cfg.also_names and self._name_word(j + 1))):
                last, words, j = j, words + 1, j + 1   # "will thompson": a first name that is also a word
                continue
            if words and self.low[j] in ("and", "&", "-", "dash", "hyphen") and self._name_word(j + 1, True) \
                    and (self.low[j] not in ("and", "&") or self._name_word(j + 2, True) or self._end_of_name(j + 2)):
                j, words = j + 1, 0 if self.low[j] in ("and", "&") else words
                continue
            break
        if last is None:
            return None
        if ended and (last + 1 >= self.n or self.low[last + 1] not in cfg.name_ends) or ended and words > 2:
            return None
        return first, last

    def _end_of_name(self, k: int) -> bool:
        return k >= self.n or self.tok[k].punct or self.low[k] == BOUNDARY or self.low[k] in self.cfg.never

    def names(self) -> list[tuple[int, int]]:
        out = []
        for kind, weak, ended in (("name", False, False), ("name_if_ended", True, True)):
            for _cue, at in self._starts(kind):
                found = self._name(at, weak=weak or self._other_party_before(at), ended=ended)
                if found:
                    out.append(found)
        for cue, at in self._starts("name_if_person"):   # "the lady i spoke to was called priya"
            if any(self.low[i] in self.cfg.person for i in range(max(0, cue - 10), cue)):
                found = self._name(at, weak=True)
                if found:
                    out.append(found)
        for _cue, at in self._starts("spell"):
            last = self._spelled(at)
            if last is not None:
                out.append((at, last))
        for k in range(self.n):
            low = self.low[k]
            if low in self.cfg.titles and (k == 0 or self.low[k - 1] not in self.cfg.titles):
                weak = low in self.cfg.weak_titles
                found = self._name(k + 1, weak=weak) if self._name_word(k + 1, weak) else None
                if found:
                    out.append(found)
            elif low == "speaking" and k > 0:   # "sarah speaking", "tom baker speaking"
                first = k
                while first - 1 >= 0 and k - first < 2 and self._name_word(first - 1, True):
                    first -= 1
                if first < k and (first == 0 or self.low[first - 1] not in ("i", "i'm", "am", "is", "was", "are", "were",
                                                                             "been", "be", "you're", "who", "not")):
                    out.append((first, k - 1))
            elif self._letter(k) is not None and (k == 0 or self._letter(k - 1) is None):
                last = self._spelled(k)   # a word, then its spelling: "jones j o n e s"
                if last is not None:
                    spelled = "".join(self._letter(i) or "" for i in range(k, last + 1))
                    for back in range(k - 1, max(-1, k - 4), -1):
                        if len(spelled) >= 3 and self.low[back].replace("'", "") == spelled:
                            out += [(back, back), (k, last)]
                            break
                    else:
                        if len(spelled) >= SPELLED_ALONE and self.run_at.get(last + 1) is None:
                            out.append((k, last))   # "b r o w n e": five letters in a row are a spelling
        return out

    def _other_party_before(self, at: int) -> bool:
        return any(self.low[i] == BOUNDARY for i in range(max(0, at - 12), at))

    # --- addresses -------------------------------------------------------------------------------
    def _house(self, k: int) -> Optional[int]:
        """A house number at token k ("twenty two", "12", "twelve b"): its last token."""
        run = self.run_at.get(k)
        if run is None or run.first != k or run.point or run.colon or run.plus is not None or len(run.digits) > 5:
            return None
        last = run.last
        if self._letter(last + 1) is not None and self.low[last + 1] not in ("a", "i") \
                and (self.run_at.get(last + 2) is not None or self._street_word(last + 2)):
            last += 1   # "twelve b station road"
        return last

    def _street_word(self, k: int) -> bool:
        if not 0 <= k < self.n or k in self.run_at:
            return False
        text, low = self.tok[k].text, self.low[k]
        if not WORD.fullmatch(text) or low in self.cfg.function:
            return False
        return len(low) > 1 or low in ("n", "s", "e", "w")

    def _street(self, k: int) -> Optional[tuple[int, bool]]:
        """Street words then a street type from token k: (the type's token, whether the type is weak)."""
        cfg = self.cfg
        j, words = k, 0
        the = j < self.n and self.low[j] == "the"
        if the:
            j += 1
        while j < self.n and words <= cfg.max_street_words:
            low = self.low[j]
            if low in cfg.street_types and (words or the):
                if j + 1 < self.n and self.low[j + 1] in cfg.street_types and j + 1 not in self.run_at:
                    j, words = j + 1, words + 1   # "park avenue", "hill road"
                    continue
                return j, low in cfg.weak_types
            if the and not words and low not in cfg.street_types:
                return None
            if words == 0 and (low in cfg.after_number or low in self.j.cfg.after):
                return None   # "two way street", "three bedroom house", "twenty two days"
            if self._street_word(j) or (self.low[j] in TENS and j + 1 < self.n and self.low[j + 1] in cfg.ordinals):
                j, words = j + 1, words + 1
                continue
            break
        return None

    def _address(self, k: int, cued: bool) -> Optional[tuple[int, int]]:
        cfg = self.cfg
        j, unit = k, False
        if self.low[j] in UNIT_WORDS and self._letter(j + 1) is not None and self.low[j + 1] not in ("a", "i") \
                and self.run_at.get(j + 2) is not None:
            j, unit = j + 2, True     # "flat b twenty three …"
        elif self.low[j] in UNIT_WORDS and self.run_at.get(j + 1) is not None:
            unit_end = self._house(j + 1)
            if unit_end is None:
                return None
            j, unit = unit_end + 1, True
            if self._letter(j) is not None and self.low[j] not in ("a", "i"):
                j += 1
        if j < self.n and self.low[j] in ("number", "no") and self.run_at.get(j + 1) is not None:
            j += 1
        house = self._house(j) if j < self.n else None
        if house is None and unit:
            house = j - 1         # "flat three forty five queen's road": one number said for both
        if house is None:
            return None
        street = self._street(house + 1)
        if street is None:
            if not cued:
                return None
            if unit and house == j - 1:
                return k, house
            end, words = house, 0
            while words < 2 and self._name_word(end + 1) and self.low[end + 1] not in self.j.cfg.after:
                end, words = end + 1, words + 1
            return (k, end) if words or unit else None
        end, weak = street
        if weak and not cued:
            return None
        if end + 1 < self.n and self.low[end + 1] in cfg.units and self.run_at.get(end + 2) is not None:
            after = self._house(end + 2)   # "maple drive apartment six", "apartment three c"
            if after is not None:
                end = after + (self._letter(after + 1) is not None and self.low[after + 1] not in ("a", "i")
                               and self._end_of_name(after + 2))
        return k, end

    def addresses(self) -> list[tuple[int, int]]:
        out, cued = [], set()
        for _cue, at in self._starts("address"):
            found = self._address(at, True)
            if found:
                out.append(found)
                cued.add(at)
        for k in range(self.n):
            starts_run = self.run_at.get(k) is not None and self.run_at[k].first == k
            if k not in cued and (starts_run or self.low[k] in UNIT_WORDS) \
                    and not self._blocked(k):
                found = self._address(k, False)
                if found:
                    out.append(found)
        return out

    # --- postcodes -------------------------------------------------------------------------------
    def _postcode(self, k: int, cued: bool) -> Optional[int]:
        """A postcode said or typed from token k: its last token; "o" read as zero or as the letter."""
        best = self._postcode_read(k, cued, False)
        return best if best is not None else self._postcode_read(k, cued, True)

    def _postcode_read(self, k: int, cued: bool, o_letter: bool) -> Optional[int]:
        compact, j, best = "", k, None
        names = self.j.cfg.letters if cued else {}
        while j < self.n and len(compact) < 8:
            run = self.run_at.get(j)
            text, low = self.tok[j].text, self.low[j]
            if run is not None:
                if run.first != j or run.point or run.colon or run.plus is not None:
                    break
                if o_letter and text.lower() == "o" and run.digits.startswith("0") and compact:
                    compact += "o" + run.digits[1:]   # "p o sixteen seven g z": PO16 7GZ
                else:
                    compact += run.digits
                j = run.last + 1
            elif (letter := self._letter(j)) is not None:
                compact += letter
                j += 1
            elif low in ("double", "triple") and (letter := self._letter(j + 1)) is not None:
                compact += letter * (2 if low == "double" else 3)
                j += 2
            elif TYPED_POSTCODE.fullmatch(text):
                compact += low
                j += 1
            elif low in names and len(low) > 1:
                compact += names[low]
                j += 1
            else:
                break
            up = compact.upper()
            if UK.fullmatch(up) or CANADA.fullmatch(up) or (cued and UK_OUTWARD.fullmatch(up) and len(up) >= 2):
                best = j - 1
        return best

    def _zip(self, k: int) -> Optional[int]:
        run = self.run_at.get(k)
        if run is None or run.first != k or run.point or run.colon or run.plus is not None:
            return None
        nd = len(run.digits)
        return run.last if nd == 5 or (nd == 9 and run.groups in ([5, 4], [9])) else None

    def postcodes(self) -> list[tuple[int, int]]:
        out, cued = [], set()
        for _cue, at in self._starts("postcode"):
            last = self._zip(at)
            if last is None:
                last = self._postcode(at, True)
            if last is not None:
                out.append((at, last))
                cued.add(at)
        for k in range(self.n):
            if k in cued:
                continue
            if (self._letter(k) is not None and self.low[k] not in ("a", "i")) or (
                    k not in self.run_at and TYPED_POSTCODE.fullmatch(self.tok[k].text) and not self.tok[k].text.isdigit()):
                last = self._postcode(k, False)
                if last is not None and (k == 0 or self._letter(k - 1) is None) and not self._blocked(k):
                    out.append((k, last))
            for state in self.cfg.states.get(self.low[k], ()):   # "springfield illinois six two seven oh one", "IL 62701"
                end = k + len(state) - 1
                if tuple(self.low[k:end + 1]) == state and (len(state) > 1 or len(state[0]) > 2 or self.tok[k].text.isupper()):
                    last = self._zip(end + 1)
                    if last is not None:
                        out.append((end + 1, last))
                    break
        return out

    # --- dates of birth --------------------------------------------------------------------------
    def _ordinal(self, k: int) -> Optional[tuple[int, int]]:
        """A day said as an ordinal at token k ("fourth", "twenty third", "4th"): (value, last token)."""
        if not 0 <= k < self.n:
            return None
        low = self.low[k]
        if low in self.cfg.ordinals:
            return self.cfg.ordinals[low], k
        m = TYPED_ORDINAL.fullmatch(low)
        if m:
            return int(m.group(1)), k
        if low in TENS:
            nxt = k + 2 if k + 2 < self.n and self.low[k + 1] == "-" else k + 1
            if nxt < self.n and self.low[nxt] in self.cfg.ordinals and self.cfg.ordinals[self.low[nxt]] < 10:
                return TENS[low] + self.cfg.ordinals[self.low[nxt]], nxt
        return None

    def _year(self, k: int) -> Optional[int]:
        run = self.run_at.get(k)
        if run is None or run.first != k or run.point or run.colon:
            return None
        return run.last if len(run.digits) in (2, 4) else None

    def _month(self, k: int, ordinal_ok: bool) -> Optional[int]:
        if not 0 <= k < self.n:
            return None
        if self.low[k] in self.cfg.months:
            return k
        if ordinal_ok:
            got = self._ordinal(k)
            if got and 1 <= got[0] <= 12:
                return got[1]
        return None

    @staticmethod
    def _date_digits(digits: str) -> bool:
        def ok(d: int, m: int) -> bool:
            return 1 <= d <= 31 and 1 <= m <= 12

        n = len(digits)
        if n == 8:
            return ok(int(digits[:2]), int(digits[2:4])) or ok(int(digits[2:4]), int(digits[:2])) \
                or (digits[:2] in ("19", "20") and ok(int(digits[6:]), int(digits[4:6])))
        if n == 6:
            return ok(int(digits[:2]), int(digits[2:4])) or ok(int(digits[2:4]), int(digits[:2])) \
                or ok(int(digits[4:]), int(digits[2:4]))
        if n == 5:
            return ok(int(digits[0]), int(digits[1:3])) or ok(int(digits[:2]), int(digits[2]))
        if n == 4:
            return ok(int(digits[0]), int(digits[1]))
        return False

    def _date(self, k: int, year_only: bool) -> Optional[tuple[int, int]]:
        """A date from token k: (first, last)."""
        if k < self.n and self.low[k] == "the":
            k += 1
        if k >= self.n:
            return None
        end = None
        day = self._ordinal(k)
        run = self.run_at.get(k)
        if day is not None:   # "fourth of july", "twelfth december", "seventh of the third"
            j = day[1] + 1
            of = j < self.n and self.low[j] == "of"
            if of:
                j += 1
                if j < self.n and self.low[j] == "the":
                    j += 1
            month = self._month(j, of)
            if month is not None:
                end = month
        elif self.low[k] in self.cfg.months:   # "june the ninth", "march fourteenth", "july 4"
            j = k + 1 + (k + 1 < self.n and self.low[k + 1] == "the")
            day = self._ordinal(j)
            if day is not None:
                end = day[1]
            elif self.run_at.get(j) is not None and len(self.run_at[j].digits) <= 2:
                end = self.run_at[j].last
            elif year_only and (year := self._year(j)) is not None:
                return k, year
        elif run is not None and run.first == k:
            digits = run.digits
            if year_only and len(digits) == 4 and digits[:2] in ("19", "20"):
                return k, run.last
            if len(digits) <= 2 and self._month(run.last + 1, False) is not None:
                end = run.last + 1   # "4 july"
            elif self._date_digits(digits):
                return k, run.last
            elif len(digits) in (3, 4) and self._year(run.last + 1) is not None and self._date_digits(
                    digits + self.run_at[run.last + 1].digits):
                return k, self.run_at[run.last + 1].last
        if end is None or year_only:
            return None
        year = self._year(end + 1)
        return k, year if year is not None else end

    def dates_of_birth(self) -> list[tuple[int, int]]:
        out = []
        for last, at in self._starts("dob", extra=("on",)):
            year_only = self.low[last] == "in"   # "born in nineteen eighty two": the year
            for k in range(at, min(self.n, at + DATE_REACH)):   # "your name and date of birth" / "jane doe" / "fourth of …"
                found = self._date(k, year_only)
                if found:
                    out.append(found)
                    break
        return out

    def find(self) -> list[tuple[int, int, str]]:
        out = []
        for label, spans in (("[postcode]", self.postcodes()), ("[dob]", self.dates_of_birth()),
                             ("[address]", self.addresses()), ("[name]", self.names())):
            for first, last in spans:
                if first <= last:
                    out.append((*self.j.span(first, last), label))
        return out


def find(judged: Judged) -> list[tuple[int, int, str]]:
    """Identity details in the text `judged` (redaction_rules' view of it): (start, end, label)."""
    return Identity(judged, config()).find()
