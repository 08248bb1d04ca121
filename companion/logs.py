"""The support log: what the app did and what went wrong, in a rotating file a user can attach to a
support request — with no personal data in it.

Where: `<user data folder>/logs/companion.log` (1 MiB, three older files kept). What: commands started,
models loaded, calls kept, sync passes, and every failure with its type. What never: anything said on a
call, names, numbers, addresses, the user's own folder names. Log calls pass only counts, ids and kinds;
`PrivacyFilter` is the second net under them — every record's text (its message, arguments and any
exception) is scrubbed before it is written, so a path or an error message that carries a name or a
number cannot leak either.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from pathlib import Path

from companion.paths import user_data_dir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from io import TextIOWrapper
    from typing import Optional

LOG_NAME = "companion.log"
MAX_BYTES = 1024 * 1024
BACKUPS = 3
ROOT = "companion"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_DIGITS = re.compile(r"\d(?:[\d .,/-]*\d)?")
_QUOTED = re.compile(r"(?<!\w)(['\"]).*?\1(?!\w)")
_lock = threading.Lock()
_installed: Optional[logging.Handler] = None
_installed_at: Optional[Path] = None


def log_dir() -> Path:
    return user_data_dir() / "logs"


def log_file() -> Path:
    return log_dir() / LOG_NAME


def _home_forms() -> list[str]:
    forms = []
    for folder in (Path.home(), user_data_dir()):
        text = str(folder)
        if len(text) > 1:
            forms.append(text)
    return sorted(set(forms), key=len, reverse=True)


def scrub(text: str) -> str:
    """Text safe for the support log: the user's folders as `~`/`<data>`, quoted text (file names, what
    a parser quoted back) as `'…'`, e-mail addresses as `[email]`, and every number of two or more digits
    (or a group of numbers) as `#`. Single digits stay (`exit 1`, `step 3`)."""
    data = str(user_data_dir())
    if len(data) > 1:
        text = text.replace(data, "<data>")
    home = str(Path.home())
    if len(home) > 1:
        text = text.replace(home, "~")
    text = _QUOTED.sub(lambda m: f"{m.group(1)}…{m.group(1)}", text)
    text = _EMAIL.sub("[email]", text)
    return _DIGITS.sub(lambda m: m.group(0) if len(m.group(0)) == 1 else "#", text)


class PrivacyFilter(logging.Filter):
    """Scrubs each record in place (message with its arguments, and the exception's text) before any
    handler formats it. An exception is written as its type (and errno) and its traceback's frames — the
    program's own file names and line numbers, which are what a developer needs; never its message, which
    may quote a file name or what was said."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "constants_only", False):  # the start line: version numbers, nothing personal
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the record
            message = str(record.msg)
        record.msg, record.args = scrub(message), None
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            errno = getattr(exc, "errno", None)  # a full disk or a refused permission says so by number
            record.msg = f"{record.msg} [{type(exc).__name__}{f' errno {errno}' if isinstance(errno, int) else ''}]"
            record.exc_text = _scrubbed_trace(record.exc_info)
            record.exc_info = None
        return True


def _scrubbed_trace(exc_info: logging._SysExcInfoType) -> str:
    import traceback

    _, exc, tb = exc_info
    frames = traceback.extract_tb(tb) if tb is not None else []
    lines = [f'  File "{scrub(f.filename)}", line {f.lineno}, in {f.name}' for f in frames]
    return "Traceback (most recent call last):\n" + "\n".join(lines) if lines else ""


class RotatingLog(logging.FileHandler):
    """The log file, owner-only: a record that would take it to MAX_BYTES first moves it to `companion.log.1`
    (and `.1` to `.2`, up to BACKUPS; the oldest is dropped). What logging.handlers.RotatingFileHandler
    does, without importing logging.handlers (sockets, pickle, queues: milliseconds at every start)."""

    def __init__(self, path: Path):
        super().__init__(path, encoding="utf-8", delay=True)

    def _open(self) -> TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(fd, "a", encoding="utf-8")

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self._full(f"{self.format(record)}{self.terminator}"):
                self._rotate()
        except Exception:  # noqa: BLE001 - logging's own rule: a log that cannot be written never stops the app
            self.handleError(record)
            return
        super().emit(record)

    def _full(self, line: str) -> bool:
        stream = self.stream
        if stream is None:
            stream = self.stream = self._open()
        stream.seek(0, 2)  # to the end, which another process's lines may have moved
        return bool(stream.tell() + len(line) >= MAX_BYTES and os.path.isfile(self.baseFilename))

    def _rotate(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None  # (FileHandler's own way of saying "closed")
        base = self.baseFilename
        for n in range(BACKUPS - 1, 0, -1):
            if os.path.exists(f"{base}.{n}"):
                os.replace(f"{base}.{n}", f"{base}.{n + 1}")
        if os.path.exists(base):
            os.replace(base, f"{base}.1")
        self.stream = self._open()


def install(command: str) -> Optional[Path]:
    """Start the support log for this process (once; later calls do nothing). Returns the file, or None
    when the folder cannot be written — the log is a help, never a reason to fail a call."""
    global _installed, _installed_at
    with _lock:
        if _installed is not None and _installed_at == log_file():
            return log_file()
        if _installed is not None:  # the data folder moved (a test's own folder): the log follows it
            logging.getLogger(ROOT).removeHandler(_installed)
            _installed.close()
            _installed = None
        level = os.environ.get("COMPANION_LOG_LEVEL", "INFO").upper()
        try:
            log_dir().mkdir(parents=True, exist_ok=True)
            handler: logging.Handler = RotatingLog(log_file())
            os.close(os.open(log_file(), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        except OSError:
            return None
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s",
                                               "%Y-%m-%dT%H:%M:%S%z"))
        handler.addFilter(PrivacyFilter())
        root = logging.getLogger(ROOT)
        root.setLevel(getattr(logging, level, logging.INFO))
        root.addHandler(handler)
        root.propagate = False
        _installed, _installed_at = handler, log_file()
    from companion import __version__

    logging.getLogger(ROOT).info("started: %s (version %s, Python %s, %s)", command, __version__,
                                 sys.version.split()[0], sys.platform,
                                 extra={"constants_only": True})
    return log_file()


def uninstall() -> None:
    """Close the log (tests, and a process that ends its own logging)."""
    global _installed
    with _lock:
        if _installed is not None:
            logging.getLogger(ROOT).removeHandler(_installed)
            _installed.close()
            _installed = None
