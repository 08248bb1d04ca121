"""Is this folder a Vosk model? Checked before loading, so a wrong folder gets one clear
sentence instead of a native crash."""

from __future__ import annotations

from pathlib import Path

from companion.errors import ModelError

REQUIRED = (
    ("am/final.mdl", "the acoustic model"),
    ("conf/model.conf", "the decoder settings"),
)
GRAPHS = (("graph/HCLG.fst",), ("graph/HCLr.fst", "graph/Gr.fst"))


def _problems(root: Path) -> list[str]:
    problems = []
    for rel, what in REQUIRED:
        f = root / rel
        if not f.is_file():
            problems.append(f"no {rel} ({what})")
        elif f.stat().st_size == 0:
            problems.append(f"an empty {rel} (an interrupted copy?)")
    if not any(all((root / rel).is_file() for rel in graph) for graph in GRAPHS):
        problems.append("no decoding graph (graph/HCLG.fst, or graph/HCLr.fst with graph/Gr.fst)")
    return problems


def is_model_dir(path: Path) -> bool:
    return path.is_dir() and not _problems(path)


def model_root(path: Path) -> Path:
    """The folder holding the model: `path` itself, its `model/` (Python packages), or its only subfolder
    (a zip that unpacks into one folder). Raises ModelError naming what is missing."""
    path = Path(path).expanduser()
    if not path.exists():
        raise ModelError(f"No model folder at {path}.")
    if not path.is_dir():
        raise ModelError(f"{path} is a file, not a model folder; unzip it first or use 'companion models download'.")
    if is_model_dir(path):
        return path
    inner = [p for p in (path / "model",) if p.is_dir()]
    subdirs = [p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if len(subdirs) == 1:
        inner.append(subdirs[0])
    for candidate in inner:
        if is_model_dir(candidate):
            return candidate
    problems = _problems(path)
    raise ModelError(f"{path} is not a Vosk model: it has {problems[0]}.")
