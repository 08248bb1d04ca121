"""The call's audio, kept only when the user turned recording on: a two-channel FLAC (agent left,
customer right) beside the store, owner-only, written on its own thread from the frames.

A FLAC learns its length only when it is closed: one whose writer was killed (`kill -9`, a crash)
says "unknown length" and libsndfile cannot read it whole. The next start repairs it (`repair_cut_off`,
run when the store is opened): its frames are counted and the count written into its header."""

from __future__ import annotations

import collections
import os
import queue
import sqlite3
import threading
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import numpy.typing as npt
import soundfile as sf

from companion.events import FrameBlock
from companion.paths import user_data_dir
from companion.store.flac_repair import repair, unknown_length
from companion.store.writes import private_dir, write, writer_alive

CONSENT_REMINDER = ("Recording is on: tell the customer the call is recorded, as the law where you and they are "
                    "may require.")


def recordings_dir() -> Path:
    return user_data_dir() / "recordings"


# Audio is written this long after it is heard: a pause for payment that starts when a payment cue is
# recognised (a second or two after it was said) still silences everything said after the cue. A process
# killed mid-call loses at most this much of the end of its recording.
HOLD_S = 4.0


class CallAudioWriter:
    """A frame tap: `pipeline.taps.append(writer)`; `close()` finishes the file."""

    def __init__(self, path: Path, rate: int, on_failure: Optional[Callable[[str], None]] = None,
                 silent: Optional[Callable[[float, float], bool]] = None):
        """`silent(start, end)`: True for call time that must not be recorded (pause for payment): written as silence."""
        private_dir(path.parent)
        self._rate = rate
        self._silent = silent
        self._on_failure = on_failure
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        self.path = path
        self._file = sf.SoundFile(str(path), "w", samplerate=rate, channels=2, format="FLAC", subtype="PCM_16")
        self._queue: queue.SimpleQueue[Optional[FrameBlock]] = queue.SimpleQueue()   # None: the call is over
        self.failed: Optional[str] = None
        self._thread = threading.Thread(target=self._run, name="call-audio", daemon=True)
        self._thread.start()

    def __call__(self, block: FrameBlock) -> None:
        self._queue.put(block)

    def _run(self) -> None:
        held: collections.deque[tuple[float, npt.NDArray[np.float32]]] = collections.deque()  # (start, stereo), oldest first
        while True:
            block = self._queue.get()
            if block is None:
                break
            if self.failed:
                continue
            stereo = np.stack([block.agent.reshape(-1), block.customer.reshape(-1)], axis=1)
            start = block.first_frame * block.agent.shape[1] / self._rate
            held.append((start, stereo))
            newest_end = start + len(stereo) / self._rate
            while held and held[0][0] + len(held[0][1]) / self._rate <= newest_end - HOLD_S:
                self._write(*held.popleft())
        while held and not self.failed:  # the call is over: what is held is written, its pauses known
            self._write(*held.popleft())
        try:
            self._file.close()
        except (OSError, RuntimeError) as exc:
            if not self.failed:
                self._failed(f"The call's audio could not be finished ({exc}).")

    def _write(self, start: float, stereo: npt.NDArray[np.float32]) -> None:
        if self.failed:
            return
        try:
            if self._silent is not None and self._silent(start, start + len(stereo) / self._rate):
                stereo = np.zeros_like(stereo)  # the timeline keeps its length; the words are gone
            self._file.write(np.clip(stereo, -1, 1))
        except (OSError, RuntimeError) as exc:  # disk full: stop recording, keep coaching
            self._failed(f"The call's audio can no longer be recorded ({exc}); what was recorded is kept.")

    def _failed(self, message: str) -> None:
        self.failed = message
        if self._on_failure is not None:
            self._on_failure(message)

    def close(self, timeout: float = 10.0) -> None:
        """Finish the file (waits up to `timeout` for the audio still queued). Safe to call twice."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)


def repair_cut_off(db: sqlite3.Connection, default_store: bool = True) -> list[Path]:
    """The recordings of calls whose writer is gone (closed as interrupted, or killed after its call
    ended but before its audio was finished) made readable again; returns the files repaired. A
    recording that a running app is still writing is left alone. `default_store`: the store in the
    user data folder, whose recordings may also be found by name (a call killed before its row
    noted its recording)."""
    repaired: list[Path] = []
    noted: list[tuple[Optional[str], int]] = []   # (recording, call id)
    folder = recordings_dir() if default_store else None
    try:  # one listing of the recordings folder, not a file opened per call: a history of 100,000 calls opens fast
        present = set(os.listdir(folder)) if folder is not None else set()
    except OSError:
        present = set()
    for row in db.execute("SELECT id, recording, writer_pid FROM calls WHERE status <> 'active'").fetchall():
        named = Path(row["recording"]) if row["recording"] else None
        if named is None:
            name = f"call-{row['id']}.flac"
            path = folder / name if folder is not None and name in present else None
        else:
            path = named
        if path is None or not unknown_length(path) or writer_alive(row["writer_pid"], row["id"]):
            continue
        try:
            samples = repair(path)
        except OSError:
            continue  # unreadable or read-only: left as it was, tried again at the next start
        if samples == 0:  # killed before any of its audio was written: nothing to play
            path.unlink(missing_ok=True)
            noted.append((None, row["id"]))
        else:
            noted.append((str(path), row["id"]))
        repaired.append(path)
    if noted:
        write(db, lambda db: db.executemany("UPDATE calls SET recording = ? WHERE id = ?", noted))
    return repaired
