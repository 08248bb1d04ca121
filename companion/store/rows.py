"""The one way a call's rows enter the store, from every path (a live call's recorder, a bundle
opened from another machine, the window's notes, a supervisor's comments).

Free text (what was said, word by word, notes, comments, prompt reasons, step titles, the file
name) is redacted here, so no entry path can forget it; fields with a fixed vocabulary (party,
prompt kind, tick source) are checked against it.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Iterable, Optional, Sequence

from companion.errors import CompanionError
from companion.store.redaction import redact, redact_words

PARTIES = ("agent", "customer")
TICK_SOURCES = ("auto", "manual")


class RowError(CompanionError):
    """A row that does not fit the store (wrong party, a number that is not a number)."""


def _party(value: object) -> str:
    if value not in PARTIES:
        raise RowError(f"party must be 'agent' or 'customer', not {str(value)[:40]!r}")
    return str(value)


class CallRows:
    """Rows of one call; `redaction=False` only where the user turned redaction off for their own store."""

    def __init__(self, db: sqlite3.Connection, call_id: int, redaction: bool = True):
        self.db, self.call_id, self.redaction = db, call_id, redaction

    def text(self, value: Optional[str]) -> Optional[str]:
        return redact(value) if (self.redaction and value) else value

    def turn(self, party: str, start: float, end: float) -> None:
        self.db.execute('INSERT INTO turns(call_id, party, start, "end") VALUES (?, ?, ?, ?)',
                        (self.call_id, _party(party), start, end))

    def segment(self, party: str, start: float, end: float, text: str,
                words: Sequence[tuple[str, float, float, Optional[float]]] = ()) -> None:
        """A final piece of transcript; with its words, the text is the words, redacted together
        (a card number said as four words is a card number, not four short numbers)."""
        if words:
            said = redact_words([w[0] for w in words]) if self.redaction else [w[0] for w in words]
            text = " ".join(said)
        else:
            said, text = [], self.text(text) or ""
        cur = self.db.execute('INSERT INTO segments(call_id, party, start, "end", text) VALUES (?, ?, ?, ?, ?)',
                              (self.call_id, _party(party), start, end, text))
        self.db.executemany('INSERT INTO words(segment_id, word, start, "end", conf) VALUES (?, ?, ?, ?, ?)',
                            [(cur.lastrowid, word, w[1], w[2], w[3]) for word, w in zip(said, words)])

    def prompt(self, t: float, kind: str, reason: str) -> None:
        self.db.execute("INSERT INTO prompts(call_id, t, kind, reason) VALUES (?, ?, ?, ?)",
                        (self.call_id, t, kind, self.text(reason)))

    def interruption(self, t: float, by: str, overlap_s: float) -> None:
        self.db.execute("INSERT INTO interruptions(call_id, t, by, overlap_s) VALUES (?, ?, ?, ?)",
                        (self.call_id, t, _party(by), overlap_s))

    def metric(self, t: float, pace_wpm: Optional[float], loudness_delta_db: Optional[float],
               talk_share: Optional[float], data: Optional[dict] = None) -> None:
        self.db.execute("INSERT INTO metrics(call_id, t, pace_wpm, loudness_delta_db, talk_share, data) VALUES (?, ?, ?, ?, ?, ?)",
                        (self.call_id, t, pace_wpm, loudness_delta_db, talk_share, json.dumps(data or {})))

    def tick(self, t: float, step_id: str, title: str, source: str, done: bool) -> None:
        if source not in TICK_SOURCES:
            raise RowError(f"a checklist tick's source must be 'auto' or 'manual', not {str(source)[:40]!r}")
        self.db.execute("INSERT INTO ticks(call_id, t, step_id, title, source, done) VALUES (?, ?, ?, ?, ?, ?)",
                        (self.call_id, t, step_id, self.text(title), source, int(bool(done))))

    def note(self, root_cause: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO notes(call_id, root_cause) VALUES (?, ?)", (self.call_id, self.text(root_cause)))

    def comment(self, t: float, author: Optional[str], text: str, created_at: str, prompt_id: Optional[int] = None) -> int:
        return self.db.execute(
            "INSERT INTO comments(call_id, t, prompt_id, author, text, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (self.call_id, t, prompt_id, self.text(author), self.text(text), created_at)).lastrowid


def insert_call(db: sqlite3.Connection, started_at: str, source: str, file: Optional[str], redaction: bool = True,
                **columns: object) -> int:
    """A new row in `calls`; the file name is redacted like any text (recordings are often named by caller number)."""
    names = ["started_at", "source", "file", *columns]
    values: Iterable[object] = [started_at, source, redact(file) if (redaction and file) else file, *columns.values()]
    sql = f"INSERT INTO calls({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    return db.execute(sql, list(values)).lastrowid
