"""A pace reading that does not jump: the acoustic pace over a stretch moves smoothly with what the detectors
count there, so a call that differs only by a 10 ms shift or its dither (a nucleus more or less under one
smoothing) reads the same pace and fires the same prompts. Issue: three renditions of one call differing only in
sox's dither read 166.8, 182.2 and 166.7 words/min — the stretch's rate crossed from one detector to the next.

The counts here are a stretch's real shape: each longer smoothing finds a few per cent fewer nuclei than the one
before it (drawn-out vowels stop splitting, fast syllables start merging), as every voice of the pace corpus does.
"""

from __future__ import annotations

import pytest

from companion.monitor.ledger import SpeechLedger
from companion.monitor.pace import call_wpm, rate_kind, rate_taps, rolling_wpm, smoothings, unit_kind

SPEECH_S = 8.0          # a detection window's worth of speech
STEP = 0.04             # each 10 ms more smoothing finds this share fewer nuclei


def stretch(config, base: int) -> SpeechLedger:
    """`SPEECH_S` of speech whose shortest smoothing found `base` nuclei, each longer one `STEP` fewer."""
    ledger = SpeechLedger()
    for second in range(int(SPEECH_S)):
        ledger.add_speech(second, 1.0)
    for i, taps in enumerate(smoothings(config.pace)):
        ledger.add_units(0.5, base * (1.0 - STEP) ** i, unit_kind(taps, config.pace))
        if taps == rate_taps(config.pace):  # no close peaks: the rate's nuclei are all of its smoothing's
            ledger.add_units(0.5, base * (1.0 - STEP) ** i, rate_kind(config.pace))
    return ledger


def test_one_nucleus_more_never_moves_the_pace_by_a_jump(config):
    """From 2 to 8 nuclei a second (about 85-350 words/min), one nucleus at a time under the shortest smoothing:
    the pace rises with each, and no nucleus moves it by more than 1.5 times what the one before did. (Reading
    the nearest detector alone, a nucleus that tips the stretch's rate to the next detector moved it by 7-9 %
    where its neighbours moved it by 3-5 %.)"""
    spw = config.pace.syllables_per_word
    readings = [call_wpm(stretch(config, base), config.pace, spw) for base in range(16, 65)]
    steps = [high / low - 1.0 for low, high in zip(readings, readings[1:])]
    assert all(step > 0 for step in steps), steps  # more nuclei never read slower
    jumps = [(16 + i, round(100 * before, 1), round(100 * after, 1))
             for i, (before, after) in enumerate(zip(steps, steps[1:])) if after > 1.5 * before]
    assert jumps == [], jumps


def test_the_window_and_the_whole_call_read_a_stretch_alike(config):
    pace = config.pace
    for base in (20, 27, 33, 41, 52):
        ledger = stretch(config, base)
        window, covered = rolling_wpm(ledger, SPEECH_S, pace, pace.syllables_per_word)
        assert covered == pytest.approx(SPEECH_S)
        assert window == pytest.approx(call_wpm(ledger, pace, pace.syllables_per_word))
