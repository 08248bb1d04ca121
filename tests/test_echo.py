"""The agent's voice coming back on the customer's line (an echo the far end did not cancel) is not the customer.

Real-voice calls (tests/real_voices.py) with the agent's channel added to the customer's 150 ms later and 25 dB
quieter, as a customer's speakerphone without echo cancelling sends it back. Heard as the customer, the echo made
every agent sentence a talk-over ("You talked over the customer") on 53 of 68 calm calls before
companion/vad/echo.py; now the calls read as they do without it, and the real talk-overs are still found."""

from __future__ import annotations

import pytest
import soundfile as sf

from companion.vad.echo import EchoPath
from companion.vad.voice_activity import VoiceActivity, frame_levels_db, to_pcm16
from tests import real_voices as rv
from tests.line_changes import write_with_echo

ECHO_DB = -25.0
FOUND_BY_S = 8.0   # the greeting's first 4 s of agent speech (`echo_min_agent_s`), read at the next whole second


@pytest.fixture(scope="module")
def calls(tmp_path_factory, real_voices):
    out = tmp_path_factory.mktemp("echo_calls")
    made = {}

    def make(kind: str, customer: str, agent: str, line: str, echo: bool):
        key = (kind, customer, agent, line, echo)
        if key not in made:
            wav, truth = real_voices(kind, customer, agent, line)
            if echo:
                wav = write_with_echo(wav, out / f"{wav.stem}_echo.wav", ECHO_DB)
            made[key] = wav, truth
        return made[key]

    return make


# calls other modules render too (their synthesis is cached once for all): a synthetic and a real agent (the phone
# lines are measured by bench/line_conditions.py; on the noisy line an echo 25 dB down sits in the office noise)
@pytest.mark.parametrize("customer,agent,line", [("MEO069", "espeak:en-us", "clean"), ("FEE078", "real:MEE068", "clean")])
def test_a_calm_call_whose_line_echoes_the_agent_has_no_talk_overs_and_keeps_the_customers_speech(
        calls, analyze, customer, agent, line):
    plain, _ = calls("calm", customer, agent, line, echo=False)
    echoed, truth = calls("calm", customer, agent, line, echo=True)
    before, after = analyze(plain), analyze(echoed)
    assert before["interruptions"] == [] and rv.talk_over_cues(before) == []
    assert after["interruptions"] == [], after["interruptions"]
    assert rv.talk_over_cues(after) == []
    assert rv.judge(truth, after)["false_upset"] == []
    # the customer's own speech is heard as before (the echo is taken out, not the customer with it)
    assert rv.speech_s(after, "customer") == pytest.approx(rv.speech_s(before, "customer"), rel=0.05)


@pytest.mark.parametrize("customer,agent,line", [("MEO069", "espeak:en-us", "clean")])
def test_real_talk_overs_are_still_found_on_a_line_that_echoes_the_agent(calls, analyze, customer, agent, line):
    wav, truth = calls("talkovers", customer, agent, line, echo=True)
    doc = analyze(wav)
    row = rv.judge(truth, doc)
    assert row["talkovers_matched"] == row["talkovers_true"] == 4, (row, doc["interruptions"])
    assert row["talkovers_wrong_party"] == [] and row["keep_listening_missed"] == [], row
    # the echo is known once the agent has spoken for a few seconds: the greeting's may still be heard before that
    assert all(extra["t"] < FOUND_BY_S for extra in row["talkovers_extra"]), row["talkovers_extra"]


def test_a_line_without_echo_never_reads_as_one(config, calls):
    """The customer's own words, backchannels over the agent and talk-overs do not follow the agent's level: no
    echo path is ever found, so the customer's channel is heard exactly as before the echo check (all 864 calls of the
    real-voice benches: docs/coaching.md)."""
    wav, _ = calls("talkovers", "MEO069", "espeak:en-us", "clean", echo=False)  # made for the test above
    stereo = sf.read(wav, dtype="float32", always_2d=True)[0]
    n = stereo.shape[0] // config.audio.frame_len
    frames = stereo[: n * config.audio.frame_len].T.reshape(2, n, -1)
    frames = frames - frames.mean(axis=2, keepdims=True)
    agent_levels, customer_levels = frame_levels_db(frames[0]), frame_levels_db(frames[1])
    vad, path = VoiceActivity(config.vad, config.audio), EchoPath(config.vad, config.audio)
    readings = []
    for start in range(0, n, 25):
        voiced, _, _ = vad.process(start, to_pcm16(frames[0, start:start + 25]), agent_levels[start:start + 25])
        assert path.process(agent_levels[start:start + 25], voiced, customer_levels[start:start + 25]) is None
        readings.append(path.correlation)
    assert max(readings) < config.vad.echo_correlation - 0.15
