"""Download, verify and install a Vosk model: resumable, cancellable, atomic.

The archive is fetched to `<models>/.<name>.zip.part`; a dropped connection is
resumed with an HTTP Range request. A line that still sends, but too slowly
(fewer than `stall_bytes` in `stall_window_s`), is a stalled download and is
dropped and resumed the same way. Retries wait longer each time, and the count
starts again whenever a retry moved the download forward, so a flaky line that
keeps making progress finishes; one that makes none gives up after `retries`,
keeping the `.part` file for the next attempt. These thresholds are the
`[download]` table of the catalog (`DownloadSettings`). The finished file must
match the catalog's size and checksum; it is unpacked into a temporary folder
beside the models, validated as a model, and renamed into place in one step.
Whatever goes wrong, there is either a complete model or no model, never half
of one.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import os
import shutil
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from companion.asr.catalog import CatalogEntry, DownloadSettings, check_model_name, load_catalog
from companion.asr.validation import model_root
from companion.errors import DownloadCancelled, DownloadError, ModelError

DISK_FACTOR = 3.0  # archive + unpacked model, with room to spare


@dataclass(frozen=True)
class Progress:
    done: int                  # bytes on disk so far
    total: int                 # bytes in the whole archive
    rate_bps: float            # recent transfer rate
    eta_s: Optional[float]     # time left at that rate

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


ProgressCallback = Callable[[Progress], None]


def _mb(n: float) -> str:
    return f"{n / 1e6:.0f} MB"


def _disk_error(exc: OSError, where: Path, entry: CatalogEntry) -> DownloadError:
    if exc.errno == errno.ENOSPC:
        return DownloadError(f"The disk is full: {entry.name} needs about {_mb(entry.size * DISK_FACTOR)} free in {where}.")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return DownloadError(f"Cannot write to {where}: permission denied. Choose another folder with COMPANION_DATA_DIR.")
    return DownloadError(f"Cannot write to {where}: {exc.strerror or exc}.")


class _Meter:
    def __init__(self, total: int, start: int, callback: Optional[ProgressCallback]):
        self.total, self.callback = total, callback
        self._t0, self._b0 = time.monotonic(), start
        self._last = 0.0

    def update(self, done: int, force: bool = False) -> None:
        if self.callback is None:
            return
        now = time.monotonic()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        elapsed = max(now - self._t0, 1e-6)
        rate = (done - self._b0) / elapsed
        eta = (self.total - done) / rate if rate > 0 else None
        self.callback(Progress(done, self.total, rate, eta))


class _Stalled(Exception):
    """Too few bytes over the stall window: handled like a dropped connection."""


_DROPPED = (_Stalled, ConnectionError, http.client.IncompleteRead, socket.timeout, TimeoutError, urllib.error.URLError)


class _StallWatch:
    """Counts the bytes of one connection and raises _Stalled when a window brings too few."""

    def __init__(self, settings: DownloadSettings):
        self.settings = settings
        self._start, self._bytes = time.monotonic(), 0

    def add(self, n: int) -> None:
        self._bytes += n
        now = time.monotonic()
        if now - self._start < self.settings.stall_window_s:
            return
        if self._bytes < self.settings.stall_bytes:
            raise _Stalled()
        self._start, self._bytes = now, 0


def _size_of(part: Path) -> int:
    return part.stat().st_size if part.exists() else 0


def _check_cancel(entry: CatalogEntry, cancel: Optional[threading.Event]) -> None:
    if cancel is not None and cancel.is_set():
        raise DownloadCancelled(f"Download of {entry.name} cancelled.")


def _attempt(entry: CatalogEntry, part: Path, meter: _Meter, cancel: Optional[threading.Event], settings: DownloadSettings) -> None:
    """One connection: append what the server sends to `part`; raises one of _DROPPED if it ends early."""
    have = _size_of(part)
    request = urllib.request.Request(entry.url, headers={"User-Agent": "call-companion"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    with urllib.request.urlopen(request, timeout=settings.timeout_s) as response:
        if have and response.status != 206:
            have = 0  # the server ignored the Range: start again
        watch = _StallWatch(settings)
        with open(part, "ab" if have else "wb") as out:
            while True:
                _check_cancel(entry, cancel)
                chunk = response.read1(settings.chunk_bytes)  # whatever has arrived: a slow line cannot block the checks
                if not chunk:
                    break
                out.write(chunk)
                have += len(chunk)
                meter.update(have)
                if have > entry.size:
                    raise DownloadError(f"The server sent more than the {entry.size} bytes {entry.name} should have; download stopped.")
                watch.add(len(chunk))
    if have < entry.size:
        raise ConnectionError("connection closed early")


def _give_up(entry: CatalogEntry, exc: BaseException, have: int, settings: DownloadSettings) -> DownloadError:
    kept = f"{_mb(have)} of {_mb(entry.size)} are kept and the next attempt resumes from there."
    if isinstance(exc, _Stalled):
        return DownloadError(f"The download of {entry.name} stalled: less than {settings.stall_bytes} bytes arrived in "
                             f"{settings.stall_window_s:g} s, {settings.retries + 1} times in a row; {kept}")
    return DownloadError(f"The download of {entry.name} keeps failing ({getattr(exc, 'reason', exc)}); {kept}")


def _back_off(entry: CatalogEntry, failures: int, cancel: Optional[threading.Event], settings: DownloadSettings) -> None:
    delay = min(settings.backoff_s * 2 ** (failures - 1), settings.backoff_max_s)
    if cancel is None:
        time.sleep(delay)
    elif cancel.wait(delay):
        _check_cancel(entry, cancel)


def _fetch(entry: CatalogEntry, part: Path, meter: _Meter, cancel: Optional[threading.Event], settings: DownloadSettings) -> None:
    """Bring `part` up to the full size, resuming after dropped or stalled connections."""
    failures = 0  # in a row, without progress
    while True:
        start = _size_of(part)
        if start >= entry.size:
            return
        try:
            _attempt(entry, part, meter, cancel, settings)
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and start:
                part.unlink()  # our partial file does not fit the server's: start over
                continue
            if exc.code == 404:
                raise DownloadError(f"The model server has no {entry.name} (HTTP 404 at {entry.url}).") from None
            raise DownloadError(f"The model server refused {entry.name} (HTTP {exc.code} {exc.reason}).") from None
        except _DROPPED as exc:
            have = _size_of(part)
            failures = 0 if have >= start + settings.stall_bytes else failures + 1  # progress starts the count again
            if failures > settings.retries:
                raise _give_up(entry, exc, have, settings) from None
            _back_off(entry, max(failures, 1), cancel, settings)


def _verify(entry: CatalogEntry, part: Path) -> None:
    size = part.stat().st_size
    if size != entry.size:
        part.unlink()
        raise DownloadError(f"The download of {entry.name} has {size} bytes, not {entry.size}; it was removed — try again.")
    digest = hashlib.new(entry.algorithm)
    with open(part, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != entry.digest:
        part.unlink()
        raise DownloadError(f"The download of {entry.name} does not match its {entry.algorithm} checksum; it was removed — try again.")


def _extract(entry: CatalogEntry, archive: Path, into: Path) -> Path:
    try:
        with zipfile.ZipFile(archive) as zf:
            base = into.resolve()
            for info in zf.infolist():
                target = (into / info.filename).resolve()
                if base != target and base not in target.parents:
                    raise DownloadError(f"The archive for {entry.name} tries to write outside its folder; it was not installed.")
            bad = zf.testzip()
            if bad is not None:
                raise DownloadError(f"The archive for {entry.name} is damaged ({bad}); it was removed — try again.")
            zf.extractall(into)
    except zipfile.BadZipFile:
        raise DownloadError(f"The download of {entry.name} is not a valid zip archive; it was removed — try again.") from None
    try:
        return model_root(into)
    except ModelError as exc:
        raise DownloadError(f"The archive for {entry.name} does not hold a usable model: {exc.message}") from None


def download_model(
    entry: CatalogEntry,
    models_dir: Path,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[threading.Event] = None,
    settings: Optional[DownloadSettings] = None,
) -> Path:
    """Install `entry` as `models_dir/<name>`; returns its path. Raises DownloadError / DownloadCancelled.

    `settings` default to the `[download]` table of the shipped catalog.
    """
    settings = settings or load_catalog().download
    models_dir = Path(models_dir)
    target = models_dir / check_model_name(entry.name)
    try:
        if target.exists():
            raise DownloadError(f"{entry.name} is already installed in {target}; remove it first to download again.")
        models_dir.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=models_dir, prefix=".write-test-", delete=True)
        probe.close()
    except OSError as exc:
        raise _disk_error(exc, models_dir, entry) from None
    part = models_dir / f".{entry.name}.zip.part"
    have = part.stat().st_size if part.exists() else 0
    free = shutil.disk_usage(models_dir).free
    if free < (entry.size - have) + entry.size * (DISK_FACTOR - 1):
        raise DownloadError(f"Not enough disk space: {entry.name} needs about {_mb(entry.size * DISK_FACTOR)} free in {models_dir}, "
                            f"and {_mb(free)} are.")
    meter = _Meter(entry.size, have, progress)
    staging: Optional[Path] = None
    try:
        _fetch(entry, part, meter, cancel, settings)
        meter.update(entry.size, force=True)
        _verify(entry, part)
        if cancel is not None and cancel.is_set():
            raise DownloadCancelled(f"Download of {entry.name} cancelled.")
        staging = Path(tempfile.mkdtemp(dir=models_dir, prefix=f".{entry.name}.unpack-"))
        root = _extract(entry, part, staging)
        os.replace(root, target)
        part.unlink()
        return target
    except DownloadCancelled:
        part.unlink(missing_ok=True)
        raise
    except DownloadError:
        if part.exists() and part.stat().st_size >= entry.size:
            part.unlink()  # complete but bad: never resume from it
        raise
    except OSError as exc:
        raise _disk_error(exc, models_dir, entry) from None
    finally:
        if staging is not None and staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def installed_model(models_dir: Path, name: str) -> Path:
    """The folder of `name` if it is a model downloaded into `models_dir`; ModelError otherwise."""
    target = Path(models_dir) / check_model_name(name)
    if target.is_symlink():
        raise ModelError(f"{name} in {models_dir} is a link, not a model the companion downloaded; it was left alone.")
    if not target.is_dir():
        raise ModelError(f"{name} is not installed in {models_dir}.")
    return target


def remove_model(models_dir: Path, name: str) -> Path:
    target = installed_model(models_dir, name)
    trash = Path(tempfile.mkdtemp(dir=models_dir, prefix=f".{name}.remove-"))
    os.replace(target, trash / name)  # gone from view at once, even if deleting takes a while
    shutil.rmtree(trash, ignore_errors=True)
    return target
