"""`slow_down` keeps its promises where the acoustic pace is hardest to read, on more than one rendering of
each line (bench/slow_down_latency.py has every voice and line, `--seeds` more renders):

- a calm agent (~140 words/min) is never told to slow down — the festival HTS voice on a phone line reads a few
  of its sentences 30-40 % fast (syllables per word vary that much over 8 s of real sentences);
- the neural voice (Piper's joe, which reads fast speech 5-15 % low: its own fast speech holds about 5 % fewer
  syllable nuclei, under every smoothing, than its calm speech sped up to the same pace — bench/pace_nuclei_probe.py)
  going from ~140 to ~223 words/min is told within 15 s of its first fast word, and not before, whatever the line's
  noise;
- at ~205 words/min the same voice is told within 15 s on most renders of a noisy phone line but not on all:
  its estimate hovers at the line (190), and another draw of the line's noise moves the first reading over it
  by several seconds (19-21 s on 3 of 14 renders, 2026-12-06). That gap is measured by
  `python bench/slow_down_latency.py --seeds 6`, not here (seven renders: most of a minute of the suite).

Clips of the labelled pace corpus (tests/pace_corpus.py), in the tests' synthesis cache; other renders of a line
are the same speech with other noise (tests/pace_calls.py `renders`, no new synthesis); each call is the clips
in a row on the agent channel, analysed as `companion analyze --model none` does."""

from __future__ import annotations

import pytest

from companion.analysis import analyze_call
from companion.audio.file_source import CallFileSpec
from tests.pace_calls import renders, stitched_call
from tests.pace_corpus import VOICES, Clip, Job, make, missing_tools

PROMPT_WITHIN_S = 15.0
HTS = next(v for v in VOICES if v.ident == "cmu_us_slt_arctic_hts")
PIPER = next(v for v in VOICES if v.engine == "piper")
SEEDS = (1, 2, 3)  # other renders of a line, beside the corpus's own


@pytest.fixture(scope="module")
def clip(pace_cache):
    missing = missing_tools(("festival", "piper"))
    if missing:
        pytest.fail(f"the pace corpus needs {', '.join(missing)} (bash .ci/run installs them)")

    def get(voice, text_id: str, wpm: int, line: str, noise: bool, seed: int = 0) -> Clip:
        job = Job(voice, text_id, wpm, ((line, noise),))
        return renders(pace_cache, job, (seed,))[0] if seed else make(pace_cache, [job])[0]

    return get


def slow_downs(doc: dict) -> list[float]:
    return [p["t"] for p in doc["prompts"] if p["kind"] == "slow_down"]


def told_after(clip, config, tmp_path, calm: Clip, fast: Clip) -> tuple[float, list[float]]:
    """(when the fast clip's speech starts, the slow_down prompts) of the two clips in a row."""
    call, starts = stitched_call([calm, fast], tmp_path / "fast.wav")
    return starts[1], slow_downs(analyze_call(CallFileSpec(call), config))


@pytest.mark.parametrize("seed", (0, *SEEDS), ids=lambda s: f"render{s}")
@pytest.mark.parametrize("noise", [False, True], ids=["mu-law", "noisy"])
def test_a_calm_agent_whose_sentences_read_fast_is_not_told_to_slow_down(clip, config, tmp_path, noise, seed):
    calm = clip(HTS, "refund", 140, "phone", noise, seed)
    assert calm.true_wpm <= 160.0, calm.true_wpm
    call, _ = stitched_call([calm], tmp_path / "calm.wav")
    assert slow_downs(analyze_call(CallFileSpec(call), config)) == []


@pytest.mark.parametrize("seed", (0, *SEEDS), ids=lambda s: f"render{s}")
def test_the_neural_voice_at_223_words_a_minute_is_told_to_slow_down_within_15_s(clip, config, tmp_path, seed):
    calm = clip(PIPER, "refund", 140, "headset", False)
    fast = clip(PIPER, "appointment", 230, "headset", False, seed)
    assert calm.true_wpm <= 160.0 and fast.true_wpm >= 220.0, (calm.true_wpm, fast.true_wpm)
    fast_from, told = told_after(clip, config, tmp_path, calm, fast)
    assert told and all(t > fast_from for t in told), (fast_from, told)  # nothing while the agent was calm
    assert told[0] - fast_from <= PROMPT_WITHIN_S, (fast_from, told)
