"""The call's audio, kept only when the user turned recording on: a two-channel FLAC (agent left,
customer right) beside the store, owner-only, written on its own thread from the frames.

A FLAC learns its length only when it is closed: one whose writer was killed (`kill -9`, a crash)
says "unknown length" and libsndfile cannot read it whole. While it is written a mark lies beside it
(companion.store.cut_off), so the next start finds it without reading every call and repairs it
(`repair_cut_off`, run when the store is opened): its frames are counted and the count written into its header."""

from __future__ import annotations

import collections
import os
import queue
import threading
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import numpy.typing as npt
import soundfile as sf

from companion.events import FrameBlock
from companion.store.cut_off import ALL_MARKED, mark_of
from companion.store.cut_off import recordings_dir as recordings_dir  # (these from here too)
from companion.store.cut_off import repair_cut_off as repair_cut_off
from companion.store.writes import private_dir

CONSENT_REMINDER = ("Recording is on: tell the customer the call is recorded, as the law where you and they are "
                    "may require.")


# Audio is written this long after it is heard: a pause for payment that starts when a payment cue is
# recognised (a second or two after it was said) still silences everything said after the cue. A process
# killed mid-call loses at most this much of the end of its recording.
HOLD_S = 4.0


class CallAudioWriter:
    """A frame tap: `pipeline.taps.append(writer)`; `close()` finishes the file."""

    def __init__(self, path: Path, rate: int, on_failure: Optional[Callable[[str], None]] = None,
                 silent: Optional[Callable[[float, float], bool]] = None):
        """`silent(start, end)`: True for call time that must not be recorded (pause for payment): written as silence."""
        new_folder = not path.parent.exists()
        private_dir(path.parent)
        if new_folder:  # a folder made by this version: its recordings all carry their marks
            os.close(os.open(path.parent / ALL_MARKED, os.O_WRONLY | os.O_CREAT, 0o600))
        self._rate = rate
        self._silent = silent
        self._on_failure = on_failure
        self._mark = mark_of(path)  # made before the file, removed once it is finished: the next start finds it if not
        fd = os.open(self._mark, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, str(os.getpid()).encode("ascii"))
        finally:
            os.close(fd)
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
            fd = os.open(self.path, os.O_RDONLY)  # its length in its header, on disk, before its mark goes
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            self._mark.unlink(missing_ok=True)
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
