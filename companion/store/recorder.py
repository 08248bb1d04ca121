"""Writing a call as it happens: a bus subscriber hands events to a writer thread, which commits
at least every `COMMIT_S`, so a crash or `kill -9` loses at most the last second."""

from __future__ import annotations

import os
import queue
import sqlite3
import sys
import threading
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional

from companion.events import (
    CallEnded,
    CallStarted,
    FinalSegment,
    Interruption,
    MetricsSnapshot,
    Prompt,
    SaveFailed,
    StepTicked,
    StoringPaused,
    Turn,
)
from companion.payment_pause import PauseSpans
from companion.errors import CompanionError
from companion.store.db import claim, open_store, release
from companion.store.rows import CallRows, insert_call

COMMIT_S = 0.5
_STOP = object()


def iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, timezone.utc).isoformat(timespec="seconds")


class CallRecorder:
    """Subscribe to a call's bus: `bus.subscribe(recorder)`. `close()` waits for the last write.

    A write that fails (a full disk) is said once, published as `SaveFailed` (with `publish`), and
    ends the saving: what was committed before stays, `stored_until` says up to where, and the call
    is left unfinished, so the next start closes it as interrupted and `import` redoes it."""

    def __init__(self, source: str, file: Optional[str] = None, playbook: Optional[str] = None,
                 content_hash: Optional[str] = None, store: Optional[Path] = None, redaction: bool = True,
                 publish: Optional[Callable[[object], None]] = None):
        self.store = store
        self.db = open_store(store, check_same_thread=False)
        self.redaction = redaction
        self.publish = publish
        with self.db:
            self.call_id = insert_call(self.db, iso(time.time()), source, file, redaction, playbook=playbook,
                                       content_hash=content_hash, writer_pid=os.getpid(), status="active")
        claim(self.call_id)
        self.rows = CallRows(self.db, self.call_id, redaction)
        self.pauses = PauseSpans()  # pause for payment: words said inside are never written
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self.failed: Optional[str] = None
        self.complete = False      # CallEnded was written: the whole call is in the store
        self.stored_until = 0.0    # call time up to which the store holds the call
        self._discard = False
        self.ended = threading.Event()
        self._thread = threading.Thread(target=self._run, name="call-writer", daemon=True)
        self._thread.start()

    def __call__(self, event: object) -> None:
        self.pauses(event)  # at once, on the publishing thread: the words said after it are not stored
        self._queue.put(event)

    def discard(self) -> None:
        """Keep nothing of this call (it never started, or its recording was rejected); done by `close()`."""
        self._discard = True

    def close(self, timeout: float = 10.0) -> None:
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)
        if self.audio is not None:
            self.audio.close(timeout)

    audio = None

    def record_audio(self, pipeline, rate: int) -> Path:
        """Keep this call's audio (only when the user turned recording on)."""
        from companion.store.recording import CallAudioWriter, recordings_dir

        path = recordings_dir() / f"call-{self.call_id}.flac"
        self.audio = CallAudioWriter(path, rate, on_failure=lambda message: self._fail("audio", message),
                                     silent=self.pauses.covers)
        pipeline.taps.append(self.audio)
        db = open_store(self.store)
        try:
            with db:
                db.execute("UPDATE calls SET recording = ? WHERE id = ?", (str(path), self.call_id))
        finally:
            db.close()
        return path

    def _fail(self, what: str, message: str) -> None:
        if self.publish is not None:
            self.publish(SaveFailed(what, message))  # the window or `live` says it
        else:
            print(f"companion: {message}", file=sys.stderr)

    def shortfall(self, duration_s: float) -> Optional[str]:
        """After `close()`: None when the whole call is stored, else what was kept, in one sentence."""
        if self.complete and not self.failed:
            return None
        reason = self.failed or "the last writes did not finish"
        return (f"Saving stopped at {self.stored_until:.0f} s of {duration_s:.0f} s ({reason}). "
                f"Call {self.call_id} keeps what was saved and is listed as interrupted; free some disk space and run "
                f"again, or remove it with 'companion calls delete {self.call_id}'.")

    def _run(self) -> None:
        pending: list = []
        deadline = time.monotonic() + COMMIT_S
        stop = False
        while not stop:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                if item is _STOP:
                    stop = True
                else:
                    pending.append(item)
            except queue.Empty:
                pass
            if stop or time.monotonic() >= deadline:
                self._write(pending)
                pending = []
                deadline = time.monotonic() + COMMIT_S
        if self._discard:
            self._delete()
        release(self.call_id)
        self.db.close()

    def _delete(self) -> None:
        try:
            with self.db:
                self.db.execute("DELETE FROM calls WHERE id = ?", (self.call_id,))
        except sqlite3.Error:
            pass  # left unfinished: closed as interrupted on the next start
        if self.audio is not None:
            self.audio.close()
            self.audio.path.unlink(missing_ok=True)

    def _write(self, events: list) -> None:
        if not events or self.failed or self._discard:
            return
        try:
            with self.db:
                reached = self.stored_until
                for event in events:
                    reached = max(reached, self._row(event))
            self.stored_until = reached
        except (sqlite3.Error, CompanionError) as exc:  # a full disk: say so once; coaching goes on
            self.failed = str(getattr(exc, "message", exc))
            self._fail("call", f"The call can no longer be saved ({self.failed}); coaching goes on, and what was "
                               f"saved up to {self.stored_until:.0f} s is kept.")

    def _row(self, e: object) -> float:
        """Write one event; returns the call time it reaches."""
        rows, db, cid = self.rows, self.db, self.call_id
        if isinstance(e, Turn):
            rows.turn(e.party, e.start, e.end)
            return e.end
        if isinstance(e, FinalSegment):
            words = self.pauses.kept(e.words, [(w.start, w.end) for w in e.words])
            if words:
                rows.segment(e.party, words[0].start, words[-1].end, " ".join(w.word for w in words),
                             [(w.word, w.start, w.end, w.conf) for w in words])
            return e.end
        if isinstance(e, StoringPaused):
            if e.paused:
                db.execute('INSERT INTO pauses(call_id, start, "end") VALUES (?, ?, NULL)', (cid, e.t))
            else:
                db.execute('UPDATE pauses SET "end" = ? WHERE call_id = ? AND "end" IS NULL', (e.t, cid))
            return e.t
        if isinstance(e, Prompt):
            rows.prompt(e.t, e.kind, e.reason)
        elif isinstance(e, Interruption):
            rows.interruption(e.t, e.by, e.overlap_s)
        elif isinstance(e, MetricsSnapshot):
            rows.metric(e.t, e.pace_wpm, e.loudness_delta_db, e.talk_share_window, asdict(e))
            db.execute("UPDATE calls SET duration_s = MAX(duration_s, ?), pace_source = ?, agent_talk_ratio = ?, "
                       "longest_agent_monologue_s = ? WHERE id = ?",
                       (e.t, e.pace_source, e.talk_share_call, e.longest_monologue_s, cid))
        elif isinstance(e, StepTicked):
            rows.tick(e.t, e.step_id, e.title, e.source, e.done)
        elif isinstance(e, CallStarted):
            db.execute("UPDATE calls SET started_at = ? WHERE id = ?", (iso(e.wall), cid))
        elif isinstance(e, CallEnded):
            db.execute("UPDATE calls SET status = 'complete', duration_s = ?, agent_wpm = ?, pace_source = ? WHERE id = ?",
                       (e.duration_s, e.agent_wpm, e.pace_source, cid))
            db.execute('UPDATE pauses SET "end" = MAX(start, ?) WHERE call_id = ? AND "end" IS NULL', (e.duration_s, cid))
            self.complete = True
            self.ended.set()
            return e.duration_s
        return getattr(e, "t", 0.0) or 0.0
