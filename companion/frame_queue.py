"""The bounded queue between an audio source and a worker (the monitor, a recogniser).

Analysis waits for room, so nothing is dropped and a file always gives the same
result. Live capture must never block the audio callback: `offer` drops the
block when the queue is full and counts it, and the count is reported.
"""

from __future__ import annotations

import enum
import queue
from typing import Generic, TypeVar

T = TypeVar("T")


class _End(enum.Enum):
    END = "end"  # put by close(): the worker has had every item


class FrameQueue(Generic[T]):
    """Items of type T (a FrameBlock, or a recogniser's work) from one thread to another."""

    def __init__(self, max_blocks: int) -> None:
        self._queue: queue.Queue[T | _End] = queue.Queue(maxsize=max_blocks)
        self.dropped = 0

    def put(self, block: T) -> None:
        """Wait for room (analysis, demo)."""
        self._queue.put(block)

    def offer(self, block: T) -> bool:
        """Never wait (live capture); a full queue drops the block and counts it."""
        try:
            self._queue.put_nowait(block)
            return True
        except queue.Full:
            self.dropped += 1
            return False

    def close(self) -> None:
        """No more blocks: the worker finishes what it has and ends."""
        self._queue.put(_End.END)

    def get(self) -> T | None:
        """The next item, waiting for one; None once the queue is closed."""
        item = self._queue.get()
        return None if isinstance(item, _End) else item
