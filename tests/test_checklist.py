"""Playbooks as data, steps ticked by what the agent says (as the call goes), by the call's flow or by hand, the
call's adherence, and too many apologies. How well lines are matched to steps: tests/test_checklist_matching.py."""

from __future__ import annotations

import dataclasses

import pytest

from companion.checklist import ChecklistTracker
from companion.coach.rules import Coach
from companion.errors import ConfigError
from companion.events import FinalSegment, Word
from companion.playbooks import all_playbooks, find_playbook, load_playbook
from tests.test_coach import BASE


def said(party, text, t=10.0):
    words = tuple(Word(w, t + i * 0.3, t + i * 0.3 + 0.25, 1.0) for i, w in enumerate(text.split()))
    return FinalSegment(party, words[0].start, words[-1].end, words)


def test_the_three_bundled_playbooks():
    playbooks, problems = all_playbooks()
    assert problems == []
    ids = [p.id for p in playbooks]
    assert ids[:3] == ["unhappy-customer", "angry-customer", "negotiation"]
    unhappy = find_playbook(None)
    assert unhappy.id == "unhappy-customer" and len(unhappy.steps) == 7
    assert [s.id for s in find_playbook("negotiation").steps][3] == "recap"


def test_a_cue_in_what_the_agent_says_ticks_the_step():
    tracker = ChecklistTracker(find_playbook("negotiation"))
    assert tracker.current == "walk-away"
    first = said("customer", "so if i pay today you will waive the fee", t=3.0)
    # the call's first words: the opening step (decided before the call) is behind it; the customer's words tick nothing
    assert [(t.step_id, t.source, t.phrase, t.t) for t in tracker.on_segment(first)] == [("walk-away", "auto", None, 3.0)]
    assert tracker.current == "facts"
    segment = said("agent", "so if i waive the fee you will keep the order", t=42.0)
    ticks = tracker.on_segment(segment)
    assert [(t.step_id, t.source, t.phrase) for t in ticks] == [("recap", "auto", "so if i")]
    assert ticks[0].t == pytest.approx(segment.end)
    assert tracker.on_segment(said("agent", "so if i do that")) == []  # once


def test_steps_are_ticked_and_unticked_by_hand():
    tracker = ChecklistTracker(find_playbook("unhappy-customer"))
    tick = tracker.set_done("mindset", 3.0)
    assert tick.source == "manual" and tick.done and tracker.current == "listen"
    assert tracker.set_done("mindset", 4.0) is None
    untick = tracker.set_done("mindset", 5.0, done=False)
    assert untick.done is False and tracker.current == "mindset"


def test_a_users_own_playbook_is_loaded_and_a_broken_one_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path))
    folder = tmp_path / "playbooks"
    folder.mkdir()
    (folder / "mine.toml").write_text('id = "billing"\nname = "Billing dispute"\n[[step]]\nid = "facts"\ntitle = "Get the facts"\ncues = ["Let me CHECK!"]\n')
    (folder / "broken.toml").write_text('name = "no id"\n')
    playbooks, problems = all_playbooks()
    billing = next(p for p in playbooks if p.id == "billing")
    assert billing.steps[0].cues == ("let me check",)
    assert len(problems) == 1 and "broken.toml" in problems[0]
    with pytest.raises(ConfigError, match="No playbook 'nope'"):
        find_playbook("nope")


def test_duplicate_step_ids_are_refused(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('id = "x"\nname = "X"\n[[step]]\nid = "a"\ntitle = "A"\n[[step]]\nid = "a"\ntitle = "B"\n')
    with pytest.raises(ConfigError, match="two steps with the same id"):
        load_playbook(path)


def test_more_than_two_apologies_prompts_stop_apologizing(config):
    from companion.monitor.call_monitor import CallMonitor

    monitor = CallMonitor(config)
    monitor.add_segment(said("agent", "i am so sorry about that"))
    monitor.add_segment(said("customer", "sorry sorry sorry"))  # the customer's do not count
    monitor.add_segment(said("agent", "sorry again my apologies"))
    assert monitor.apologies == 3
    coach = Coach(config.coach)
    prompts = coach.evaluate(dataclasses.replace(BASE, t=30.0, apologies=3))
    assert [p.kind for p in prompts] == ["stop_apologizing"]
    assert "stop apologising, move to the facts" in prompts[0].reason
    assert coach.evaluate(dataclasses.replace(BASE, t=60.0, apologies=4)) == []
    assert [p.kind for p in coach.evaluate(dataclasses.replace(BASE, t=90.0, apologies=5))] == ["stop_apologizing"]


def playbook_file(tmp_path, step: str):
    path = tmp_path / "p.toml"
    path.write_text('id = "x"\nname = "X"\n[[step]]\nid = "a"\ntitle = "A"\n' + step)
    return path


def test_a_step_says_when_the_flow_does_it_and_what_rules_it_out(tmp_path):
    step = load_playbook(playbook_file(tmp_path, 'flow = "opening"\nnear_cues = ["Go on!"]\nunless = ["Sorry"]\n')).steps[0]
    assert (step.flow, step.near_cues, step.unless, step.cues) == ("opening", ("go on",), ("sorry",), ())
    with pytest.raises(ConfigError, match='flow must be one of opening, after-call .*not "later"'):
        load_playbook(playbook_file(tmp_path, 'flow = "later"\n'))
    with pytest.raises(ConfigError, match="near_cues must be a list of text"):
        load_playbook(playbook_file(tmp_path, 'near_cues = "go on"\n'))


def test_the_bundled_steps_no_phrase_shows_are_the_flows():
    flows = {p.id: {s.id: s.flow for s in p.steps if s.flow} for p in all_playbooks()[0][:3]}
    assert flows == {"unhappy-customer": {"mindset": "opening", "feedback": "after-call"},
                     "angry-customer": {"calm": "opening"}, "negotiation": {"walk-away": "opening"}}
    for playbook in all_playbooks()[0][:3]:
        assert all(s.cues for s in playbook.steps if not s.flow), playbook.id  # every other step has phrases


def test_the_current_step_is_where_the_conversation_is():
    tracker = ChecklistTracker(find_playbook("unhappy-customer"))
    assert tracker.current == "mindset"  # before the call: take a breath
    tracker.on_segment(said("agent", "thank you for calling my name is sam how can i help", t=1.0))
    assert set(tracker.done) == {"mindset"} and tracker.current == "listen"  # the greeting ticks nothing else
    tracker.on_segment(said("customer", "my parcel never came", t=5.0))
    tracker.on_segment(said("agent", "i am so sorry to hear that", t=9.0))
    assert tracker.current == "solution"  # "repeat" was skipped: it stays behind, the conversation is past it
    tracker.on_segment(said("agent", "you will get an email from me with my direct line", t=30.0))
    assert tracker.current == "feedback"  # after the last step said: the after-call step
    tracker.on_segment(said("agent", "so what i hear is the parcel never came", t=40.0))
    assert "repeat" in tracker.done and tracker.current == "feedback"
    tracker.on_segment(said("agent", "i will write down the root cause and use the feedback", t=50.0))
    assert "feedback" not in tracker.done  # done in the summary, never by a phrase
    assert tracker.set_done("mindset", 60.0, done=False) is not None and tracker.current == "mindset"


def test_my_name_is_in_the_greeting_is_not_step_6_but_is_when_the_call_gets_there():
    tracker = ChecklistTracker(find_playbook("unhappy-customer"))
    assert [t.step_id for t in tracker.on_segment(said("agent", "hello my name is sam you can reach me directly on 42"))] \
        == ["mindset"]  # a greeting: even a strong cue of a step far ahead does not count
    for sid in ("listen", "repeat", "empathise", "solution"):
        tracker.set_done(sid, 20.0)
    assert tracker.current == "action"
    assert [t.step_id for t in tracker.on_segment(said("agent", "my name is sam by the way", t=40.0))] == ["action"]


def test_a_step_far_ahead_needs_stronger_evidence():
    from companion.checklist import CueMatcher

    matcher = CueMatcher(find_playbook("unhappy-customer"))
    line = "i follow up every case myself"  # "i will follow up" with a word missing: a fuzzy match, not a strong one
    [evidence] = [e for e in matcher.evidence(line) if e.step_id == "action"]
    assert 0.8 <= evidence.score < 0.9 and not evidence.strong
    assert [e.step_id for e in matcher.shown(line, "solution")] == ["action"]  # the next step: enough
    assert [e.step_id for e in matcher.shown(line, "listen")] == []  # four steps ahead: not enough
    assert [e.step_id for e in matcher.shown("i will follow up with the courier", "listen")] == ["action"]  # exact
    assert [e.step_id for e in matcher.shown("my name is sam", "solution")] == ["action"]  # a near cue, next step
    assert [e.step_id for e in matcher.shown("my name is sam", "empathise")] == []  # two ahead: near cues do not count


def test_a_line_means_what_its_best_cue_says_and_not_what_it_negates():
    from companion.checklist import CueMatcher

    angry = CueMatcher(find_playbook("angry-customer"))
    assert [e.step_id for e in angry.shown("i understand why you are upset", "no-sorry")] == ["empathise"]
    assert [e.step_id for e in angry.shown("i understand", "no-sorry")] == ["no-sorry"]
    assert [e.step_id for e in angry.shown("i'm sorry, i understand", "no-sorry")] == []  # still saying sorry
    unhappy = CueMatcher(find_playbook("unhappy-customer"))
    assert [e.step_id for e in unhappy.shown("I can't send a replacement until Friday", "solution")] == []
    assert [e.step_id for e in unhappy.shown("I can send a replacement on Friday", "solution")] == ["solution"]
    assert [e.step_id for e in unhappy.shown("my direct lion is oh one six one", "action")] == ["action"]  # misheard
    assert [e.step_id for e in unhappy.shown("I do apologize", "empathise")] == ["empathise"]  # the other spelling


def test_adherence_counts_the_steps_done_in_the_playbooks_order():
    from companion.checklist import adherence

    steps = find_playbook("unhappy-customer").steps
    in_order = [("mindset", 0.5, True), ("listen", 8.0, True), ("repeat", 20.0, True), ("empathise", 25.0, True),
                ("solution", 40.0, True), ("action", 80.0, True)]
    assert adherence(steps, in_order, notes_written=True) == adherence(steps, in_order, True)
    full = adherence(steps, in_order, notes_written=True)
    assert (full.in_order, full.done, full.total, f"{full.score:.0%}") == (7, 7, 7, "100%")
    no_notes = adherence(steps, in_order, notes_written=False)
    assert (no_notes.in_order, no_notes.done) == (6, 6)
    late = [t if t[0] != "repeat" else ("repeat", 60.0, True) for t in in_order]  # repeated back after the solution
    assert (adherence(steps, late, True).in_order, adherence(steps, late, True).done) == (6, 7)
    undone = in_order + [("solution", 90.0, False)]  # ticked, then unticked by hand
    assert (adherence(steps, undone, True).in_order, adherence(steps, undone, True).done) == (6, 6)
    assert adherence(steps, [], False).text() == "0% — 0 of 7 steps done in order (0 done)"
