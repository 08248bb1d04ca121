"""The coaching promises, on synthetic calls with known truth (espeak-ng speech, phone-line customer)."""

from __future__ import annotations

import pytest

from tests import scenarios


def prompts_of(doc, kind):
    return [p for p in doc["prompts"] if p["kind"] == kind]


def test_every_agent_interruption_is_found_within_a_second_of_its_onset(make_call, analyze):
    wav, truth = make_call(scenarios.interrupter())
    doc = analyze(wav)
    expected = [i for i in truth.interruptions if i["by"] == "agent"]
    found = [i for i in doc["interruptions"] if i["by"] == "agent"]
    assert len(expected) == 2
    assert len(found) == len(expected)
    for want, got in zip(expected, found):
        assert abs(got["t"] - want["t"]) <= 1.0
        assert got["overlap_s"] >= 1.5


def test_backchannels_are_not_interruptions(make_call, analyze):
    for script in (scenarios.calm_call(), scenarios.interrupter()):
        wav, truth = make_call(script)
        doc = analyze(wav)
        for bc in truth.of("agent", "backchannel") + truth.of("customer", "backchannel"):
            assert not [i for i in doc["interruptions"] if abs(i["t"] - bc.start) < 1.0], (script.name, bc)
    wav, _ = make_call(scenarios.calm_call())
    assert analyze(wav)["interruptions"] == []


def test_an_agent_who_talks_over_the_customer_is_told_to_keep_listening(make_call, analyze):
    wav, truth = make_call(scenarios.interrupter())
    doc = analyze(wav)
    first = truth.interruptions[0]["t"]
    keep = prompts_of(doc, "keep_listening")
    assert keep and first + 1.5 <= keep[0]["t"] <= first + 3.0
    assert "talked over the customer" in keep[0]["reason"]


def test_a_customer_who_cuts_in_is_recorded_but_not_coached(make_call, analyze):
    wav, truth = make_call(scenarios.customer_interrupts())
    doc = analyze(wav)
    assert [i["by"] for i in doc["interruptions"]] == ["customer"]
    assert abs(doc["interruptions"][0]["t"] - truth.interruptions[0]["t"]) <= 1.0
    assert not [p for p in prompts_of(doc, "keep_listening") if "talked over" in p["reason"]]


def test_slow_down_comes_within_15_s_of_sustained_fast_speech(make_call, analyze):
    wav, truth = make_call(scenarios.fast_talker())
    doc = analyze(wav)
    fast_from = truth.of("agent", "fast")[0].start
    slow = prompts_of(doc, "slow_down")
    assert slow, doc["pace"]
    assert fast_from < slow[0]["t"] <= fast_from + 15.0
    assert "words/min" in slow[0]["reason"]


@pytest.mark.parametrize("wpm,voice", [(130, "en-us"), (145, "en-us+f3"), (150, "en-gb+m3")])
def test_slow_down_never_comes_at_a_normal_pace(make_call, analyze, wpm, voice):
    wav, _ = make_call(scenarios.steady_pace(wpm, voice))
    assert prompts_of(analyze(wav), "slow_down") == []


def test_a_calm_balanced_call_gets_no_prompts_at_all(make_call, analyze):
    wav, _ = make_call(scenarios.calm_call())
    doc = analyze(wav)
    assert 0.4 < doc["agent_talk_ratio"] < 0.65
    assert doc["prompts"] == []


def test_lower_tone_comes_within_5_s_of_a_raised_voice(make_call, analyze):
    wav, truth = make_call(scenarios.raised_voice())
    doc = analyze(wav)
    raised = truth.of("agent", "raised")[0]
    tone = prompts_of(doc, "lower_tone")
    assert tone, doc["prompts"]
    assert raised.start < tone[0]["t"] <= raised.start + 5.0
    assert all(raised.start < p["t"] <= raised.end + 1.0 for p in tone)


def test_lower_tone_never_comes_at_a_steady_voice(make_call, analyze):
    for script in (scenarios.calm_call(), scenarios.steady_pace(145, "en-us"), scenarios.fast_talker()):
        wav, _ = make_call(script)
        assert prompts_of(analyze(wav), "lower_tone") == [], script.name


@pytest.mark.parametrize(
    "wpm,voice", [(130, "en-us"), (150, "en-us+f3"), (190, "en-gb+m3"), (230, "en-us"), (250, "en-us+f3")]
)
def test_acoustic_pace_is_within_20_percent_of_the_true_pace(make_call, analyze, wpm, voice):
    wav, truth = make_call(scenarios.steady_pace(wpm, voice))
    doc = analyze(wav)
    assert doc["pace_source"] == "acoustic"
    true = truth.wpm("agent")
    assert abs(doc["agent_wpm"] - true) <= 0.2 * true, (doc["agent_wpm"], true)


def test_acoustic_pace_tells_150_from_230(make_call, analyze):
    normal = analyze(make_call(scenarios.steady_pace(150, "en-us"))[0])["agent_wpm"]
    fast = analyze(make_call(scenarios.steady_pace(230, "en-us"))[0])["agent_wpm"]
    assert normal < 170 < fast


def test_turns_follow_the_script(make_call, analyze):
    wav, truth = make_call(scenarios.calm_call())
    doc = analyze(wav)
    for utt in truth.utterances:
        # an utterance is one turn, or a few split at the pauses between its sentences
        inside = [t for t in doc["turns"] if t["party"] == utt.party and t["end"] > utt.start and t["start"] < utt.end]
        assert inside, utt
        assert abs(min(t["start"] for t in inside) - utt.start) <= 0.3, utt
        assert abs(max(t["end"] for t in inside) - utt.end) <= 0.3, utt
    assert len(doc["turns"]) <= len(truth.utterances) + 3


def test_dead_air_is_measured_and_prompted_only_when_enabled(make_call, config, tmp_path):
    import dataclasses

    from companion.analysis import analyze_call
    from companion.audio.file_source import CallFileSpec

    wav, truth = make_call(scenarios.dead_air())
    off = analyze_call(CallFileSpec(wav), config)
    assert prompts_of(off, "dead_air") == []
    rule = dataclasses.replace(config.coach.dead_air, enabled=True)
    on_config = dataclasses.replace(config, coach=dataclasses.replace(config.coach, dead_air=rule))
    on = analyze_call(CallFileSpec(wav), on_config)
    gap_start = truth.utterances[1].end
    dead = prompts_of(on, "dead_air")
    assert len(dead) == 1 and gap_start + 10.0 <= dead[0]["t"] <= gap_start + 11.5


def test_talk_ratio_and_longest_monologue_match_the_script(make_call, analyze):
    wav, truth = make_call(scenarios.fast_talker())
    doc = analyze(wav)
    agent = sum(u.end - u.start for u in truth.of("agent"))
    customer = sum(u.end - u.start for u in truth.of("customer"))
    assert doc["agent_talk_ratio"] == pytest.approx(agent / (agent + customer), abs=0.05)
    first_run = truth.of("agent")[:5]
    assert doc["longest_agent_monologue_s"] >= first_run[-1].end - first_run[0].start - 0.5


def test_the_bundled_demo_call_shows_each_kind_of_coaching(analyze):
    from companion.resources import resource_path

    doc = analyze(resource_path("demo/demo_call.flac"))
    kinds = [p["kind"] for p in doc["prompts"]]
    assert {"keep_listening", "slow_down", "lower_tone"} <= set(kinds)
    assert [i["by"] for i in doc["interruptions"]] == ["agent"]
