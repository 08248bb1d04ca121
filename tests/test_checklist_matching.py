"""How well what the agent says is matched to the checklist's steps, measured on a labelled set of agent lines
(tests/checklist_utterances.toml): precision and recall per step of each bundled playbook, at least 0.9 each,
and the same figures in docs/checklist.md.

`python -m tests.test_checklist_matching` prints the figures and writes them into docs/checklist.md.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from functools import lru_cache

from companion.checklist import CueMatcher
from companion.playbooks import Playbook, all_playbooks
from companion.playbooks import find_playbook as _find_playbook

HERE = Path(__file__).resolve().parent
DATA = HERE / "checklist_utterances.toml"
DOC = HERE.parent / "docs" / "checklist.md"
GOAL = 0.9                     # precision and recall, each step, on the whole set
HELD_OUT_FLOOR = (0.9, 0.8)    # precision and recall over the held-out lines (never tuned on): they may not fall
KINDS = ("exact", "form", "paraphrase", "asr", "distractor", "greeting")
BUNDLED = ("unhappy-customer", "angry-customer", "negotiation")


@lru_cache(maxsize=None)
def find_playbook(playbook_id: str) -> Playbook:
    """A bundled playbook, read once (the user's own folder is empty in the tests)."""
    return _find_playbook(playbook_id)


@dataclass(frozen=True)
class Line:
    set: str
    playbook: str
    at: str                    # the step the call is at, or "greeting"
    steps: frozenset[str]      # what it shows
    kind: str
    text: str


def load() -> list[Line]:
    data = tomllib.loads(DATA.read_text(encoding="utf-8"))
    return [Line(g["set"], g["playbook"], g["at"], frozenset(s.split("+")) if s else frozenset(), kind, text)
            for g in data["group"] for s, kind, text in g["said"]]


def shown(line: Line, matchers: dict[str, CueMatcher]) -> set[str]:
    """What the matcher says the line shows, said where the line's label says the call is."""
    if line.playbook not in matchers:
        matchers[line.playbook] = CueMatcher(find_playbook(line.playbook))
    matcher = matchers[line.playbook]
    if line.at == "greeting":  # the first step a phrase shows, before the customer has spoken
        first = next(s.id for s in matcher.playbook.steps if not s.flow)
        return {e.step_id for e in matcher.shown(line.text, first, customer_heard=False)}
    return {e.step_id for e in matcher.shown(line.text, line.at, customer_heard=True)}


@dataclass(frozen=True)
class Score:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def measure(lines: list[Line]) -> dict[tuple[str, str], Score]:
    """Precision and recall of each (playbook, step) over `lines`."""
    tp, fp, fn = Counter(), Counter(), Counter()
    matchers: dict[str, CueMatcher] = {}
    for line in lines:
        got = shown(line, matchers)
        for step in got & line.steps:
            tp[line.playbook, step] += 1
        for step in got - line.steps:
            fp[line.playbook, step] += 1
        for step in line.steps - got:
            fn[line.playbook, step] += 1
    keys = [(p.id, s.id) for p in map(find_playbook, BUNDLED) for s in p.steps if not s.flow]
    return {k: Score(tp[k], fp[k], fn[k]) for k in keys}


def overall(scores: dict) -> Score:
    return Score(sum(s.tp for s in scores.values()), sum(s.fp for s in scores.values()), sum(s.fn for s in scores.values()))


def recall_by_kind(lines: list[Line]) -> dict[str, tuple[int, int]]:
    """(lines whose steps were all found, lines) per kind of line that shows a step; for distractors and greetings,
    (lines that ticked nothing, lines)."""
    matchers: dict[str, CueMatcher] = {}
    out = {}
    for kind in KINDS:
        mine = [line for line in lines if line.kind == kind]
        right = sum(1 for line in mine if (shown(line, matchers) >= line.steps if line.steps else not shown(line, matchers)))
        out[kind] = (right, len(mine))
    return out


# --- the figures as docs/checklist.md shows them ------------------------------------------------------------
def _rows(scores: dict) -> list[str]:
    names = {(p.id, s.id): (p.name, n, s.title) for p in map(find_playbook, BUNDLED) for n, s in enumerate(p.steps, 1)}
    rows = ["| Playbook | Step | Lines | Precision | Recall |", "|---|---|---:|---:|---:|"]
    for key, score in scores.items():
        playbook, n, title = names[key]
        rows.append(f"| {playbook} | {n}. {title} | {score.tp + score.fn} | {score.precision:.2f} | {score.recall:.2f} |")
    total = overall(scores)
    rows.append(f"| **all steps** | | {total.tp + total.fn} | {total.precision:.2f} | {total.recall:.2f} |")
    return rows


def figures() -> str:
    """The measured part of docs/checklist.md."""
    lines = load()
    held = [line for line in lines if line.set == "held-out"]
    kinds = recall_by_kind(lines)
    out = [f"{len(lines)} agent lines ({len(lines) - len(held)} tuned on, {len(held)} held out); "
           f"{sum(1 for line in lines if not line.steps)} of them show no step.", "",
           "All lines:", "", *_rows(measure(lines)), "", "Held-out lines only (never used to change a cue or a rule):", "",
           *_rows(measure(held)), "", "By kind of line (all lines): found whole, or, for distractors and greetings, "
           "left alone:", "", "| Kind | Right | Lines |", "|---|---:|---:|"]
    out += [f"| {kind} | {right} | {n} |" for kind, (right, n) in kinds.items()]
    return "\n".join(out)


BEGIN, END = "<!-- measured: python -m tests.test_checklist_matching -->", "<!-- end of measured -->"


def doc_figures() -> str:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(re.escape(BEGIN) + r"\n(.*?)\n" + re.escape(END), text, re.S)
    assert found, f"{DOC} has no measured section between {BEGIN} and {END}"
    return found.group(1)


# --- the tests ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lines() -> list[Line]:
    return load()


def test_the_labelled_set_covers_every_step_that_a_phrase_can_show(lines):
    assert len(lines) >= 300
    for line in lines:
        playbook = find_playbook(line.playbook)
        ids = {s.id for s in playbook.steps}
        assert line.set in ("tuning", "held-out") and line.kind in KINDS, line
        assert line.at == "greeting" or line.at in ids, line
        assert line.steps <= ids and not any(playbook.step(s).flow for s in line.steps), line
        assert bool(line.steps) == (line.kind not in ("distractor", "greeting")), line
    for playbook_id in BUNDLED:
        for step in find_playbook(playbook_id).steps:
            if not step.flow:
                assert sum(1 for line in lines if line.playbook == playbook_id and step.id in line.steps) >= 10, step.id
    kinds = Counter(line.kind for line in lines)
    assert all(kinds[k] >= 15 for k in KINDS), kinds
    assert len([line for line in lines if line.set == "held-out"]) >= 60


def test_every_step_is_found_with_precision_and_recall_of_at_least_0_9(lines):
    scores = measure(lines)
    short = {k: (round(s.precision, 2), round(s.recall, 2)) for k, s in scores.items()
             if s.precision < GOAL or s.recall < GOAL}
    assert not short, f"below {GOAL}: {short}"


def test_the_held_out_lines_are_found_as_well_as_measured(lines):
    total = overall(measure([line for line in lines if line.set == "held-out"]))
    assert total.precision >= HELD_OUT_FLOOR[0] and total.recall >= HELD_OUT_FLOOR[1], (total.precision, total.recall)


def test_no_greeting_ticks_a_step(lines):
    matchers: dict[str, CueMatcher] = {}
    ticked = [(line.text, shown(line, matchers)) for line in lines if line.kind == "greeting"]
    assert all(not steps for _, steps in ticked), [t for t in ticked if t[1]]


def test_docs_checklist_md_gives_these_figures():
    assert doc_figures() == figures(), "docs/checklist.md is out of date: run  python -m tests.test_checklist_matching"


def test_a_users_own_playbook_is_matched_the_same_way(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path))
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "billing.toml").write_text(
        'id = "billing"\nname = "Billing"\n[[step]]\nid = "open"\ntitle = "Breathe"\nflow = "opening"\n'
        '[[step]]\nid = "facts"\ntitle = "Facts"\ncues = ["let me check the invoice"]\n')
    billing = next(p for p in all_playbooks()[0] if p.id == "billing")
    matcher = CueMatcher(billing)
    assert [e.step_id for e in matcher.shown("Let me just check your invoices.", "facts")] == ["facts"]


if __name__ == "__main__":
    text = DOC.read_text(encoding="utf-8")
    new = text.replace(doc_figures(), figures()) if BEGIN in text else text
    DOC.write_text(new, encoding="utf-8")
    print(figures())
    sys.exit(0)
