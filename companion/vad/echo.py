"""The agent's own voice coming back on the customer's line (line echo), told apart from the customer speaking.

A softphone hears the far end as it arrives: when the customer's phone or the network does not cancel the echo,
the agent's words come back on the customer's channel a fixed delay later and a fixed loss quieter. Heard as the
customer, every agent sentence would be a customer talking over the agent, and their mood would be read from the
agent's voice.

An echo follows the agent's level frame by frame: over the frames where the agent speaks, the customer channel's
level at a delay `d` rises and falls with the agent's (a Pearson correlation of the two dB levels near 1), where a
customer's own speech, or the line's noise, does not (near 0). Every `echo_every_s` the path is read again from the
last `echo_history_s`: the delay (0 to `echo_max_delay_s`) with the highest correlation, and if that correlation
reaches `echo_correlation` over at least `echo_min_agent_s` of the agent's speech, the path's loss (the median level
difference). While no path is known and that stretch holds too little of the agent's speech (a customer who talks for
17 s at a time to an agent who answers in a few seconds), it is read over up to the last `echo_history_most_s`. A path
once found is kept while the reading stays at `echo_release` or more. While a path is known, a frame of the customer's
channel counts as the customer's only when it stands `echo_margin_db` over the echo the path predicts for it; a
customer speaking over the agent is far louder than the echo of the agent, so a real talk-over is still heard.

The path is read at fixed frames of the call (every `echo_every_s` from its start), from the frames before, so a
live call's small blocks and a recording's large ones gate the same frames.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from companion.config import AudioConfig, VadConfig
from companion.order_stats import percentile

NO_ECHO_DB = -np.inf
SPREAD = 2             # frames either side of the delay an echo's level is taken from (the loudest)
LOSS_QUANTILE = 0.3    # of the agent-over-customer level differences on the agent's speech: the path's loss
ACTIVE_DB = 3.0        # a customer frame this far over the line's floor (its quietest tenth) carries sound
MIN_ACTIVE_SHARE = 0.15  # of the agent's voiced frames with sound on the customer's line, or no reading
DOUBLE_TALK_SHARE = 0.15  # of the agent's speech frames, those with the customer loudest for the agent's level


class EchoPath:
    """Follows the echo of the agent on the customer's channel; gives the level it predicts for each frame."""

    def __init__(self, vad: VadConfig, audio: AudioConfig) -> None:
        frame_s = audio.frame_s
        self._max_delay = max(0, round(vad.echo_max_delay_s / frame_s))
        self._history = max(1, round(vad.echo_history_s / frame_s))
        self._history_most = max(self._history, round(vad.echo_history_most_s / frame_s))
        self._every = max(1, round(vad.echo_every_s / frame_s))
        self._min_pairs = max(2, round(vad.echo_min_agent_s / frame_s))
        self._correlation = vad.echo_correlation
        self._release = vad.echo_release
        self.margin_db = vad.echo_margin_db
        keep = self._history_most + self._max_delay
        self._agent = np.zeros(0)         # the agent's levels, the last `keep` frames before this block
        self._voiced = np.zeros(0, dtype=bool)
        self._customer = np.zeros(0)
        self._keep = keep
        self._frames = 0                  # frames seen
        self.delay: Optional[int] = None  # frames, while a path is known
        self.loss_db = 0.0
        self.correlation = 0.0            # of the last reading

    def process(self, agent_db: npt.NDArray[np.float64], agent_voiced: npt.NDArray[np.bool_],
                customer_db: npt.NDArray[np.float64]) -> Optional[npt.NDArray[np.float64]]:
        """Take a block of both parties' frame levels (and the agent's voiced frames); return the echo level predicted
        on each of the block's customer frames (NO_ECHO_DB where none), or None when no path is known in the block."""
        n = agent_db.size
        agent = np.concatenate((self._agent, agent_db))
        voiced = np.concatenate((self._voiced, agent_voiced))
        customer = np.concatenate((self._customer, customer_db))
        base = agent.size - n              # index of this block's first frame in the joined arrays
        out: Optional[npt.NDArray[np.float64]] = None
        start = 0
        while start < n:
            frame = self._frames + start
            # the next reading falls on a multiple of `every` frames of the call
            stop = min(n, start + self._every - frame % self._every)
            if frame % self._every == 0 and frame:
                self._read(agent[: base + start], voiced[: base + start], customer[: base + start])
            if self.delay is not None:
                if out is None:
                    out = np.full(n, NO_ECHO_DB)
                # the loudest of the agent's frames around the delay: an echo falls between two frames and its
                # path smears it over a few tens of milliseconds, so one frame's level would under-read an onset
                # (never past the frame itself: a live call's small blocks and a recording's large ones agree)
                own = base + np.arange(start, stop)
                at = own - self.delay
                near = np.stack([agent[np.clip(at + k, 0, own)] for k in range(-SPREAD, SPREAD + 1)])
                predicted = near.max(axis=0) - self.loss_db
                ok = at + SPREAD >= 0
                out[start:stop][ok] = predicted[ok]
            start = stop
        self._frames += n
        self._agent, self._voiced, self._customer = agent[-self._keep:], voiced[-self._keep:], customer[-self._keep:]
        return out

    def _read(self, agent: npt.NDArray[np.float64], voiced: npt.NDArray[np.bool_],
              customer: npt.NDArray[np.float64]) -> None:
        """The path from the last `history` frames (customer frames) and the agent's frames up to `max_delay` before.
        Read again only when the agent has spoken since the last reading (nothing else can change it)."""
        m = min(self._history, customer.size - self._max_delay)
        if m < self._min_pairs or not voiced[-self._every - self._max_delay:].any():
            return
        if self.delay is None and np.count_nonzero(voiced[-m - self._max_delay:]) < self._min_pairs:
            # too little of the agent's speech lately to find a path in (a customer talking at length, an agent answering
            # briefly): further back, as far as `echo_history_most_s`
            m = min(self._history_most, customer.size - self._max_delay)
        y = customer[-m:]
        # an echo is heard on the customer's line while the agent speaks: where that line mostly sits at its own
        # floor meanwhile (a clean line's silence, a noisy line's noise), there is nothing to read (and no cost)
        floor = percentile(y, 10.0)
        while_agent = y[voiced[-m:]]
        if not while_agent.size or np.mean(while_agent > floor + ACTIVE_DB) < MIN_ACTIVE_SHARE:
            return
        # row k holds the agent's frames `max_delay - k` before the customer's: every delay at once
        start = agent.size - m - self._max_delay
        x = sliding_window_view(agent[start:], m)[::-1]
        on = sliding_window_view(voiced[start:], m)[::-1]
        n = on.sum(axis=1)
        usable = n >= self._min_pairs
        if not usable.any():
            return
        w = on.astype(np.float64)
        count = np.maximum(n, 1)
        mx, my = (x * w).sum(axis=1) / count, (w @ y) / count
        dx, dy = (x - mx[:, None]) * w, (y[None, :] - my[:, None]) * w
        vx, vy = (dx * dx).sum(axis=1), (dy * dy).sum(axis=1)
        r = np.where(usable & (vx > 0) & (vy > 0), (dx * dy).sum(axis=1) / np.sqrt(np.maximum(vx * vy, 1e-300)), -1.0)
        d = int(np.argmax(r))
        # at that delay, without the frames where the customer is loudest for the agent's level (their own words
        # over the agent's: a backchannel, a talk-over), which would pull an echo's correlation down
        xs, ys = x[d][on[d]], y[on[d]]
        kept = ys - xs <= percentile(ys - xs, 100.0 * (1.0 - DOUBLE_TALK_SHARE))
        best = _pearson(xs[kept], ys[kept])
        self.correlation = best
        # found at `echo_correlation`, kept down to `echo_release`: a line's echo path lasts the call, and the
        # customer's own words over the agent's pull a reading down for a while
        if best >= (self._correlation if self.delay is None else self._release):
            self.delay = d
            # the loss where the echo is heard best, from the agent's loudest frame around the delay (as predicted):
            # where the echo sinks under the line's noise the difference reads larger than the path's, so a low
            # quantile and not the median
            lo = agent.size - m - d
            near = np.stack([agent[lo + k: lo + k + m] for k in range(-SPREAD, SPREAD + 1)
                             if lo + k >= 0 and lo + k + m <= agent.size]).max(axis=0)
            self.loss_db = percentile(near[on[d]] - y[on[d]], 100.0 * LOSS_QUANTILE)
        else:
            self.delay = None


def _pearson(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> float:
    if x.size < 2:
        return -1.0
    sx, sy = x.std(), y.std()
    if sx <= 0 or sy <= 0:
        return -1.0
    return float(np.mean((x - x.mean()) * (y - y.mean())) / (sx * sy))
