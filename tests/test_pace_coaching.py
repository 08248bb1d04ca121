"""The coach on real speech of both synthesis engines: a sustained fast stretch is told to slow down
within 15 s of its first word; an agent who speeds up from their own start is told so; a steady
agent hears neither."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from companion.analysis import analyze_call
from companion.audio.file_source import CallFileSpec
from tests.pace_corpus import RATE, as_call, corpus, missing_tools, speech_turns

GAP_S = 1.0  # silence between the stitched passages, as between two turns


@pytest.fixture(scope="session")
def by_voice(tmp_path_factory):
    """Headset clips at 140, 200 and 230 words/min, two passages each, grouped by voice."""
    missing = missing_tools()
    if missing:
        pytest.fail(f"the pace corpus needs {', '.join(missing)} (bash .ci/run installs them)")
    clips = corpus(tmp_path_factory.mktemp("pace_coaching"), rates=(140, 200, 230), lines=("headset",), noise=(False,))
    grouped = defaultdict(lambda: defaultdict(list))
    for clip in clips:
        grouped[(clip.engine, clip.voice)][clip.target_wpm].append(clip)
    return grouped


def stitched(parts, path: Path) -> tuple[Path, list[float]]:
    """One agent channel of the clips in a row; returns the call and where each part's speech starts."""
    audio, starts, at = [], [], 0.0
    for clip in parts:
        samples, rate = clip.load()
        assert rate == RATE
        starts.append(at + speech_turns(samples, rate)[0][0])
        audio += [samples, np.zeros(int(GAP_S * RATE), np.float32)]
        at += len(samples) / RATE + GAP_S
    mono = tmp = path.with_suffix(".agent.wav")
    sf.write(str(tmp), np.concatenate(audio), RATE)
    from dataclasses import replace

    return as_call(replace(parts[0], path=mono, rate=RATE), path), starts


VOICES = [("espeak", "en-us"), ("espeak", "en-us+f3"), ("festival", "kal_diphone"), ("festival", "cmu_us_slt_arctic_hts")]


@pytest.mark.parametrize("voice", VOICES, ids=lambda v: v[1])
def test_sustained_fast_speech_is_told_to_slow_down_within_15_s_of_its_first_word(by_voice, voice, config, tmp_path):
    clips = by_voice[voice]
    call, starts = stitched([clips[140][0], clips[230][0]], tmp_path / "fast.wav")
    doc = analyze_call(CallFileSpec(call), config)
    fast_from = starts[1]
    told = [p["t"] for p in doc["prompts"] if p["kind"] == "slow_down"]
    assert told and all(t > fast_from for t in told), (fast_from, told)
    assert told[0] - fast_from <= 15.0, (fast_from, told)


@pytest.mark.parametrize("voice", VOICES, ids=lambda v: v[1])
def test_an_agent_who_speeds_up_from_140_to_200_is_told_and_a_steady_one_is_not(by_voice, voice, config, tmp_path):
    clips = by_voice[voice]
    calm = clips[140]
    call, starts = stitched([calm[0], calm[1], clips[200][0], clips[200][1]], tmp_path / "faster.wav")
    doc = analyze_call(CallFileSpec(call), config)
    cues = [p for p in doc["prompts"] if p["kind"] == "speeding_up"]
    assert cues and cues[0]["t"] > starts[2], (starts, doc["prompts"])
    steady, _ = stitched([calm[0], calm[1], calm[0], calm[1]], tmp_path / "steady.wav")
    quiet = analyze_call(CallFileSpec(steady), config)
    assert [p for p in quiet["prompts"] if p["kind"] in ("speeding_up", "slow_down")] == []
