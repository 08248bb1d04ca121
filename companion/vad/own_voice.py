"""The party's own voice, close to their microphone, told apart from other people talking farther off in the room.

An agent's headset on a contact centre's floor hears the agents beside them, and a customer's phone the television
or the family behind them: speech, so webrtcvad says so, and over the line's noise floor, which sits in the pauses
between their words. Counted as the party's, those voices talk over the other party all through a calm call, fill
the agent's pace and the customer's mood with someone else's words. What tells them apart is level: the party's
own voice arrives from a few centimetres, the others' from a metre or more, 20-35 dB quieter.

Every `own_voice_grid_s` of the call clock, the party's voice level is read from the frames before: a high
percentile (`own_voice_percentile`) of the levels of their own speech frames over the last `own_voice_memory_s`.
A frame of speech is near when it is within `own_voice_range_db` of that level, and a stretch of near frames at
least `own_voice_run_s` long is the party's voice; their speech counts from its frames on through `own_voice_hold_s`
after the last of them (their softer syllables and word ends), and speech farther off from it is not theirs; nor are
syllables farther under their voice than `own_voice_range_db` (the agent's pace counts none there,
companion/monitor/call_monitor.py).
Until the party has `own_voice_min_s` of speech in memory, all of it counts (the first words are theirs). Exact per
frame whatever the block size: the level changes only on the grid, from the frames before it.

The soft first and last words the voice activity hears under the line's gate (`preroll_s`) are read only within
`own_voice_soft_db` of the same level: a murmur farther under the voice is someone else's, however the line's noise
sits (companion/vad/voice_activity.py).
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import numpy.typing as npt

from companion.config import AudioConfig, VadConfig
from companion.order_stats import percentile


class OwnVoice:
    """Their voice's level, and which of their speech frames are their own voice (see the module's notes). The level
    is read while either `own_voice_range_db` (the frames) or `own_voice_soft_db` (their soft words, in
    companion/vad/voice_activity.py) is set; frames are told apart only while `own_voice_range_db` is."""

    def __init__(self, vad: VadConfig, audio: AudioConfig) -> None:
        frame_s = audio.frame_s
        self.on = vad.own_voice_range_db > 0.0 or vad.own_voice_soft_db > 0.0
        self._gating = vad.own_voice_range_db > 0.0
        self._range = vad.own_voice_range_db
        self._grid = max(1, round(vad.own_voice_grid_s / frame_s))
        self._memory = max(1, round(vad.own_voice_memory_s / frame_s))
        self._min = max(1, round(vad.own_voice_min_s / frame_s))
        self._run_frames = max(1, round(vad.own_voice_run_s / frame_s))
        self._hold = max(0, round(vad.own_voice_hold_s / frame_s))
        self._percentile = vad.own_voice_percentile
        self._frames: list[npt.NDArray[np.intp]] = []    # the party's own speech frames (call clock) in memory ...
        self._levels: list[npt.NDArray[np.float64]] = []  # ... and their levels, a block's at a time
        self._grid_at = 0                    # the grid point it was read at
        self._near_run = 0                   # near frames running at the end of the last block
        self._held_until = -1                # their speech counts up to this frame (exclusive)
        self._added = False                  # frames came into the memory since the level was read
        self.level_db: Optional[float] = None  # their voice's level, read at the last grid point (None: not known)

    def keep(self, first_frame: int, speech: npt.NDArray[np.bool_],
             levels_db: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        """Of a block's speech frames (from `first_frame` on the call clock), those that are the party's own."""
        n = speech.size
        if not self.on or not n:
            return speech
        out = np.zeros(n, dtype=bool)
        start = 0
        while start < n:
            frame = first_frame + start
            stop = min(n, start + self._grid - frame % self._grid)
            if frame % self._grid == 0 and frame != self._grid_at:
                self._read(frame)
            out[start:stop] = self._keep_piece(frame, speech[start:stop], levels_db[start:stop])
            start = stop
        return out

    def near(self, levels_db: npt.NDArray[np.float64]) -> Optional[npt.NDArray[np.bool_]]:
        """Which of a block's frames (just kept) lie within `own_voice_range_db` of the party's voice; None while frames
        are not told apart or their voice's level is not known."""
        if not self._gating or self.level_db is None:
            return None
        return levels_db >= self.level_db - self._range

    def _keep_piece(self, first: int, speech: npt.NDArray[np.bool_],
                    levels: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        n = speech.size
        if not speech.any():   # between their turns: nothing to keep, no run of near frames going on
            self._near_run = 0
            return speech.copy()
        if self.level_db is None or not self._gating:
            kept = speech.copy()
            self._near_run = 0
        else:
            near = speech & (levels >= self.level_db - self._range)
            # the length of the run of near frames each frame ends (carried over from the block before)
            idx = np.arange(n)
            breaks = np.where(near, -1, idx)
            last_break = np.maximum.accumulate(breaks)
            run = idx - last_break + np.where(last_break < 0, self._near_run, 0)
            # their voice: a near stretch once it is long enough, held through `hold` frames after each of its frames
            # (each frame judged from the frames up to it, so small blocks and large ones agree)
            theirs = near & (run >= self._run_frames)
            last = np.maximum.accumulate(np.where(theirs, first + idx, -(self._hold + 1)))
            kept = speech & ((first + idx - last <= self._hold) | (first + idx < self._held_until))
            if theirs.any():
                self._held_until = first + int(np.flatnonzero(theirs)[-1]) + 1 + self._hold
            self._near_run = int(run[-1]) if near[-1] else 0
        if kept.any():
            at = np.flatnonzero(kept)
            self._frames.append(first + at)
            self._levels.append(levels[at])
            self._added = True
        return kept

    def _read(self, frame: int) -> None:
        """Their voice's level at grid point `frame`, from their own speech in the memory before it."""
        self._grid_at = frame
        oldest = frame - self._memory
        if not self._added and (not self._frames or self._frames[0][0] >= oldest):
            return   # nothing came into their memory and nothing left it: the same level
        self._added = False
        while self._frames and self._frames[0][-1] < oldest:
            self._frames.pop(0)
            self._levels.pop(0)
        if not self._frames:
            self.level_db = None
            return
        frames, levels = np.concatenate(self._frames), np.concatenate(self._levels)
        levels = levels[frames >= oldest]
        self._frames, self._levels = [frames[frames >= oldest]], [levels]
        if levels.size < self._min:
            self.level_db = None
            return
        self.level_db = percentile(levels, self._percentile)
