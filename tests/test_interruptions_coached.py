"""The agent's talk-over is coached while it lasts: `keep_listening` within 3 s of the agent cutting in, even when a
pace cue was told just before (companion/coach/rules.py: the 5 s gap between prompts does not hold it back after
`slow_down` or `speeding_up`, as it does not hold back a raised voice's `lower_tone`)."""

from __future__ import annotations

from companion.coach.rules import Coach
from tests import real_voices as rv
from tests.test_coach import run, timeline


def test_a_real_agent_told_to_slow_down_who_then_cuts_in_is_told_to_keep_listening_within_3_s(real_voices, analyze):
    """A real agent (MEE012, a fast talker: `slow_down` after his long turns) cuts in on a real customer (MEE068) 1.9 s
    after being told to slow down, twice in the call. The talk-over is confirmed 1.5 s after he starts; held by the
    gap after the pace cue it was told 3.1-3.2 s after he started (too late to matter), now at its confirmation."""
    wav, truth = real_voices("talkovers", "MEE068", "real:MEE012", "clean")
    doc = analyze(wav)
    row = rv.judge(truth, doc)
    pace = [p["t"] for p in doc["prompts"] if p["kind"] == "slow_down"]
    agents = [w["t"] for w in truth.talkovers if w["by"] == "agent"]
    # the case at hand: a pace cue within the gap before the agent's cut-in (on two of his three talk-overs)
    assert sum(any(0.0 < t - p < 5.0 for p in pace) for t in agents) >= 2, (pace, agents)
    assert row["talkovers_matched"] == row["talkovers_true"] == row["talkovers_found"] == 4, (row, doc["interruptions"])
    assert row["talkovers_wrong_party"] == [] and row["keep_listening_missed"] == [], row


def test_an_agent_who_cuts_in_just_after_a_pace_cue_is_told_at_once(config):
    """`slow_down`, then the agent cuts in and the talk-over is confirmed 1.5 s later, 2 s after the pace cue:
    `keep_listening` at once, not when the 5 s gap after the pace cue has passed."""
    fast = run(Coach(config.coach), timeline(30, pace_short_wpm=lambda t: 220.0))
    told_fast = fast[0].t
    confirmed = told_fast + 2.0
    prompts = run(Coach(config.coach), timeline(
        30, pace_short_wpm=lambda t: 220.0,
        agent_interrupting_since=lambda t: confirmed - 1.5 if confirmed <= t < confirmed + 4.0 else None,
        agent_interrupting_s=lambda t: t - (confirmed - 1.5)))
    assert [(p.kind, p.t) for p in prompts][:2] == [("slow_down", told_fast), ("keep_listening", confirmed)]
    assert "talked over" in prompts[1].reason



def _cut_in_after(config, seconds, confirmed, **cue):
    """The prompts of `cue`'s timeline with an agent's talk-over confirmed at `confirmed` (started 1.5 s before)."""
    return run(Coach(config.coach), timeline(
        seconds, **cue, agent_interrupting_since=lambda t: confirmed - 1.5 if confirmed <= t < confirmed + 6.0 else None,
        agent_interrupting_s=lambda t: t - (confirmed - 1.5)))


def test_an_agent_who_cuts_in_just_after_being_told_the_customer_is_calmer_is_told_at_once(config):
    """`customer_calmer` ("now approach the issue"), then the agent cuts in: the talk-over's cue says something else,
    and it is told while the talk-over lasts or never, so the gap after the calmer cue does not hold it (a customer
    from outside the meeting recordings, on a mu-law line, was told 5.1 s after the agent cut in)."""
    mood = dict(customer_state=lambda t: "upset" if 1.0 <= t < 3.0 else "calm", customer_calm_s=lambda t: max(0.0, t - 3.0))
    calmer = [p for p in run(Coach(config.coach), timeline(60, **mood)) if p.kind == "customer_calmer"][0]
    prompts = _cut_in_after(config, 60, calmer.t + 1.0, **mood)
    assert [(p.kind, p.t) for p in prompts if p.t >= calmer.t] == [("customer_calmer", calmer.t),
                                                                  ("keep_listening", calmer.t + 1.0)]


def test_a_talk_over_just_after_the_customer_upset_cue_waits_out_the_gap_between_prompts(config):
    """`customer_upset` already says "let them finish": a talk-over a second later is told when the 5 s gap has
    passed (while it lasts), not on top of it."""
    mood = dict(customer_state=lambda t: "upset" if t >= 2.0 else "calm")
    upset = run(Coach(config.coach), timeline(20, **mood))[0]
    assert upset.kind == "customer_upset"
    prompts = _cut_in_after(config, 20, upset.t + 1.0, **mood)
    assert [(p.kind, p.t) for p in prompts] == [("customer_upset", upset.t),
                                               ("keep_listening", upset.t + config.coach.min_gap_s)]
