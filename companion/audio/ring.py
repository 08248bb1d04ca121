"""A bounded single-producer, single-consumer sample buffer for audio callbacks.

The producer (a PortAudio callback) only copies into preallocated memory and
never waits: when the buffer is full, the new samples are dropped and counted.
The consumer (the capture pump thread) reads whatever has arrived.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


class SampleRing:
    def __init__(self, capacity: int) -> None:
        self._buf = np.zeros(capacity, dtype=np.float32)
        self.capacity = capacity
        self._written = 0   # total samples ever written (producer only)
        self._read = 0      # total samples ever read (consumer only)
        self.dropped_samples = 0
        self.overflows = 0  # times a write did not fit

    def available(self) -> int:
        return self._written - self._read

    def write(self, samples: npt.NDArray[np.float32]) -> bool:
        """Copy samples in (callback side). Returns False, and counts, when they do not fit."""
        n = samples.shape[0]
        if n > self.capacity - (self._written - self._read):
            self.dropped_samples += n
            self.overflows += 1
            return False
        start = self._written % self.capacity
        first = min(n, self.capacity - start)
        self._buf[start : start + first] = samples[:first]
        if first < n:
            self._buf[: n - first] = samples[first:]
        self._written += n  # published last: the reader never sees a half-copied block
        return True

    def read(self, max_samples: int | None = None) -> npt.NDArray[np.float32]:
        """Everything available (or up to `max_samples`), oldest first (consumer side)."""
        n = self._written - self._read
        if max_samples is not None:
            n = min(n, max_samples)
        start = self._read % self.capacity
        first = min(n, self.capacity - start)
        out = np.empty(n, dtype=np.float32)
        out[:first] = self._buf[start : start + first]
        if first < n:
            out[first:] = self._buf[: n - first]
        self._read += n
        return out
