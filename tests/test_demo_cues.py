"""What the bundled demo call promises a new user (bench/make_demo_call.py): within its first two minutes the agent
is told each of the three things once — slow down, lower your tone, keep listening — the customer turns upset and
then calms down, each at the moment of the call that shows it; and the pace the prompt names is the pace the
curve shows. Checked the way the window runs the demo (its script as the recogniser's words) and the way
`companion analyze --model none` reads it (pace from the sound)."""

from __future__ import annotations

import re

import pytest

from companion.demo import demo_recording, demo_script

CUES = {"slow_down", "lower_tone", "keep_listening", "customer_upset", "customer_calmer"}
FIRST_MINUTES_S = 120.0


def line(start: str):
    """The demo script's line that starts with `start`."""
    return next(ln for ln in demo_script().lines if ln.text.startswith(start))


def lines_from(first: str, last: str):
    return line(first).start, line(last).end


def check_the_demo_shows_every_cue(prompts: list[tuple[float, str, str]], pace: list[tuple[float, float]],
                                   states: list[tuple[float, str]]) -> None:
    """`prompts` as (t, kind, reason), `pace` the shown pace curve as (t, wpm), `states` the customer's moods."""
    kinds = [kind for _, kind, _ in prompts]
    assert sorted(kinds) == sorted(CUES), prompts  # each cue once, and nothing else
    at = {kind: t for t, kind, _ in prompts}
    assert max(at.values()) <= FIRST_MINUTES_S

    # each at the moment that shows it
    fast_from, fast_to = lines_from("Thank you for calling", "The courier marked it")
    assert fast_from < at["slow_down"] <= fast_to + 1.0
    shouted = line("This is the second time")
    assert shouted.start < at["customer_upset"] < shouted.end
    talked_over = line("Please, if you could just let me finish")
    assert talked_over.start < at["keep_listening"] < talked_over.end
    raised = line("I have already told you")
    assert raised.start < at["lower_tone"] < raised.end
    solution = line("Here is what I can do")
    assert shouted.end < at["customer_calmer"] < solution.end  # calm again before the solution is offered
    assert at["customer_upset"] < at["keep_listening"] < at["lower_tone"] < at["customer_calmer"]

    # the mood strip: calm (their baseline), upset, calm again
    moods = [state for _, state in states]
    assert moods == ["calm", "upset", "calm"], states
    assert states[1][0] == pytest.approx(at["customer_upset"], abs=0.01)

    # the prompt's pace is the pace the curve shows at that moment, and it is fast
    [reason] = [r for _, kind, r in prompts if kind == "slow_down"]
    said = float(re.search(r"(\d+) words/min", reason).group(1))
    shown = [wpm for t, wpm in pace if t <= at["slow_down"]][-1]
    assert said >= 210 and shown >= 210
    assert said == pytest.approx(shown, rel=0.1), (reason, shown)


def test_the_demo_as_the_window_plays_it_shows_every_cue_once_in_its_first_two_minutes(config):
    from companion.events import CustomerState, MetricsSnapshot, PaceSource, Prompt
    from companion.session import CallSession

    session = CallSession(config)
    prompts, pace, states, sources = [], [], [], set()

    def follow(event):
        if isinstance(event, Prompt):
            prompts.append((event.t, event.kind, event.reason))
        elif isinstance(event, MetricsSnapshot) and event.pace_wpm is not None:
            pace.append((event.t, event.pace_wpm))
            sources.add(event.pace_source)
        elif isinstance(event, CustomerState):
            states.append((event.t, str(event.state)))

    session.bus.subscribe(follow)
    session.start_demo(demo_recording(), speed=10.0, script=demo_script())
    assert session.ended.wait(60)
    assert sources == {PaceSource.ASR}  # the script's words, as a recogniser's
    check_the_demo_shows_every_cue(prompts, pace, states)


def test_the_demo_analysed_from_its_sound_alone_shows_every_cue_once_in_its_first_two_minutes(analyze):
    doc = analyze(demo_recording())
    assert doc["pace_source"] == "acoustic"
    check_the_demo_shows_every_cue([(p["t"], p["kind"], p["reason"]) for p in doc["prompts"]],
                                   [(p["t"], p["wpm"]) for p in doc["pace"]],
                                   [(s["t"], s["state"]) for s in doc["customer_states"]])
    [talk_over] = doc["interruptions"]
    assert talk_over["by"] == "agent" and talk_over["overlap_s"] >= 2.0  # a real talk-over, not a backchannel
