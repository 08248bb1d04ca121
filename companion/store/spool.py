"""What a live call's writer could not write yet (a full disk, a read-only data folder, a store held
by another program): kept in memory, bounded, tried again every `RETRY_S`, and the reason put in
words the user can act on."""

from __future__ import annotations

import errno
import time
from dataclasses import dataclass
from typing import Optional

from companion.store.writes import StoreError, is_busy

MAX_UNSAVED_EVENTS = 10_000  # events kept in memory while the store cannot be written (~2 h of a call, ~20 MB)
RETRY_S = 2.0                # how often a store that could not be written is tried again

_FULL = (errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC))
_READ_ONLY = (errno.EACCES, errno.EPERM, errno.EROFS)


@dataclass(frozen=True)
class Trouble:
    """Why the store cannot be written, in three phrasings."""

    reason: str    # "the disk is full"
    until: str     # "space returns": the call is written then
    lasting: str   # "the disk stayed full": why the rest was lost


def _full() -> Trouble:
    return Trouble("the disk is full", "space returns", "the disk stayed full")


def _read_only(folder: str) -> Trouble:
    where = f" ({folder})" if folder else ""
    return Trouble(f"the data folder is read-only{where}", "the folder can be written again",
                   "the data folder stayed read-only")


def trouble(exc: BaseException, folder: str = "") -> Trouble:
    """The user's words for a failed write or open of the store in `folder`."""
    cause = exc.cause if isinstance(exc, StoreError) and exc.cause is not None else exc
    name = getattr(cause, "sqlite_errorname", "")
    code = getattr(cause, "errno", None)
    if name == "SQLITE_FULL" or code in _FULL:
        return _full()
    if name.startswith(("SQLITE_IOERR_WRITE", "SQLITE_IOERR_SHMSIZE", "SQLITE_IOERR_TRUNCATE")):
        # a file over its size limit or quota (the store, its journal or its shared-memory index growing);
        # a failing disk says the same
        return Trouble("the disk is full or refuses more writes", "space returns", "the disk stayed full")
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")) or code in _READ_ONLY:
        return _read_only(folder)
    if is_busy(cause):
        return Trouble("another program is holding the call store", "it lets go",
                       "another program kept the call store busy")
    detail = getattr(exc, "message", None) or str(exc)
    return Trouble(f"the call store cannot be written ({detail})", "it can be written again",
                   f"saving kept failing ({detail})")


class Spool:
    """The events not yet in the store, oldest first. `add` refuses past `limit` (the call's rest is then
    lost); while in trouble, `due` says when to try again."""

    def __init__(self, limit: Optional[int] = None, retry_s: Optional[float] = None):
        self.limit = MAX_UNSAVED_EVENTS if limit is None else limit
        self.retry_s = RETRY_S if retry_s is None else retry_s
        self.events: list[object] = []   # the call's events, as published
        self.trouble: Optional[Trouble] = None
        self._next_try = 0.0

    def add(self, event: object) -> bool:
        if len(self.events) >= self.limit:
            return False
        self.events.append(event)
        return True

    def due(self) -> bool:
        return bool(self.events) and (self.trouble is None or time.monotonic() >= self._next_try)

    def failed(self, why: Trouble) -> bool:
        """A write failed; True when this is news (not the same trouble as the last try)."""
        news = why != self.trouble
        self.trouble = why
        self._next_try = time.monotonic() + self.retry_s
        return news

    def written(self) -> Optional[Trouble]:
        """Everything kept is in the store now; returns the trouble that is over, if there was one."""
        over, self.trouble = self.trouble, None
        self.events = []
        return over

    def drop(self) -> int:
        dropped = len(self.events)
        self.events = []
        return dropped

