"""Speech detection for one party: webrtcvad, gated by the line's own noise floor,
smoothed with an onset and a hangover into turns.

A frame counts as speech when webrtcvad (a detector trained for speech) says so
*and* it stands `snr_gate_db` above the quietest frame of the last few seconds,
so hiss, hum or a steady tone on a phone line stop counting once the floor has
caught up with them. Where that gate sits close under the party's voice (a steady noise
10-20 dB under it), it is lowered to the noise's own reach: steady noise flickers little
from frame to frame, and the voice's softer syllables stand out of it well under 9 dB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from companion.config import AudioConfig, VadConfig
from companion.order_stats import percentile
from companion.vad.own_voice import OwnVoice

SILENCE_DB = -100.0


class _Vad:
    """webrtcvad's detector, through its own C module: `import webrtcvad` also reads the installed packages'
    metadata for its version, about a third of the imports `analyze` needs (50 ms of CPU at every start)."""

    def __init__(self, mode: int) -> None:
        import _webrtcvad  # type: ignore[import-not-found]  # no stubs (nor for webrtcvad)

        self._vad = _webrtcvad.create()
        _webrtcvad.init(self._vad)
        _webrtcvad.set_mode(self._vad, mode)
        self._process = _webrtcvad.process

    def is_speech(self, frame: bytes, rate: int) -> bool:
        """Is this frame (16-bit mono samples, 10, 20 or 30 ms at 8, 16, 32 or 48 kHz) speech?"""
        return bool(self._process(self._vad, rate, frame, len(frame) // 2))


def frame_levels_db(frames: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """RMS level of each (DC-free) frame in dBFS; digital silence is -100 dB."""
    power = np.mean(frames.astype(np.float64) ** 2, axis=1)
    levels: npt.NDArray[np.float64] = 10.0 * np.log10(np.maximum(power, 1e-10))
    return levels


def to_pcm16(frames: npt.NDArray[np.float32]) -> npt.NDArray[np.int16]:
    return (np.clip(frames, -1.0, 1.0) * 32767.0).astype(np.int16)


# The soft first word is judged against the line's own noise. Its frames' levels flicker independently from one 20 ms
# frame to the next (their correlation is about 0 at every lag on the office, mu-law and clean lines of the real-voice
# calls), around a mean and with a spread that the line shows between turns. A murmur is a stretch whose level sits
# above that mean for longer than the flicker explains, however little above: Page's CUSUM finds where it began. Going
# back from the first clear speech, each frame adds its level over the noise's mean, in the noise's spreads, less
# SOFT_DRIFT; the murmur began where that sum is largest, if it reaches SOFT_EVIDENCE (stationary noise reaches it about
# once in exp(2 * SOFT_DRIFT * SOFT_EVIDENCE) ~ 20000 openings). Dips into the noise between syllables only take back
# what they last; a long, weak murmur counts as much as a short, clear one.
SOFT_DRIFT = 1.0           # spreads: half the smallest murmur told (2 spreads over the noise's mean, ~1.4 dB on the noisy line)
SOFT_EVIDENCE = 5.0        # spreads
NOISE_STATS_S = 5.0        # the noise's mean and spread: from the quiet frames of the 5 s before the look-back
MIN_SPREAD_DB = 0.25       # a line whose noise hardly flickers (digital silence) is read with at least this spread
# A line whose level wanders (a speakerphone, a head turning, an AGC: +-5 dB over 40 s moves up to 0.8 dB/s) moves on
# through the look-back. Read against the noise of the 5 s before it, a rising line's noise alone adds up to a murmur,
# and a turn moved 1.6 s back over the other party's words is a talk-over that never happened; on a falling line the
# noise reads higher than the look-back hears it, and a soft resumption is missed. The noise's last quiet frames tell:
# when they read (by their lower side, as the noise is) more than the noise's frame-to-frame flicker over or under the
# window's earlier quiet frames, and the level moves that way all along (a soft voice that set in before the look-back
# steps up instead), the line is moving, and the look-back is read against the noise carried on from them at the pace
# it moved (its spread read with that pace taken out). Only frames clear of the party's speech count for this (the gaps
# between words and a word's fading end are no noise), and the flicker is read from neighbouring frames' differences,
# which a drift does not widen (it widens the 5 s spread). On a steady line the last 25 frames' 30th percentile lies
# within 0.3 spreads of the earlier frames' (a 1-spread gap is a ~3.5-sigma draw), and the line reads as without this
# (every event identical on 81 calls).
RECENT_NOISE_FRAMES = 25   # the noise's last quiet frames (0.5 s of a quiet line): its level right before the look-back
RISE_GUARD_FRAMES = 10     # ... read on quiet frames at least this far (0.2 s) from the party's speech
RISE_SPREADS = 1.0         # ... they stand this many flickers over (under) the earlier frames: the line is moving
STEADY_GRID = 25           # frames: the steady noise's reach is read anew every 0.5 s of the call clock...
STEADY_STATS_S = 5.0       # ... from the frames under the speech gate of the 5 s before
STEADY_MIN_S = 1.0         # ... of which at least this much is needed
STEADY_VOICE_S = 2.0       # the party's loudest speech is known once this much of it has been heard


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
    soft_end_frame: Optional[int] = None     # a closing's soft last sound after it (exclusive), if any


class VoiceActivity:
    """One party's speech detector. Feed it frames in call order; it reports turn changes."""

    def __init__(self, vad: VadConfig, audio: AudioConfig) -> None:
        self._vad = _Vad(vad.aggressiveness)
        self._rate = audio.sample_rate
        self._gate_db = vad.snr_gate_db
        self._onset = max(1, round(vad.onset_s / audio.frame_s))
        self._hangover = max(1, round(vad.hangover_s / audio.frame_s))
        # who spoke first and last: a soft first word (a murmur under the gate on a noisy line) up to `preroll_s`
        # before a turn's first voiced frames, and a soft last one within the hangover after its last
        self._preroll = round(vad.preroll_s / audio.frame_s)
        self._noise_frames = round(NOISE_STATS_S / audio.frame_s)
        self._levels = np.zeros(0)     # the last frames' levels (look-back and noise), before this block
        self._raw = np.zeros(0)        # ... as heard (not capped at the gate)
        self._soft_depth = vad.own_voice_soft_db  # a soft word lies within this of the party's voice (0: anywhere)
        self._quiet = np.zeros(0, dtype=bool)  # ... and whether each was under the speech gate
        self._turn_end = -1              # where this party's last turn ended, its soft last sound included (a start
                                         # never moves back over it)
        self._window = max(1, round(vad.noise_window_s / audio.frame_s))  # in frames, whatever the block size
        # a steady noise close under the voice: the gate lowered to the noise's reach, not under the voice's depth
        self._steady = vad.voice_depth_db > 0.0
        self._spreads, self._margin, self._depth = vad.steady_spreads, vad.steady_margin_db, vad.voice_depth_db
        self._steady_frames = round(STEADY_STATS_S / audio.frame_s)
        self._steady_min = round(STEADY_MIN_S / audio.frame_s)
        self._history = np.zeros(0)                # the last frames' levels, raw, before this block ...
        self._history_quiet = np.zeros(0, dtype=bool)   # ... and whether each was under the floor's gate
        self._loudest = -np.inf                    # the party's loudest speech so far (over the floor's gate) ...
        self._heard = 0                            # ... and how many frames of it
        self._voice_frames = round(STEADY_VOICE_S / audio.frame_s)
        self._recent_levels = np.full(self._window - 1, np.inf)  # the levels before this block, within the window
        self._run = 0            # consecutive speech frames while not in a turn
        self._silent = 0         # consecutive non-speech frames while in a turn
        self._turn_start: Optional[int] = None
        self._last_voiced = -1
        self.speaking = False    # in a turn (including a hangover that may still end it)
        self.noise_floor_db = SILENCE_DB
        self.own_voice = OwnVoice(vad, audio)  # other people farther off in the room are not this party

    def process(
        self, first_frame: int, pcm16: npt.NDArray[np.int16], levels_db: npt.NDArray[np.float64],
        not_own_db: Optional[npt.NDArray[np.float64]] = None,
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], list[TurnChange]]:
        """Classify a block of frames. `not_own_db`: per frame, a level the party's own speech must reach to count
        (the other party's echo on this line, with its margin: companion/vad/echo.py); frames under it are neither
        this party's speech nor the line's noise.

        Returns (voiced, in_turn, changes): `voiced` is the raw per-frame speech
        decision over the floor's gate, `in_turn` whether each frame is (so far) inside a turn.
        """
        n = pcm16.shape[0]
        floors = self._floors(levels_db)
        if n:
            self.noise_floor_db = float(floors[-1])
        gates = floors + self._gate_db
        loud_enough = levels_db >= gates
        echo = None if not_own_db is None else levels_db < not_own_db
        asked = loud_enough if echo is None else loud_enough & ~echo
        pcm = pcm16.tobytes(), pcm16.itemsize * pcm16[0].size if n else 0
        if self._steady and n:
            heard, more, lowered = self._hear_steady(first_frame, levels_db, loud_enough, asked, echo, gates, pcm)
            loud_enough, gates = loud_enough | more, np.where(more, lowered, gates)
            # the soft syllables under the floor's gate make the turns (speaking time, talk share), not the voice's
            # frames for its loudness and pitch: returned as speech only over the floor's gate, as before
            speech, voiced = heard, heard & ~more
        else:
            voiced = np.zeros(n, dtype=bool)
            data, size = pcm
            for k in np.flatnonzero(asked).tolist():
                voiced[k] = self._vad.is_speech(data[k * size: (k + 1) * size], self._rate)
            speech = voiced
        far = None
        if self.own_voice.on and n:
            # speech of other people farther off in the room: neither this party's speech nor, for their soft first
            # and last words, anything but the line's noise
            own = self.own_voice.keep(first_frame, speech, levels_db)
            far = speech & ~own
            speech, voiced = own, voiced & own
        if self._preroll:
            keep = self._preroll + self._noise_frames + n  # this block, the look-back and the noise's
            # kept: each frame's level, capped at the speech gate (clear speech weighs no more than its softest frame);
            # the other party's echo is no soft word of this one's (kept at the floor) and not the line's noise
            capped = np.minimum(levels_db, gates)
            quiet = ~loud_enough if far is None else ~loud_enough | far
            if echo is not None:
                capped, quiet = np.where(echo, floors, capped), quiet & ~echo
            levels = np.concatenate((self._levels, capped))
            quiet = np.concatenate((self._quiet, quiet))
            self._levels, self._quiet = levels[max(0, levels.size - keep):], quiet[max(0, quiet.size - keep):]
            if self._soft_depth > 0.0:
                raw = np.concatenate((self._raw, levels_db))
                self._raw = raw[max(0, raw.size - keep):]
        changes: list[TurnChange] = []
        if not self.speaking and not speech.any():  # silence between turns: nothing to follow frame by frame
            if n:
                self._run = 0
            return voiced, np.zeros(n, dtype=bool), changes
        # run by run (a stretch of frames all voiced or all not): each frame of a run would do the same, so a run
        # moves the onset or hangover count by its length, and a turn opens or closes at the frame that count reaches
        in_turn = np.zeros(n, dtype=bool)
        edges = np.flatnonzero(speech[1:] != speech[:-1]) + 1
        starts, ends = [0] + edges.tolist(), edges.tolist() + [n]
        is_voiced = bool(speech[0])
        for a, b in zip(starts, ends):
            if is_voiced:
                self._last_voiced = first_frame + b - 1
                if self.speaking:
                    self._silent = 0
                    in_turn[a:b] = True
                elif self._run + (b - a) >= self._onset:
                    at = a + self._onset - self._run - 1   # the frame the onset is reached on
                    self.speaking = True
                    self._turn_start = first_frame + a - self._run
                    soft = self._soft_start(self._turn_start, first_frame + n)
                    self._silent = self._run = 0  # the next turn needs its own onset
                    changes.append(TurnChange(self._turn_start, None, first_frame + at,
                                              soft if soft < self._turn_start else None))
                    in_turn[at:b] = True
                else:
                    self._run += b - a
            elif self.speaking:
                if self._turn_start is not None and self._silent + (b - a) >= self._hangover:  # in a turn: it has a start
                    at = a + self._hangover - self._silent - 1   # the frame the hangover runs out on
                    self._silent = self._hangover
                    end = self._last_voiced + 1
                    soft_end = self._soft_end(end, first_frame + at + 1, first_frame + n)
                    changes.append(TurnChange(self._turn_start, end, first_frame + at,
                                              soft_end_frame=soft_end if soft_end > end else None))
                    self._turn_end = max(end, soft_end)   # its soft last sound was this turn's, not the next one's
                    self.speaking = False
                    self._turn_start = None
                    in_turn[a:at] = True
                    if at + 1 < b:
                        self._run = 0
                else:
                    self._silent += b - a
                    in_turn[a:b] = True
            else:
                self._run = 0
            is_voiced = not is_voiced
        return voiced, in_turn, changes

    def _soft_start(self, start: int, block_end: int) -> int:
        """`start` moved back to where the soft sound just before it began (see SOFT_DRIFT), at most `preroll_s` back."""
        if not self._preroll:
            return start
        levels, first = self._levels, block_end - self._levels.size   # levels[k] is frame first + k
        earliest = max(start - self._preroll, self._turn_end, first)
        noise = self._moving_noise(start - self._preroll - first)
        if earliest >= start or noise is None:
            return start
        back = np.arange(start - first - 1, earliest - first - 1, -1)   # the look-back's frames, from the speech back
        return start - _murmur(self._own_soft(levels, back, noise.mean_at(back)), noise.mean_at(back), noise.spread)

    def _soft_end(self, end: int, until: int, block_end: int) -> int:
        """`end` moved on to where the soft sound just after it ended (the mirror of `_soft_start`), up to `until`."""
        if not self._preroll:
            return end
        levels, first = self._levels, block_end - self._levels.size
        noise = self._moving_noise(end - self._preroll - first)
        if end < first or until <= end or noise is None:
            return end
        ahead = np.arange(end - first, until - first)
        return end + _murmur(self._own_soft(levels, ahead, noise.mean_at(ahead)), noise.mean_at(ahead), noise.spread)

    def _own_soft(self, levels: npt.NDArray[np.float64], at: npt.NDArray[np.intp],
                  mean: npt.NDArray[np.float64] | float) -> npt.NDArray[np.float64]:
        """The levels of frames `at` as a soft word of this party's may be read from: a frame farther than
        `own_voice_soft_db` under their voice (other people in the room, far off) reads as the noise's mean."""
        voice = self.own_voice.level_db
        if self._soft_depth <= 0.0 or voice is None:
            return levels[at]
        return np.where(self._raw[at] < voice - self._soft_depth, mean, levels[at])

    def _noise(self, before: int) -> Optional[tuple[float, float]]:
        """The line's noise (its frames' mean level and their spread, dB), from the quiet frames of the NOISE_STATS_S
        before index `before` of the kept levels (read by their lower side: `_noise_stats`); None while too little of
        the line has been heard."""
        lo = max(0, before - self._noise_frames)
        hi = max(lo, before)
        noise = self._levels[lo:hi][self._quiet[lo:hi]]
        return _noise_stats(noise) if noise.size >= 20 else None

    def _hear_steady(
        self, first_frame: int, levels_db: npt.NDArray[np.float64], loud: npt.NDArray[np.bool_],
        asked: npt.NDArray[np.bool_], echo: Optional[npt.NDArray[np.bool_]], gates: npt.NDArray[np.float64],
        pcm: tuple[bytes, int],
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.float64]]:
        """webrtcvad's answer on the frames over the floor's gate and on those over the gate lowered to a steady noise's
        reach, asked in frame order (the detector keeps a state); returns (voiced, the frames heard only under the
        lowered gate, the lowered gate of each frame).

        The reach: the mean of the noise's frames plus `steady_spreads` of their spreads plus `steady_margin_db`, read
        every STEADY_GRID frames of the call clock from the frames under the floor's gate of the STEADY_STATS_S before.
        The lowered gate is never deeper than `voice_depth_db` under the party's loudest speech before the frame (over
        the floor's gate), and nothing is lowered before STEADY_VOICE_S of that speech: a clean line, whose floor's
        gate already sits deeper, is read as before. Exact per frame, whatever the block size."""
        n = levels_db.size
        data, size = pcm
        history = np.concatenate((self._history, levels_db))
        history_quiet = np.concatenate((self._history_quiet, ~loud))
        first = first_frame - self._history.size   # history[k] is frame first + k
        keep = self._steady_frames + STEADY_GRID
        self._history, self._history_quiet = history[max(0, history.size - keep):], history_quiet[max(0, history.size - keep):]
        # frames that may be heard under the floor's gate (the loudest speech only grows, the count of it too)
        maybe = ~loud & (levels_db >= self._loudest - self._depth)
        maybe &= self._heard + np.cumsum(asked) - asked >= self._voice_frames
        if echo is not None:
            maybe &= ~echo
        voiced, more = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        lowered = np.full(n, np.inf)
        loudest, heard = self._loudest, self._heard
        reach: dict[int, float] = {}
        is_speech, rate = self._vad.is_speech, self._rate
        for k in np.flatnonzero(asked | maybe).tolist():
            if asked[k]:
                voiced[k] = is_speech(data[k * size: (k + 1) * size], rate)
                if voiced[k]:
                    heard += 1
                    loudest = max(loudest, float(levels_db[k]))
                continue
            bound = loudest - self._depth
            if heard < self._voice_frames or bound >= gates[k]:
                continue
            g = (first_frame + k) // STEADY_GRID * STEADY_GRID
            if g not in reach:
                lo, hi = max(0, g - self._steady_frames - first), max(0, g - first)
                noise = history[lo:hi][history_quiet[lo:hi]]
                reach[g] = np.inf
                if noise.size >= self._steady_min:
                    mean, spread = _noise_stats(noise)
                    reach[g] = mean + self._spreads * spread + self._margin
            lowered[k] = max(reach[g], bound)
            if levels_db[k] >= lowered[k]:
                more[k] = True
                voiced[k] = is_speech(data[k * size: (k + 1) * size], rate)
        self._loudest, self._heard = loudest, heard
        return voiced, more, lowered

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

    def _moving_noise(self, before: int) -> Optional["_Noise"]:
        """The line's noise for a look-back starting at index `before` of the kept levels (`_noise`), and, when its level
        moves through the window (see RISE_SPREADS), how it moves on through the look-back."""
        stats = self._noise(before)
        if stats is None:
            return None
        mean, spread = stats
        lo = max(0, before - self._noise_frames)
        hi = max(lo, before)
        at = np.flatnonzero(self._quiet[lo:hi]) + lo
        noise = self._levels[at]
        # a move is read on frames clear of speech (its fading ends and the gaps between its words are no noise)
        near = ~self._quiet[lo:hi + RISE_GUARD_FRAMES]
        clear = np.convolve(near, np.ones(2 * RISE_GUARD_FRAMES + 1), "same")[at - lo] == 0
        if np.count_nonzero(clear) < 2 * RECENT_NOISE_FRAMES:
            return _Noise(mean, spread)
        at_clear, clear_levels = at[clear], noise[clear]
        # three stretches of them, oldest first (the last RECENT_NOISE_FRAMES, the earlier ones halved): their levels
        # (by their lower side) and middles
        cut = (clear_levels.size - RECENT_NOISE_FRAMES) // 2
        parts = [slice(0, cut), slice(cut, -RECENT_NOISE_FRAMES), slice(-RECENT_NOISE_FRAMES, None)]
        means = [float(percentile(clear_levels[k], 30.0)) + 0.524 * spread for k in parts]
        middles = [float(np.mean(at_clear[k])) for k in parts]
        recent_mean, earlier_mean = means[2], float(percentile(clear_levels[:-RECENT_NOISE_FRAMES], 30.0)) + 0.524 * spread
        if abs(recent_mean - earlier_mean) <= RISE_SPREADS * _flicker(at_clear, clear_levels):
            return _Noise(mean, spread)
        since = middles[2]
        rise = (recent_mean - earlier_mean) / (since - float(np.mean(at_clear[:-RECENT_NOISE_FRAMES])))
        # a wandering level moves all along; a soft voice that set in before the look-back (a murmur longer than
        # `preroll_s`) steps up: each stretch must move on from the one before by at least a quarter of what the rise
        # predicts
        if any((means[k + 1] - means[k]) * np.sign(rise) < 0.25 * abs(rise) * (middles[k + 1] - middles[k])
               for k in range(2)):
            return _Noise(mean, spread)
        recent_mean, spread = _noise_stats(noise - rise * (at - since))   # as it would read at `since`: without the drift
        return _Noise(recent_mean, spread, rise, since)


@dataclass(frozen=True)
class _Noise:
    """The line's noise for a look-back: its mean level and spread (dB); on a line whose level moves, its mean at kept
    index `since` and how fast it rises from there (dB per frame, under 0 falling)."""

    mean: float
    spread: float
    rise: float = 0.0
    since: float = 0.0

    def mean_at(self, frames: npt.NDArray[np.intp]) -> npt.NDArray[np.float64] | float:
        """The noise's mean level at each of `frames` (kept indices)."""
        if not self.rise:
            return self.mean
        means: npt.NDArray[np.float64] = self.mean + self.rise * (frames.astype(np.float64) - self.since)
        return means


def _noise_stats(levels: npt.NDArray[np.float64]) -> tuple[float, float]:
    """A noise's mean level and spread (dB) from its frames' levels, read by its lower side, which soft speech does not
    reach (for noise, the 5th and 30th percentiles lie 1.12 spreads apart, the 30th 0.52 of a spread under the mean)."""
    p5, p30 = percentile(levels, 5.0), percentile(levels, 30.0)
    spread = max(MIN_SPREAD_DB, float(p30 - p5) / 1.121)
    return float(p30) + 0.524 * spread, spread


def _flicker(at: npt.NDArray[np.intp], levels: npt.NDArray[np.float64]) -> float:
    """The noise's spread from one frame to the next (dB), which a wandering level does not widen: from the level
    differences of neighbouring quiet frames (`levels` at kept indices `at`), whose median size is 0.954 spreads."""
    steps = np.abs(np.diff(levels))[np.diff(at) == 1]
    return max(MIN_SPREAD_DB, float(np.median(steps)) / 0.954) if steps.size else float("inf")


def _murmur(levels: npt.NDArray[np.float64], mean: npt.NDArray[np.float64] | float, spread: float) -> int:
    """How many of `levels` (frames read away from the clear speech) a soft sound spans: to where the CUSUM of their
    level over the noise's mean, in its spreads, less SOFT_DRIFT, peaks, if that peak reaches SOFT_EVIDENCE; else 0."""
    if not levels.size:
        return 0
    evidence = np.cumsum((levels - mean) / spread - SOFT_DRIFT)
    best = int(np.argmax(evidence))
    return best + 1 if evidence[best] >= SOFT_EVIDENCE else 0
