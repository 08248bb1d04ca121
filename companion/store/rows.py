"""The one way a call's rows enter the store, from every path (a live call's recorder, a bundle
opened from another machine, the window's notes, a supervisor's comments).

Free text (what was said, word by word, notes, comments, prompt reasons, step titles, the file
name) is redacted here, so no entry path can forget it; fields with a fixed vocabulary (party,
prompt kind, tick source, the customer's mood) are checked against it.

A recogniser cuts a card number read with pauses into several segments ("four one one one one one
one one", then "one one one one one one one one"): each alone is only part of a number. So the last
few seconds of each party's segments are kept in memory (`RecentSpeech`, never stored) and a new
segment is judged together with them; when that shows more to take out of an earlier segment (the
two halves make a card number), the earlier segment's row and words are rewritten. Such a segment is
`held` out of the search index until no later segment can rewrite it (it has left `RecentSpeech`, or
its call is over), so the index never holds the words it had and is never merged to purge them.
"""

from __future__ import annotations

import json
import math
import sqlite3
from typing import Callable, Iterable, Optional, Sequence
from uuid import uuid4

from companion.errors import CompanionError
from companion.events import CUSTOMER_STATES
from companion.store.recent_speech import Piece, RecentSpeech, collapse, union
from companion.store.redaction import is_label, redact, redact_words
from companion.store.writes import new_id
from companion.timeline import state_spans

PARTIES = ("agent", "customer")
TICK_SOURCES = ("auto", "manual")


class RowError(CompanionError):
    """A row that does not fit the store (wrong party, a number that is not a number)."""


def _party(value: object) -> str:
    if value not in PARTIES:
        raise RowError(f"party must be 'agent' or 'customer', not {str(value)[:40]!r}")
    return str(value)


class CallRows:
    """Rows of one call; `redaction=False` only where the user turned redaction off for their own store.

    `live`: the call is written as it is said (a live call's writer), so a segment is written before
    the segments that may show what it was. Then a segment that the next words could still make
    personal (a card group said alone, "four one one one") is written with all of that already taken
    out (`redaction_probes.still_open`), and its row is given back the text the store keeps once nothing can
    join it any more (its speaker went on with other words, it left the last seconds, `call_over`). So
    no digit of a card is ever written in clear, not even for the seconds before the next group. After
    a commit that took words out of a row already written, `after_commit` checkpoints the write-ahead
    log (its old page images hold the words) and truncates it."""

    def __init__(self, db: sqlite3.Connection, call_id: int, redaction: bool = True, live: bool = False):
        self.db, self.call_id, self.redaction = db, call_id, redaction
        self.recent = RecentSpeech() if redaction else None
        self.live = live and redaction
        self.last_end: dict[str, float] = {}   # each party's latest segment ends here (live)
        self.scrub = False   # a row already written lost words to a label: checkpoint after the commit
        if redaction:
            db.execute("PRAGMA secure_delete = ON")   # text rewritten by a later judgement leaves no copy in free pages

    def text(self, value: Optional[str]) -> Optional[str]:
        return redact(value) if (self.redaction and value) else value

    def turn(self, party: str, start: float, end: float) -> None:
        self.db.execute('INSERT INTO turns(call_id, party, start, "end") VALUES (?, ?, ?, ?)',
                        (self.call_id, _party(party), start, end))

    def segment(self, party: str, start: float, end: float, text: str,
                words: Sequence[tuple[str, float, float, Optional[float]]] = ()) -> None:
        """A final piece of transcript; with its words, the text is the words, redacted together
        (a card number said as four words is a card number, not four short numbers). With redaction on,
        it is held out of the search index while a later segment may still rewrite it."""
        party = _party(party)
        raw = [w[0] for w in words] if words else (text or "").split()
        if words:
            said = redact_words(raw) if self.redaction else raw
            text = " ".join(said)
        else:
            said, text = [], self.text(text) or ""
        piece, settled = None, []
        if self.recent is not None:
            alone = said if words else redact_words(raw)
            piece = Piece(party, start, end, raw, alone)
            remembered = list(self.recent.pieces)
            changed = self.recent.judge(piece)
            for earlier, now in changed:
                earlier.stored = now
            still = set(map(id, self.recent.pieces))   # forgotten now: no later segment can change them
            shown = self._shown(piece, raw, still)
            piece.written = shown(piece)
            if words:
                said = piece.written
                text = " ".join(said)
            elif piece.written != alone:   # more to take out, seen with what came before (or yet to come)
                text = collapse(piece.written)
            for earlier in remembered:
                if earlier.segment_id is not None:
                    self._rewrite(earlier, shown(earlier))
            settled = [(p.segment_id,) for p in remembered if id(p) not in still and p.segment_id is not None]
        cur = self.db.execute('INSERT INTO segments(call_id, party, start, "end", text, held) VALUES (?, ?, ?, ?, ?, ?)',
                              (self.call_id, party, start, end, text, int(piece is not None)))
        segment_id = new_id(cur)
        ids = [new_id(self.db.execute('INSERT INTO words(segment_id, word, start, "end", conf) VALUES (?, ?, ?, ?, ?)',
                                      (segment_id, word, w[1], w[2], w[3]))) for word, w in zip(said, words)]
        if piece is not None:
            piece.segment_id, piece.word_ids = segment_id, ids
        if settled:   # into the search index, with their final text (a trigger puts them in)
            self.db.executemany("UPDATE segments SET held = 0 WHERE id = ? AND held <> 0", settled)

    def transcript(self, segments: Iterable[tuple[str, float, float, str]]) -> None:
        """A whole transcript at once (a bundle from another machine), as text: each segment judged with
        the ones before it exactly as `segment` would judge them one by one, but in memory first, so
        each row is written once with its final text, and goes into the search index as it is written."""
        judged = []
        for party, start, end, text in segments:
            raw = (text or "").split()
            alone = redact_words(raw) if self.redaction else raw
            piece = Piece(_party(party), start, end, raw, alone)
            if self.recent is not None:
                for earlier, words in self.recent.judge(piece):
                    earlier.stored = words
            judged.append((piece, text, alone))
        self.db.executemany('INSERT INTO segments(call_id, party, start, "end", text) VALUES (?, ?, ?, ?, ?)',
                            [(self.call_id, p.party, p.start, p.end,
                              self.text(text) or "" if p.stored == alone else collapse(p.stored))
                             for p, text, alone in judged])

    def _shown(self, piece: Piece, raw: list[str], still: set[int]) -> Callable[[Piece], list[str]]:
        """What each remembered piece's row should hold now that `piece` is judged: a piece forgotten
        holds what the store keeps (`stored`); with `live`, a piece the next words could still make
        personal holds that too, taken out already (its party's pieces are asked again at each of
        their segments, and given back their text once nothing more can be taken out)."""
        wanted: dict[int, list[str]] = {}
        asked: set[str] = set()
        if self.live and self.recent is not None:   # (live calls are always redacted)
            from companion.store.redaction_probes import may_continue, still_open

            party = piece.party   # the other party's open pieces keep their labels until they speak again
            self.last_end[party] = max(self.last_end.get(party, piece.end), piece.end)
            open_ = any(p.party == party and p.written is not None and p.written != p.stored for p in self.recent.pieces)
            if open_ or may_continue(self.recent, raw):
                asked.add(party)
                wanted = still_open(self.recent, party, self.last_end)

        def shown(p: Piece) -> list[str]:
            if id(p) not in still:
                return p.stored
            more = [wanted[id(p)]] if id(p) in wanted else []
            if p.party not in asked and p.written is not None:
                more.append(p.written)   # its labels stay until its own party is asked again
            return union(p.stored, more) if more else p.stored
        return shown

    def _rewrite(self, piece: Piece, words: list[str]) -> None:
        """An earlier segment, judged again with what followed (or, `live`, given back the text the store
        keeps): its row and its words. It is still held out of the search index, so the index never had
        the words it loses (were it in, a trigger would take the old text out of the index and put the
        new in)."""
        was = piece.written if piece.written is not None else piece.stored
        if words == was:
            return
        text = " ".join(words) if piece.word_ids else collapse(words)
        if self.db.execute("UPDATE segments SET text = ? WHERE id = ?", (text, piece.segment_id)).rowcount == 0:
            return
        for rowid, (before, now) in zip(piece.word_ids, zip(was, words)):
            if before != now:
                self.db.execute("UPDATE words SET word = ? WHERE rowid = ?", (now, rowid))
        if any(is_label(now) and not is_label(before) for before, now in zip(was, words)):
            self.scrub = True   # the words it had are in the write-ahead log's old page images
        piece.written = words

    def call_over(self) -> None:
        """The call ended: nothing can join its last segments any more; each row holds what the store keeps."""
        if self.recent is None:
            return
        for piece in self.recent.pieces:
            if piece.segment_id is not None:
                self._rewrite(piece, piece.stored)

    def after_commit(self) -> None:
        """After the commit: when a row already written lost words, copy the write-ahead log into the store
        and truncate it, so the words are in neither file (secure_delete zeroed them in the store's pages).
        Best effort: a reader holding an old snapshot lets it wait for the next time."""
        if not self.scrub:
            return
        try:
            timeout = self.db.execute("PRAGMA busy_timeout").fetchone()[0]
            self.db.execute("PRAGMA busy_timeout = 100")   # the writer never waits long for a reader
            try:
                busy = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            finally:
                self.db.execute(f"PRAGMA busy_timeout = {int(timeout)}")
        except sqlite3.Error:
            return
        self.scrub = bool(busy)

    def prompt(self, t: float, kind: str, reason: str) -> None:
        self.db.execute("INSERT INTO prompts(call_id, t, kind, reason) VALUES (?, ?, ?, ?)",
                        (self.call_id, t, kind, self.text(reason)))

    def interruption(self, t: float, by: str, overlap_s: float) -> None:
        self.db.execute("INSERT INTO interruptions(call_id, t, by, overlap_s) VALUES (?, ?, ?, ?)",
                        (self.call_id, t, _party(by), overlap_s))

    def metric(self, t: float, pace_wpm: Optional[float], loudness_delta_db: Optional[float],
               talk_share: Optional[float], data: Optional[dict[str, object]] = None) -> None:
        self.db.execute("INSERT INTO metrics(call_id, t, pace_wpm, loudness_delta_db, talk_share, data) VALUES (?, ?, ?, ?, ?, ?)",
                        (self.call_id, t, pace_wpm, loudness_delta_db, talk_share, json.dumps(data or {})))

    def customer_state(self, t: float, state: str) -> None:
        """The customer's mood became `state` at `t` (states come in time order); the call's row keeps
        the worst reached so far and the time upset up to `t`."""
        if state not in CUSTOMER_STATES:
            raise RowError(f"a customer state must be one of {', '.join(CUSTOMER_STATES)}, not {str(state)[:40]!r}")
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0:
            raise RowError(f"a customer state's time must be a number of seconds, not {str(t)[:40]!r}")
        t = float(t)
        before = self.db.execute("SELECT t, state FROM customer_states WHERE call_id = ? ORDER BY t DESC, rowid DESC LIMIT 1",
                                 (self.call_id,)).fetchone()
        self.db.execute("INSERT INTO customer_states(call_id, t, state) VALUES (?, ?, ?)", (self.call_id, t, state))
        # kept up to date as the call goes (no re-reading of the call's states); `mood_totals` at the end
        worst = self.db.execute("SELECT customer_mood FROM calls WHERE id = ?", (self.call_id,)).fetchone()
        worst = max((m for m in (worst[0] if worst else None, state) if m in CUSTOMER_STATES), key=CUSTOMER_STATES.index)
        upset = max(0.0, t - before[0]) if before is not None and before[1] == "upset" else 0.0
        self.db.execute("UPDATE calls SET customer_mood = ?, upset_s = COALESCE(upset_s, 0) + ? WHERE id = ?",
                        (worst, upset, self.call_id))

    def tick(self, t: float, step_id: str, title: str, source: str, done: bool) -> None:
        if source not in TICK_SOURCES:
            raise RowError(f"a checklist tick's source must be 'auto' or 'manual', not {str(source)[:40]!r}")
        self.db.execute("INSERT INTO ticks(call_id, t, step_id, title, source, done) VALUES (?, ?, ?, ?, ?, ?)",
                        (self.call_id, t, step_id, self.text(title), source, int(bool(done))))

    def note(self, root_cause: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO notes(call_id, root_cause) VALUES (?, ?)", (self.call_id, self.text(root_cause)))

    def supervisor_message(self, t: float, sender: str, text: str, server_id: Optional[int] = None) -> None:
        """A supervisor's message that reached the agent at `t` during the call (the team live)."""
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0:
            raise RowError(f"a supervisor's message's time must be a number of seconds, not {str(t)[:40]!r}")
        self.db.execute("INSERT INTO supervisor_messages(call_id, t, sender, text, server_id) VALUES (?, ?, ?, ?, ?)",
                        (self.call_id, float(t), self.text(sender) or "", self.text(text) or "", server_id))

    def comment(self, t: float, author: Optional[str], text: str, created_at: str, prompt_id: Optional[int] = None) -> int:
        return new_id(self.db.execute(
            "INSERT INTO comments(call_id, t, prompt_id, author, text, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (self.call_id, t, prompt_id, self.text(author), self.text(text), created_at)))


def mood_totals(db: sqlite3.Connection, call_id: int, end: float) -> None:
    """The call row's `customer_mood` (the worst state reached) and `upset_s` (time upset up to `end`:
    the call's end once it is over), from its stored states; both NULL while none is known."""
    end = float(end) if isinstance(end, (int, float)) and math.isfinite(end) else 0.0
    states = [{"t": t, "state": state} for t, state in db.execute(
        "SELECT t, state FROM customer_states WHERE call_id = ? ORDER BY t, rowid", (call_id,))]
    if not states:
        db.execute("UPDATE calls SET customer_mood = NULL, upset_s = NULL WHERE id = ?", (call_id,))
        return
    worst = max((s["state"] for s in states if s["state"] in CUSTOMER_STATES), key=CUSTOMER_STATES.index, default=None)
    upset = sum(max(0.0, b - a) for a, b, state in state_spans(states, max(end, states[-1]["t"])) if state == "upset")
    db.execute("UPDATE calls SET customer_mood = ?, upset_s = ? WHERE id = ?", (worst, round(upset, 3), call_id))


def insert_call(db: sqlite3.Connection, started_at: str, source: str, file: Optional[str], redaction: bool = True,
                uuid: Optional[str] = None, **columns: object) -> int:
    """A new row in `calls`; the file name is redacted like any text (recordings are often named by caller number)."""
    columns["uuid"] = uuid or str(uuid4())  # issue 14: the call's key on the team server, made once here (unless given)
    names = ["started_at", "source", "file", *columns]
    values: Iterable[object] = [started_at, source, redact(file) if (redaction and file) else file, *columns.values()]
    sql = f"INSERT INTO calls({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    return new_id(db.execute(sql, list(values)))
