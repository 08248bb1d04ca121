"""The one call pipeline: source -> frames -> monitor (voice activity, metrics) -> coach -> events.

Live calls, the demo and `companion analyze` all run through `CallPipeline`;
only the source and what subscribes to the bus differ.
"""

from __future__ import annotations

import threading
from typing import Iterable, Optional

from companion.bus import EventBus
from companion.coach.rules import Coach
from companion.config import CoachingConfig
from companion.events import FrameBlock
from companion.frame_queue import FrameQueue
from companion.monitor.call_monitor import CallMonitor
from companion.monitor.worker import MonitorWorker


class CallPipeline:
    def __init__(self, config: CoachingConfig, bus: Optional[EventBus] = None):
        self.config = config
        self.bus = bus or EventBus()
        self.frames = FrameQueue(config.audio.queue_blocks)
        self.monitor = CallMonitor(config)
        self.coach = Coach(config.coach)
        self.worker = MonitorWorker(self.monitor, self.coach, self.frames, self.bus)
        self._closed = False

    def start(self) -> "CallPipeline":
        self.worker.start()
        return self

    def put(self, block: FrameBlock) -> None:
        """Hand a block over, waiting for room: nothing is dropped (files, demo)."""
        self.frames.put(block)

    def offer(self, block: FrameBlock) -> bool:
        """Hand a block over without ever waiting (live capture callbacks)."""
        return self.frames.offer(block)

    def finish(self, timeout: Optional[float] = None) -> None:
        """End of the call: the monitor processes everything queued, then publishes CallEnded."""
        if not self._closed:
            self._closed = True
            self.frames.close()
        self.worker.join(timeout)

    def run(self, blocks: Iterable[FrameBlock], stop: Optional[threading.Event] = None) -> None:
        """Feed a whole source through, waiting for room, then finish."""
        self.start()
        try:
            for block in blocks:
                if stop is not None and stop.is_set():
                    break
                self.put(block)
        finally:
            self.finish()
        if self.worker.error is not None:
            raise self.worker.error
