"""The agent's pace calibration, kept between calls in their settings folder.

Each call with a transcriber adds what it learned (companion.monitor.calibration); the
stored ratio is the words-weighted mean of the calls so far, with past calls weighing at
most `calibration_memory_words`, so it follows a voice that changes (a new headset)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from companion.monitor.calibration import CallCalibration
from companion.settings_files import pace_calibration_path

FILE = "pace_calibration.json"
FORMAT = 1   # the file's layout; a file without the field is format 1 (written before it had one)


@dataclass(frozen=True)
class PaceCalibration:
    units_per_word: dict[str, float]   # nuclei per word, per detector kind
    words: int                         # how many recognised words it rests on
    updated: str


def calibration_path() -> Path:
    return pace_calibration_path()  # the settings store says where: FILE in the user config folder


def load_calibration(path: Optional[Path] = None) -> Optional[PaceCalibration]:
    """The stored calibration, or None (none yet, or a file that is not one: it is then ignored)."""
    path = path or calibration_path()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if _format(doc) != FORMAT:
            return None  # a newer app's calibration: not read, and not written over (save_calibration)
        ratios = {str(k): float(v) for k, v in doc["units_per_word"].items()}
        words = int(doc["words"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if words <= 0 or not ratios or not all(0.3 <= v <= 4.0 for v in ratios.values()):
        return None
    return PaceCalibration(ratios, words, str(doc.get("updated", "")))


def merge(old: Optional[PaceCalibration], new: CallCalibration, memory_words: int) -> PaceCalibration:
    weight_old = min(old.words, memory_words) if old else 0
    ratios = dict(old.units_per_word) if old else {}
    for kind, value in new.units_per_word.items():
        previous = ratios.get(kind)
        ratios[kind] = value if previous is None else (previous * weight_old + value * new.words) / (weight_old + new.words)
    return PaceCalibration(ratios, weight_old + new.words, datetime.now(timezone.utc).isoformat(timespec="seconds"))


def _format(doc: object) -> int:
    value = doc.get("format", 1) if isinstance(doc, dict) else 1
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def save_calibration(calibration: PaceCalibration, path: Optional[Path] = None) -> Path:
    """Written whole (a temporary file, then renamed); a newer app's calibration in its place is left as it is."""
    path = path or calibration_path()
    try:
        if _format(json.loads(path.read_text(encoding="utf-8"))) > FORMAT:
            return path
    except (OSError, ValueError):
        pass  # none yet, or not one: written afresh
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"format": FORMAT, "units_per_word": calibration.units_per_word,
                               "words": calibration.words, "updated": calibration.updated}, indent=1),
                   encoding="utf-8")
    os.replace(tmp, path)
    return path
