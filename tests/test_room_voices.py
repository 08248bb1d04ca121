"""Other people talking farther off in the room are not a party of the call: the agents beside an agent's headset on a
contact centre's floor, a television behind a customer. Real-voice calls (tests/real_voices.py) with three meeting
recordings played at once (tests/line_changes.py `babble`) 37 dB under a party's active level. Before
companion/vad/own_voice.py, the voice activity heard their murmur as that party's soft first and last words, and on 99
of 104 calm calls with them 35 dB behind the agent it found the agent talking over the customer ("You talked over the
customer", bench/line_conditions.py, docs/coaching.md)."""

from __future__ import annotations

import pytest

from tests import real_voices as rv
from tests.line_changes import write_with_babble

UNDER_DB = 37.0
AGENT, CUSTOMER = 0, 1


@pytest.fixture(scope="module")
def calls(tmp_path_factory, real_voices, real_voice_cache):
    out = tmp_path_factory.mktemp("room_voices")
    made = {}

    def make(kind: str, customer: str, agent: str, line: str, behind: int | None):
        key = (kind, customer, agent, line, behind)
        if key not in made:
            wav, truth = real_voices(kind, customer, agent, line)
            if behind is not None:
                level = rv.AGENT_DB if behind == AGENT else rv.SPEECH_DB
                wav = write_with_babble(wav, out / f"{wav.stem}_room{behind}.wav", rv.recordings(real_voice_cache),
                                        behind, UNDER_DB, level)
            made[key] = wav, truth
        return made[key]
    return make


@pytest.mark.parametrize("customer,agent,behind", [("FEE078", "espeak:en-us", AGENT), ("MEE009", "piper:joe", AGENT),
                                                    ("FEE078", "espeak:en-us", CUSTOMER)])
def test_a_calm_call_with_people_talking_behind_a_party_has_no_talk_overs(calls, analyze, customer, agent, behind):
    plain, _ = calls("calm", customer, agent, "clean", behind=None)
    roomy, truth = calls("calm", customer, agent, "clean", behind=behind)
    before, after = analyze(plain), analyze(roomy)
    assert before["interruptions"] == [] and rv.talk_over_cues(before) == []
    assert after["interruptions"] == [], after["interruptions"]
    assert rv.talk_over_cues(after) == []
    assert rv.judge(truth, after)["false_upset"] == []
    # the party's own speech is heard as before: the voices behind them are not added to it
    party = "agent" if behind == AGENT else "customer"
    assert rv.speech_s(after, party) == pytest.approx(rv.speech_s(before, party), rel=0.05)


def test_real_talk_overs_are_still_found_with_people_talking_behind_the_agent(calls, analyze):
    wav, truth = calls("talkovers", "MEO069", "espeak:en-us", "clean", behind=AGENT)
    row = rv.judge(truth, analyze(wav))
    assert row["talkovers_matched"] == row["talkovers_true"] == 4, row
    assert row["talkovers_wrong_party"] == [] and row["keep_listening_missed"] == [], row
    assert row["talkovers_extra"] == [], row
