"""A call's events made up at random for the benches that need many calls fast (store, team sync):
a metrics snapshot every second, a ten-word segment and a turn every 4 s, a prompt a minute and
an interruption every two minutes. Importing it changes nothing (no environment, no folders)."""

from __future__ import annotations

import random

from companion.events import CallEnded, FinalSegment, Interruption, MetricsSnapshot, Prompt, Turn, Word

VOCAB = ("parcel delivery refund account order replacement charge invoice courier address payment card "
         "cancel subscription manager waiting week friday monday email number broken late missing").split()


def snapshot(t: float) -> MetricsSnapshot:
    return MetricsSnapshot(t, True, False, -30.0, -60.0, 150.0, "asr", 30.0, -30.0, -31.0, 120.0, 118.0, t / 2, t / 2,
                           0.5, 60.0, 0.5, 5.0, 10.0, 0.0, 0, 0, None, 0.0, 0)


def hour_of_events(seconds: int, rng: random.Random):
    for s in range(seconds):
        yield snapshot(float(s))
        if s % 4 == 0:
            party = "agent" if s % 8 else "customer"
            words = tuple(Word(rng.choice(VOCAB), s + i * 0.3, s + i * 0.3 + 0.25, 0.9) for i in range(10))
            yield FinalSegment(party, words[0].start, words[-1].end, words)
            yield Turn(party, float(s), s + 3.5)
        if s % 60 == 30:
            yield Prompt(float(s), rng.choice(["slow_down", "keep_listening", "lower_tone"]), "reason")
        if s % 120 == 50:
            yield Interruption(float(s), "agent", 2.0)
    yield CallEnded(float(seconds), 0)
