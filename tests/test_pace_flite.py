"""The acoustic pace on a synthesizer it was never fitted on: CMU Flite's voices (tests/pace_flite.py, tests/held_out_engines.py; the constants
are fitted on espeak-ng, festival and Piper only). bench/pace_fit.py `--held-out flite` and
bench/slow_down_latency.py `--engines flite` measure all five voices on every line (docs/coaching.md, eighth
session); here, one passage each of three of them:

- at a calm ~140 words/min on a noisy 8 kHz mu-law phone line, the clustergen voice `awb` reads within 15 % and is
  not told to slow down;
- on the same line, the diphone voice `kal` is (a strict expected failure, so the suite says when it stops): over
  12 s its nuclei read up to 194 words/min where it speaks 143 (194-220 before the tenth session); the phone line and
  its noise add envelope peaks (the same seconds under the 40 ms detector: 44 nuclei on a clean headset, 55 here),
  and the rule that reads a stretch under the smoothing matched to its own rate then picked 22 ms instead of 33 ms
  (67 nuclei instead of about 47). The rate now leaves out close peaks with a shallow dip between them
  (`[pace] close_peak_s`), which takes most of that back, not all: told at 34.3 s instead of 29.8 s;
- the clustergen voice `slt` at ~200 on a clean headset reads more than 15 % low (a strict expected failure): it makes fewer
  envelope peaks per word than any fitted voice under every smoothing and dip (1.21 nuclei per word where 1.43 is
  shipped), so a fast slt agent is read as about 165-190 and not told within 15 s.
"""

from __future__ import annotations

import pytest

from companion.analysis import analyze_call
from companion.audio.file_source import CallFileSpec
from tests.held_out_engines import FLITE, make
from tests.pace_corpus import Clip, Job, as_call

WITHIN_PCT = 15.0
CALM_WPM = 160.0
NOISY_PHONE, HEADSET = ("phone", True), ("headset", False)
VOICE = {v.ident: v for v in FLITE.voices}


@pytest.fixture(scope="module")
def heard(pace_cache, config, tmp_path_factory):
    """hear(voice, passage, aim, line) -> (clip, analysis): the clip made once into the tests' pace cache."""
    missing = FLITE.missing()
    if missing:  # the corpus is the truth here: never skipped
        pytest.fail(f"the held-out flite voices need {', '.join(missing)} (bash .ci/run installs it)")
    folder = tmp_path_factory.mktemp("pace_flite_calls")

    def hear(voice: str, text_id: str, wpm: int, line: tuple[str, bool]) -> tuple[Clip, dict]:
        clip = make(FLITE, pace_cache, [Job(VOICE[voice], text_id, wpm, (line,))], workers=1)[0]
        call = as_call(clip, folder / f"{voice}_{text_id}_{wpm}.wav")
        return clip, analyze_call(CallFileSpec(call), config)

    return hear


def error_pct(clip: Clip, doc: dict) -> float:
    return 100.0 * (doc["agent_wpm"] - clip.true_wpm) / clip.true_wpm


def told(doc: dict) -> list[float]:
    return [p["t"] for p in doc["prompts"] if p["kind"] == "slow_down"]


def test_a_calm_clustergen_voice_reads_within_15_percent_and_is_not_told_to_slow_down(heard):
    clip, doc = heard("awb", "password_reset", 140, NOISY_PHONE)
    assert clip.true_wpm <= CALM_WPM, clip.true_wpm
    assert abs(error_pct(clip, doc)) <= WITHIN_PCT, (clip.true_wpm, doc["agent_wpm"])
    assert told(doc) == []


@pytest.mark.xfail(strict=True, reason="flite's kal diphone voice at a true 143 reads up to 194 words/min over 12 s on "
                   "a noisy phone line (extra envelope peaks): told at 36.3 s (2026-12-07, this render; 34.3 s on the one "
                   "before the held-out engines shared a module, 29.8 s before the rate left out close, shallow peaks)")
def test_a_calm_diphone_voice_is_not_told_to_slow_down_on_a_noisy_phone_line(heard):
    clip, doc = heard("kal", "delivery_delay", 140, NOISY_PHONE)
    assert clip.true_wpm <= CALM_WPM, clip.true_wpm
    assert told(doc) == []


@pytest.mark.xfail(strict=True, reason="flite's slt makes 1.21 envelope peaks per word (1.43 shipped): it reads "
                   "15-25 % low at 200-260 words/min, this passage -24 % (2026-12-07; -23 % on the render before)")
def test_a_fast_clustergen_voice_reads_within_15_percent(heard):
    clip, doc = heard("slt", "plan_upgrade", 200, HEADSET)
    assert clip.true_wpm >= 195.0, clip.true_wpm
    assert abs(error_pct(clip, doc)) <= WITHIN_PCT, (clip.true_wpm, doc["agent_wpm"])
