"""The coach is sparing: hysteresis, per-kind cooldown, a gap between any two prompts."""

from __future__ import annotations

import dataclasses

import pytest

from companion.coach.rules import Coach
from companion.events import MetricsSnapshot

BASE = MetricsSnapshot(
    t=0.0, agent_speaking=True, customer_speaking=False, agent_level_db=-30, customer_level_db=-60,
    pace_wpm=150.0, pace_source="acoustic", pace_speech_s=30.0, loudness_db=-30.0, loudness_baseline_db=-30.0,
    pitch_hz=120.0, pitch_baseline_hz=120.0, agent_talk_s=30, customer_talk_s=30, talk_share_window=0.5,
    window_talk_s=60, talk_share_call=0.5, current_monologue_s=5.0, longest_monologue_s=5.0, silence_s=0.0,
    interruptions_by_agent=0, interruptions_by_customer=0, agent_interrupting_since=None, agent_interrupting_s=0.0,
    dropped_blocks=0,
)


def run(coach, snapshots):
    out = []
    for s in snapshots:
        out += coach.evaluate(s)
    return out


def timeline(seconds, step=0.25, **changes_at):
    """Snapshots every `step` s; `changes_at` maps a field to a function of t."""
    t = 0.0
    while t <= seconds:
        yield dataclasses.replace(BASE, t=t, **{k: f(t) for k, f in changes_at.items()})
        t += step


def test_fast_pace_is_prompted_after_ten_seconds_of_fast_speech_then_reminded_after_the_repeat_interval(config):
    # acoustic pace is an estimate: the line is 170 words/min plus a 12 % margin, held through 10 s of speech
    prompts = run(Coach(config.coach), timeline(100, pace_short_wpm=lambda t: 200.0))
    assert [p.t for p in prompts] == [pytest.approx(10.0, abs=0.3), pytest.approx(70.0, abs=0.3)]
    assert prompts[0].reason == "about 200 words/min — aim for 140–160"


def test_an_acoustic_pace_within_the_estimates_margin_is_not_prompted_but_words_are(config):
    assert run(Coach(config.coach), timeline(60, pace_short_wpm=lambda t: 185.0)) == []
    from_words = run(Coach(config.coach), timeline(60, pace_short_wpm=lambda t: 185.0, pace_source=lambda t: "asr"))
    assert [p.kind for p in from_words] == ["slow_down"] and from_words[0].reason.startswith("185 words/min")


def test_pace_hysteresis_rearms_only_below_the_release_pace(config):
    # fast, then just under the line (not released: release is 160 + 12 %), then fast again: one prompt
    def pace(t):
        return 200.0 if t < 25 or t > 35 else 185.0
    assert len(run(Coach(config.coach), timeline(60, pace_short_wpm=pace))) == 1
    # fast, clearly slower, fast again: the sustain starts over, then a second prompt
    def pace2(t):
        return 200.0 if t < 25 or t > 35 else 150.0
    times = [p.t for p in run(Coach(config.coach), timeline(60, pace_short_wpm=pace2))]
    assert times == [pytest.approx(10.0, abs=0.3), pytest.approx(45.0, abs=0.3)]


def test_no_pace_prompt_on_too_little_speech_or_while_the_agent_is_silent(config):
    coach = Coach(config.coach)
    assert run(coach, timeline(30, pace_short_wpm=lambda t: 220.0, pace_speech_s=lambda t: 8.0)) == []
    assert run(Coach(config.coach), timeline(30, pace_short_wpm=lambda t: 220.0, agent_speaking=lambda t: False)) == []


def test_speeding_up_against_the_agents_own_start_and_not_on_a_steady_pace(config):  # 15 % rise, 10 s
    steady = timeline(120, pace_wpm=lambda t: 155.0, pace_baseline_wpm=lambda t: 150.0)
    assert run(Coach(config.coach), steady) == []
    faster = run(Coach(config.coach), timeline(120, pace_wpm=lambda t: 150.0 if t < 60 else 180.0,
                                                pace_baseline_wpm=lambda t: 150.0))
    assert [p.kind for p in faster] == ["speeding_up"] and faster[0].t == pytest.approx(70.0, abs=0.3)
    assert run(Coach(config.coach), timeline(120, pace_wpm=lambda t: 185.0)) == []  # no baseline yet


def test_talking_over_the_customer_is_a_keep_listening_moment_not_a_pace_one(config):
    def since(t):
        return 9.0 if 9.0 <= t < 12.0 else None
    prompts = run(Coach(config.coach), timeline(12, pace_short_wpm=lambda t: 220.0, agent_interrupting_since=since,
                                                 agent_interrupting_s=lambda t: 1.6))
    assert [p.kind for p in prompts] == ["keep_listening"]


def test_raised_voice_needs_two_seconds_of_speech(config):
    prompts = run(Coach(config.coach), timeline(10, loudness_db=lambda t: -30.0 if t < 3 else -23.0))
    assert len(prompts) == 1 and prompts[0].kind == "lower_tone"
    assert prompts[0].t == pytest.approx(5.0, abs=0.3)
    assert "7 dB above your usual level" in prompts[0].reason


def test_raised_pitch_alone_is_a_lower_tone_prompt(config):
    prompts = run(Coach(config.coach), timeline(10, pitch_hz=lambda t: 120.0 if t < 3 else 160.0))
    assert [p.kind for p in prompts] == ["lower_tone"] and "semitones" in prompts[0].reason


def test_each_interruption_is_prompted_once_and_cooldown_holds(config):
    def since(t):
        if 10 <= t < 14:
            return 8.5
        if 18 <= t < 22:  # a second one within the cooldown: not prompted
            return 16.5
        if 40 <= t < 44:
            return 38.5
        return None
    prompts = run(Coach(config.coach), timeline(50, agent_interrupting_since=since, agent_interrupting_s=lambda t: 1.5))
    assert [p.t for p in prompts] == [10.0, 40.0]
    assert all(p.kind == "keep_listening" for p in prompts)


def test_talk_share_and_monologue(config):
    share = run(Coach(config.coach), timeline(30, talk_share_window=lambda t: 0.8))
    assert len(share) == 1 and "80% of the talk" in share[0].reason
    short_window = run(Coach(config.coach), timeline(30, talk_share_window=lambda t: 0.8, window_talk_s=lambda t: 20.0))
    assert short_window == []
    mono = run(Coach(config.coach), timeline(90, current_monologue_s=lambda t: t))
    assert [p.t for p in mono] == [60.0] and "60 s without a break" in mono[0].reason


def test_two_kinds_at_once_are_spaced_by_the_minimum_gap(config):
    prompts = run(Coach(config.coach), timeline(20, pace_short_wpm=lambda t: 220.0, loudness_db=lambda t: -20.0))
    assert [p.kind for p in prompts] == ["lower_tone", "slow_down"]
    assert prompts[1].t - prompts[0].t >= config.coach.min_gap_s


def test_dead_air_is_off_by_default(config):
    assert run(Coach(config.coach), timeline(30, silence_s=lambda t: t, agent_speaking=lambda t: False)) == []
    rule = dataclasses.replace(config.coach.dead_air, enabled=True)
    coach = Coach(dataclasses.replace(config.coach, dead_air=rule))
    prompts = run(coach, timeline(30, silence_s=lambda t: t, agent_speaking=lambda t: False))
    assert [p.t for p in prompts] == [10.0]
