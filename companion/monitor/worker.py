"""The monitor thread: frames in from a bounded queue, events out to the bus.

It runs the monitor, hands every evaluation snapshot to the coach, and publishes
turns, interruptions, dead air, prompts and (every `metrics_every_s`) a metrics
snapshot. An error ends the call cleanly with a `MonitorFailed` event; whatever
was already published stays published.
"""

from __future__ import annotations

import queue
import threading
from typing import Callable, Optional, cast

from companion.bus import EventBus
from companion.coach.rules import Coach
from companion.events import CallEnded, Event, FinalSegment, FrameBlock, MetricsSnapshot, MonitorFailed
from companion.frame_queue import FrameQueue
from companion.monitor.call_monitor import CallMonitor


class MonitorWorker(threading.Thread):
    def __init__(self, monitor: CallMonitor, coach: Coach, frames: FrameQueue[FrameBlock], bus: EventBus):
        super().__init__(name="call-monitor", daemon=True)
        self.monitor = monitor
        self.coach = coach
        self.frames = frames
        self.bus = bus
        self._metrics_ms = max(1, round(monitor.config.coach.metrics_every_s * 1000))
        self._published = 0  # metrics periods published so far
        self.segments: queue.SimpleQueue[FinalSegment] = queue.SimpleQueue()  # recognised words, from the transcribers
        # the recognisers' events heard by a frame of the call (None: its end), in call order, published here
        # before the block that reaches them (companion.asr.call_order); None: they publish their own
        self.heard: Optional[Callable[[Optional[int]], list[object]]] = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while True:
                block = self.frames.get()
                self._take_heard(None if block is None else block.first_frame + block.frames)
                self._take_segments()
                if block is None:
                    break
                self.monitor.dropped_blocks = self.frames.dropped
                self._publish(self.monitor.process(block))
            self._publish(self.monitor.finish(), final=True)
        except BaseException as exc:  # noqa: BLE001 - reported as an event, never lost silently
            self.error = exc
            self.bus.publish(MonitorFailed(self.monitor.now, f"{type(exc).__name__}: {exc}"))
            self._drain()
        wpm = self.monitor.whole_call_wpm()
        self.bus.publish(CallEnded(duration_s=round(self.monitor.now, 3), dropped_blocks=self.frames.dropped,
                                   agent_wpm=None if wpm is None else round(wpm, 1), pace_source=self.monitor.pace_source))

    def _take_segments(self) -> None:
        while True:
            try:
                self.monitor.add_segment(self.segments.get_nowait())
            except queue.Empty:
                return

    def _take_heard(self, frames: Optional[int], pace: bool = True) -> None:
        if self.heard is None:
            return
        for event in self.heard(frames):
            if pace and isinstance(event, FinalSegment):
                self.monitor.add_segment(event)
            self.bus.publish(cast(Event, event))  # the recognisers' events, held in call order

    def _drain(self) -> None:
        while True:  # the recognisers' words still reach the subscribers (the transcript is kept)
            block = self.frames.get()
            self._take_heard(None if block is None else block.first_frame + block.frames, pace=False)
            if block is None:
                return

    def _publish(self, events: list[Event], final: bool = False) -> None:
        for event in events:
            if isinstance(event, MetricsSnapshot):
                for prompt in self.coach.evaluate(event):
                    self.bus.publish(prompt)
                period = round(event.t * 1000) // self._metrics_ms
                if final or period > self._published:
                    self._published = period
                    self.bus.publish(event)
            else:
                self.bus.publish(event)
