"""A saved call opens with each turn's words: the same party's segments whose middle lies within the turn
(half a second of slack each side), in the transcript's order. Checked against the plain reading of that
rule on random calls in a real store: overlapping turns, segments exactly on the slack's edge, ties."""

from __future__ import annotations

import random

import pytest

from companion.store.calls import load_call
from companion.store.db import open_store, write
from companion.store.rows import insert_call


def reference(turns: list[dict], segments: list[dict]) -> list:
    """The rule as written: every segment looked at for every turn."""
    return [" ".join(s["text"] for s in segments if s["party"] == t["party"]
                     and t["start"] - 0.5 <= (s["start"] + s["end"]) / 2 <= t["end"] + 0.5) if segments else None
            for t in turns]


def random_call(rng: random.Random, turns: int, segments: int) -> tuple[list, list]:
    def grid(top: float) -> float:  # quarter seconds: middles land exactly on the edges
        return rng.randrange(0, int(top * 4)) / 4
    made_turns, made_segments = [], []
    for _ in range(turns):
        start = grid(600)
        made_turns.append((rng.choice(("agent", "customer")), start, start + grid(30)))
    for n in range(segments):
        start = grid(600)
        made_segments.append((rng.choice(("agent", "customer")), start, start + rng.choice((0.0, 0.5, 1.0, grid(12))),
                              f"w{n}"))
    return made_turns, made_segments


@pytest.mark.parametrize("seed, turns, segments", [(1, 300, 1200), (2, 40, 0), (3, 0, 50), (4, 500, 3000), (5, 25, 25)])
def test_each_turn_gets_the_words_said_in_it(seed, turns, segments):
    made_turns, made_segments = random_call(random.Random(seed), turns, segments)

    def save(db):
        cid = insert_call(db, "2026-01-05T09:00:00+00:00", "live", None, status="complete")
        db.executemany('INSERT INTO turns(call_id, party, start, "end") VALUES (?, ?, ?, ?)',
                       [(cid, *t) for t in made_turns])
        db.executemany('INSERT INTO segments(call_id, party, start, "end", text) VALUES (?, ?, ?, ?, ?)',
                       [(cid, *s) for s in made_segments])
        return cid

    db = open_store()
    doc = load_call(db, write(db, save))
    stored = doc["call"]["segments"]
    assert len(stored) == segments and len(doc["turns"]) == turns
    bare = [{k: v for k, v in t.items() if k != "text"} for t in doc["turns"]]
    assert [t["text"] for t in doc["turns"]] == reference(bare, stored)
    if segments and turns:
        assert any(t["text"] for t in doc["turns"])   # the rule is exercised, not vacuous


def test_a_turn_with_no_transcript_has_no_text_and_a_party_with_none_has_empty_text():
    def save(db):
        cid = insert_call(db, "2026-01-05T09:00:00+00:00", "live", None, status="complete")
        db.execute("INSERT INTO turns(call_id, party, start, \"end\") VALUES (?, 'agent', 0, 5), (?, 'customer', 5, 9)",
                   (cid, cid))
        db.execute("INSERT INTO segments(call_id, party, start, \"end\", text) VALUES (?, 'agent', 4.5, 6.5, 'hello')", (cid,))
        return cid

    db = open_store()
    doc = load_call(db, write(db, save))
    assert [t["text"] for t in doc["turns"]] == ["hello", ""]   # its middle, 5.5, is within the agent's turn's slack
