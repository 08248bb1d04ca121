"""Writing a call as it happens: a bus subscriber hands events to a writer thread, which commits
at least every `COMMIT_S`, so a crash or `kill -9` loses at most the last second. When the store
cannot be written (a full disk, a read-only data folder) the coaching goes on: what could not be
written waits in memory (companion.store.spool) and is written when the store can be again."""

from __future__ import annotations

import copy
import os
import queue
import sqlite3
import sys
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol, TypedDict

from companion.errors import CompanionError
from companion.events import (
    CallEnded,
    CallStarted,
    CustomerState,
    DeadAir,
    DeviceStatus,
    Event,
    FinalSegment,
    FrameBlock,
    Interruption,
    MessageFromSupervisor,
    MetricsSnapshot,
    MonitorFailed,
    PartialText,
    Prompt,
    SaveFailed,
    SavingResumed,
    StepTicked,
    StoringPaused,
    TranscriberFailed,
    Turn,
)
from companion.payment_pause import PauseSpans
from companion.store.db import open_store, store_path
from companion.store.hooks import call_closed
from companion.store.rows import CallRows, insert_call, mood_totals
from companion.store.spool import Spool, trouble
from companion.store.writes import StoreError, claim, release, write
from companion.timeline import clock

if TYPE_CHECKING:
    from companion.store.recording import CallAudioWriter

COMMIT_S = 0.5
_STOP = object()


def iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class _Recording:
    """The call's audio file, noted in its row by the writer."""

    path: str


@dataclass(frozen=True)
class _Playbook:
    """The checklist the agent switched to mid-call: the call is saved with the playbook it ended with."""

    playbook_id: str


class _CallRow(TypedDict):
    """The call's own columns, kept until its row is in."""

    started_at: str
    source: str
    file: Optional[str]
    playbook: Optional[str]
    content_hash: Optional[str]


class _Tapped(Protocol):
    """What hears the call's audio (the pipeline): the recorder adds its audio writer to its taps."""

    taps: list[Callable[[FrameBlock], None]]


def reach(e: object) -> float:
    """The call time an event reaches."""
    if isinstance(e, (Turn, FinalSegment)):
        return e.end
    if isinstance(e, CallEnded):
        return e.duration_s
    return getattr(e, "t", 0.0) or 0.0


class CallRecorder:
    """Subscribe to a call's bus: `bus.subscribe(recorder)`. `close()` waits for the last write.

    A store that cannot be written (a full disk, a read-only folder, even at the start) is said once,
    published as `SaveFailed` "not saving: …" (with `publish`); the coaching goes on, the events wait
    in memory and are written when the store can be again (`SavingResumed` "saving again: …"). When they cannot be
    (more than the spool holds, or the call ends first) the rest is lost and that is said: what was
    committed stays, `stored_until` says up to where, and the call is left unfinished, so the next
    start closes it as interrupted and `import` redoes it. `call_id` is None until the call's row is in."""

    def __init__(self, source: str, file: Optional[str] = None, playbook: Optional[str] = None,
                 content_hash: Optional[str] = None, store: Optional[Path] = None, redaction: bool = True,
                 publish: Optional[Callable[[Event], None]] = None):
        self.store = store
        self.redaction = redaction
        self.publish = publish
        self._call: _CallRow = dict(started_at=iso(time.time()), source=source, file=file, playbook=playbook,
                          content_hash=content_hash)
        self.db: Optional[sqlite3.Connection] = None
        self.call_id: Optional[int] = None
        self.rows: Optional[CallRows] = None
        self.pauses = PauseSpans()  # pause for payment: words said inside are never written
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.spool = Spool()
        self.failed: Optional[str] = None  # why the call is not stored to its end
        self.complete = False      # CallEnded was written: the whole call is in the store
        self.stored_until = 0.0    # call time up to which the store holds the call
        self.heard_until = 0.0     # call time of the latest event handed over
        self._discard = False
        self.ended = threading.Event()
        try:
            self._open()
        except (StoreError, sqlite3.Error) as exc:
            self._trouble(exc)  # coaching goes on; the writer tries again
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

    audio: Optional[CallAudioWriter] = None

    def record_audio(self, pipeline: _Tapped, rate: int) -> Optional[Path]:
        """Keep this call's audio (only when the user turned recording on); None when it cannot be."""
        from companion.store.recording import CallAudioWriter, recordings_dir

        name = f"call-{self.call_id}" if self.call_id is not None else f"call-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
        path = recordings_dir() / f"{name}.flac"
        try:
            self.audio = CallAudioWriter(path, rate, on_failure=lambda message: self._say("audio", message),
                                         silent=self.pauses.covers)
        except (OSError, RuntimeError) as exc:
            self._say("audio", f"The call's audio cannot be recorded ({getattr(exc, 'strerror', None) or exc}).")
            return None
        pipeline.taps.append(self.audio)
        self._queue.put(_Recording(str(path)))  # noted in the call's row with the next write
        return path

    def set_playbook(self, playbook_id: str) -> None:
        """Any thread: the call's checklist is now `playbook_id` (noted in its row by the writer)."""
        self._call["playbook"] = playbook_id  # in case the row is not in yet
        self._queue.put(_Playbook(playbook_id))

    def _say(self, what: str, message: str, resumed: bool = False) -> None:
        if self.publish is not None:
            self.publish(SavingResumed(what, message) if resumed else SaveFailed(what, message))  # the window or `live` says it
        else:
            print(f"companion: {message}", file=sys.stderr)

    def shortfall(self, duration_s: float) -> Optional[str]:
        """After `close()`: None when the whole call is stored, else what was kept, in one sentence."""
        if self.complete and not self.failed:
            return None
        reason = self.failed or "the last writes did not finish"
        if self.call_id is None:
            return (f"Saving stopped at 0 s of {duration_s:.0f} s ({reason}): nothing of the call was kept; free some "
                    "disk space or make the data folder writable, and run again.")
        return (f"Saving stopped at {self.stored_until:.0f} s of {duration_s:.0f} s ({reason}). "
                f"Call {self.call_id} keeps what was saved and is listed as interrupted; free some disk space and run "
                f"again, or remove it with 'companion calls delete {self.call_id}'.")

    # --- the writer thread ------------------------------------------------------------------------
    def _run(self) -> None:
        deadline = time.monotonic() + COMMIT_S
        stop = False
        while not stop:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                item = None
            if item is _STOP:
                stop = True
            elif item is not None:
                self._hold(item)
            if stop or time.monotonic() >= deadline:
                self._flush(final=stop)
                deadline = time.monotonic() + COMMIT_S
        self._finish()

    def _hold(self, event: object) -> None:
        self.heard_until = max(self.heard_until, reach(event))
        if self.failed or self._discard:
            return
        if not self.spool.add(event):
            self._give_up(f"{self.spool.trouble.lasting if self.spool.trouble else 'saving fell behind'} too long "
                          f"(more than {self.spool.limit} events waited)")

    def _open(self) -> None:
        db = open_store(self.store, check_same_thread=False)
        claimed: list[int] = []

        def insert(db: sqlite3.Connection) -> int:
            # claimed before the row is committed: another thread of this process opening the store (the team
            # sync worker) must never see it active and unclaimed, and close it as interrupted
            call_id = insert_call(db, redaction=self.redaction, writer_pid=os.getpid(), status="active", **self._call)
            claim(call_id)
            claimed.append(call_id)
            return call_id

        try:
            call_id = write(db, insert, attempts=1)
        except BaseException:
            for cid in claimed:
                release(cid)
            db.close()
            raise
        self.db, self.call_id, self.rows = db, call_id, CallRows(db, call_id, self.redaction, live=True)

    def _flush(self, final: bool = False) -> None:
        """Write what waits, every `COMMIT_S`; while the store cannot be written, every `RETRY_S` and at the end."""
        if self.failed or self._discard or not (self.spool.due() or (final and self.spool.events)):
            return
        try:
            if self.db is None:
                self._open()
            rows, db = self.rows, self.db
            assert rows is not None and db is not None  # _open sets both or raises
            memory = copy.deepcopy(rows.recent)  # what redaction remembers of the last seconds of speech
            try:
                self.stored_until = write(db, self._write_all, attempts=1)
            except BaseException:
                rows.recent = memory  # rolled back: the segments of this try are forgotten, and said again next try
                raise
        except (StoreError, sqlite3.Error) as exc:  # may pass: a full disk, a read-only folder, a busy store
            self._trouble(exc)
            return
        except CompanionError as exc:  # a row that does not fit the store: trying again cannot help
            self._give_up(exc.message)
            return
        rows.after_commit()  # a row that lost words: the write-ahead log's copy of them goes too
        if any(isinstance(e, CallEnded) for e in self.spool.events):
            self.complete = True
            self.ended.set()
        if self.spool.written() is not None:
            self._say("call", f"saving again: the call is saved up to {clock(self.stored_until)} and goes on being saved.",
                      resumed=True)

    def _write_all(self, db: sqlite3.Connection) -> float:
        reached = self.stored_until
        for event in self.spool.events:
            self._row(event)
            reached = max(reached, reach(event))
        return reached

    def _trouble(self, exc: BaseException) -> None:
        why = trouble(exc, str(Path(self.store or store_path()).parent))
        if self.spool.failed(why):
            self._say("call", f"not saving: {why.reason} — the call is kept in memory and saved when {why.until}.")

    def _give_up(self, cause: str) -> None:
        """The rest of the call cannot be kept: drop what waits, say up to where the call is saved."""
        self.failed = cause
        self.spool.drop()
        self._say("call", f"not saving: {cause}; the call is saved up to {clock(self.stored_until)} and the rest "
                          "of it will not be saved.")

    def _finish(self) -> None:
        if self._discard:
            self._delete()
        elif not self.complete and (self.failed or self.spool.trouble):
            held = self.spool.trouble
            lasting = held.lasting if held else self.failed
            self.failed = self.failed or (held.reason if held else None)  # one of the two is set here
            self.spool.drop()
            kept = (f"saved up to {clock(self.stored_until)} of {clock(self.heard_until)}; the rest was lost"
                    if self.call_id is not None else "nothing of this call was saved")
            self._say("call", f"not saving: {kept} because {lasting}.")
        if self.call_id is not None:
            release(self.call_id)
        if self.db is not None:
            self.db.close()

    def _delete(self) -> None:
        if self.db is not None:
            try:
                write(self.db, lambda db: db.execute("DELETE FROM calls WHERE id = ?", (self.call_id,)))
            except sqlite3.Error:
                pass  # left unfinished: closed as interrupted on the next start
        if self.audio is not None:
            self.audio.close()
            self.audio.path.unlink(missing_ok=True)

    def _row(self, e: object) -> None:
        """Write one event (or one of the writer's own notes), by the table below (anything else: nothing)."""
        ROWS.get(type(e), CallRecorder._not_stored)(self, e)

    def _turn(self, e: Turn) -> None:
        assert self.rows is not None
        self.rows.turn(e.party, e.start, e.end)

    def _segment(self, e: FinalSegment) -> None:
        assert self.rows is not None
        words = self.pauses.kept(e.words, [(w.start, w.end) for w in e.words])
        if words:
            self.rows.segment(e.party, words[0].start, words[-1].end, " ".join(w.word for w in words),
                              [(w.word, w.start, w.end, w.conf) for w in words])

    def _pause(self, e: StoringPaused) -> None:
        assert self.db is not None
        if e.paused:
            self.db.execute('INSERT INTO pauses(call_id, start, "end") VALUES (?, ?, NULL)', (self.call_id, e.t))
        else:
            self.db.execute('UPDATE pauses SET "end" = ? WHERE call_id = ? AND "end" IS NULL', (e.t, self.call_id))

    def _prompt(self, e: Prompt) -> None:
        assert self.rows is not None
        self.rows.prompt(e.t, e.kind, e.reason)

    def _interruption(self, e: Interruption) -> None:
        assert self.rows is not None
        self.rows.interruption(e.t, e.by, e.overlap_s)

    def _customer_state(self, e: CustomerState) -> None:
        assert self.rows is not None
        self.rows.customer_state(e.t, e.state)

    def _metrics(self, e: MetricsSnapshot) -> None:
        assert self.rows is not None and self.db is not None
        self.rows.metric(e.t, e.pace_wpm, e.loudness_delta_db, e.talk_share_window, asdict(e))
        self.db.execute("UPDATE calls SET duration_s = MAX(duration_s, ?), pace_source = ?, agent_talk_ratio = ?, "
                        "longest_agent_monologue_s = ? WHERE id = ?",
                        (e.t, e.pace_source, e.talk_share_call, e.longest_monologue_s, self.call_id))

    def _supervisor_message(self, e: MessageFromSupervisor) -> None:
        assert self.rows is not None
        self.rows.supervisor_message(e.t, e.sender, e.text, e.message_id)

    def _tick(self, e: StepTicked) -> None:
        assert self.rows is not None
        self.rows.tick(e.t, e.step_id, e.title, e.source, e.done)

    def _started(self, e: CallStarted) -> None:
        assert self.db is not None
        self.db.execute("UPDATE calls SET started_at = ? WHERE id = ?", (iso(e.wall), self.call_id))

    def _recording(self, e: _Recording) -> None:
        assert self.db is not None
        self.db.execute("UPDATE calls SET recording = ? WHERE id = ?", (e.path, self.call_id))

    def _playbook(self, e: _Playbook) -> None:
        assert self.db is not None
        self.db.execute("UPDATE calls SET playbook = ? WHERE id = ?", (e.playbook_id, self.call_id))

    def _ended(self, e: CallEnded) -> None:
        rows, db, cid = self.rows, self.db, self.call_id
        assert rows is not None and db is not None and cid is not None
        rows.call_over()  # its last segments as the store keeps them, before it closes (and they are indexed)
        db.execute("UPDATE calls SET status = 'complete', duration_s = ?, agent_wpm = ?, pace_source = ? WHERE id = ?",
                   (e.duration_s, e.agent_wpm, e.pace_source, cid))
        db.execute('UPDATE pauses SET "end" = MAX(start, ?) WHERE call_id = ? AND "end" IS NULL', (e.duration_s, cid))
        mood_totals(db, cid, e.duration_s)  # the last state lasts to the end of the call
        call_closed(db, cid)  # issue 14: a team call waits for the team server, queued as it is closed

    def _not_stored(self, e: object) -> None:
        """An event the store has no row for: what the recogniser guesses so far, a line's state, a failure said
        on screen, the silences (the store finds them again from the turns)."""


# What the writer does with each event type the bus carries (companion.events.Event), and with its own notes.
ROWS: dict[type, Callable[[CallRecorder, Any], None]] = {
    Turn: CallRecorder._turn,
    FinalSegment: CallRecorder._segment,
    StoringPaused: CallRecorder._pause,
    Prompt: CallRecorder._prompt,
    Interruption: CallRecorder._interruption,
    CustomerState: CallRecorder._customer_state,
    MetricsSnapshot: CallRecorder._metrics,
    StepTicked: CallRecorder._tick,
    MessageFromSupervisor: CallRecorder._supervisor_message,
    CallStarted: CallRecorder._started,
    CallEnded: CallRecorder._ended,
    _Recording: CallRecorder._recording,
    _Playbook: CallRecorder._playbook,
    PartialText: CallRecorder._not_stored,
    DeadAir: CallRecorder._not_stored,
    DeviceStatus: CallRecorder._not_stored,
    TranscriberFailed: CallRecorder._not_stored,
    MonitorFailed: CallRecorder._not_stored,
    SaveFailed: CallRecorder._not_stored,
    SavingResumed: CallRecorder._not_stored,
}
