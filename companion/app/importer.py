"""`companion import`: existing call recordings and shared call bundles (.ccall) into the history,
skipping what is already there; a folder may hold both.

One file named on the command line that cannot be imported (not a bundle, not audio, unreadable)
is bad input: one line, exit 2, like every other command. In a folder, each file says how it went
and the others still go in; the tally says how many did not."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from companion.app.keeping import analyze_and_keep
from companion.audio.file_source import CallFileSpec, FileCallSource
from companion.config import CoachingConfig
from companion.errors import CompanionError
from companion.store.db import delete_call, open_store
from companion.store.queries import calls_with_content
from companion.textsafe import shown

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
    if not path.exists():
        raise CompanionError(f"No such file or folder: {shown(path)}")
    if not path.is_dir():  # a pipe or a device: reading it would block, or never end
        raise CompanionError(f"{shown(path)} is not a regular file (a pipe or a device); save the recording or "
                             "bundle to a file first.")
    pattern = "**/*" if recursive else "*"
    return sorted(p for p in path.glob(pattern) if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES | {BUNDLE_SUFFIX})


def import_recordings(path: Path, config: CoachingConfig, recursive: bool = False, model=None, out=sys.stderr) -> dict:
    """Each recording into the history once. A recording whose earlier import did not finish (a full
    disk, a crash) is imported again; one that is complete is skipped."""
    files = recordings(Path(path), recursive)
    one = Path(path).is_file()  # named on the command line: refused in one line, exit 2
    tally = {"imported": 0, "skipped": 0, "failed": 0, "ids": []}
    db = open_store()
    try:
        for n, file in enumerate(files, 1):
            prefix = f"[{n}/{len(files)}] {shown(file.name)}"
            if file.suffix.lower() == BUNDLE_SUFFIX:
                _import_bundle(db, file, prefix, tally, out, one)
                continue
            try:
                digest = content_hash(file)
            except OSError as exc:
                _refused(f"Cannot read {shown(file.name)}: {exc.strerror or exc}.", prefix, tally, out, one)
                continue
            earlier = calls_with_content(db, digest)
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
                _refused(exc.message, prefix, tally, out, one)
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


def _refused(message: str, prefix: str, tally: dict, out, one: bool) -> None:
    """A file that cannot be imported: the error itself when it was the one file asked for, else its line."""
    if one:
        raise CompanionError(message)
    print(f"{prefix}: {message}", file=out)
    tally["failed"] += 1


def _import_bundle(db, file: Path, prefix: str, tally: dict, out, one: bool = False) -> None:
    """A call shared from another machine: checked, redacted and stored, or refused with its reason."""
    from companion.store.bundle import import_bundle

    try:
        digest = content_hash(file)
        if calls_with_content(db, digest):
            print(f"{prefix}: already imported", file=out)
            tally["skipped"] += 1
            return
        call_id = import_bundle(db, file, content_hash=digest)
    except OSError as exc:
        _refused(f"Cannot read {shown(file.name)}: {exc.strerror or exc}.", prefix, tally, out, one)
        return
    except CompanionError as exc:
        _refused(exc.message, prefix, tally, out, one)
        return
    tally["imported"] += 1
    tally["ids"].append(call_id)
    print(f"{prefix}: opened as call {call_id}", file=out)
