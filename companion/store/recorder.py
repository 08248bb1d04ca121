"""Writing a call as it happens: a bus subscriber hands events to a writer thread, which commits
at least every `COMMIT_S`, so a crash or `kill -9` loses at most the last second."""

from __future__ import annotations

import json
import os
import queue
import sqlite3
import sys
import threading
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from companion.events import (
    CallEnded,
    CallStarted,
    FinalSegment,
    Interruption,
    MetricsSnapshot,
    Prompt,
    StepTicked,
    Turn,
)
from companion.store.db import open_store
from companion.store.redaction import redact

COMMIT_S = 0.5
_STOP = object()


def iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, timezone.utc).isoformat(timespec="seconds")


class CallRecorder:
    """Subscribe to a call's bus: `bus.subscribe(recorder)`. `close()` waits for the last write."""

    def __init__(self, source: str, file: Optional[str] = None, playbook: Optional[str] = None,
                 content_hash: Optional[str] = None, store: Optional[Path] = None, redaction: bool = True):
        self.store = store
        self.db = open_store(store, check_same_thread=False)
        self.redaction = redaction
        with self.db:
            cur = self.db.execute(
                "INSERT INTO calls(started_at, source, file, playbook, content_hash, writer_pid, status) "
                "VALUES (?, ?, ?, ?, ?, ?, 'active')",
                (iso(time.time()), source, file, playbook, content_hash, os.getpid()))
        self.call_id = cur.lastrowid
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self.failed: Optional[str] = None
        self.ended = threading.Event()
        self._thread = threading.Thread(target=self._run, name="call-writer", daemon=True)
        self._thread.start()

    def __call__(self, event: object) -> None:
        self._queue.put(event)

    def close(self, timeout: float = 10.0) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout)
        if self.audio is not None:
            self.audio.close()

    audio = None

    def record_audio(self, pipeline, rate: int) -> Path:
        """Keep this call's audio (only when the user turned recording on)."""
        from companion.store.recording import CallAudioWriter, recordings_dir

        path = recordings_dir() / f"call-{self.call_id}.flac"
        self.audio = CallAudioWriter(path, rate)
        pipeline.taps.append(self.audio)
        db = open_store(self.store)
        try:
            with db:
                db.execute("UPDATE calls SET recording = ? WHERE id = ?", (str(path), self.call_id))
        finally:
            db.close()
        return path

    def _text(self, text: str) -> str:
        return redact(text) if self.redaction else text

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
        self.db.close()

    def _write(self, events: list) -> None:
        if not events or self.failed:
            return
        try:
            with self.db:
                for event in events:
                    self._row(event)
        except sqlite3.Error as exc:  # a full disk: say so once; coaching goes on
            self.failed = f"Calls can no longer be saved ({exc}); the call goes on."
            print(f"companion: {self.failed}", file=sys.stderr)

    def _row(self, e: object) -> None:
        db, cid = self.db, self.call_id
        if isinstance(e, Turn):
            db.execute('INSERT INTO turns(call_id, party, start, "end") VALUES (?, ?, ?, ?)', (cid, e.party, e.start, e.end))
        elif isinstance(e, FinalSegment):
            cur = db.execute('INSERT INTO segments(call_id, party, start, "end", text) VALUES (?, ?, ?, ?, ?)',
                             (cid, e.party, e.start, e.end, self._text(e.text)))
            db.executemany('INSERT INTO words(segment_id, word, start, "end", conf) VALUES (?, ?, ?, ?, ?)',
                           [(cur.lastrowid, self._text(w.word), w.start, w.end, w.conf) for w in e.words])
        elif isinstance(e, Prompt):
            db.execute("INSERT INTO prompts(call_id, t, kind, reason) VALUES (?, ?, ?, ?)", (cid, e.t, e.kind, e.reason))
        elif isinstance(e, Interruption):
            db.execute("INSERT INTO interruptions(call_id, t, by, overlap_s) VALUES (?, ?, ?, ?)", (cid, e.t, e.by, e.overlap_s))
        elif isinstance(e, MetricsSnapshot):
            db.execute("INSERT INTO metrics(call_id, t, pace_wpm, loudness_delta_db, talk_share, data) VALUES (?, ?, ?, ?, ?, ?)",
                       (cid, e.t, e.pace_wpm, e.loudness_delta_db, e.talk_share_window, json.dumps(asdict(e))))
            db.execute("UPDATE calls SET duration_s = MAX(duration_s, ?), pace_source = ?, agent_talk_ratio = ?, "
                       "longest_agent_monologue_s = ? WHERE id = ?",
                       (e.t, e.pace_source, e.talk_share_call, e.longest_monologue_s, cid))
        elif isinstance(e, StepTicked):
            db.execute("INSERT INTO ticks(call_id, t, step_id, title, source, done) VALUES (?, ?, ?, ?, ?, ?)",
                       (cid, e.t, e.step_id, e.title, e.source, int(e.done)))
        elif isinstance(e, CallStarted):
            db.execute("UPDATE calls SET started_at = ? WHERE id = ?", (iso(e.wall), cid))
        elif isinstance(e, CallEnded):
            db.execute("UPDATE calls SET status = 'complete', duration_s = ?, agent_wpm = ?, pace_source = ? WHERE id = ?",
                       (e.duration_s, e.agent_wpm, e.pace_source, cid))
            self.ended.set()
