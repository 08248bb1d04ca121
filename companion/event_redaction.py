"""Personal data out of the events file (`--events-jsonl`) as the store takes it out of its rows,
across segments too.

The store judges each new segment together with the last seconds of speech (`RecentSpeech`), and
when the new one shows that an earlier segment was half of something ("four one one one" … "one
one one one": a card number read with a pause) it rewrites the earlier row. An events file is
append-only: a line once written cannot be taken back, so rewriting is not open to it, and writing
every number redacted from the start would take out far more than the store does. So a segment is
**held back while a later one could still take something out of it**, and written once that is
decided:

- every final segment is judged exactly as the store judges it: the same `RecentSpeech`, fed the
  same words (those said outside a pause for payment), in the same order;
- a segment is *open* while some continuation would turn one of its words still in clear into a
  label. That is asked of the store's own rules (there is no second copy of them here), by judging
  the recent speech with a few made-up continuations: more digits from the same speaker (trailing
  digits may be the start of a card), "security code" ("… one two three is my" + "security code"),
  "at example dot com" (a dotted or spelled name before the next segment's "at …"), and a word from
  the other party (which regroups the two parties' recent segments, the way the store does);
- identity details too (`companion/store/identity_rules.py`): after digits or letters (a spelled one,
  or "sierra", "alpha" …), the rest of a street ("i live at twenty two" + "acacia avenue") or of a
  postcode ("it's s w one a" + "one a a"; the agent's "and your postcode" / "sierra whiskey" + "one alpha
  one alpha alpha"); when a date of birth, a spelling or an e-mail address was asked for or begun in the
  recent speech, its rest ("the fourth" + "of july …"); the window asks the same (it takes these from
  here, `companion.window_redaction`). And for a segment that ends in a word that may be a name: a
  surname after a cue for a name ("my name is will" + "thompson": "will" is a name only with it), and
  "speaking" ("this is tom baker" + "speaking", "sarah" + "speaking") when "this is" or "it's" came just
  before it or the segment is three words at most (a name said alone);
- a segment that is not open is written at once: nearly all speech. An open one (one that ends in
  a number, say) is written when the speaker's next segment has been judged with it and it is no
  longer open, or when nothing can join it any more: the store's memory let it go, the call ended,
  or the voice detector heard nothing from that speaker for the store's `gap_s` after it (the store
  joins only segments that close together);
- when the speaker was heard after it but no words came within `cap_s` more (a cough the
  recogniser made nothing of), it is written with everything a continuation could take out already
  taken out: more than the store removes, never less.

A partial (the words so far of an utterance still being said) is open at its end by nature: it is
always judged with the recent segments ("my name is" / "jane doe": "[name] [name]"), and whatever a
continuation could still make personal is written as a label ("five four two five" → "[number]",
"my name is will" → "my name is [name]"); the final segment then says what the store kept. A partial
is judged again as it grows, so over-labelling early in an utterance ("the coffee" → "the [name]",
as "the coffee speaking" would be a name) is taken back by the next partial or the final segment.

The labels can differ from the store's in one way: a first half written as "[number]" that the
store, once it has heard the rest, calls "[card]". No word the store takes out is written in clear,
with two limits. A segment released because the voice detector heard the speaker stay silent is
written as judged; if the recogniser then still brings words that join it (it would have to lag
`gap_s` behind the sound and the voice detector to have missed that speech), those words come too
late. And "speaking" is not asked after every segment (it would hold back most of them): a name at
the end of a longer segment with no cue before it ("… the helpdesk sarah"), made a name by a next
segment that starts with "speaking", was written in clear. Either way `late_words` counts what was
written too early and the writer says so once.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Optional

from companion.events import CallEnded, FinalSegment, MetricsSnapshot, PartialText, Turn
from companion.store import identity_rules
from companion.store.recent_speech import Piece as _Piece
from companion.store.recent_speech import RecentSpeech
from companion.store.recent_speech import collapse as _collapse
from companion.store.redaction import redact_words
from companion.store.redaction_probes import (  # what the next words may still take out
    _SAME,
    IDENTITY_PROBES,
    NUMBER_START,
    PROBES,
    Probes,
    _clear_taken,
    _may_turn,
    cued_probes,
    probe_labels,
)
from companion.store.spoken_numbers import BOUNDARY

MARGIN_S = 1.0   # the voice detector's turn ends after the recogniser's last word by up to this
CAP_S = 20.0     # heard but no words for this long after gap_s: written with every open word taken out
_VOICE_KEPT_S = 120.0

# a line written cannot be drawn again, so the events file asks a few more: a postcode's rest after
# its first letters ("sierra whiskey" / "one alpha one alpha alpha") or before its last letter
# ("s w one a one a" / "a"); a surname after a first name that is a word too ("will" / "thompson"),
# and the word that makes the words before it a name ("tom baker" / "speaking")
POSTCODE_PROBES: Probes = (
    (_SAME, ("one", "a", "one", "a", "a"), None),
    (_SAME, ("a", "a"), None),
)
NAME_PROBES: Probes = (
    (_SAME, ("thompson",), None),
    (_SAME, ("speaking",), None),
)
SHORT = 3   # a name said alone ("sarah", "good morning sarah") may be made one by the next word: "speaking"


def _plain(word: str) -> str:
    return word.lower().strip(".,!?;:\"")


def _name_like(word: str) -> bool:
    """Whether a (plain) word may be a name or its last word, as identity_rules reads names: a word of
    letters that is not a function word, an ordinary word or a number, or a first name that is a word too."""
    cfg = identity_rules.config()
    if len(word) < 2 or not identity_rules.WORD.fullmatch(word) or word in identity_rules.NUMBER_WORDS:
        return False
    return word in cfg.also_names or not (word in cfg.never or word in cfg.ordinals)


def name_asked(words: list[str]) -> bool:
    """Whether these words hold a cue after which a name follows (identity.toml's [cues].name: "my name
    is", "the account holder is", "your full name" …, matched as the store's identity rules match them),
    or the word "name"/"surname" ("the name on the policy is …")."""
    cues = identity_rules.config().cues
    low = [_plain(w) for w in words]
    bare = [w[:-2] if w.endswith(("'s", "’s")) else w for w in low]
    for k in range(len(low)):
        if bare[k] in ("name", "names", "surname"):
            return True
        for word in {low[k], bare[k]}:
            for phrase, kind in cues.get(word, ()):
                if kind == "name" and k + len(phrase) <= len(low) and \
                        all(p in (low[k + i], bare[k + i]) for i, p in enumerate(phrase)):
                    return True
    return False


@dataclasses.dataclass
class _Held:
    segment: FinalSegment   # its words as said (outside pauses)
    piece: _Piece           # as the store holds it: `stored` changes as later segments are judged


class EventRedactor:
    """Feed it every event the events file would write (words said in a pause already left out);
    `feed` returns what may be written now, in order. Not thread-safe: the writer holds its lock."""

    def __init__(self, margin_s: float = MARGIN_S, cap_s: float = CAP_S):
        self.recent = RecentSpeech()
        self.gap_s = self.recent.gap_s
        self.margin_s, self.cap_s = margin_s, cap_s
        self.held: dict[str, list[_Held]] = {"agent": [], "customer": []}
        self.last_end: dict[str, float] = {}          # each party's latest judged segment ends here
        self.voiced: dict[str, list[tuple[float, float]]] = {"agent": [], "customer": []}
        self.clock = 0.0
        self.late_words = 0
        self._written: dict[int, tuple[_Piece, list[str]]] = {}   # id -> (piece, its words as written), while remembered

    # --- events in, events out -----------------------------------------------------------------
    def feed(self, event: object) -> list[object]:
        if isinstance(event, FinalSegment):
            return self._final(event)
        if isinstance(event, PartialText):
            partial = self._partial(event)
            return self._due() + ([partial] if partial is not None else [])
        self._heard(event)
        out = self._due()
        if isinstance(event, CallEnded):
            out += self.flush()
        return out + [event]

    def flush(self) -> list[FinalSegment]:
        """The call is over: nothing can join the held segments any more; all of them, as judged."""
        out = []
        for party in self.held:
            out += [self._write(h, h.piece.stored) for h in self.held[party]]
            self.held[party] = []
        return out

    # --- final segments ------------------------------------------------------------------------
    def _final(self, seg: FinalSegment) -> list[object]:
        said = [w.word for w in seg.words]
        piece = _Piece(seg.party, seg.start, seg.end, said, redact_words(said))
        for earlier, words in self.recent.judge(piece):
            self._restate(earlier, words)
        self.last_end[seg.party] = max(self.last_end.get(seg.party, seg.end), seg.end)
        self.held[seg.party].append(_Held(seg, piece))
        self._heard(seg)
        out: list[object] = []
        for party in self.held:
            out += self._release(party)
        return out + self._due()

    def _restate(self, piece: _Piece, words: list[str]) -> None:
        """A later segment took more out of an earlier one (the store rewrites its row)."""
        written = self._written.get(id(piece))
        if written is not None and written[0] is piece:
            late = _clear_taken(written[1], words)
            if late:   # each such word counted once
                self.late_words += len(late)
                self._written[id(piece)] = (piece, [words[i] if i in late else w for i, w in enumerate(written[1])])
        piece.stored = words

    def _release(self, party: str) -> list[FinalSegment]:
        """Write, in order, the party's held segments that nothing to come can change."""
        held = self.held[party]
        if not held:
            return []
        probes = self._asks(self.recent, [h.piece.said for h in held])
        wanted = self._probe(self.recent, party, self.last_end[party], probes) if probes else {}   # nearly all speech: none
        out = []
        while held:
            piece = held[0].piece
            remembered = any(p is piece for p in self.recent.pieces)
            if remembered and _clear_taken(piece.stored, wanted.get(id(piece), piece.stored)):
                break
            out.append(self._write(held.pop(0), piece.stored))
        return out

    def _due(self) -> list[FinalSegment]:
        """Held segments whose speaker has been silent since (written as judged), or heard but wordless
        for too long (written with all a continuation could take out already out)."""
        out = []
        for party, held in self.held.items():
            if not held:
                continue
            end = self.last_end[party]
            if self.clock < end + self.gap_s + self.margin_s:
                continue
            heard = any(b > end + self.margin_s and a <= end + self.gap_s for a, b in self.voiced[party])
            if heard and self.clock < end + self.gap_s + self.cap_s:
                continue
            probes = tuple(dict.fromkeys(PROBES + self._asks(self.recent, [h.piece.said for h in held])))
            wanted = self._probe(self.recent, party, end, probes, same=heard)
            out += [self._write(h, wanted.get(id(h.piece), h.piece.stored)) for h in held]
            self.held[party] = []
        return out

    def _write(self, held: _Held, words: list[str]) -> FinalSegment:
        remembered = {id(p) for p in self.recent.pieces}
        self._written = {key: kept for key, kept in self._written.items() if key in remembered}
        if id(held.piece) in remembered:
            self._written[id(held.piece)] = (held.piece, list(words))
        seg = held.segment
        return dataclasses.replace(seg, words=tuple(dataclasses.replace(w, word=s) for w, s in zip(seg.words, words)))

    # --- partials ------------------------------------------------------------------------------
    def _partial(self, event: PartialText) -> Optional[PartialText]:
        self._heard(event)
        said = [w.word for w in event.words] if event.words else event.text.split()
        if not said:
            return None
        # no word timings: assume it goes on from the speaker's last segment (judged with it)
        start = event.words[0].start if event.words else self.last_end.get(event.party, event.t)
        piece = _Piece(event.party, start, max(start, event.t), said, redact_words(said))
        recent = copy.copy(self.recent)   # judged with what came before ("my name is" / "jane"), not remembered
        recent.pieces = list(self.recent.pieces)
        recent.judge(piece)
        probes = self._asks(recent, [said])
        wanted = self._probe(recent, event.party, piece.end, probes) if probes else {}
        return dataclasses.replace(event, text=_collapse(wanted.get(id(piece), piece.stored)), words=())

    # --- what a continuation could still take out ------------------------------------------------
    @staticmethod
    def _asks(recent: RecentSpeech, said: list[list[str]]) -> Probes:
        """The continuations worth trying on these words (each list a segment or a partial, judged into
        `recent`): none when nothing to come could take more out of them, as for nearly all speech. Each
        costs a judgement of the recent speech, so only those that could matter for these words' ends are
        tried; what they find is the store's rules' answer."""
        said = [s for s in said if s]
        tails = [_plain(s[-1]) for s in said]
        probes = cued_probes(recent.pieces, ())   # the rest of a date of birth, an e-mail address, a spelling
        if any(_may_turn(s) for s in said) or any(t in NUMBER_START or t in identity_rules.config().nato for t in tails):
            probes = PROBES + IDENTITY_PROBES + POSTCODE_PROBES + probes   # digits, letters: a number, a postcode
        named = [s for s, t in zip(said, tails) if _name_like(t)]
        if named and name_asked([w for p in recent.pieces for w in p.said + [BOUNDARY]]):
            probes += NAME_PROBES[:1]   # "my name is will" / "thompson"
        if any(len(s) <= SHORT or {"this", "it's"} & {_plain(w) for w in s[-4:-1]} for s in named):
            probes += NAME_PROBES[1:]   # "sarah" / "speaking", "this is tom baker" / "speaking"
        return probes

    def _probe(self, recent: RecentSpeech, party: str, after: float, probes: Probes,
               same: bool = True) -> dict[int, list[str]]:
        """id(piece) -> its words with every label one of `probes` would give them (pieces in `recent`).
        `same=False`: only the other party's next words (the speaker is known to have stopped)."""
        if not same:
            probes = tuple(p for p in probes if p[0] != _SAME)
        return probe_labels(recent, party, after, self.last_end, probes)

    # --- the clock and the voice detector --------------------------------------------------------
    def _heard(self, event: object) -> None:
        t = _reach(event)
        if t is not None:
            self.clock = max(self.clock, t)
        if isinstance(event, Turn):
            self._voice(event.party, event.start, event.end)
        elif isinstance(event, MetricsSnapshot):
            for party, speaking in (("agent", event.agent_speaking), ("customer", event.customer_speaking)):
                if speaking:
                    self._voice(party, event.t, event.t)

    def _voice(self, party: str, start: float, end: float) -> None:
        spans = self.voiced.get(party)
        if spans is None:
            return
        spans.append((start, end))
        if len(spans) > 64:
            self.voiced[party] = [s for s in spans if s[1] >= self.clock - _VOICE_KEPT_S][-64:]


def _reach(event: object) -> Optional[float]:
    if isinstance(event, (FinalSegment, Turn)):
        return event.end
    if isinstance(event, CallEnded):
        return event.duration_s
    t = getattr(event, "t", None)
    return t if isinstance(t, (int, float)) else None
