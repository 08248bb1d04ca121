"""Redaction of what is said on a call: the labelled sentences of tests/redaction_cases.toml (recall
and precision per kind), spoken numbers as digits, and a card number said across two segments
kept out of every place the store writes (segments, words, full-text search, exports).

`python -m tests.test_redaction` prints the recall/precision table that docs/privacy.md shows."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from companion.store.redaction import LABELS, RULES, luhn_ok, redact, redact_words, spans
from companion.store.rows import CallRows, insert_call
from companion.store.schema import migrate
from companion.store.spoken_numbers import normalise

CASES_FILE = Path(__file__).with_name("redaction_cases.toml")
KINDS = ("card", "code", "expiry", "id", "account", "phone", "email", "number")
LABEL = {kind: f"[{kind}]" for kind in KINDS}


def load_cases() -> list[dict]:
    return tomllib.loads(CASES_FILE.read_text(encoding="utf-8"))["case"]


def _segments(case: dict) -> list[tuple[str, str]]:
    return [tuple(s) for s in case["segments"]] if "segments" in case else [("customer", case["said"])]


def stored_words(case: dict) -> dict[str, tuple[list[str], list[str]]]:
    """party -> (words said, words as stored), the party's segments one after another. A case of
    several segments goes through the store's own write path (CallRows), a few seconds apart."""
    segments = _segments(case)
    if len(segments) == 1:
        party, text = segments[0]
        return {party: (text.split(), redact_words(text.split()))}
    db = sqlite3.connect(":memory:")
    migrate(db)
    rows = CallRows(db, insert_call(db, "2026-01-01T10:00:00+00:00", "live", None))
    t = 1.0
    for party, text in segments:
        words = [(w, t + i * 0.35, t + i * 0.35 + 0.3, 0.9) for i, w in enumerate(text.split())]
        rows.segment(party, words[0][1], words[-1][2], text, words)
        t = words[-1][2] + 1.5
    out: dict[str, tuple[list[str], list[str]]] = {}
    for party, text in segments:
        out.setdefault(party, ([], []))[0].extend(text.split())
    for party, word in db.execute("SELECT s.party, w.word FROM words w JOIN segments s ON s.id = w.segment_id "
                                  "ORDER BY s.start, w.start"):
        out[party][1].append(word)
    return out


def _find(words: list[str], phrase: str, after: int = 0) -> range:
    want = phrase.split()
    for i in range(after, len(words) - len(want) + 1):
        if words[i:i + len(want)] == want:
            return range(i, i + len(want))
    raise AssertionError(f"{phrase!r} is not in {' '.join(words)!r}")


def judge(case: dict) -> dict:
    """What happened to one case: each item removed or not, each removed span personal or not, each look-alike kept."""
    result = {"items": [], "spans": [], "keeps": []}
    parties = stored_words(case)
    default = _segments(case)[-1][0] if len({p for p, _ in _segments(case)}) == 1 else "customer"
    personal: dict[str, set[int]] = defaultdict(set)
    after: dict[str, int] = defaultdict(int)
    for item in case.get("remove", []):
        kind, phrase, party = item[0], item[1], item[2] if len(item) > 2 else default
        said, stored = parties[party]
        where = _find(said, phrase, after[party])
        after[party] = where.stop
        personal[party].update(where)
        labels = {stored[i] for i in where}
        result["items"].append({"kind": kind, "phrase": phrase, "removed": all(lab in LABELS for lab in labels),
                                "labelled": labels == {LABEL[kind]}, "got": " ".join(stored[i] for i in where)})
    for party, (said, stored) in parties.items():
        i = 0
        while i < len(stored):
            if stored[i] in LABELS:
                j = i
                while j + 1 < len(stored) and stored[j + 1] == stored[i]:
                    j += 1
                result["spans"].append({"label": stored[i], "personal": bool(personal[party] & set(range(i, j + 1))),
                                        "words": " ".join(said[i:j + 1])})
                i = j + 1
            else:
                i += 1
    for keep in case.get("keep", []):
        phrase, party = (keep, default) if isinstance(keep, str) else keep
        said, stored = parties[party]
        where = _find(said, phrase)
        result["keeps"].append({"phrase": phrase, "kept": all(stored[i] == said[i] for i in where)})
    return result


def measure(cases: list[dict]) -> dict:
    """Recall (share of personal items fully removed), label accuracy and precision (share of
    removed spans that were personal), per kind; and the share of look-alikes kept."""
    per = {kind: {"items": 0, "removed": 0, "labelled": 0, "spans": 0, "personal": 0} for kind in KINDS}
    keeps = kept = 0
    misses, wrong = [], []
    for case in cases:
        got = judge(case)
        for item in got["items"]:
            row = per[item["kind"]]
            row["items"] += 1
            row["removed"] += item["removed"]
            row["labelled"] += item["labelled"]
            if not item["removed"]:
                misses.append((item["kind"], item["phrase"], item["got"]))
        for span in got["spans"]:
            row = per[span["label"][1:-1]]
            row["spans"] += 1
            row["personal"] += span["personal"]
            if not span["personal"]:
                wrong.append((span["label"], span["words"]))
        for keep in got["keeps"]:
            keeps += 1
            kept += keep["kept"]
            if not keep["kept"]:
                wrong.append(("look-alike", keep["phrase"]))
    for row in per.values():
        row["recall"] = row["removed"] / row["items"] if row["items"] else None
        row["label_accuracy"] = row["labelled"] / row["items"] if row["items"] else None
        row["precision"] = row["personal"] / row["spans"] if row["spans"] else None
    return {"kinds": per, "keeps": keeps, "kept": kept, "misses": misses, "wrong": wrong, "cases": len(cases)}


def table(result: dict) -> str:
    def pct(v):
        return "—" if v is None else f"{v:.3f}"

    lines = ["| kind | items | recall | right label | removed spans | precision |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    total = {"items": 0, "removed": 0, "labelled": 0, "spans": 0, "personal": 0}
    for kind, row in result["kinds"].items():
        lines.append(f"| {kind} | {row['items']} | {pct(row['recall'])} | {pct(row['label_accuracy'])} | {row['spans']} | {pct(row['precision'])} |")
        for key in total:
            total[key] += row[key]
    lines.append(f"| **all** | {total['items']} | {pct(total['removed'] / total['items'])} | "
                 f"{pct(total['labelled'] / total['items'])} | {total['spans']} | {pct(total['personal'] / total['spans'])} |")
    lines.append("")
    lines.append(f"Look-alikes kept (prices, times, quantities, dates, years, order counts, short numbers): "
                 f"{result['kept']} of {result['keeps']} ({result['kept'] / result['keeps']:.3f}); "
                 f"{result['cases']} labelled sentences.")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def measured():
    return measure(load_cases())


def test_the_labelled_set_is_big_and_well_formed():
    cases = load_cases()
    assert len(cases) >= 150
    kinds = {item[0] for case in cases for item in case.get("remove", [])}
    assert kinds == set(KINDS)
    assert sum("segments" in case for case in cases) >= 10
    assert sum(any(ch.isdigit() for ch in case.get("said", "")) for case in cases) >= 20   # typed digits too
    for case in cases:   # each card in the set is a real (Luhn-valid) card number
        for kind, phrase, *_ in case.get("remove", []):
            if kind == "card":
                [run] = normalise(phrase, ("um", "uh", "er", "sorry"), ("dash",)).runs
                assert luhn_ok(run.digits) and 13 <= len(run.digits) <= 19, phrase


def test_every_card_number_is_removed_and_labelled_a_card(measured):
    card = measured["kinds"]["card"]
    assert card["recall"] == 1.0, [m for m in measured["misses"] if m[0] == "card"]
    assert card["label_accuracy"] == 1.0


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "card"])
def test_recall_of_each_kind(measured, kind):
    assert measured["kinds"][kind]["recall"] >= 0.98, [m for m in measured["misses"] if m[0] == kind]


@pytest.mark.parametrize("kind", KINDS)
def test_precision_of_each_kind(measured, kind):
    row = measured["kinds"][kind]
    assert row["precision"] is None or row["precision"] >= 0.95, measured["wrong"]


def test_look_alikes_stay(measured):
    assert measured["kept"] / measured["keeps"] >= 0.95, measured["wrong"]


# --- spoken numbers ------------------------------------------------------------------------------

@pytest.mark.parametrize("said,digits", [
    ("four one one one", "4111"),
    ("forty one eleven", "4111"),
    ("four thousand one hundred and eleven", "4111"),
    ("oh seven seven double nine", "07799"),
    ("triple five", "555"),
    ("twenty-one", "21"),
    ("twenty one", "21"),
    ("nineteen ninety nine", "1999"),
    ("two hundred and fifty", "250"),
    ("a hundred and twenty five thousand", "125000"),
    ("two thousand twenty four", "2024"),
    ("forty five point nine nine", "45.99"),
    ("plus forty four seven seven", "+4477"),
    ("four uh one sorry one one", "4111"),
    ("four 111", "4111"),
    ("4-5-3-2", "4532"),
    ("oh nine hundred", "0900"),
    ("double oh seven", "007"),
])
def test_spoken_numbers_become_digits(said, digits):
    n = normalise(said, ("uh", "um", "sorry"), ("dash",))
    assert n.text == digits and [r.render() for r in n.runs] == [digits]


def test_each_digit_maps_back_to_the_words_that_said_it():
    n = normalise("card forty one eleven thanks")
    start = n.text.index("4111")
    assert n.source_span(start, start + 2) == (5, 14)      # "41": "forty one"
    assert n.source_span(start + 2, start + 4) == (15, 21)  # "11": "eleven"
    assert n.text.endswith(" thanks")


@pytest.mark.parametrize("said", ["on the twenty first of june", "oh i see", "a couple of them", "oh no", "the first"])
def test_words_that_only_look_like_numbers_stay_words(said):
    assert normalise(said).runs == [] and redact(said) == said


@pytest.mark.parametrize("said", ["someone said no one", "that one or the other one", "one of them"])
def test_a_lone_one_is_a_short_number_and_stays(said):
    assert redact(said) == said


@pytest.mark.parametrize("text,expected", [
    ("my card is 4111 1111 1111 1111 thanks", "my card is [card] thanks"),
    ("card 4111-1111-1111-1111", "card [card]"),
    ("not a card 4111 1111 1111 1112", "not a card [number]"),   # fails Luhn: a long number
    ("order 12345 shipped", "order 12345 shipped"),
    ("write to jane.doe+calls@example.co.uk today", "write to [email] today"),
    ("call me on +44 20 7946 0958", "call me on [phone]"),
    ("or (555) 123-4567 after five", "or [phone] after five"),
    ("model ab1234567cd is fine", "model ab1234567cd is fine"),
    ("room 2 at 3 pm", "room 2 at 3 pm"),
    ("my visa is four five three nine five seven eight seven six three six two one four eight six ok", "my visa is [card] ok"),
])
def test_typed_text_is_redacted_as_before(text, expected):
    assert redact(text) == expected


def test_spans_and_words_agree():
    words = "my card is four one one one one one one one one one one one one one one one thanks".split()
    assert redact_words(words) == ["my", "card", "is"] + ["[card]"] * 16 + ["thanks"]
    text = " ".join(words)
    [(start, end, label)] = spans(text)
    assert label == "[card]" and text[start:end].startswith("four") and text[end:] == " thanks"


def test_the_settings_list_every_kind():
    assert len(RULES) == len(KINDS) and all(isinstance(n, str) and isinstance(h, str) for n, h in RULES)
    described = " ".join(how for _, how in RULES)
    assert all(f"[{kind}]" in described for kind in KINDS)


# --- through the store's write path ---------------------------------------------------------------

@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_a_card_number_said_across_two_segments_is_in_no_stored_place(data_dir):
    from companion.events import CallEnded, FinalSegment, Word
    from companion.reports.export import export
    from companion.store.calls import load_call, search
    from companion.store.db import open_store
    from companion.store.recorder import CallRecorder

    def said(party, text, t):
        words = tuple(Word(w, t + i * 0.35, t + i * 0.35 + 0.3, 0.9) for i, w in enumerate(text.split()))
        return FinalSegment(party, words[0].start, words[-1].end, words)

    first, second = "four five five six seven three seven five", "eight six eight nine nine eight five five"
    recorder = CallRecorder("live")
    for event in (said("agent", "can i take the card number please", 1.0), said("customer", f"yes it's {first}", 4.0),
                  said("customer", second, 8.5), said("agent", "lovely thank you", 12.5), CallEnded(15.0, 0)):
        recorder(event)
    recorder.close()
    db = open_store()
    texts = [r[0] for r in db.execute("SELECT text FROM segments ORDER BY start")]
    assert texts == ["can i take the card number please", "yes it's " + " ".join(["[card]"] * 8),
                     " ".join(["[card]"] * 8), "lovely thank you"]
    words = [r[0] for r in db.execute("SELECT word FROM words ORDER BY start")]
    assert words.count("[card]") == 16 and not {"four", "five", "six", "seven", "eight", "nine"} & set(words)
    for probe in ("four", "five", "seven", "eight", "nine", "four five five six", "eight six eight nine"):
        assert search(db, probe) == [], probe
    assert search(db, "lovely") == [recorder.call_id] and search(db, "card") == [recorder.call_id]
    db.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, 'segments_fts', 'row')")
    terms = {r[0] for r in db.execute("SELECT term FROM temp.vocab")}
    assert not {"four", "five", "six", "seven", "eight", "nine"} & terms   # not even in the index's pages
    doc = load_call(db, recorder.call_id)
    for fmt in ("json", "txt"):
        out = export(doc, fmt)
        assert "[card]" in out and "five five" not in out and "eight six" not in out, fmt


def test_a_later_segment_only_ever_adds_labels(data_dir):
    db = sqlite3.connect(":memory:")
    migrate(db)
    rows = CallRows(db, insert_call(db, "2026-01-01T10:00:00+00:00", "live", None))

    def seg(party, text, t):
        words = [(w, t + i * 0.3, t + i * 0.3 + 0.25, 1.0) for i, w in enumerate(text.split())]
        rows.segment(party, words[0][1], words[-1][2], text, words)

    seg("customer", "my email is john dot smith at gmail dot com", 1.0)
    seg("customer", "and it costs forty five ninety nine", 5.0)
    seg("customer", "four one one one", 30.0)   # long after: judged alone
    seg("customer", "one one one one one one one one one one one one", 50.0)
    texts = [r[0] for r in db.execute("SELECT text FROM segments ORDER BY start")]
    assert texts[:2] == ["my email is [email] [email] [email] [email] [email] [email] [email]",
                         "and it costs forty five ninety nine"]
    assert texts[2] == "four one one one"       # 20 s before the rest: not the same number
    assert set(texts[3].split()) == {"[number]"}


def test_text_only_segments_from_a_bundle_are_judged_together_too():
    db = sqlite3.connect(":memory:")
    migrate(db)
    rows = CallRows(db, insert_call(db, "2026-01-01T10:00:00+00:00", "bundle", None))
    rows.segment("customer", 1.0, 3.0, "my card is four one one one one one one one")
    rows.segment("customer", 4.0, 6.0, "one one one one one one one one thanks")
    texts = [r[0] for r in db.execute("SELECT text FROM segments ORDER BY start")]
    assert texts == ["my card is [card]", "[card] thanks"]
    assert db.execute("SELECT COUNT(*) FROM segments_fts WHERE segments_fts MATCH 'one'").fetchone()[0] == 0


if __name__ == "__main__":
    result = measure(load_cases())
    print(table(result))
    for kind, phrase, got in result["misses"]:
        print(f"missed {kind}: {phrase!r} -> {got!r}")
    for label, words in result["wrong"]:
        print(f"wrongly removed ({label}): {words!r}")


def test_the_apps_own_coaching_reasons_keep_their_numbers():
    """A prompt's reason is stored redacted like all text; the targets and levels in it are not personal."""
    from companion.store.redaction import redact

    for reason in ("218 words/min — aim for 140–160", "Your voice is 9 dB above your usual level — speak softly and slowly",
                   "You have 65% of the talk in the last 2 min — ask, then listen", "4 apologies so far — stop apologising",
                   "No one has spoken for 12 s"):
        assert redact(reason) == reason
