"""`companion import`: existing call recordings into the history, skipping what is already there."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Optional

from companion.analysis import analyze_call
from companion.audio.file_source import CallFileSpec
from companion.config import CoachingConfig
from companion.errors import CompanionError
from companion.store.db import open_store
from companion.store.recorder import CallRecorder

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".aiff", ".aif", ".au"}


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def recordings(path: Path, recursive: bool) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise CompanionError(f"No such file or folder: {path}")
    pattern = "**/*" if recursive else "*"
    return sorted(p for p in path.glob(pattern) if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)


def import_recordings(path: Path, config: CoachingConfig, recursive: bool = False, model=None, out=sys.stderr) -> dict:
    files = recordings(Path(path), recursive)
    tally = {"imported": 0, "skipped": 0, "failed": 0, "ids": []}
    db = open_store()
    try:
        for n, file in enumerate(files, 1):
            prefix = f"[{n}/{len(files)}] {file.name}"
            try:
                digest = content_hash(file)
            except OSError as exc:
                print(f"{prefix}: cannot read ({exc.strerror or exc})", file=out)
                tally["failed"] += 1
                continue
            if db.execute("SELECT 1 FROM calls WHERE content_hash = ?", (digest,)).fetchone():
                print(f"{prefix}: already imported", file=out)
                tally["skipped"] += 1
                continue
            recorder: Optional[CallRecorder] = None
            try:
                recorder = CallRecorder("import", file=str(file), content_hash=digest)
                analyze_call(CallFileSpec(file), config, model=model, subscribers=(recorder,))
                recorder.close()
                tally["imported"] += 1
                tally["ids"].append(recorder.call_id)
                print(f"{prefix}: imported as call {recorder.call_id}", file=out)
            except CompanionError as exc:
                if recorder is not None:
                    recorder.close()
                    with db:
                        db.execute("DELETE FROM calls WHERE id = ?", (recorder.call_id,))  # a bad file leaves nothing
                print(f"{prefix}: {exc.message}", file=out)
                tally["failed"] += 1
    finally:
        db.close()
    return tally
