"""What the next words of a call may still take out of the words already said: the made-up continuations
("probes") that the store's live writer, the events file and the window all try, so each decides alike
whether a segment is settled (see companion.event_redaction for why the events file needs them, and
companion.store.rows for the store's writer)."""

from __future__ import annotations

import copy
from typing import Mapping, Optional, Sequence

from companion.store.recent_speech import Piece as _Piece
from companion.store.recent_speech import RecentSpeech
from companion.store.recent_speech import union as _union
from companion.store.redaction import is_label, redact_words
from companion.store.redaction_rules import config as redaction_config
from companion.store.spoken_numbers import BOUNDARY, normalise

_SAME, _OTHER = "same", "other"
Probe = tuple[str, tuple[str, ...], Optional[str]]   # (who says it: _SAME or _OTHER, words, filter)
Probes = tuple[Probe, ...]
PROBES: Probes = (   # continuations the next segment might bring: (who says it, words, filter)
    (_SAME, tuple("one one one one one one one one one one one one".split()), None),
    (_SAME, ("security", "code"), None),
    (_SAME, ("at", "example", "dot", "com"), "email"),
    (_OTHER, ("okay",), None),
)
_EMAIL_HINTS = frozenset({"dot", "underscore", "dash", "hyphen", "period", "point", ".", "_", "-", "+"})

# what else the speaker's next words may bring that takes more out of these: a street after a house
# number ("twenty two" / "acacia avenue"), the rest of a postcode ("s w one a" / "one a a")
IDENTITY_PROBES: Probes = (
    (_SAME, ("acacia", "avenue"), None),
    (_SAME, ("one", "a", "a"), None),
)
# and what the next words may bring when such a detail was just asked for or begun: the rest of an
# e-mail address after "lucy", of a date after "twelfth", of a spelling after "s" (only then: said
# after any word, "dot brown at example dot com" would make most last words part of an address)
CUED_PROBES = (   # (cue words, continuations: one for each place the words so far may have stopped)
    (frozenset(("email", "e-mail", "mail", "address")),
     (("dot", "brown", "at", "example", "dot", "com"), ("at", "example", "dot", "com"), ("example", "dot", "com"),
      ("com",))),
    (frozenset(("birth", "born", "birthday", "dob", "d.o.b", "d o b")),
     (("of", "july", "nineteen", "eighty", "two"), ("july", "nineteen", "eighty", "two"))),
    (frozenset(("spell", "spelled", "spelt", "spelling")), (("m", "i", "t", "h"),)),
)
NUMBER_START = frozenset(("oh", "o", "double", "triple", "treble"))   # a number's first word, not yet a number


def _other(party: str) -> str:
    return "customer" if party == "agent" else "agent"


def _email_like(word: str) -> bool:
    """A word of an address said aloud: a joiner, a spelled (Latin) letter, a digit ("john dot smith",
    "j s"); not the words "a" and "I", which end many a sentence that is no address ("let me take a")."""
    low = word.lower()
    spelled = len(low) == 1 and "a" <= low <= "z" and low not in ("a", "i")
    return low in _EMAIL_HINTS or spelled or any(ch.isdigit() for ch in low)


def _may_turn(said: list[str]) -> bool:
    """Whether what comes next could take anything more out of these words: every rule that reaches
    across segments takes out numbers (cards, codes, IBANs, ID numbers) or addresses said with "dot"."""
    if any(_email_like(word) for word in said):
        return True
    cfg = redaction_config()
    return bool(normalise(" ".join(said), cfg.fillers, cfg.separators, cfg.slash, cfg.max_fillers).runs)


def cued_probes(pieces: Sequence[_Piece], said: Sequence[str]) -> Probes:
    """The continuations made likely by a detail asked for or begun in the recent speech (`pieces`)
    or in `said`: the rest of an e-mail address, of a date of birth, of a spelling."""
    heard = " " + " ".join(w.lower() for p in pieces for w in p.said + [BOUNDARY]) + " " + \
        " ".join(w.lower() for w in said) + " "
    return tuple((_SAME, words, None) for cues, probes in CUED_PROBES
                 if any(f" {cue} " in heard for cue in cues) for words in probes)


def _clear_taken(before: list[str], after: list[str]) -> list[int]:
    return [i for i, (a, b) in enumerate(zip(before, after)) if is_label(b) and not is_label(a)]



def probe_labels(recent: RecentSpeech, party: str, after: float, last_end: Mapping[str, float],
                 probes: Probes) -> dict[int, list[str]]:
    """id(piece) -> its words with every label one of `probes` would give them, each probe tried as the next
    words after `after` (by `party`, or by the other party once they have spoken), on a copy of `recent`."""
    wanted: dict[int, list[str]] = {}
    for who, words, only in probes:
        speaker = party if who == _SAME else _other(party)
        if who != _SAME and speaker not in last_end:
            continue   # the other party has said nothing: there is nothing to regroup
        start = (after if who == _SAME else max(after, last_end[speaker])) + 0.05
        probe = _Piece(speaker, start, start + 1.0, list(words), redact_words(list(words)))
        trial = copy.copy(recent)   # the real memory is untouched
        trial.pieces = list(recent.pieces)
        for piece, judged in trial.judge(probe):
            taken = _clear_taken(piece.stored, judged)
            if only == "email" and not any(_email_like(piece.said[i]) for i in taken):
                continue
            if taken:
                wanted[id(piece)] = _union(wanted.get(id(piece), piece.stored), [judged])
    return wanted


TAIL = 8   # a segment whose last words hold no digit, spelled letter or address word cannot be continued into
#            anything personal by the next one (a cue or a number must be this near): it is not probed


def may_continue(recent: RecentSpeech, said: Sequence[str]) -> bool:
    """Whether the speaker's next words could take more out of a segment that ends with `said`
    (digits, a spelled letter, an address word, or a detail just asked for): the window's test."""
    said = list(said)
    return bool(said) and (_may_turn(said[-TAIL:]) or said[-1].lower() in NUMBER_START
                           or bool(cued_probes(recent.pieces, said)))


def still_open(recent: RecentSpeech, party: str, last_end: Mapping[str, float]) -> dict[int, list[str]]:
    """id(piece) -> its words with every label the next words of `party` (or a word from the other
    party) could still give them, for the pieces `recent` (a RecentSpeech, already fed) remembers: the
    store's own rules asked with the continuations the events file and the window ask (more digits,
    "security code", the rest of an e-mail address, a street, a postcode, a date of birth, a spelling).
    A card group said alone ("four one one one") comes back as labels: it may be the first of four."""
    return probe_labels(recent, party, last_end[party], last_end,
                        PROBES + IDENTITY_PROBES + cued_probes(recent.pieces, ()))
