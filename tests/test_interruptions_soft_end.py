"""A party's pause runs from their last sound to their next: a soft last word (a murmur under the speech gate,
companion/vad/voice_activity.py) ends it as a soft first word begins it. Only their own pause is read so; whether
the other was still speaking when someone started is read to the other's last clear word, so a word's fading end
never makes a normal reply a cut-in (companion/monitor/interruptions.py)."""

from __future__ import annotations

from companion.monitor.interruptions import InterruptionTracker
from tests import real_voices as rv


def _run(config, events):
    """(kind, party, t[, soft end]) in the order the tracker hears them; returns (tracker, talk-overs reported)."""
    tracker = InterruptionTracker(config.interruptions)
    out = []
    for kind, party, t, *soft in events:
        if kind == "open":
            out.append(tracker.turn_opened(party, t))
        elif kind == "voiced":
            tracker.voiced(party, t)
        elif kind == "close":
            out.append(tracker.turn_closed(party, t, *soft))
        out.append(tracker.expire(t))
    out.append(tracker.expire(float("inf")))
    return tracker, [i for i in out if i is not None]


def test_a_customer_whose_low_voice_fades_under_the_line_and_carries_on_is_talked_over_by_the_agent(config):
    """MEO069 on the noisy line: his clear words stop at 121.88 s, his voice goes on softly to 121.94 s and then under
    300 Hz, off the phone line; the agent starts at 122.18 s; his clear words come back at 123.42 s, 1.54 s after the
    last clear one but 1.48 s after his last sound: he was carrying on, the agent talked over him. Read from his last
    clear word he paused longer than a turn holds (1.5 s) and cut in on the agent."""
    events = [
        ("open", "customer", 120.98), ("voiced", "customer", 121.88), ("close", "customer", 121.88, 121.94),
        ("open", "agent", 122.18), ("voiced", "agent", 123.86), ("close", "agent", 123.86, 123.9),
        ("open", "agent", 124.44), ("open", "customer", 123.42), ("voiced", "agent", 128.0),
        ("voiced", "customer", 128.0), ("close", "customer", 128.0), ("voiced", "agent", 131.0),
        ("close", "agent", 131.0),
    ]
    tracker, found = _run(config, events)
    assert [(i.by, i.t) for i in found] == [("agent", 122.18)]
    assert tracker.counts == {"agent": 1, "customer": 0}


def test_a_reply_into_the_fading_end_of_the_agents_last_word_is_no_cut_in(config):
    """The agent's last clear word ends at 4.0 s and fades out softly to 4.45 s; the customer replies at 4.4 s (a normal
    0.4 s gap) and talks on; the agent cuts in 2.5 s into the reply. One talk-over, the agent's: the customer did not
    cut in on the agent's fading word (the live call's reply, read to the soft end, was once logged as a cut-in)."""
    events = [
        ("open", "agent", 0.5), ("voiced", "agent", 4.0), ("close", "agent", 4.0, 4.45),
        ("open", "customer", 4.4), ("voiced", "customer", 6.9), ("open", "agent", 6.9), ("voiced", "agent", 10.0),
        ("voiced", "customer", 10.0), ("close", "customer", 10.0), ("voiced", "agent", 12.0), ("close", "agent", 12.0),
    ]
    tracker, found = _run(config, events)
    assert [(i.by, i.t) for i in found] == [("agent", 6.9)]
    assert tracker.counts == {"agent": 1, "customer": 0}


def test_a_customer_who_cuts_in_pauses_and_goes_on_softly_is_still_talking_over_the_agent(config):
    """F_librivox_sonnet cutting in on the agent: "Sonnet one" (98.12-99.04 s, softly on to 99.54 s), then the verse, its
    first soft sound at 99.54 s but its first clear word only at 100.92 s, over the agent all along. The turn is known
    from its clear word, after her pause from her last clear word (1.5 s) has ended the talk-over as too short; her
    own pause, soft sounds read, was none, so it is one talk-over, hers, from 98.12 s (it was lost)."""
    events = [
        ("open", "agent", 96.62), ("open", "customer", 98.12), ("voiced", "customer", 99.04), ("voiced", "agent", 99.04),
        ("close", "customer", 99.04, 99.54), ("voiced", "agent", 99.12), ("close", "agent", 99.12, 99.18),
        ("open", "agent", 99.76), ("voiced", "agent", 100.9), ("open", "customer", 99.54), ("voiced", "agent", 103.54),
        ("voiced", "customer", 103.54), ("close", "customer", 103.54, 103.88), ("voiced", "agent", 107.86),
        ("close", "agent", 107.86),
    ]
    tracker, found = _run(config, events)
    assert [(i.by, i.t) for i in found] == [("customer", 98.12)]
    assert tracker.counts == {"agent": 0, "customer": 1}


def test_a_real_customer_cut_in_on_whose_voice_fades_off_a_noisy_line_is_not_interrupting(real_voices, analyze):
    """The call behind the first test, through the real pipeline (`analyze_call`, real webrtcvad): MEO069 on the noisy
    line (office noise 15 dB under his speech, then the 8 kHz line), much of his voice under 300 Hz. The agent cuts in
    on him; the talk-over is the agent's, and keep_listening follows within 3 s, as for each of the agent's."""
    wav, truth = real_voices("talkovers", "MEO069", "espeak:en-us", "noisy")
    doc = analyze(wav)
    row = rv.judge(truth, doc)
    assert row["talkovers_matched"] == row["talkovers_true"] == row["talkovers_found"] == 4, (row, doc["interruptions"])
    assert row["talkovers_wrong_party"] == [] and row["keep_listening_missed"] == [], row
    assert [i["by"] for i in doc["interruptions"]] == ["agent", "customer", "agent", "agent"]
