"""The customer's mood, read from their own voice: synthetic calls with known truth, through the real
pipeline (`analyze_call`, as `companion analyze --json --model none`), with espeak-ng and festival voices."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest

from companion.coach.rules import Coach
from companion.event_json import event_to_json
from companion.events import CustomerState, MetricsSnapshot
from companion.monitor.customer import register, semitones
from tests import mood_scenarios as ms
from tests.test_coach import BASE, run, timeline

FESTIVAL = "festival:kal_diphone"


def needs_festival():
    if shutil.which("text2wave") is None:
        pytest.fail("festival (text2wave) is needed for the other-engine calls (bash .ci/run installs it)")


def prompts_of(doc, kind):
    return [p["t"] for p in doc["prompts"] if p["kind"] == kind]


def states_of(doc):
    return [s["state"] for s in doc["customer_states"]]


def upset_span(truth):
    raised = truth.of("customer", "upset")
    return raised[0].start, raised[-1].end


@pytest.mark.parametrize("voice", ["en-us+f3", FESTIVAL])
def test_a_customer_who_grows_upset_is_flagged_within_five_seconds_and_the_calmer_cue_follows(make_call, analyze, voice):
    if voice.startswith("festival:"):
        needs_festival()
    wav, truth = make_call(ms.grows_upset(voice))
    doc = analyze(wav)
    start, end = upset_span(truth)
    upset = prompts_of(doc, "customer_upset")
    assert upset, doc["customer_states"]
    assert start < upset[0] <= start + 5.0  # told within 5 s of the raised speech
    assert all(start < t <= end + 10.0 for t in upset)  # and never while they were calm
    states = doc["customer_states"]
    assert states[0]["state"] == "calm" and states[0]["t"] < start  # their baseline was their calm speech
    assert [s for s in states if s["state"] == "upset" and not start < s["t"] <= end]  == []
    calm_again = truth.of("customer", "calm_again")[0].start
    calmer = prompts_of(doc, "customer_calmer")
    assert len(calmer) == 1 and calm_again < calmer[0] <= calm_again + 30.0  # within 30 s of their calm return
    assert states[-1]["state"] == "calm"


@pytest.mark.parametrize("script", [ms.loud_from_start, ms.line_jump], ids=["loud_from_start", "line_jumps_10_dB"])
@pytest.mark.parametrize("voice", ["en-us+f3", FESTIVAL])
def test_a_steady_customer_is_calm_at_their_own_level_whatever_the_line_does(make_call, analyze, script, voice):
    if voice.startswith("festival:"):
        needs_festival()
    wav, truth = make_call(script(voice))
    doc = analyze(wav)
    assert states_of(doc) == ["calm"], doc["customer_states"]
    assert prompts_of(doc, "customer_upset") == [] and prompts_of(doc, "customer_calmer") == []


def test_an_agent_who_raises_their_voice_is_told_to_lower_it_and_the_customer_stays_calm(make_call, analyze):
    wav, truth = make_call(ms.agent_raises_voice())
    doc = analyze(wav)
    assert states_of(doc) == ["calm"]
    assert prompts_of(doc, "customer_upset") == []
    raised = truth.of("agent", "raised")
    assert [t for t in prompts_of(doc, "lower_tone") if raised[0].start <= t <= raised[-1].end]


def test_the_call_reads_the_same_through_a_mu_law_line(make_call, analyze):
    script = ms.grows_upset()
    wav, truth = make_call(dataclasses.replace(script, name=script.name + "_mulaw", customer_line="mulaw"))
    doc = analyze(wav)
    start, _ = upset_span(truth)
    assert start < prompts_of(doc, "customer_upset")[0] <= start + 5.0


def test_the_states_are_in_the_json_lines_too():
    assert event_to_json(CustomerState(61.8, "upset")) == {"t": 61.8, "type": "customer_state", "state": "upset"}
    doc = event_to_json(dataclasses.replace(BASE, customer_state="tense", customer_loudness_db=4.5))
    assert doc["customer_state"] == "tense" and doc["customer_loudness_db"] == 4.5
    json.dumps(doc)


# ---------------------------------------------------------------- the coach's side, from snapshots


UPSET = dict(customer_state=lambda t: "upset" if 10 <= t < 40 else "calm",
             customer_calm_s=lambda t: 0.0 if t < 40 else t - 40,
             customer_loudness_db=lambda t: 8.0 if 10 <= t < 40 else 0.0,
             customer_pitch_semitones=lambda t: 4.0 if 10 <= t < 40 else 0.0,
             customer_pace_rise=lambda t: 0.2 if 10 <= t < 40 else 0.0)   # read, but no evidence


def test_upset_is_prompted_once_per_episode_and_calmer_only_after_their_calm_time(config):
    prompts = run(Coach(config.coach), timeline(90, **UPSET))
    kinds = [(p.kind, p.t) for p in prompts]
    assert [k for k, _ in kinds] == ["customer_upset", "customer_calmer"]
    assert kinds[0][1] == 10.0 and "8 dB louder" in prompts[0].reason and "4 semitones higher" in prompts[0].reason
    assert "faster" not in prompts[0].reason and "slower" not in prompts[0].reason  # the rate is not what it is read from
    assert kinds[1][1] == pytest.approx(40 + config.coach.customer_calmer.after_s)


def test_a_customer_who_was_never_upset_gets_no_calmer_cue(config):
    prompts = run(Coach(config.coach), timeline(90, customer_state=lambda t: "calm", customer_calm_s=lambda t: t))
    assert prompts == []


def test_while_the_customer_is_upset_a_loud_agent_is_told_to_lower_their_tone_before_slowing_down(config):
    # fast all along, louder from 3 s: with a calm customer the pace cue comes first, as it always has...
    fast_then_loud = dict(pace_short_wpm=lambda t: 230.0, loudness_db=lambda t: -22.0 if t >= 3 else -30.0)
    calm = run(Coach(config.coach), timeline(30, **fast_then_loud))
    assert [p.kind for p in calm][:2] == ["slow_down", "lower_tone"]
    # ...but while the customer vents, lower_tone goes first and the pace cue waits
    upset = dict(customer_state=lambda t: "upset", customer_loudness_db=lambda t: 8.0, **fast_then_loud)
    prompts = [p for p in run(Coach(config.coach), timeline(30, **upset)) if p.kind != "customer_upset"]
    assert prompts[0].kind == "lower_tone"
    assert "slow_down" not in [p.kind for p in prompts]  # held back while the agent's voice stays raised


def test_a_snapshot_without_a_customer_baseline_has_no_state():
    snapshot = MetricsSnapshot(**{f.name: getattr(BASE, f.name) for f in dataclasses.fields(BASE)})
    assert snapshot.customer_state is None and snapshot.customer_talkovers == 0


# ---------------------------------------------------------------- the state machine, frame by frame


class Voice:
    """The customer's frames fed straight to CustomerMood: level (dBFS) and f0 (Hz), speaking all the time."""

    def __init__(self, config):
        from companion.monitor.customer import CustomerMood

        self.mood = CustomerMood(config.customer, config.audio, config.pace)
        self.frame_s, self.t, self.changes = config.audio.frame_s, 0.0, []

    def speak(self, seconds, level_db=-30.0, f0=200.0):
        import numpy as np

        step = round(0.25 / self.frame_s)  # the monitor evaluates every 0.25 s
        for _ in range(int(seconds / 0.25)):
            self.mood.add(np.full(step, level_db), np.full(step, f0), np.ones(step, bool), self.t)
            self.t += step * self.frame_s
            change = self.mood.evaluate(self.t)
            if change is not None:
                self.changes.append((round(change.t, 2), change.state))
        return self


def test_a_level_step_alone_is_the_line_and_becomes_the_new_baseline(config):
    voice = Voice(config).speak(config.customer.baseline_speech_s).speak(20, level_db=-20.0)
    assert [s for _, s in voice.changes] == ["calm"]
    assert voice.mood.base_level == pytest.approx(-20.0)  # re-based: the line got louder, not the customer
    voice.speak(5, level_db=-14.0, f0=200.0 * 2 ** (3 / 12))  # then they do get upset, from the new level
    assert [s for _, s in voice.changes] == ["calm", "upset"]


def test_a_moment_of_raised_voice_shorter_than_the_dwell_does_not_change_the_state(config):
    raised = 200.0 * 2 ** (4 / 12)
    voice = Voice(config).speak(config.customer.baseline_speech_s).speak(0.75, level_db=-22.0, f0=raised).speak(10)
    assert [s for _, s in voice.changes] == ["calm"]


def test_upset_holds_through_a_dip_and_calms_only_after_the_calm_dwell(config):
    raised = 200.0 * 2 ** (4 / 12)
    voice = Voice(config).speak(config.customer.baseline_speech_s).speak(6, level_db=-22.0, f0=raised)
    assert voice.changes[-1][1] == "upset"
    voice.speak(3, level_db=-25.0, f0=200.0 * 2 ** (2 / 12))  # still above the release lines: held
    assert voice.changes[-1][1] == "upset"
    upset_at = voice.changes[-1][0]
    voice.speak(10)
    calm_at = voice.changes[-1]
    assert calm_at[1] == "calm" and calm_at[0] - upset_at >= config.customer.calm_dwell_s


def test_a_voice_read_mostly_at_its_subharmonics_is_placed_where_it_gathers_not_at_its_median():
    # a 250 Hz voice (its sentences within a couple of semitones) whose frames the tracker read 60 % of the time at a
    # half, a third or a quarter of their pitch: the median falls among those errors, its register does not
    rng = np.random.default_rng(3)
    voice = 250.0 * 2 ** (rng.normal(0.0, 1.0, 1000) / 12.0)
    misread = voice / rng.choice([2.0, 3.0, 4.0], 1000)
    read = semitones(np.where(rng.random(1000) < 0.6, misread, voice))
    assert abs(float(np.median(read)) - float(semitones(np.array([250.0]))[0])) > 7.0
    assert abs(register(read) - float(semitones(np.array([250.0]))[0])) < 1.0
    assert abs(register(np.append(read, np.nan)) - register(read)) < 1e-9   # unvoiced frames are no pitch


def test_a_sentence_of_their_first_talk_right_on_the_loudness_line_is_calm_at_it(config):
    # a reading on its line reads over it, so a baseline window right on the line is room the lines must clear too
    line = config.customer.loudness_z * config.customer.loudness_spread_least_db
    voice = Voice(config).speak(15.5).speak(5.5, level_db=-30.0 + line, f0=200.0 * 2 ** (3 / 12)).speak(10)
    assert voice.mood.baseline.loud_line_db > line
    assert "upset" not in [s for _, s in voice.changes] and voice.changes[-1][1] == "calm"


def test_a_customer_whose_first_talk_ends_on_a_louder_higher_sentence_is_calm_at_it(config):
    # their baseline's last sentence is their own calm range (+4 dB, +3 semitones: past the lines its steady
    # sentences alone would draw); the reading right after it is that same sentence, which must not read upset
    higher = 200.0 * 2 ** (3 / 12)
    voice = Voice(config).speak(15.5).speak(5.5, level_db=-26.0, f0=higher).speak(10)
    assert "upset" not in [s for _, s in voice.changes] and voice.changes[-1][1] == "calm"
    baseline = voice.mood.baseline
    assert baseline.loud_line_db > 4.0 or baseline.pitch_line > 3.0  # the lines clear their own sentence (+4 dB, +3 st)
    raised_at = voice.t
    voice.speak(6, level_db=-22.0, f0=200.0 * 2 ** (4 / 12))  # a raised voice (+8 dB, +4 semitones) still is upset
    assert voice.changes[-1][1] == "upset" and voice.changes[-1][0] - raised_at < 3


def test_the_lines_move_up_only_as_far_as_the_baseline_needs_and_at_most_by_half(config):
    from companion.monitor.customer import OWN_RANGE_MARGIN, OWN_RANGE_MOST, CustomerMood

    steady = CustomerMood._own_range(np.array([0.5, -1.0, 2.9]), [2.3, 1.0, -0.5], 3.0, 2.4)
    assert steady == 1.0  # no window of theirs is past both lines: drawn from their spread alone
    one = CustomerMood._own_range(np.array([0.5, 3.6]), [0.0, 3.0], 3.0, 2.4)
    assert one == pytest.approx(min(3.6 / 3.0, 3.0 / 2.4) * OWN_RANGE_MARGIN)  # just past that window, on one line
    wild = CustomerMood._own_range(np.array([9.0]), [7.0], 3.0, 2.4)
    assert wild == OWN_RANGE_MOST  # a baseline that caught a shout must not hide the next one
