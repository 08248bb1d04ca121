"""Calls made of pace-corpus clips in a row (`tests/pace_corpus.py`), for the pace tests and benches.

Kept apart from the corpus module, whose own source is part of every clip's cache key: a helper added there
would make the whole corpus again."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import soundfile as sf

from tests.pace_corpus import LEAD_S, RATE, Clip, as_call


def stitched_call(parts: list[Clip], path: Path) -> tuple[Path, list[float]]:
    """The clips in a row on the agent channel of a two-channel call (as `as_call`); returns the call and the
    call time where each part's speech starts."""
    import soxr

    audio, starts, at = [], [], 0
    for clip in parts:
        samples, rate = clip.load()
        if rate != RATE:
            samples = soxr.resample(samples, rate, RATE, quality="HQ")
        starts.append(at / RATE + LEAD_S)
        audio.append(samples)
        at += len(samples)
    agent = Path(path).with_suffix(".agent.wav")
    sf.write(str(agent), np.concatenate(audio), RATE, subtype="FLOAT")
    return as_call(dataclasses.replace(parts[0], path=agent, rate=RATE), path), starts
