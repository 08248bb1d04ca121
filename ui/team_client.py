"""The windows' way to the team server: one connection per window, used on a worker thread of its own,
answers back on the GUI thread.

`TeamClient.submit(job, done, failed)` runs `job(conn)` on the client's thread (jobs run one after
another, in order; the psycopg connection is made on first use and again after it was lost) and
calls `done(result)` or `failed(message)` on the GUI thread, through an `EventBridge` (the worker only
queues; no widget is touched off the GUI thread). `failed` gets one line for the user, never a
traceback. A query that takes long leaves the window usable; `busy_for()` says for how long the
current job has run, for a "the team server is slow" line.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any, Callable, Optional

from PySide6.QtCore import QObject

from ui.bridge import EventBridge

VIEWER_ROLES = ("supervisor", "admin", "superuser")
STATEMENT_TIMEOUT_MS = 120_000


def team_dsn() -> Optional[str]:
    """The address the History's Team source and the dashboard use on this machine: the supervisor's
    (or admin's) saved connection, else the admin's address; None when there is none, or when this
    machine is an agent's (their calls are in their own history)."""
    try:
        from companion.team.settings import load

        settings = load()
    except Exception:  # noqa: BLE001 - unreadable team settings: no Team source (the status bar says why)
        return None
    if settings.connected and settings.role in VIEWER_ROLES:
        return settings.dsn
    return settings.admin_dsn


def one_line(exc: BaseException) -> str:
    """A TeamError's own sentence; anything else as its first line, named."""
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message:
        return message
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"Unexpected problem with the team server ({type(exc).__name__}{': ' + text if text else ''})."


class TeamClient(QObject):
    def __init__(self, dsn: str, password: Optional[str] = None, parent: Optional[QObject] = None):
        super().__init__(parent)
        self.dsn, self.password = dsn, password
        self.bridge = EventBridge(self)
        self.bridge.event.connect(self._answer)
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._conn = None
        self._started: Optional[float] = None  # when the running job began (monotonic)
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="team-client", daemon=True)
        self._thread.start()
        jobs = self._jobs  # a window dropped without close(): its thread ends and hangs up too
        self.destroyed.connect(lambda *_: jobs.put(None))

    # --- GUI thread -------------------------------------------------------------------------
    def submit(self, job: Callable[[Any], Any], done: Optional[Callable[[Any], None]] = None,
               failed: Optional[Callable[[str], None]] = None) -> None:
        if not self._closed:
            self._jobs.put((job, done, failed))

    def busy_for(self) -> float:
        started = self._started
        return time.monotonic() - started if started is not None else 0.0

    def close(self) -> None:
        """No more answers; the thread closes the connection when its current job is over."""
        if not self._closed:
            self._closed = True
            self.bridge.event.disconnect(self._answer)
            self._jobs.put(None)

    def _answer(self, item: tuple) -> None:
        ok, value, done, failed = item
        if self._closed:
            return
        callback = done if ok else failed
        if callback is not None:
            callback(value)

    # --- the client's thread ----------------------------------------------------------------
    def _run(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                break
            job, done, failed = item
            self._started = time.monotonic()
            try:
                if self._conn is None or self._conn.closed:
                    from companion.team.connection import connect

                    self._conn = connect(self.dsn, self.password)
                    self._conn.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")  # never a query hung for good
                result = (True, job(self._conn))
            except Exception as exc:  # noqa: BLE001 - every failure becomes one line in the window
                result = (False, one_line(exc))
                if getattr(exc, "retry", False) or (self._conn is not None and self._conn.closed):
                    self._drop()  # lost: connect again for the next job
            finally:
                self._started = None
            if not self._closed:
                try:
                    self.bridge.post((result[0], result[1], done, failed))
                except RuntimeError:  # the window (and its bridge) went away meanwhile
                    break
        self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - already gone
                pass
