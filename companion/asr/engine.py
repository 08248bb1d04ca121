"""Loading a Vosk model, off the caller's thread, with its load time."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, cast

from companion.asr.validation import model_root
from companion.errors import ModelError


@dataclass(frozen=True)
class LoadedModel:
    model: Any        # vosk.Model
    path: Path
    load_s: float


class Recognizer(Protocol):
    """What the transcriber uses of a vosk.KaldiRecognizer, in Vosk's names (results are JSON text)."""

    def AcceptWaveform(self, data: bytes) -> bool: ...

    def Result(self) -> str: ...

    def PartialResult(self) -> str: ...

    def FinalResult(self) -> str: ...

    def Reset(self) -> None: ...


def _vosk() -> ModuleType:
    try:
        import vosk
    except ImportError:
        raise ModelError("Vosk is not installed: run 'pip install vosk' to transcribe calls.") from None
    except OSError as exc:  # the native library failed to load
        raise ModelError(f"Vosk's native library could not be loaded ({exc}).") from None
    vosk.SetLogLevel(-1)
    return cast(ModuleType, vosk)  # Vosk ships no type information


def load_model(path: Path) -> LoadedModel:
    root = model_root(path)
    vosk = _vosk()
    started = time.perf_counter()
    try:
        model = vosk.Model(str(root))
    except Exception as exc:  # vosk raises a bare Exception on a model it cannot read
        raise ModelError(f"Vosk could not load the model in {root} ({exc}); it may be damaged — download it again.") from None
    return LoadedModel(model, root, time.perf_counter() - started)


def recognizer(model: LoadedModel, sample_rate: int) -> Recognizer:
    vosk = _vosk()
    rec = vosk.KaldiRecognizer(model.model, sample_rate)
    rec.SetWords(True)
    rec.SetPartialWords(True)
    return cast(Recognizer, rec)
