"""Talk-overs on a noisy line: who spoke first is heard from a customer's soft resumption, a murmur a few dB over the
office noise that the speech detector only calls speech a second later (companion/vad/voice_activity.py), and the
talk-over tracker judges it at the moment it was heard from (companion/monitor/interruptions.py). Through the real
pipeline (`analyze_call`, real webrtcvad) on a call whose customer is a real person (tests/real_voices.py), and event by
event."""

from __future__ import annotations

from tests import real_voices as rv
from tests.test_real_voices_mood import overlap_run


def test_a_customer_who_resumes_softly_on_a_noisy_line_just_before_the_agent_starts_is_talked_over_by_the_agent(
        real_voices, analyze):
    """MEE009 pauses 0.9 s, resumes, and the agent starts 0.24 s later and talks on. On the noisy line his resumption
    is a murmur 3-5 dB over the office noise, his first clear word 1.25 s after the agent's start. Heard from its
    clear word, the customer cut in (a single frame 3 dB over the floor does not bridge the dip before it); heard from
    the murmur, the agent talked over him, and the agent is coached. Every other talk-over of the call stays as it was."""
    wav, truth = real_voices("talkovers", "MEE009", "piper:joe", "noisy")
    doc = analyze(wav)
    row = rv.judge(truth, doc)
    assert row["talkovers_matched"] == row["talkovers_true"] == row["talkovers_found"] == 4, (row, doc["interruptions"])
    assert row["talkovers_wrong_party"] == [] and row["keep_listening_missed"] == [], row


def test_a_soft_resumption_known_only_after_the_agent_paused_is_still_judged_from_when_it_began(config):
    """The customer stops at 4.0 s; the agent cuts in at 5.2 s and pauses at 6.0 s; the customer's murmured resumption
    began at 5.4 s, inside the agent's first words, but is known only when their clear word comes, after the agent's
    pause has closed that stretch; the agent goes on at 6.56 s and both talk on. The customer was carrying on
    (1.4 s after their last word) and the agent talked over them."""
    tracker, found = overlap_run(config, [
        ("open", "customer", 0.0), ("voiced", "customer", 4.0), ("close", "customer", 4.0),
        ("open", "agent", 5.2), ("voiced", "agent", 6.0), ("close", "agent", 6.0),
        ("open", "customer", 5.4), ("open", "agent", 6.56), ("voiced", "customer", 9.0), ("voiced", "agent", 9.0),
        ("close", "customer", 9.0), ("voiced", "agent", 11.0), ("close", "agent", 11.0),
    ])
    assert [(i.by, i.t) for i in found] == [("agent", 5.2)]
    assert tracker.counts == {"agent": 1, "customer": 0}
