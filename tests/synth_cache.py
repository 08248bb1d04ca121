"""Where synthesized speech is kept between test runs, and the lock that lets parallel workers share it.

Rendering a call (espeak-ng, festival, sox) costs far more than reading it back, and the same scripts
are rendered on every run and by every pytest-xdist worker. So rendered calls and corpus clips live in
one cache outside pytest's temporary folder: `$COMPANION_TEST_CACHE` if set, else
`$XDG_CACHE_HOME/call-companion-tests` (`~/.cache/call-companion-tests`). Everything in it is keyed by
content: the script or clip, the versions of the tools that made it, and the source of the generator
(`source_digest`), so a change to any of them renders afresh and nothing stale is ever read. Deleting
the folder is always safe.

Writers hold `locked(name)` (an exclusive `flock`) while they make one item, so two workers that need
the same call render it once; the other waits and reads it. Files are written under a temporary name
and renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator

CACHE_ENV = "COMPANION_TEST_CACHE"
TESTS = Path(__file__).resolve().parent


def cache_root() -> Path:
    """The cache folder (created)."""
    if os.environ.get(CACHE_ENV):
        root = Path(os.environ[CACHE_ENV])
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        root = base / "call-companion-tests"
    root.mkdir(parents=True, exist_ok=True)
    return root


@lru_cache(maxsize=None)
def tool_versions() -> str:
    """Versions of the synthesizers and sox."""
    out = []
    for cmd in (["espeak-ng", "--version"], ["festival", "--version"], ["sox", "--version"]):
        try:
            out.append(subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip())
        except FileNotFoundError:
            out.append(f"{cmd[0]} missing")
    return "|".join(out)


@lru_cache(maxsize=None)
def source_digest(*files: str) -> str:
    """A digest of these files of tests/ (the generator's own code) and of the tool versions."""
    h = hashlib.sha1(tool_versions().encode())
    for name in files:
        h.update(name.encode())
        h.update((TESTS / name).read_bytes())
    return h.hexdigest()[:12]


def digest(*parts: object) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


@contextmanager
def locked(lock_file: Path, wait: bool = True) -> Iterator[bool]:
    """Hold an exclusive lock on `lock_file` (between processes, and between threads: each opens it anew).
    Yields True once held; with `wait=False`, yields False at once if someone else holds it."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a+") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def temporary_name(path: Path) -> Path:
    """A name beside `path` for writing it before `os.replace` (same suffix: sox and soundfile go by it)."""
    return path.with_name(f".{path.stem}.{os.getpid()}.{os.urandom(4).hex()}{path.suffix}")
