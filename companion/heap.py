"""Freed memory kept for the next block, in a batch analysis.

Analysing a recording allocates and frees the same few megabytes every half second of audio (frames,
spectra, windows). glibc's malloc gives a freed large block and the heap's free top back to the kernel as
soon as they pass its thresholds, and the next block's allocations fault those pages in again, each one
zeroed by the kernel: on a 10-minute call that was 60,000-190,000 page faults and 0.1-0.4 s of system time,
as much as reading and the voice activity of the whole file. Raising both thresholds keeps that memory in
the process for reuse (peak memory is unchanged: only what the analysis already used is kept).

For `companion analyze` and `companion import`, not for live calls, whose memory should go back to the
system between calls. glibc only: anywhere else this does nothing.
"""

from __future__ import annotations

import sys

M_TRIM_THRESHOLD = -1    # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
KEEP_FREE_BYTES = 64 << 20    # the heap's free top kept up to this much
OWN_MMAP_FROM = 4 << 20       # blocks from this size get their own mapping (an analysis's are far smaller)

_done: bool | None = None


def reuse_freed_memory() -> bool:
    """Keep freed memory in this process for reuse; True when glibc took the settings. Once per process."""
    global _done
    if _done is None:
        _done = False
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                mallopt = ctypes.CDLL(None).mallopt
            except (OSError, AttributeError):  # not glibc
                return False
            _done = mallopt(M_MMAP_THRESHOLD, OWN_MMAP_FROM) == 1 and mallopt(M_TRIM_THRESHOLD, KEEP_FREE_BYTES) == 1
    return _done
