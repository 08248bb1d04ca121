"""The bounded queue between an audio source and a worker (the monitor, a recogniser).

Analysis waits for room, so nothing is dropped and a file always gives the same
result. Live capture must never block the audio callback: `offer` drops the
block when the queue is full and counts it, and the count is reported.
"""

from __future__ import annotations

import queue
_END = object()


class FrameQueue:
    def __init__(self, max_blocks: int):
        self._queue: queue.Queue = queue.Queue(maxsize=max_blocks)
        self.dropped = 0

    def put(self, block) -> None:
        """Wait for room (analysis, demo)."""
        self._queue.put(block)

    def offer(self, block) -> bool:
        """Never wait (live capture); a full queue drops the block and counts it."""
        try:
            self._queue.put_nowait(block)
            return True
        except queue.Full:
            self.dropped += 1
            return False

    def close(self) -> None:
        """No more blocks: the worker finishes what it has and ends."""
        self._queue.put(_END)

    def get(self):
        """The next item, waiting for one; None once the queue is closed."""
        item = self._queue.get()
        return None if item is _END else item
