"""What the window shows of what is said: the live transcript with personal data taken out as the
store takes it out (companion/store/redaction.py, across segments as `RecentSpeech` does it).

The store rewrites an earlier row when a later segment shows it was half of something (a card read
with a pause, an address said over two breaths). A window can show a line again, so each final
segment is shown at once and shown again whenever what may be shown of it changes:

- while a later segment could still take more out of it (it ends in digits or spelled letters), it
  is shown with all of that already out: the store's own rules are asked with made-up continuations
  (the events file's probes, `companion.event_redaction`, and the rest of a street or a postcode).
  So a card group said alone shows as "[number]" from the start, never as "four one one one";
- once nothing can join it any more (its speaker silent for the store's `gap_s`, the store's memory
  let it go, the call over) it shows exactly as the store keeps it;
- a partial (words still being said) shows with everything a continuation could take out already out.

`show_digits` (Settings → Privacy → "Show digits while I type them (payment screens)", off by
default) shows numbers ([card], [code], [expiry], [id], [account], [phone], [number]) as they were
said, for `reveal_s` seconds of call time after they were said, so that an agent can type them into a
payment screen. Names, addresses, postcodes, dates of birth and e-mail addresses stay out. When the
time is up, or the call ends, the line shows as stored. Only the screen changes: the store, the
events file and every export are redacted as before.
"""

from __future__ import annotations

import copy
from typing import Iterable

from companion.event_redaction import MARGIN_S
from companion.events import CallEnded, FinalSegment, MetricsSnapshot, PartialText, Turn
from companion.store.recent_speech import Piece as _Piece
from companion.store.recent_speech import RecentSpeech
from companion.store.recent_speech import collapse as _collapse
from companion.store.recent_speech import union as _union
from companion.store.redaction import redact_words
from companion.store.redaction_probes import (
    IDENTITY_PROBES,
    NUMBER_START,
    PROBES,
    Probes,
    _may_turn,
    cued_probes,
    probe_labels,
)

# a segment whose last words hold no digit, spelled letter or address word cannot be continued into
# anything personal by the next one (a cue or a number needs to be this near), so it is not probed
TAIL = 8
REVEAL_S = 60.0   # with show_digits: how long after they were said numbers stay on screen as said
DIGIT_LABELS = frozenset(("[card]", "[code]", "[expiry]", "[id]", "[account]", "[phone]", "[number]"))
# the continuations for identity details (IDENTITY_PROBES, cued_probes) are the events file's, in event_redaction

Update = tuple[int, str]   # (line key, the text to show for it now)


class WindowTranscript:
    """The text to show for each line of one call's live transcript. Not thread-safe: the window's
    thread only. `final` gives each final segment a key; every call returns the lines to show again."""

    def __init__(self, redaction: bool = True, show_digits: bool = False, reveal_s: float = REVEAL_S):
        self.redaction, self.show_digits, self.reveal_s = redaction, show_digits, reveal_s
        self.recent = RecentSpeech()
        self.gap_s = self.recent.gap_s
        self.clock = 0.0
        self.ended = False
        self.last_end: dict[str, float] = {}
        self._pieces: dict[int, _Piece] = {}      # key -> piece, while its line may still change
        self._keys: dict[int, int] = {}           # id(piece) -> key, while the piece is remembered
        self._shown: dict[int, str] = {}
        self._wanted: dict[int, list[str]] = {}   # id(piece) -> its words with all a continuation could take out
        self._party: dict[int, str] = {}          # id(piece) -> whose segment's probe found it
        self._next = 0

    # --- events in, lines out --------------------------------------------------------------------
    def final(self, seg: FinalSegment) -> tuple[int, list[Update]]:
        """A final segment: its line's key, and every line to show (again), this one among them."""
        key, self._next = self._next, self._next + 1
        said = [w.word for w in seg.words]
        self.clock = max(self.clock, seg.end)
        if not self.redaction:
            return key, [(key, " ".join(said))]
        piece = _Piece(seg.party, seg.start, seg.end, said, redact_words(said))
        for earlier, words in self.recent.judge(piece):
            earlier.stored = words
            if id(earlier) in self._keys:   # shown as settled already: a late segment changed it
                self._pieces[self._keys[id(earlier)]] = earlier
        self._pieces[key] = piece
        self.last_end[seg.party] = max(self.last_end.get(seg.party, seg.end), seg.end)
        remembered = {id(p) for p in self.recent.pieces}
        self._keys = {k: v for k, v in self._keys.items() if k in remembered}
        self._keys[id(piece)] = key
        # what the speaker's next words could still take out of their recent lines; the other party's
        # lines keep what was found at their own last segment (a probe of theirs already stood for these words)
        self._wanted = {k: v for k, v in self._wanted.items() if k in remembered and self._party.get(k) != seg.party}
        self._party = {k: v for k, v in self._party.items() if k in self._wanted}
        cued = self._cued(said)
        if cued or self._may_turn(said):
            for pid, words in self._probe(self.recent, seg.party, self.last_end[seg.party], cued).items():
                self._wanted[pid] = words
                self._party[pid] = seg.party
        return key, self._refresh()

    def partial(self, event: PartialText) -> str:
        """What to show of words still being said."""
        self.clock = max(self.clock, event.t)
        said = [w.word for w in event.words] if event.words else event.text.split()
        if not said or not self.redaction:
            return event.text if said else ""
        start = event.words[0].start if event.words else self.last_end.get(event.party, event.t)
        piece = _Piece(event.party, start, max(start, event.t), said, redact_words(said))
        recent = copy.copy(self.recent)   # judged with what came before ("my name is" / "jane doe"), not remembered
        recent.pieces = list(self.recent.pieces)
        recent.judge(piece)
        words = piece.stored
        cued = self._cued(said)
        if cued or self._may_turn(said):
            wanted = self._probe(recent, event.party, piece.end, cued)
            words = wanted.get(id(piece), words)
        return _collapse(self._reveal(words, said, piece.end))

    def heard(self, event: object) -> list[Update]:
        """Any other event: the call's clock moves on (a line is decided, numbers shown as said go), or
        the call ended (every line as stored)."""
        if isinstance(event, CallEnded):
            self.ended = True
        else:
            t = event.end if isinstance(event, Turn) else event.t if isinstance(event, MetricsSnapshot) else None
            if t is None or t <= self.clock:
                return []
            self.clock = t
        return self._refresh() if self._pieces else []

    def open_keys(self) -> set[int]:
        """The lines whose text may still change (a later segment may still take more out of them)."""
        return set(self._pieces) | set(self._keys.values())

    # --- what each line shows ----------------------------------------------------------------------
    def _refresh(self) -> list[Update]:
        out = []
        remembered = {id(p) for p in self.recent.pieces}
        for key in sorted(self._pieces):
            piece = self._pieces[key]
            settled = self.ended or id(piece) not in remembered or self.clock >= piece.end + self.gap_s + MARGIN_S
            words = piece.stored if settled else _union(piece.stored, [self._wanted.get(id(piece), piece.stored)])
            words = self._reveal(words, piece.said, piece.end)
            text = _collapse(words)
            if text != self._shown.get(key):
                self._shown[key] = text
                out.append((key, text))
            if settled and not self._revealing(piece.end):
                del self._pieces[key]   # shown as stored: only a late segment the store joins to it changes it again
        for key in [k for k in self._shown if k not in self._pieces]:
            del self._shown[key]
        return out

    def _revealing(self, end: float) -> bool:
        return self.show_digits and not self.ended and self.clock < end + self.reveal_s

    def _reveal(self, words: list[str], said: list[str], end: float) -> list[str]:
        if not self._revealing(end):
            return words
        return [s if w in DIGIT_LABELS else w for w, s in zip(words, said)]

    @staticmethod
    def _may_turn(said: list[str]) -> bool:
        return _may_turn(said[-TAIL:]) or (bool(said) and said[-1].lower() in NUMBER_START)

    def _cued(self, said: list[str]) -> Probes:
        """The continuations made likely by a detail asked for or begun in the last seconds of speech."""
        return cued_probes(self.recent.pieces, said)

    def _probe(self, recent: RecentSpeech, party: str, after: float, cued: Probes = ()) -> dict[int, list[str]]:
        """id(piece) -> its words with every label some continuation would give them (pieces in `recent`)."""
        return probe_labels(recent, party, after, self.last_end, PROBES + IDENTITY_PROBES + cued)



def judged_words(segments: Iterable[FinalSegment]) -> list[list[str]]:
    """Each final segment's words as the store keeps them, the segments judged in order, each with the
    last seconds before it (the `companion analyze --json` turns: printed text is redacted as stored)."""
    recent, pieces = RecentSpeech(), []
    for seg in sorted(segments, key=lambda s: s.start):
        said = [w.word for w in seg.words]
        piece = _Piece(seg.party, seg.start, seg.end, said, redact_words(said))
        for earlier, words in recent.judge(piece):
            earlier.stored = words
        pieces.append((seg, piece))
    order = {id(seg): piece.stored for seg, piece in pieces}
    return [order[id(seg)] for seg in segments]
