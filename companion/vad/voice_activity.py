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


# The soft first word is judged against the line's own noise. The noise's frame levels flicker independently from one
# 20 ms frame to the next (their correlation is about 0 at every lag on the office, mu-law and clean lines), so over a
# syllable's length (0.1 s) their mean above the floor spreads sqrt(5) times less than a single frame's, while a murmur
# holds its level: a frame is soft sound when the 0.1 s of sound around it (before the turn) stands above the noise's
# own mean by SOFT_Z of that spread. The noise's mean and spread are read from the line itself, from the frames under
# the speech gate in the NOISE_STATS_S before the look-back, by their lower side (which soft speech does not reach).
SYLLABLE_FRAMES = 5        # 0.1 s
SOFT_Z = 6.0               # 1 in 1000 of the noisy line's noise-only 0.1 s stretches reaches it (bench/real_voice_accuracy.py)
NOISE_STATS_S = 5.0
PREROLL_GAP_S = 0.4        # between a soft start's syllables: at that rarity, noise alone bridges such a gap about 2 % of
                           # the time (a single frame 3 dB over the floor, 1 frame in 20 of that noise, bridged 0.2 s
                           # gaps 37 % of the time)


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
        self._gap = round(PREROLL_GAP_S / audio.frame_s)
        self._noise_frames = round(NOISE_STATS_S / audio.frame_s)
        self._margins = np.zeros(0)     # the last frames' levels above the floor (look-back and noise), before this block
        self._quiet = np.zeros(0, dtype=bool)  # ... and whether each was under the speech gate
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
        if self._preroll:
            keep = self._preroll + self._noise_frames + SYLLABLE_FRAMES + n  # this block, the look-back and the noise's
            margins = np.concatenate((self._margins, levels_db - floors))
            quiet = np.concatenate((self._quiet, ~loud_enough))
            self._margins, self._quiet = margins[max(0, margins.size - keep):], quiet[max(0, quiet.size - keep):]
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
        """`start` moved back over the soft sound just before it: frames that begin 0.1 s of sound (before `start`)
        standing out of the line's own noise (see SOFT_Z) and are themselves over the noise's mean, syllables up to
        PREROLL_GAP_S apart, at most `preroll_s` back."""
        if not self._preroll:
            return start
        margins, first = self._margins, block_end - self._margins.size   # margins[k] is frame first + k
        earliest = max(start - self._preroll, self._turn_end, first)
        if earliest >= start:
            return start
        noise_mean, gate = self._noise(start - self._preroll - first)
        seg = margins[earliest - first: start - first]                   # seg[j] is frame earliest + j
        sums = np.concatenate(([0.0], np.cumsum(seg)))
        frame, gap = start - 1, 0
        while frame >= earliest and gap <= self._gap:   # soft syllables with short gaps between them
            j = frame - earliest
            end = min(j + SYLLABLE_FRAMES, seg.size)     # the syllable-long stretch from this frame, up to `start`
            if seg[j] >= noise_mean and (sums[end] - sums[j]) / (end - j) >= gate:
                start, gap = frame, 0
            else:
                gap += 1
            frame -= 1
        return start

    def _noise(self, before: int) -> tuple[float, float]:
        """(the noise's mean level over the floor, the level a syllable-long mean of noise alone does not reach) on this
        line: the mean plus SOFT_Z of the noise's spread over SYLLABLE_FRAMES, never under `preroll_gate_db`. Read from
        the quiet frames of the NOISE_STATS_S before index `before` of the kept margins, by their lower side, which soft
        speech does not reach (for noise, the 5th and 30th percentiles lie 1.12 spreads apart, the 30th 0.52 of a spread
        under the mean)."""
        lo = max(0, before - self._noise_frames)
        hi = max(lo, before)
        noise = self._margins[lo:hi][self._quiet[lo:hi]]
        if noise.size < SYLLABLE_FRAMES * 4:   # too little of the line heard yet to know its noise
            return 0.0, self._preroll_gate
        p5, p30 = np.percentile(noise, (5.0, 30.0))
        spread = (p30 - p5) / 1.121
        mean = float(p30 + 0.524 * spread)
        return mean, max(self._preroll_gate, mean + SOFT_Z * spread / float(np.sqrt(SYLLABLE_FRAMES)))

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
