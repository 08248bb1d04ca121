"""Playbooks as data, steps ticked by what the agent says or by hand, and too many apologies."""

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
    assert tracker.on_segment(said("customer", "so if i pay today you will waive the fee")) == []
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
