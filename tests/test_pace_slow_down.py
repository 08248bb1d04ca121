"""`slow_down` keeps its two promises where the acoustic pace is hardest to read (bench/slow_down_latency.py has
every voice and line):

- a calm agent (~140 words/min) is never told to slow down — the festival HTS voice on a phone line reads a few
  of its sentences 30-40 % fast (syllables per word vary that much over 8 s of real sentences);
- the neural voice (Piper's joe, whose fast syllables merge: it reads fast speech about 10 % low) going from
  ~140 to ~205 words/min on a noisy phone line is told within 15 s of its first fast word, and not before.

Clips of the labelled pace corpus (tests/pace_corpus.py), in the tests' synthesis cache; each call is the clips
in a row on the agent channel, analysed as `companion analyze --model none` does."""

from __future__ import annotations

import pytest

from companion.analysis import analyze_call
from companion.audio.file_source import CallFileSpec
from tests.pace_calls import stitched_call
from tests.pace_corpus import VOICES, Clip, Job, make, missing_tools

PROMPT_WITHIN_S = 15.0
HTS = next(v for v in VOICES if v.ident == "cmu_us_slt_arctic_hts")
PIPER = next(v for v in VOICES if v.engine == "piper")


@pytest.fixture(scope="module")
def clip(pace_cache):
    missing = missing_tools(("festival", "piper"))
    if missing:
        pytest.fail(f"the pace corpus needs {', '.join(missing)} (bash .ci/run installs them)")

    def get(voice, text_id: str, wpm: int, line: str, noise: bool) -> Clip:
        return make(pace_cache, [Job(voice, text_id, wpm, ((line, noise),))])[0]

    return get


def slow_downs(doc: dict) -> list[float]:
    return [p["t"] for p in doc["prompts"] if p["kind"] == "slow_down"]


@pytest.mark.parametrize("noise", [False, True], ids=["mu-law", "noisy"])
def test_a_calm_agent_whose_sentences_read_fast_is_not_told_to_slow_down(clip, config, tmp_path, noise):
    calm = clip(HTS, "refund", 140, "phone", noise)
    assert calm.true_wpm <= 160.0, calm.true_wpm
    call, _ = stitched_call([calm], tmp_path / "calm.wav")
    assert slow_downs(analyze_call(CallFileSpec(call), config)) == []


def test_the_neural_voice_at_205_words_a_minute_is_told_to_slow_down_within_15_s(clip, config, tmp_path):
    calm = clip(PIPER, "delivery_delay", 140, "phone", True)
    fast = clip(PIPER, "warranty", 210, "phone", True)
    assert calm.true_wpm <= 160.0 and fast.true_wpm >= 200.0, (calm.true_wpm, fast.true_wpm)
    call, starts = stitched_call([calm, fast], tmp_path / "fast.wav")
    told = slow_downs(analyze_call(CallFileSpec(call), config))
    assert told and all(t > starts[1] for t in told), (starts, told)  # nothing while the agent was calm
    assert told[0] - starts[1] <= PROMPT_WITHIN_S, (starts, told)
