"""The last seconds of a call's segments, kept in memory only, to judge a new segment with (a card
number read in halves across two segments is one card): what was said and what is stored of each."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

from companion.store.redaction import is_label, redact_together
from companion.store.redaction_rules import config as redaction_config


@dataclass
class Piece:
    """A stored segment, remembered for a few seconds: what was said (memory only) and what is stored."""
    party: str
    start: float
    end: float
    said: list[str]                  # as recognised: kept in memory only, for the next segment's judgement
    stored: list[str]                # as stored (redacted)
    segment_id: Optional[int] = None
    word_ids: list[int] = field(default_factory=list)   # rowids in `words`; empty when stored as text only
    written: Optional[list[str]] = None   # the words its row holds now: `stored`, or more labels while it is open


class RecentSpeech:
    """The last `gap_s` seconds of segments of one call, both parties, to judge a new segment with."""

    def __init__(self, gap_s: Optional[float] = None, max_pieces: Optional[int] = None):
        cfg = redaction_config()
        self.gap_s = cfg.gap_s if gap_s is None else gap_s
        self.max_pieces = cfg.max_pieces if max_pieces is None else max_pieces
        self.pieces: list[Piece] = []

    def judge(self, piece: Piece) -> list[tuple[Piece, list[str]]]:
        """Redact `piece.said` into `piece.stored`, with what was said just before; returns the earlier
        pieces whose stored words must change, with their new words. Only ever removes more."""
        # the same party's segments, each within gap_s of the next: one number may run across them
        chain: list[Piece] = []
        for p in reversed([p for p in self.pieces if p.party == piece.party]):
            if (chain[0].start if chain else piece.start) - p.end > self.gap_s:
                break
            chain.insert(0, p)
        # the other party's last words: the agent's "and the security code?" before the answer
        others = [p for p in self.pieces if p.party != piece.party and p.end >= piece.start - self.gap_s]
        judged: list[dict[int, list[str]]] = []
        if chain:
            group = chain + [piece]
            judged.append(dict(zip(map(id, group), redact_together([(p.said, True) for p in group]))))
        if others:
            group = sorted(chain + others, key=lambda p: p.start) + [piece]
            judged.append(dict(zip(map(id, group), redact_together(
                [(p.said, n > 0 and group[n - 1].party == p.party) for n, p in enumerate(group)]))))
        piece.stored = union(piece.stored, [j[id(piece)] for j in judged])
        changed = []
        for p in chain + others:
            words = union(p.stored, [j[id(p)] for j in judged if id(p) in j])
            if words != p.stored:
                changed.append((p, words))
        # kept: each party's last chain, while a next segment may still continue it
        self.pieces = [p for p in self.pieces if p.party != piece.party and piece.start - p.end <= self.gap_s * 2]
        self.pieces = sorted(self.pieces[-self.max_pieces:] + (chain + [piece])[-self.max_pieces:], key=lambda p: p.start)
        return changed


def union(stored: list[str], judged: list[list[str]]) -> list[str]:
    """Each word as stored, or the label a judgement gave it (a label is never given back)."""
    out = list(stored)
    for words in judged:
        for i, word in enumerate(words):
            if is_label(word) and (not is_label(out[i]) or (out[i] != word and (word == "[card]" or out[i] == "[number]"))):
                out[i] = word   # "[phone]" or "[number]" for half of it, then with the rest of it "[card]"
    return out


def collapse(words: Sequence[str]) -> str:
    """Words as text, one label for a row of the same label ("[card] [card]" -> "[card]")."""
    out: list[str] = []
    for word in words:
        if not (out and is_label(word) and out[-1] == word):
            out.append(word)
    return " ".join(out)
