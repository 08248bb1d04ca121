"""`companion import`: existing call recordings and shared call bundles (.ccall) into the history,
skipping what is already there; a folder may hold both.

The same call is one call: a recording is known by its content hash (SHA-256 of the file, stored with
the call), a bundle by the UUID of the call it carries; either found in the history is said ("already
in the history as call N") and not added again unless `again`.

A folder's recordings are analysed on every core: `jobs` worker processes, each analysing one file at a
time and saving it through the store's own writer (`CallRecorder`, as a live call does, so a crash of
one loses what it would lose alone), at most `jobs + 1` files handed out at once so memory stays bounded.
The parent hashes each file, decides whether it is already there (a copy of a file in the same folder
waits for the first, in the folder's order, and is not imported twice), opens the bundles itself and says
how each went. The longest recordings are handed out first (the largest files; equal ones in the folder's
order): a long call left for last would keep one core busy while the others wait for it.

One file named on the command line that cannot be imported (not a bundle, not audio, unreadable)
is bad input: one line, exit 2, like every other command. In a folder, each file says how it went
and the others still go in; the tally says how many did not."""

from __future__ import annotations

import functools
import hashlib
import multiprocessing
import os
import sqlite3
import sys
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, TextIO, TypedDict

from companion.app.keeping import analyze_and_keep, kept_before
from companion.app.progress import Progress
from companion.asr.engine import LoadedModel
from companion.audio.file_source import CallFileSpec, FileCallSource
from companion.config import CoachingConfig
from companion.errors import CompanionError
from companion.store.db import open_store
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


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class ImportTally(TypedDict):
    """How an import went: files imported, skipped (already in the history) and failed; the calls it made."""

    imported: int
    skipped: int
    failed: int
    ids: list[int]


@dataclass
class _Batch:
    files: list[Path]
    one: bool
    again: bool
    progress: Progress
    tally: ImportTally = field(default_factory=lambda: ImportTally(imported=0, skipped=0, failed=0, ids=[]))

    def prefix(self, n: int) -> str:
        return f"[{n}/{len(self.files)}] {shown(self.files[n - 1].name)}"

    def say(self, n: int, text: str) -> None:
        self.progress.line(f"{self.prefix(n)}: {text}")

    def refused(self, n: int, message: str) -> None:
        """A file that cannot be imported: the error itself when it was the one file asked for, else its line."""
        if self.one:
            raise CompanionError(message)
        self.say(n, message)
        self.tally["failed"] += 1
        self.progress.step(self.files[n - 1].name)


def import_recordings(path: Path, config: CoachingConfig, recursive: bool = False, model: Optional[LoadedModel] = None,
                      out: TextIO = sys.stderr, again: bool = False, jobs: Optional[int] = None) -> ImportTally:
    """Each recording and bundle into the history once (all of them again with `again`). A recording whose
    earlier import did not finish (a full disk, a crash) is imported again; one that is complete is
    skipped, said with its call. `jobs` processes analyse a folder's recordings (default: one per core)."""
    files = recordings(Path(path), recursive)
    batch = _Batch(files, Path(path).is_file(), again, Progress(len(files), out))
    audio = [n for n, f in enumerate(files, 1) if f.suffix.lower() != BUNDLE_SUFFIX]
    jobs = max(1, min(jobs or default_jobs(), len(audio)))
    pool = _pool(jobs, model) if jobs > 1 else None
    try:
        db = open_store()
        try:
            _run(batch, db, config, model, pool, jobs)
        finally:
            db.close()
    finally:
        batch.progress.close()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return batch.tally


def _run(batch: _Batch, db: sqlite3.Connection, config: CoachingConfig, model: Optional[LoadedModel],
         pool: Optional[ProcessPoolExecutor], jobs: int) -> None:
    """The folder, largest files first when a pool shares them out (its order with one job); recordings handed to the
    pool (or analysed here, one job), the rest decided here. A file with the same content as one still being
    imported waits for it, then is decided again."""
    todo = list(range(1, len(batch.files) + 1))
    if pool is not None:
        todo.sort(key=lambda n: -_size(batch.files[n - 1]))  # (sorted stably: equal sizes keep the folder's order)
    while todo:
        running: dict[Future[dict[str, Any]], tuple[int, str]] = {}   # -> (file number, content hash)
        hashes: set[str] = set()
        later: list[int] = []
        for n in todo:
            file = batch.files[n - 1]
            try:
                digest = content_hash(file)
            except OSError as exc:
                batch.refused(n, f"Cannot read {shown(file.name)}: {exc.strerror or exc}.")
                continue
            if digest in hashes and not batch.again:
                later.append(n)  # a copy of a file in flight: decided once that one is in
                continue
            if file.suffix.lower() == BUNDLE_SUFFIX:
                _open_bundle(batch, db, n, digest)
                continue
            try:
                if not batch.again:
                    earlier = kept_before(db, digest, functools.partial(batch.say, n))
                    if earlier is not None:
                        batch.say(n, f"already in the history as call {earlier}")
                        batch.tally["skipped"] += 1
                        batch.progress.step(file.name)
                        continue
            except CompanionError as exc:
                batch.refused(n, exc.message)
                continue
            hashes.add(digest)
            if pool is None:
                _done(batch, n, _analyse(str(file), digest, config, model))
                continue
            while len(running) > jobs:  # bounded: the next file is handed out as one finishes
                pool = _collect(batch, running, pool, model, jobs)
            running[pool.submit(_analyse, str(file), digest, config, None)] = (n, digest)
        while running:
            assert pool is not None  # files are handed out only to a pool
            pool = _collect(batch, running, pool, model, jobs)
        todo = later


def _collect(batch: _Batch, running: dict[Future[dict[str, Any]], tuple[int, str]], pool: ProcessPoolExecutor,
             model: Optional[LoadedModel], jobs: int) -> ProcessPoolExecutor:
    """Waits for one or more files in flight to finish and says how they went; a pool whose process died
    (killed, out of memory) names the files it had and is replaced."""
    finished, _ = wait(running, return_when=FIRST_COMPLETED)
    broken = False
    for future in finished:
        n, _digest = running.pop(future)
        try:
            outcome = future.result()
        except BrokenProcessPool:
            broken = True
            batch.refused(n, f"the process importing {shown(batch.files[n - 1].name)} stopped before it was done; "
                             "import it again")
            continue
        _done(batch, n, outcome)
    if broken:
        for future, (n, _digest) in list(running.items()):  # the whole pool went down with it
            running.pop(future)
            batch.refused(n, f"the process importing {shown(batch.files[n - 1].name)} stopped before it was done; "
                             "import it again")
        pool.shutdown(wait=True, cancel_futures=True)
        pool = _pool(jobs, model)
    return pool


def _done(batch: _Batch, n: int, outcome: dict[str, Any]) -> None:
    if outcome["error"] is not None:
        batch.refused(n, outcome["error"])
        return
    for warning in outcome["warnings"]:
        batch.say(n, f"warning: {warning}")
    if outcome["shortfall"]:
        batch.say(n, outcome["shortfall"])
        batch.tally["failed"] += 1
    else:
        batch.tally["imported"] += 1
        batch.tally["ids"].append(outcome["call_id"])
        batch.say(n, f"imported as call {outcome['call_id']}")
    batch.progress.step(batch.files[n - 1].name)


def _size(file: Path) -> int:
    try:
        return file.stat().st_size
    except OSError:
        return 0  # (hashing it says why it cannot be read)


_worker_model: Optional[LoadedModel] = None  # a worker's own copy of the speech model (None: acoustic coaching)


def _pool(jobs: int, model: Optional[LoadedModel]) -> ProcessPoolExecutor:
    """`jobs` processes, forked where the system can (no start-up cost: they have every module the parent has
    imported), when the first recording is handed out; a worker loads its own speech model rather than share
    the parent's. (Forking them before the parent opened the store was tried: each file then took about 10 %
    more CPU in the workers on this machine, for reasons not found.)"""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    root = str(model.path) if model is not None else None
    return ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_load_worker_model, initargs=(root,))


def _load_worker_model(root: Optional[str]) -> None:
    global _worker_model
    if root is not None:
        from companion.asr.engine import load_model

        _worker_model = load_model(Path(root))


def _analyse(file: str, digest: str, config: CoachingConfig, model: Optional[LoadedModel]) -> dict[str, Any]:
    """One recording analysed and saved (in a worker, or here): plain data about how it went."""
    try:
        source = FileCallSource(CallFileSpec(Path(file)), config.audio)
        kept = analyze_and_keep(source, config, "import", model=model if model is not None else _worker_model,
                                content_hash=digest)
    except CompanionError as exc:
        return {"error": exc.message}
    return {"error": None, "warnings": list(source.warnings), "shortfall": kept.shortfall, "call_id": kept.call_id}


def _open_bundle(batch: _Batch, db: sqlite3.Connection, n: int, digest: str) -> None:
    """A call shared from another machine: checked, redacted and stored, or found already here, or refused."""
    from companion.store.bundle import open_bundle

    file = batch.files[n - 1]
    try:
        call_id, already = open_bundle(db, file, content_hash=digest, again=batch.again)
    except OSError as exc:
        batch.refused(n, f"Cannot read {shown(file.name)}: {exc.strerror or exc}.")
        return
    except CompanionError as exc:
        batch.refused(n, exc.message)
        return
    if already:
        batch.say(n, f"already in the history as call {call_id}")
        batch.tally["skipped"] += 1
    else:
        batch.tally["imported"] += 1
        batch.tally["ids"].append(call_id)
        batch.say(n, f"opened as call {call_id}")
    batch.progress.step(file.name)
