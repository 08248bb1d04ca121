"""Resample each party to the internal rate, cut fixed-size frames, align both parties.

Shared by every source (files now, live devices later) so frames look the same
whatever produced them.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import numpy.typing as npt
import soxr

from companion.events import FrameBlock, Party


class PartyFramer:
    """One party's samples in, fixed-size float32 frames at the internal rate out."""

    def __init__(self, in_rate: int, out_rate: int, frame_len: int) -> None:
        self.frame_len = frame_len
        self._resampler: soxr.ResampleStream | None = None
        if in_rate != out_rate:
            self._resampler = soxr.ResampleStream(in_rate, out_rate, 1, dtype="float32", quality="HQ")
        self._pending = np.zeros(0, dtype=np.float32)
        self.bad_samples = 0  # NaN or infinite samples met (and replaced) so far

    def push(self, samples: npt.ArrayLike, last: bool = False, finite: bool = False) -> npt.NDArray[np.float32]:
        """`finite`: the samples cannot be NaN or infinite (they came from integers), so are not checked."""
        mono = np.asarray(samples, dtype=np.float32).reshape(-1)
        if not finite:
            ok = np.isfinite(mono)
            if not ok.all():  # one NaN would spread through the resampler and every level after it
                self.bad_samples += int(mono.size - np.count_nonzero(ok))
                mono = np.nan_to_num(mono, nan=0.0, posinf=1.0, neginf=-1.0)
        if self._resampler is not None:
            mono = self._resampler.resample_chunk(mono, last=last)
        buf = np.concatenate((self._pending, mono)) if self._pending.size else mono
        if last and buf.size % self.frame_len:
            buf = np.concatenate((buf, np.zeros(self.frame_len - buf.size % self.frame_len, np.float32)))
        whole = buf.size // self.frame_len
        frames = buf[: whole * self.frame_len].reshape(whole, self.frame_len)
        self._pending = buf[whole * self.frame_len :].copy()
        return frames

    def release(self) -> None:
        """Free the resampler (native memory) now rather than at interpreter exit; the framer is done."""
        self._resampler = None


class BlockAssembler:
    """Collects frames of both parties and hands out FrameBlocks of a fixed number of frames."""

    def __init__(self, frame_len: int, block_frames: int) -> None:
        self.frame_len = frame_len
        self.block_frames = block_frames
        self._next_frame = 0
        self._backlog: dict[Party, list[npt.NDArray[np.float32]]] = {"agent": [], "customer": []}
        self._count: dict[Party, int] = {"agent": 0, "customer": 0}

    def add(self, party: Party, frames: npt.NDArray[np.float32]) -> None:
        if frames.shape[0]:
            self._backlog[party].append(frames)
            self._count[party] += frames.shape[0]

    def _take(self, party: Party, n: int) -> npt.NDArray[np.float32]:
        chunks = self._backlog[party]
        have = np.concatenate(chunks) if len(chunks) > 1 else (chunks[0] if chunks else np.zeros((0, self.frame_len), np.float32))
        if have.shape[0] < n:
            have = np.concatenate((have, np.zeros((n - have.shape[0], self.frame_len), np.float32)))
        taken, rest = have[:n], have[n:]
        self._backlog[party] = [rest] if rest.shape[0] else []
        self._count[party] = rest.shape[0]
        return taken

    def ready(self, final: bool = False) -> Iterator[FrameBlock]:
        """Blocks both parties can fill; with `final`, also the ragged end, padded with silence."""
        while min(self._count.values()) >= self.block_frames:
            yield self._emit(self.block_frames)
        if final:
            while max(self._count.values()) > 0:
                yield self._emit(min(self.block_frames, max(self._count.values())))

    def _emit(self, n: int) -> FrameBlock:
        block = FrameBlock(self._next_frame, self._take("agent", n), self._take("customer", n))
        self._next_frame += n
        return block
