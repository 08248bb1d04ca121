"""Pace that holds on any voice: the acoustic estimate, measured on voices of three synthesis engines
(espeak-ng formant voices, festival diphone and HTS voices, Piper's neural voice), at 110-260 words/min,
on a headset and on a mu-law phone line, with and without office noise. Truth: words / the agent's
speaking time."""

from __future__ import annotations

import statistics
from collections import defaultdict

import pytest

from companion.analysis import analyze_call
from companion.audio.file_source import CallFileSpec
from tests.pace_corpus import as_call, corpus, missing_tools

CALM_WPM = 160.0


@pytest.fixture(scope="session")
def pace_corpus(pace_cache):
    missing = missing_tools()
    if missing:
        pytest.fail(f"the pace corpus needs {', '.join(missing)} (bash .ci/run installs them)")
    return corpus(pace_cache, quick=True)


@pytest.fixture(scope="session")
def measured(pace_corpus, config, tmp_path_factory):
    """Each clip as a two-channel call through the pipeline, without a transcriber."""
    calls = tmp_path_factory.mktemp("pace_calls")
    out = []
    for n, clip in enumerate(pace_corpus):
        doc = analyze_call(CallFileSpec(as_call(clip, calls / f"{n}.wav")), config)
        error = 100.0 * (doc["agent_wpm"] - clip.true_wpm) / clip.true_wpm
        out.append((clip, doc, error))
    return out


def test_the_corpus_covers_three_engines_both_lines_and_the_whole_range(pace_corpus):
    assert {c.engine for c in pace_corpus} == {"espeak", "festival", "piper"}
    assert {c.line for c in pace_corpus} == {"headset", "phone"} and {c.noise for c in pace_corpus} == {False, True}
    assert min(c.true_wpm for c in pace_corpus) < 125 and max(c.true_wpm for c in pace_corpus) > 240
    assert len({c.voice for c in pace_corpus}) >= 11
    piper = [c.true_wpm for c in pace_corpus if c.engine == "piper"]
    assert min(piper) < 125 and max(piper) > 240, piper  # the neural voice slow and fast


def test_the_acoustic_pace_is_within_10_percent_over_the_corpus_and_15_on_every_voice(measured):
    """The goal: median absolute error <= 10 % over 110-260 words/min, and no voice's median beyond 15 %.
    (Each engine's own median is in bench/pace_fit.py, leave-one-engine-out: the neural voice's quick clips
    here are its two extremes, 110 and 260 words/min, where it reads furthest off.)"""
    by_voice = defaultdict(list)
    for clip, _, error in measured:
        by_voice[(clip.engine, clip.voice)].append(abs(error))
    everything = [abs(error) for _, _, error in measured]
    assert statistics.median(everything) <= 10.0, statistics.median(everything)
    for voice, errors in by_voice.items():
        assert statistics.median(errors) <= 15.0, (voice, errors)


def test_no_calm_agent_is_told_to_slow_down_on_any_voice_or_line(measured):
    told = [(clip.voice, clip.line, round(clip.true_wpm), [p["t"] for p in doc["prompts"] if p["kind"] == "slow_down"])
            for clip, doc, _ in measured if clip.true_wpm <= CALM_WPM]
    assert told, "the corpus has calm clips"
    assert [t for t in told if t[3]] == []


def test_a_fast_agent_is_told_to_slow_down_on_every_engine(measured):
    fast = [(clip, doc) for clip, doc, _ in measured if clip.true_wpm >= 230]
    assert {clip.engine for clip, _ in fast} == {"espeak", "festival", "piper"}
    missed = [(clip.voice, clip.line, round(clip.true_wpm)) for clip, doc in fast
              if not any(p["kind"] == "slow_down" for p in doc["prompts"])]
    assert missed == []
