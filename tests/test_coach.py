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


def hold_s(config):
    """Agent speech the short pace must stay over the line after its own window first reads over it."""
    rule = config.coach.slow_down
    return max(0.0, rule.sustain_speech_s - rule.window_speech_s)


def line(config, source="acoustic"):
    rule = config.coach.slow_down
    return rule.wpm_above * (1 + (rule.acoustic_margin if source == "acoustic" else rule.asr_margin))


def test_the_pace_settings_keep_their_promises(config):
    rule = config.coach.slow_down
    assert rule.acoustic_margin >= 0.10 and rule.asr_margin <= 0.05  # the estimate's error; words are counted
    assert rule.sustain_speech_s >= 10.0  # fast through at least 10 s of agent speech...
    assert rule.sustain_speech_s <= 15.0  # ...and told within 15 s of sustained fast speech
    up = config.coach.speeding_up
    assert up.enabled and up.rise == pytest.approx(0.20) and up.baseline_speech_s >= 30.0
    assert up.sustain_speech_s >= config.pace.window_speech_s + 10.0  # the 30 s pace, then 10 s more


def test_fast_pace_is_prompted_once_sustained_then_reminded_less_and_less_often(config):
    prompts = run(Coach(config.coach), timeline(460, pace_short_wpm=lambda t: 220.0))
    first, repeat, backoff = hold_s(config), config.coach.slow_down.repeat_s, config.coach.repeat_backoff
    assert backoff >= 1.5   # a fast agent is not told every minute for a whole call
    assert [p.t for p in prompts] == [pytest.approx(first, abs=0.3), pytest.approx(first + repeat, abs=0.3),
                                      pytest.approx(first + repeat + repeat * backoff, abs=0.3),
                                      pytest.approx(first + repeat + repeat * backoff + repeat * backoff ** 2, abs=0.3)]
    # acoustic: an estimate, said so; over the detection's own stretch of speech, shorter than the meter's 30 s
    assert prompts[0].reason == "about 220 words/min in your last 12 s — aim for 140–160"


def test_a_new_fast_episode_after_a_slower_stretch_is_reminded_after_the_first_interval_again(config):
    # fast for 200 s (told, reminded twice), calm for 30 s (re-armed), fast again: the second episode starts over
    pace = lambda t: 130.0 if 200 <= t < 230 else 220.0  # noqa: E731
    prompts = [p.t for p in run(Coach(config.coach), timeline(330, pace_short_wpm=pace))]
    repeat = config.coach.slow_down.repeat_s
    second = [t for t in prompts if t >= 230]
    assert len([t for t in prompts if t < 200]) == 3 and len(second) == 2
    assert second[1] - second[0] == pytest.approx(repeat, abs=0.3)


def test_an_acoustic_pace_within_the_estimates_margin_is_not_prompted_but_words_are(config):
    within = (config.coach.slow_down.wpm_above + line(config)) / 2  # over the limit, under limit + margin
    assert within > line(config, "asr")
    assert run(Coach(config.coach), timeline(60, pace_short_wpm=lambda t: within)) == []
    from_words = run(Coach(config.coach), timeline(60, pace_short_wpm=lambda t: within, pace_source=lambda t: "asr"))
    assert [p.kind for p in from_words] == ["slow_down"]
    assert from_words[0].reason.startswith(f"{within:.0f} words/min")  # counted words: no "about"


def test_fast_bursts_shorter_than_the_sustain_are_not_prompted(config):
    hold = hold_s(config)
    assert hold > 1.0
    period = hold + 2.0  # over the line for hold - 1 s, then clearly slower: the count starts over each time

    def bursts(t):
        return 220.0 if t % period < hold - 1.0 else 140.0
    assert run(Coach(config.coach), timeline(120, pace_short_wpm=bursts)) == []

    def wobbles(t):  # between the release and the line the count is kept, not restarted
        return 220.0 if t % period < hold - 1.0 else line(config) - 3.0
    assert [p.kind for p in run(Coach(config.coach), timeline(120, pace_short_wpm=wobbles))][:1] == ["slow_down"]


def test_the_sustain_counts_agent_speech_only(config):
    # the agent speaks every other second: the hold takes twice as long in call time
    prompts = run(Coach(config.coach), timeline(40, pace_short_wpm=lambda t: 220.0,
                                                 agent_speaking=lambda t: int(t) % 2 == 0))
    assert prompts and prompts[0].t >= 2 * hold_s(config) - 1.0


def test_pace_hysteresis_rearms_only_below_the_release_pace(config):
    release = config.coach.slow_down.release_wpm * (1 + config.coach.slow_down.acoustic_margin)

    # fast, then under the line but not released, then fast again: one prompt
    def pace(t):
        return 220.0 if t < 25 or t > 35 else (release + line(config)) / 2
    assert len(run(Coach(config.coach), timeline(60, pace_short_wpm=pace))) == 1

    # fast, clearly slower, fast again: the sustain starts over, then a second prompt
    def pace2(t):
        return 220.0 if t < 25 or t > 35 else 140.0
    times = [p.t for p in run(Coach(config.coach), timeline(60, pace_short_wpm=pace2))]
    assert times == [pytest.approx(hold_s(config), abs=0.3), pytest.approx(35.25 + hold_s(config), abs=0.3)]


def test_one_reading_under_the_release_is_not_a_new_fast_episode(config):
    """The estimate wobbles: a second or two under the release line between two fast stretches is the same
    episode (one prompt); only `rearm_speech_s` of agent speech under it makes the next fast stretch a new one."""
    rearm = config.coach.slow_down.rearm_speech_s
    assert rearm > 1.0

    def dip(length):
        return lambda t: 140.0 if 25 <= t < 25 + length else 220.0
    assert len(run(Coach(config.coach), timeline(45, pace_short_wpm=dip(1.0)))) == 1
    assert len(run(Coach(config.coach), timeline(45, pace_short_wpm=dip(rearm + 1.0)))) == 2


def test_no_pace_prompt_on_too_little_speech_or_while_the_agent_is_silent(config):
    assert run(Coach(config.coach), timeline(30, pace_short_wpm=lambda t: 220.0, pace_speech_s=lambda t: 8.0)) == []
    assert run(Coach(config.coach), timeline(30, pace_short_wpm=lambda t: 220.0, agent_speaking=lambda t: False)) == []
    assert run(Coach(config.coach), timeline(30, pace_wpm=lambda t: 220.0)) == []  # no short pace yet


def test_a_change_of_pace_source_starts_the_sustain_over(config):
    hold = hold_s(config)

    def source(t):
        return "acoustic" if t < hold - 1.0 else "asr"
    prompts = run(Coach(config.coach), timeline(30, pace_short_wpm=lambda t: 220.0, pace_source=source))
    assert prompts and prompts[0].t == pytest.approx(2 * hold - 1.0, abs=0.3)
    assert not prompts[0].reason.startswith("about")


def speeding(config):
    """(the call time the sustain is reached once the pace has risen, a risen pace) for a 150 baseline."""
    up = config.coach.speeding_up
    return max(0.0, up.sustain_speech_s - BASE.pace_speech_s), 150.0 * (1 + up.rise) + 5.0


def test_speeding_up_against_the_agents_own_start(config):
    hold, risen = speeding(config)
    faster = run(Coach(config.coach), timeline(120, pace_wpm=lambda t: 150.0 if t < 60 else risen,
                                                pace_baseline_wpm=lambda t: 150.0))
    assert [p.kind for p in faster] == ["speeding_up"] and faster[0].t == pytest.approx(60.0 + hold, abs=0.3)
    assert faster[0].reason.startswith(f"about {risen:.0f} words/min, ")
    assert "faster than your 150 at the start of the call" in faster[0].reason


def test_no_speeding_up_on_a_steady_pace_before_the_baseline_or_on_brief_rises(config):
    hold, risen = speeding(config)
    up = config.coach.speeding_up
    steady = 150.0 * (1 + (up.rise + up.release) / 2)  # a little faster than the start, not risen
    assert run(Coach(config.coach), timeline(200, pace_wpm=lambda t: steady, pace_baseline_wpm=lambda t: 150.0)) == []
    assert run(Coach(config.coach), timeline(200, pace_wpm=lambda t: risen)) == []  # no baseline yet

    def brief(t):
        return risen if t % (hold + 4.0) < hold - 1.0 else 150.0
    assert run(Coach(config.coach), timeline(200, pace_wpm=brief, pace_baseline_wpm=lambda t: 150.0)) == []
    disabled = dataclasses.replace(config.coach, speeding_up=dataclasses.replace(up, enabled=False))
    assert run(Coach(disabled), timeline(120, pace_wpm=lambda t: risen, pace_baseline_wpm=lambda t: 150.0)) == []


def test_one_pace_cue_at_a_time(config):
    # both fast and risen from the start: slow_down first; speeding_up waits while that episode lasts (the agent
    # still over slow_down's release), not just a cooldown: one episode, one pace cue
    prompts = run(Coach(config.coach), timeline(60, pace_short_wpm=lambda t: 230.0, pace_wpm=lambda t: 230.0,
                                                 pace_baseline_wpm=lambda t: 150.0))
    assert [p.kind for p in prompts if p.kind in ("slow_down", "speeding_up")] == ["slow_down"]


def test_talking_over_the_customer_is_a_keep_listening_moment_not_a_pace_one(config):
    def since(t):
        return 1.0 if t >= 1.0 else None
    prompts = run(Coach(config.coach), timeline(30, pace_short_wpm=lambda t: 220.0, agent_interrupting_since=since,
                                                 agent_interrupting_s=lambda t: 1.6))
    assert [p.kind for p in prompts] == ["keep_listening"]


def test_every_prompt_kind_has_settings_a_title_a_colour_and_a_schema_entry(config):
    from companion.prompt_kinds import KINDS, PROMPT_KINDS
    from tests.test_cli import SCHEMA
    from ui.style import PROMPT_STYLES

    assert all(getattr(config.coach, kind).enabled in (True, False) for kind in KINDS)
    assert all(PROMPT_KINDS[kind].label and PROMPT_KINDS[kind].colour.startswith("#") for kind in KINDS)
    assert set(KINDS) <= set(PROMPT_STYLES)
    assert set(KINDS) == set(SCHEMA["properties"]["prompts"]["items"]["properties"]["kind"]["enum"])


def test_raised_voice_needs_its_hold_of_speech(config):
    prompts = run(Coach(config.coach), timeline(10, loudness_db=lambda t: -30.0 if t < 3 else -23.0))
    assert len(prompts) == 1 and prompts[0].kind == "lower_tone"
    assert prompts[0].t == pytest.approx(3.0 + config.coach.lower_tone.hold_s, abs=0.3)
    assert "7 dB above your usual level" in prompts[0].reason


def test_raised_pitch_with_a_louder_voice_is_a_lower_tone_prompt_and_pitch_alone_is_not(config):
    prompts = run(Coach(config.coach), timeline(10, pitch_hz=lambda t: 120.0 if t < 3 else 160.0,
                                                loudness_db=lambda t: -30.0 if t < 3 else -26.0))
    assert [p.kind for p in prompts] == ["lower_tone"] and "semitones" in prompts[0].reason
    # a real person's calm, animated sentence reads +5 semitones at their usual level: no prompt
    assert run(Coach(config.coach), timeline(10, pitch_hz=lambda t: 120.0 if t < 3 else 160.0)) == []


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


def test_a_talk_over_is_prompted_even_just_after_a_talk_share_reminder(config):
    """keep_listening for a talk-share reminder does not hold off the next talk-over's: that one is a cue of its own,
    delayed only by the gap between any two prompts while the talk-over lasts."""
    def since(t):
        return 11.0 if 12.0 <= t < 20.0 else None
    prompts = run(Coach(config.coach), timeline(30, talk_share_window=lambda t: 0.8 if t >= 10.0 else 0.5,
                                                 agent_interrupting_since=since, agent_interrupting_s=lambda t: 1.5))
    told = [(p.t, p.reason.split()[1]) for p in prompts if p.kind == "keep_listening"]
    assert told[0][0] == 10.0 and "of the talk" in prompts[0].reason
    assert told[1][0] == 10.0 + config.coach.min_gap_s and "talked over" in prompts[1].reason
    assert len(told) == 2


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


def test_a_voice_raised_just_after_a_pace_cue_is_told_at_once_not_held_by_the_gap(config):
    """A raised voice is told within seconds or too late: the gap after `slow_down` does not hold `lower_tone` back
    (the other way round it does, above)."""
    fast = run(Coach(config.coach), timeline(30, pace_short_wpm=lambda t: 220.0))
    told_fast = fast[0].t
    raised_from = told_fast + 0.25
    prompts = run(Coach(config.coach), timeline(30, pace_short_wpm=lambda t: 220.0,
                                                loudness_db=lambda t: -20.0 if t >= raised_from else -30.0))
    assert [p.kind for p in prompts][:2] == ["slow_down", "lower_tone"]
    hold = config.coach.lower_tone.hold_s
    assert prompts[1].t - raised_from <= hold + 0.5 < config.coach.min_gap_s


def test_dead_air_is_off_by_default(config):
    assert run(Coach(config.coach), timeline(30, silence_s=lambda t: t, agent_speaking=lambda t: False)) == []
    rule = dataclasses.replace(config.coach.dead_air, enabled=True)
    coach = Coach(dataclasses.replace(config.coach, dead_air=rule))
    prompts = run(coach, timeline(30, silence_s=lambda t: t, agent_speaking=lambda t: False))
    assert [p.t for p in prompts] == [10.0]
