"""`companion import`: existing call recordings and shared call bundles (.ccall) into the history,
skipping what is already there; a folder may hold both."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from companion.audio.file_source import CallFileSpec, FileCallSource
from companion.config import CoachingConfig
from companion.errors import CompanionError
from companion.store.db import delete_call, open_store
from companion.store.keeping import analyze_and_keep

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".aiff", ".aif", ".au"}
BUNDLE_SUFFIX = ".ccall"


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
    return sorted(p for p in path.glob(pattern) if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES | {BUNDLE_SUFFIX})


def import_recordings(path: Path, config: CoachingConfig, recursive: bool = False, model=None, out=sys.stderr) -> dict:
    """Each recording into the history once. A recording whose earlier import did not finish (a full
    disk, a crash) is imported again; one that is complete is skipped."""
    files = recordings(Path(path), recursive)
    tally = {"imported": 0, "skipped": 0, "failed": 0, "ids": []}
    db = open_store()
    try:
        for n, file in enumerate(files, 1):
            prefix = f"[{n}/{len(files)}] {file.name}"
            if file.suffix.lower() == BUNDLE_SUFFIX:
                _import_bundle(db, file, prefix, tally, out)
                continue
            try:
                digest = content_hash(file)
            except OSError as exc:
                print(f"{prefix}: cannot read ({exc.strerror or exc})", file=out)
                tally["failed"] += 1
                continue
            earlier = db.execute("SELECT id, status, duration_s, writer_pid FROM calls WHERE content_hash = ? "
                                 "ORDER BY id DESC", (digest,)).fetchall()
            if any(row["status"] == "complete" for row in earlier):
                print(f"{prefix}: already imported", file=out)
                tally["skipped"] += 1
                continue
            try:
                for row in earlier:  # an import that never finished: start it over
                    delete_call(db, row["id"])
                    print(f"{prefix}: the earlier import (call {row['id']}, {row['duration_s']:.0f} s) did not finish; "
                          "importing again", file=out)
                source = FileCallSource(CallFileSpec(file), config.audio)
                kept = analyze_and_keep(source, config, "import", model=model, content_hash=digest)
            except CompanionError as exc:
                print(f"{prefix}: {exc.message}", file=out)
                tally["failed"] += 1
                continue
            for warning in source.warnings:
                print(f"{prefix}: warning: {warning}", file=out)
            if kept.shortfall:
                print(f"{prefix}: {kept.shortfall}", file=out)
                tally["failed"] += 1
                continue
            tally["imported"] += 1
            tally["ids"].append(kept.call_id)
            print(f"{prefix}: imported as call {kept.call_id}", file=out)
    finally:
        db.close()
    return tally


def _import_bundle(db, file: Path, prefix: str, tally: dict, out) -> None:
    """A call shared from another machine: checked, redacted and stored, or refused with its reason."""
    from companion.store.bundle import import_bundle

    try:
        digest = content_hash(file)
        if db.execute("SELECT 1 FROM calls WHERE content_hash = ?", (digest,)).fetchone():
            print(f"{prefix}: already imported", file=out)
            tally["skipped"] += 1
            return
        call_id = import_bundle(db, file, content_hash=digest)
    except OSError as exc:
        print(f"{prefix}: cannot read ({exc.strerror or exc})", file=out)
        tally["failed"] += 1
        return
    except CompanionError as exc:
        print(f"{prefix}: {exc.message}", file=out)
        tally["failed"] += 1
        return
    tally["imported"] += 1
    tally["ids"].append(call_id)
    print(f"{prefix}: opened as call {call_id}", file=out)
