"""Speech detection for one party: webrtcvad, gated by the line's own noise floor,
smoothed with an onset and a hangover into turns.

A frame counts as speech when webrtcvad (a detector trained for speech) says so
*and* it stands `snr_gate_db` above the quietest frame of the last few seconds,
so hiss, hum or a steady tone on a phone line stop counting once the floor has
caught up with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import numpy.typing as npt
import webrtcvad
from numpy.lib.stride_tricks import sliding_window_view

from companion.config import AudioConfig, VadConfig

SILENCE_DB = -100.0


def frame_levels_db(frames: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """RMS level of each (DC-free) frame in dBFS; digital silence is -100 dB."""
    power = np.mean(frames.astype(np.float64) ** 2, axis=1)
    levels: npt.NDArray[np.float64] = 10.0 * np.log10(np.maximum(power, 1e-10))
    return levels


def to_pcm16(frames: npt.NDArray[np.float32]) -> npt.NDArray[np.int16]:
    return (np.clip(frames, -1.0, 1.0) * 32767.0).astype(np.int16)


PREROLL_GAP_FRAMES = 10  # 0.2 s between a soft start's syllables


@dataclass(frozen=True)
class TurnChange:
    """A turn opening (end is None) or closing, in frame indices on the call clock.

    `end_frame` is exclusive: the frame after the last voiced one. `decided_frame`
    is the frame at which the detector knew (after the onset, or the hangover).
    """

    start_frame: int
    end_frame: Optional[int]
    decided_frame: int
    soft_start_frame: Optional[int] = None   # an opening's soft first sound before it (the pre-roll), if any


class VoiceActivity:
    """One party's speech detector. Feed it frames in call order; it reports turn changes."""

    def __init__(self, vad: VadConfig, audio: AudioConfig) -> None:
        self._vad = webrtcvad.Vad(vad.aggressiveness)
        self._rate = audio.sample_rate
        self._gate_db = vad.snr_gate_db
        self._onset = max(1, round(vad.onset_s / audio.frame_s))
        self._hangover = max(1, round(vad.hangover_s / audio.frame_s))
        # a soft first word (a murmur under the gate on a noisy line) before a turn's first voiced frames: the
        # turn starts there, up to `preroll_s` earlier, over frames `preroll_gate_db` above the line's floor
        self._preroll = round(vad.preroll_s / audio.frame_s)
        self._preroll_gate = vad.preroll_gate_db
        self._margins = np.zeros(0)     # the last `preroll` frames' levels above the floor, before this block
        self._turn_end = -1              # where this party's last turn ended (a start never moves back over it)
        self._window = max(1, round(vad.noise_window_s / audio.frame_s))  # in frames, whatever the block size
        self._recent_levels = np.full(self._window - 1, np.inf)  # the levels before this block, within the window
        self._run = 0            # consecutive speech frames while not in a turn
        self._silent = 0         # consecutive non-speech frames while in a turn
        self._turn_start: Optional[int] = None
        self._last_voiced = -1
        self.speaking = False    # in a turn (including a hangover that may still end it)
        self.noise_floor_db = SILENCE_DB

    def process(
        self, first_frame: int, pcm16: npt.NDArray[np.int16], levels_db: npt.NDArray[np.float64],
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], list[TurnChange]]:
        """Classify a block of frames.

        Returns (voiced, in_turn, changes): `voiced` is the raw per-frame speech
        decision, `in_turn` whether each frame is (so far) inside a turn.
        """
        n = pcm16.shape[0]
        floors = self._floors(levels_db)
        if n:
            self.noise_floor_db = float(floors[-1])
        loud_enough = levels_db >= floors + self._gate_db
        margins = np.concatenate((self._margins, levels_db - floors)) if self._preroll else self._margins
        self._margins = margins[max(0, margins.size - self._preroll - n):]  # kept: this block and `preroll` before
        voiced = np.zeros(n, dtype=bool)
        is_speech = self._vad.is_speech
        for k in np.flatnonzero(loud_enough):
            voiced[k] = is_speech(pcm16[k].tobytes(), self._rate)
        changes: list[TurnChange] = []
        if not self.speaking and not voiced.any():  # silence between turns: nothing to follow frame by frame
            if n:
                self._run = 0
            return voiced, np.zeros(n, dtype=bool), changes
        in_turn = [False] * n
        for i, is_voiced in enumerate(voiced.tolist()):
            frame = first_frame + i
            if is_voiced:
                self._last_voiced = frame
                if self.speaking:
                    self._silent = 0
                else:
                    self._run += 1
                    if self._run >= self._onset:
                        self.speaking = True
                        self._turn_start = frame - self._run + 1
                        soft = self._soft_start(self._turn_start, first_frame + n)
                        self._silent = self._run = 0  # the next turn needs its own onset
                        changes.append(TurnChange(self._turn_start, None, frame,
                                                  soft if soft < self._turn_start else None))
            else:
                if self.speaking:
                    self._silent += 1
                    if self._silent >= self._hangover and self._turn_start is not None:  # in a turn: it has a start
                        changes.append(TurnChange(self._turn_start, self._last_voiced + 1, frame))
                        self._turn_end = self._last_voiced + 1
                        self.speaking = False
                        self._turn_start = None
                else:
                    self._run = 0
            in_turn[i] = self.speaking
        return voiced, np.array(in_turn, dtype=bool), changes

    def _soft_start(self, start: int, block_end: int) -> int:
        """`start` moved back over the frames just before it that sound above the floor by the pre-roll's gate."""
        if not self._preroll:
            return start
        margins, first = self._margins, block_end - self._margins.size   # margins[k] is frame first + k
        earliest = max(start - self._preroll, self._turn_end, first)
        frame, gap = start - 1, 0
        while frame >= earliest and gap <= PREROLL_GAP_FRAMES:   # soft syllables with short gaps between them
            if margins[frame - first] >= self._preroll_gate:
                start, gap = frame, 0
            else:
                gap += 1
            frame -= 1
        return start

    def _floors(self, levels_db: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The line's noise floor at each frame: the quietest frame of the last `noise_window_s`
        (this one included). Exact per frame, so live blocks of 0.1 s and file blocks of 0.5 s agree."""
        if levels_db.shape[0] == 0:
            return np.empty(0)
        block = levels_db.astype(np.float64)
        before = self._recent_levels
        levels = np.concatenate((before, block))
        self._recent_levels = levels[levels.size - (self._window - 1):]
        n = block.size
        if n >= self._window:
            floors: npt.NDArray[np.float64] = sliding_window_view(levels, self._window).min(axis=1)
            return floors
        # a block shorter than the window: frame i sees the window's earlier levels from i on, and the block up to i
        earlier = np.minimum.accumulate(before[::-1])[::-1][:n] if before.size else np.full(n, np.inf)
        return np.minimum(earlier, np.minimum.accumulate(block))

    def finish(self, frame: int) -> Optional[TurnChange]:
        """Close a turn still open at the end of the call (`frame`: one past the last frame)."""
        if self.speaking and self._turn_start is not None:
            change = TurnChange(self._turn_start, self._last_voiced + 1, frame)
            self.speaking = False
            self._turn_start = None
            return change
        return None
