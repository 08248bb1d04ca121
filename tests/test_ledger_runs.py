"""A run of speech frames added to the speaking-time ledger at once reads exactly as the frames added one by one."""

from __future__ import annotations

import random

import pytest

from companion.monitor.ledger import SpeechLedger


def _state(ledger: SpeechLedger) -> tuple[object, ...]:
    return (ledger.total_speech_s, ledger.speech_between(0, 1e9),
            [ledger.recent_by_speech(t, s, "syllables") for t in (3.0, 17.5, 60.0) for s in (2.0, 9.5)],
            [ledger.first_by_speech(t, s, "syllables") for t in (0.0, 4.0) for s in (2.0, 9.5)])


@pytest.mark.parametrize("frame_s", [0.01, 0.02, 0.03])
def test_a_run_of_frames_adds_the_same_speaking_time_to_the_last_bit(frame_s):
    rng = random.Random(7)
    one, runs = SpeechLedger(), SpeechLedger()
    frame = 0
    for _ in range(300):
        frames = list(range(frame, frame + rng.randrange(0, 90)))
        frame += len(frames) + rng.randrange(0, 40)
        seconds = frame_s if rng.random() < 0.8 else -frame_s  # a turn's hangover taken back, too
        for f in frames:
            one.add_speech(f * frame_s, seconds)
        runs.add_speech_frames(frames, frame_s, seconds)
        at = frame * frame_s
        one.add_units(at, 1.0)
        runs.add_units(at, 1.0)
        # read between runs: what was kept of a walk must go when the speaking time changes
        assert _state(runs) == _state(one)
    assert runs.total_speech_s == one.total_speech_s != 0.0


def test_a_run_of_frames_before_the_call_started_is_refused():
    with pytest.raises(ValueError, match="before the call's start"):
        SpeechLedger().add_speech_frames([-2, -1], 0.02, 0.02)
