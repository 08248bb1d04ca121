"""The support log: what the app did and what went wrong, in a rotating file a user can attach to a
support request — with no personal data in it.

Where: `<user data folder>/logs/companion.log` (1 MiB, three older files kept). What: commands started,
models loaded, calls kept, sync passes, and every failure with its type. What never: anything said on a
call, names, numbers, addresses, the user's own folder names. Log calls pass only counts, ids and kinds;
`scrub` is the second net under them — every line's text (its message, arguments and any exception) is
scrubbed before it is written, so a path or an error message that carries a name or a number cannot leak
either.

How: the command line writes its own lines (started, ended, failed) straight to the file with `note`, so a
command that has nothing else to log never imports `logging` (and its traceback, tokenize and string:
milliseconds at every start). What is logged through the `logging` module to a `companion.*` logger goes
to the same file, scrubbed the same way (`PrivacyFilter`): the handler is attached when the log is started
in a process that has `logging` loaded already, or when `logger(name)` is first asked for.
"""

from __future__ import annotations

import _thread  # (threading's own lock, without importing threading: the log starts with every command)
import os
import sys
import time

from companion.paths import home_text, joined, user_data_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging
    import re
    from io import TextIOWrapper
    from pathlib import Path
    from types import TracebackType
    from typing import Optional

    ExcInfo = tuple[type[BaseException], BaseException, Optional[TracebackType]]

LOG_NAME = "companion.log"
MAX_BYTES = 1024 * 1024
BACKUPS = 3
ROOT = "companion"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"   # the lines as logging's Formatter writes them
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
DEBUG, INFO, WARNING, ERROR, CRITICAL = 10, 20, 30, 40, 50   # logging's levels, by their numbers
_LEVELS = {"CRITICAL": CRITICAL, "FATAL": CRITICAL, "ERROR": ERROR, "WARNING": WARNING, "WARN": WARNING,
           "INFO": INFO, "DEBUG": DEBUG, "NOTSET": 0}
_LEVEL_NAMES = {CRITICAL: "CRITICAL", ERROR: "ERROR", WARNING: "WARNING", INFO: "INFO", DEBUG: "DEBUG"}

_PATTERNS: list[re.Pattern[str]] = []   # the scrub's regular expressions, compiled when a text first needs them
_lock = _thread.allocate_lock()
_file: Optional[_LogFile] = None        # the log this process writes, once started
_level = INFO                           # lines below this level are not written (COMPANION_LOG_LEVEL)
_handler: Optional[logging.Handler] = None   # the `logging` module's way in, once attached


def log_dir_text() -> str:
    return joined(user_data_text(), "logs")


def log_file_text() -> str:
    return joined(log_dir_text(), LOG_NAME)


def log_dir() -> Path:
    from pathlib import Path

    return Path(log_dir_text())


def log_file() -> Path:
    from pathlib import Path

    return Path(log_file_text())


def _plain(text: str) -> bool:
    """No quote, no e-mail's @, and fewer than two digits: nothing the patterns below would change."""
    if "'" in text or '"' in text or "@" in text:
        return False
    digits = 0
    for char in text:
        if char.isdecimal():  # what `\d` matches (Unicode category Nd)
            digits += 1
            if digits > 1:
                return False
    return True


def scrub(text: str) -> str:
    """Text safe for the support log: the user's folders as `~`/`<data>`, quoted text (file names, what
    a parser quoted back) as `'…'`, e-mail addresses as `[email]`, and every number of two or more digits
    (or a group of numbers) as `#`. Single digits stay (`exit 1`, `step 3`)."""
    data = user_data_text()
    if len(data) > 1:
        text = text.replace(data, "<data>")
    home = home_text()
    if home is not None and len(home) > 1:
        text = text.replace(home, "~")
    if _plain(text):
        return text
    quoted, email, digits = _patterns()
    text = quoted.sub(lambda m: f"{m.group(1)}…{m.group(1)}", text)
    text = email.sub("[email]", text)
    return digits.sub(lambda m: m.group(0) if len(m.group(0)) == 1 else "#", text)


def _patterns() -> list[re.Pattern[str]]:
    if not _PATTERNS:
        import re

        _PATTERNS[:] = [re.compile(r"(?<!\w)(['\"]).*?\1(?!\w)"),   # quoted
                        re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # an e-mail address
                        re.compile(r"\d(?:[\d .,/-]*\d)?")]           # digits
    return _PATTERNS


def _failure(message: str, exc_info: ExcInfo) -> tuple[str, str]:
    """A failure's line and trace as the log keeps them: its type (and errno) after the message, and its
    traceback's frames — the program's own file names and line numbers, which are what a developer needs;
    never the exception's message, which may quote a file name or what was said."""
    exc = exc_info[1]
    errno = getattr(exc, "errno", None)  # a full disk or a refused permission says so by number
    return (f"{message} [{type(exc).__name__}{f' errno {errno}' if isinstance(errno, int) else ''}]",
            _scrubbed_trace(exc_info))


def _scrubbed_trace(exc_info: ExcInfo) -> str:
    import traceback

    _, exc, tb = exc_info
    frames = traceback.extract_tb(tb) if tb is not None else []
    lines = [f'  File "{scrub(f.filename)}", line {f.lineno}, in {f.name}' for f in frames]
    return "Traceback (most recent call last):\n" + "\n".join(lines) if lines else ""


def _line(created: float, level: int, name: str, message: str, trace: str = "") -> str:
    """One entry as FORMAT and DATE_FORMAT make it (logging's Formatter: local time, the trace on the lines below)."""
    line = f"{time.strftime(DATE_FORMAT, time.localtime(created))} {_LEVEL_NAMES.get(level, f'Level {level}')} {name}: {message}"
    if trace:
        line += trace if line.endswith("\n") else "\n" + trace
    return line


class _LogFile:
    """The log file, owner-only: a line that would take it to MAX_BYTES first moves it to `companion.log.1`
    (and `.1` to `.2`, up to BACKUPS; the oldest is dropped). What logging.handlers.RotatingFileHandler
    does, without importing logging (nor logging.handlers' sockets, pickle and queues)."""

    def __init__(self, path: str):
        self.path = path
        self.stream: Optional[TextIOWrapper] = None
        self.lock = _thread.allocate_lock()

    def _open(self) -> TextIOWrapper:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(fd, "a", encoding="utf-8")

    def write(self, entry: str) -> None:
        text = entry + "\n"
        with self.lock:
            if self.stream is None:
                self.stream = self._open()
            self.stream.seek(0, 2)  # to the end, which another process's lines may have moved
            if self.stream.tell() + len(text) >= MAX_BYTES and os.path.isfile(self.path):
                self._rotate()
            assert self.stream is not None
            self.stream.write(text)
            self.stream.flush()

    def _rotate(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        for n in range(BACKUPS - 1, 0, -1):
            if os.path.exists(f"{self.path}.{n}"):
                os.replace(f"{self.path}.{n}", f"{self.path}.{n + 1}")
        if os.path.exists(self.path):
            os.replace(self.path, f"{self.path}.1")
        self.stream = self._open()

    def close(self) -> None:
        with self.lock:
            if self.stream is not None:
                self.stream.close()
                self.stream = None


def note(name: str, level: int, message: str, *args: object, error: Optional[BaseException] = None,
         constants_only: bool = False) -> None:
    """One entry from the logger `name` (`companion` or under it), as `logging.getLogger(name).log(level,
    message, *args)` writes it — with `exc_info` for `error` — when the log is started; nothing otherwise.
    Its text is scrubbed unless it holds `constants_only` (the start line: version numbers, nothing personal).
    A log that cannot be written never stops the app."""
    log = _file
    if log is None or level < _level:
        return
    created = time.time()
    try:
        text = message % args if args else message
    except Exception:  # noqa: BLE001 - a bad format string must not lose the entry
        text = str(message)
    trace = ""
    if not constants_only:
        text = scrub(text)
        if error is not None:
            text, trace = _failure(text, (type(error), error, error.__traceback__))
    try:
        log.write(_line(created, level, name, text, trace))
    except (OSError, ValueError):
        pass


def _attach() -> None:
    """The `logging` module's records for `companion.*` into the same file (called with _lock held)."""
    global _handler
    if _handler is not None or _file is None:
        return
    import logging

    log = _file

    class ToFile(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            try:
                log.write(self.format(record))
            except Exception:  # noqa: BLE001 - logging's own rule: a log that cannot be written never stops the app
                self.handleError(record)

    handler = ToFile()
    handler.setFormatter(logging.Formatter(FORMAT, DATE_FORMAT))
    handler.addFilter(PrivacyFilter())
    root = logging.getLogger(ROOT)
    root.setLevel(_level)
    root.addHandler(handler)
    root.propagate = False
    _handler = handler


class PrivacyFilter:
    """For the `logging` module's records: each scrubbed in place (message with its arguments, and the
    exception, as `note` does) before the handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "constants_only", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the record
            message = str(record.msg)
        record.msg, record.args = scrub(message), None
        if record.exc_info and record.exc_info[1] is not None:
            record.msg, record.exc_text = _failure(record.msg, record.exc_info)
            record.exc_info = None
        return True


def logger(name: str) -> logging.Logger:
    """The `logging` logger `name` (under `companion`), writing to the support log once it is started."""
    import logging

    with _lock:
        _attach()
    return logging.getLogger(name)


def start(command: str) -> Optional[str]:
    """Start the support log for this process (once; later calls do nothing) and say which command
    started. Returns the file, or None when the folder cannot be written — the log is a help, never a
    reason to fail a call."""
    global _file, _level
    path = log_file_text()
    with _lock:
        if _file is not None and _file.path == path:
            return path
        _stop()  # the data folder moved (a test's own folder): the log follows it
        name = os.environ.get("COMPANION_LOG_LEVEL", "INFO").upper()
        level = _LEVELS.get(name, INFO)
        try:
            os.makedirs(log_dir_text(), exist_ok=True)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        except OSError:
            return None
        _file, _level = _LogFile(path), level or WARNING  # NOTSET: the root logger's level, WARNING
        if "logging" in sys.modules:  # a process that logs through `logging` (the tests, a library)
            _attach()
    from companion import __version__

    note(ROOT, INFO, "started: %s (version %s, Python %s, %s)", command, __version__, sys.version.split()[0],
         sys.platform, constants_only=True)
    return path


def install(command: str) -> Optional[Path]:
    """`start`, returning the file as a Path."""
    started = start(command)
    if started is None:
        return None
    from pathlib import Path

    return Path(started)


def _stop() -> None:
    """(with _lock held)"""
    global _file, _handler
    if _handler is not None:
        import logging

        logging.getLogger(ROOT).removeHandler(_handler)
        _handler.close()
        _handler = None
    if _file is not None:
        _file.close()
        _file = None


def uninstall() -> None:
    """Close the log (tests, and a process that ends its own logging)."""
    with _lock:
        _stop()
