"""The team sync's background worker: `SyncWorker` runs `companion.team.sync.sync_once` on a
daemon thread of its own with its own SQLite connection, woken at once when a call is queued in this
process (companion.store.outbox), backing off while the server is unreachable or refusing, and
publishing a `TeamSyncStatus` whenever that changes; `start_sync` starts it when this machine is
connected to a team server as an agent (`companion live` and the window call it).

Its own waits (the backoff while the server is away, the feedback pull's period) are on
time.monotonic(), which a change of the wall clock does not move; what it stores in the outbox is
wall time, bounded as companion.store.outbox says.

One pass, the outbox's delivery rules and the feedback pull are in companion.team.sync.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

from companion.store import outbox
from companion.team.errors import TeamError
from companion.team.sync import TeamSyncStatus, _plural, local_status, status_of, sync_once

if TYPE_CHECKING:
    from companion.team.settings import TeamSettings


class SyncWorker(threading.Thread):
    """Delivers the outbox on its own daemon thread with its own SQLite connection; `publish` gets a
    `TeamSyncStatus` whenever the state, the number waiting or the message changes. `stop()` ends it
    (an upload in flight finishes or is dropped; either way the call stays queued until the server
    has it)."""

    def __init__(self, publish: Optional[Callable[[TeamSyncStatus], None]] = None, store: Optional[Path] = None,
                 password: Optional[str] = None, settings: Optional[TeamSettings] = None):
        """`store`: the SQLite store (default: the user's); `settings`: a fixed TeamSettings (default: the
        user's team.toml, read again at every look, so `team connect` takes effect without a restart)."""
        super().__init__(name="team-sync", daemon=True)
        self.publish = publish
        self.store = store
        self.password = password
        self.settings = settings
        self._db: Optional[sqlite3.Connection] = None  # opened by start_sync on the caller's thread
        self.status: Optional[TeamSyncStatus] = None
        self.failures = 0          # failed passes in a row (server unreachable or refusing)
        self.retry_at = 0.0        # time.monotonic() of the next pass after a failure
        self.last_pull: Optional[float] = None  # time.monotonic() of the last feedback pull
        self.passes = 0
        self._wake = threading.Event()
        self._halt = threading.Event()
        self._quick = 0            # quick looks after a wake: the queuing transaction may not be committed yet
        self._looks = 0            # looks at the outbox that ended with nothing to send at once
        self._remove = outbox.on_enqueue(self.wake)
        self._idle = threading.Condition()

    def wake(self) -> None:
        """Look at the outbox now (a call was queued). Safe from any thread, even inside a transaction."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._halt.set()
        self._wake.set()
        self._remove()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)

    def wait_idle(self, timeout: float) -> Optional[TeamSyncStatus]:
        """Look at the outbox now and wait (up to `timeout`) until a look that began after this call
        found nothing to send at once: everything due was sent, or the server is failing and the
        worker backs off. Returns the last status (`companion live` calls it before it exits)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            target = self._looks + 2  # the look in progress may have begun before the call was queued
        self.wake()
        with self._idle:
            while self._looks < target and self.is_alive():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._idle.wait(min(0.1, left))
        return self.status

    # --- the loop -------------------------------------------------------------------------
    def run(self) -> None:
        from companion.store.db import StoreError, open_store
        from companion.team.settings import SyncTuning, load

        db, self._db = self._db, None
        tuning = SyncTuning()
        try:
            while not self._halt.is_set():
                woken = self._wake.is_set()
                self._wake.clear()
                if woken:
                    self._quick = 6
                more = False
                try:
                    if db is None:
                        db = open_store(self.store, check_same_thread=False)
                    settings = self.settings or load()
                    tuning = settings.tuning
                    if not settings.connected:
                        self._say(TeamSyncStatus("refused", outbox.pending(db), None,
                                                 "Not connected to a team server — run `companion team connect DSN`."))
                        self._wait(max(tuning.idle_poll_s, 5.0))
                        continue
                    more = self._step(db, settings)
                except (StoreError, sqlite3.Error) as exc:
                    self._say(TeamSyncStatus("waiting", self.status.pending if self.status else 0, None,
                                             f"The call store cannot be read for the team sync ({exc}); trying again."))
                    if db is not None:
                        try:
                            db.close()
                        except sqlite3.Error:
                            pass
                        db = None
                    self.failures += 1
                    self._wait(tuning.backoff(self.failures))
                    continue
                except TeamError as exc:  # the team settings cannot be read
                    self._say(TeamSyncStatus("refused", self.status.pending if self.status else 0, None, exc.message))
                    self._wait(max(tuning.idle_poll_s, 5.0))
                    continue
                except Exception as exc:  # noqa: BLE001 - a bug must not end the sync for good
                    self._say(TeamSyncStatus("waiting", self.status.pending if self.status else 0, None,
                                             f"The team sync met an internal error ({type(exc).__name__}: {exc}); "
                                             "trying again."))
                    self.failures += 1
                    self._wait(tuning.backoff(self.failures))
                    continue
                if more:
                    continue
                if self._quick > 0:
                    self._quick -= 1
                    self._wait(0.05)
                else:
                    self._wait(tuning.idle_poll_s)
        finally:
            if db is not None:
                try:
                    db.close()
                except sqlite3.Error:
                    pass
            self._remove()

    def _wait(self, seconds: float) -> None:
        with self._idle:
            self._looks += 1
            self._idle.notify_all()
        self._wake.wait(max(0.0, seconds))

    def _step(self, db: sqlite3.Connection, settings: TeamSettings) -> bool:
        """One look at the outbox (and a pass when something is due); True when more is due at once."""
        mono = time.monotonic()
        waiting = outbox.pending(db)
        if self.failures and mono < self.retry_at:
            s = self.status
            if s is not None and s.pending != waiting:
                self._say(TeamSyncStatus(s.state, waiting, s.since, s.message))
            return False
        tuning = settings.tuning
        if not settings.uploads:
            self._say(TeamSyncStatus("synced", waiting, None, f"Connected to the team server as {settings.role}; "
                                     "calls on this machine are not uploaded."))
            return False
        now = outbox.wall_clock()
        has_due = bool(outbox.due(db, now, 1, tuning.backoff_max_s))
        feedback_due = self.last_pull is None or mono - self.last_pull >= tuning.feedback_every_s
        if not has_due and not feedback_due:
            if self.status is None or self.status.pending != waiting or (waiting == 0 and self.status.state != "synced"):
                known = local_status(db)
                if waiting:
                    nxt = outbox.next_due(db, now, tuning.backoff_max_s)
                    waiting, elsewhere = outbox.counts(db, now=now)
                    when = (f"next try at {time.strftime('%H:%M:%S', time.localtime(nxt))}" if waiting > elsewhere
                            else "another sync on this machine is sending them")
                    why = f" ({known['last_error'].rstrip('.')})" if known["refused_calls"] and known["last_error"] else ""
                    self._say(TeamSyncStatus("waiting", waiting, known["last_sync_ok"], f"{waiting} waiting; {when}{why}."))
                else:
                    self._say(TeamSyncStatus("synced", 0, known["last_sync_ok"], "Every call is on the team server."))
            return False
        if has_due:
            self._say(TeamSyncStatus("waiting", waiting, self.status.since if self.status else None,
                                     f"Sending {_plural(waiting, 'call')} to the team server…"))
        result = sync_once(db, settings, self.password, respect_backoff=True, pull=True, limit=tuning.batch,
                           stop=self._halt)
        self.passes += 1
        if result.state in ("unreachable", "refused"):
            self.failures += 1
            wait = tuning.backoff(self.failures, random.random())
            self.retry_at = time.monotonic() + wait
            message = result.message + (f" Next try in {wait:.0f} s." if wait >= 1 else "")
            self._say(TeamSyncStatus(result.state, result.pending, status_of(result, db).since, message))
            return False
        self.failures = 0
        self.last_pull = time.monotonic()
        self._say(status_of(result, db))
        return bool(outbox.due(db, outbox.wall_clock(), 1, tuning.backoff_max_s)) and result.sent > 0

    def _say(self, status: TeamSyncStatus) -> None:
        old = self.status
        self.status = status
        with self._idle:
            self._idle.notify_all()
        if old is not None and (old.state, old.pending, old.message) == (status.state, status.pending, status.message):
            return
        if self.publish is not None:
            try:
                self.publish(status)
            except Exception:  # noqa: BLE001 - a subscriber's bug never stops the sync
                pass


def start_sync(publish: Optional[Callable[[TeamSyncStatus], None]] = None, store: Optional[Path] = None) -> Optional[SyncWorker]:
    """Start the sync worker when this machine is connected to a team server as an agent (None
    otherwise: nothing to do). `companion live` and the window call it — before a call starts — and
    `stop()` the worker when they end (`companion live`: `wait_idle(5)` first, so the call just
    ended leaves with it when the server answers); `publish` receives TeamSyncStatus events on the
    worker's thread (a window hands them to its own thread)."""
    from companion.team.settings import load

    try:
        settings = load()
    except TeamError as exc:
        if publish is not None:
            publish(TeamSyncStatus("refused", 0, None, exc.message))
        return None
    if not settings.uploads:
        return None
    from companion.store.db import StoreError, open_store

    worker = SyncWorker(publish=publish, store=store)
    try:
        # opened here, before the caller starts a call: opening a store closes calls whose writer is gone,
        # and a call of this process is only known as ours once its recorder has claimed it
        worker._db = open_store(store, check_same_thread=False)
    except (StoreError, sqlite3.Error):
        pass  # the worker tries again on its own thread, and says so
    worker.start()
    return worker
