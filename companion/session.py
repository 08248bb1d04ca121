"""One call, start to end, for the window (and anything else that drives calls interactively).

A `CallSession` owns the pipeline, the source (the demo call played in real time, or the
live devices) and the checklist; everything it learns goes out on its bus. Starting and
stopping never block the caller: the feeding and the final flush run on their own threads.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Optional

from companion.asr.engine import LoadedModel
from companion.audio.file_source import CallFileSpec, FileCallSource
from companion.bus import EventBus
from companion.checklist import ChecklistTracker
from companion.config import CoachingConfig
from companion.events import CallStarted, FinalSegment, MonitorFailed
from companion.pipeline import CallPipeline
from companion.playbooks import Playbook


class CallSession:
    def __init__(self, config: CoachingConfig, playbook: Playbook, model: Optional[LoadedModel] = None,
                 bus: Optional[EventBus] = None):
        self.config = config
        self.bus = bus or EventBus()
        self.pipeline = CallPipeline(config, bus=self.bus, model=model)
        self.checklist = ChecklistTracker(playbook)
        self.bus.subscribe(self._on_event)
        self._stop = threading.Event()
        self._started_at: Optional[float] = None
        self._capture = None
        self._feeder: Optional[threading.Thread] = None
        self.ended = threading.Event()
        self._lock = threading.Lock()

    # --- starting -------------------------------------------------------------------------
    def start_demo(self, path: Path, speed: float = 1.0) -> None:
        """Play a two-channel recording through the live pipeline in real time (`speed` > 1: faster)."""
        source = FileCallSource(CallFileSpec(Path(path)), self.config.audio, realtime=True, speed=speed)
        self.speed = speed
        self.pipeline.start()
        self._started_at = time.monotonic()
        self.bus.publish(CallStarted(wall=time.time()))

        def feed() -> None:
            try:
                for block in source.blocks(stop=self._stop):
                    self.pipeline.put(block)
            except Exception as exc:  # noqa: BLE001 - reported, and the call still ends cleanly
                self.bus.publish(MonitorFailed(self.now(), f"The demo call could not be read: {exc}"))
            finally:
                self.pipeline.finish()
                self.ended.set()

        self._feeder = threading.Thread(target=feed, name="demo-feeder", daemon=True)
        self._feeder.start()

    def start_live(self, devices) -> None:
        """Capture the agent and the customer from `devices` (companion.live.LiveDevices)."""
        from companion.audio.capture import LiveCapture

        capture = LiveCapture(
            {"agent": (devices.agent, devices.agent_channel), "customer": (devices.customer, devices.customer_channel)},
            self.config.audio, self.config.capture, sink=self.pipeline.offer, publish=self.bus.publish,
        )
        self.pipeline.start()
        try:
            capture.open_all()
        except BaseException:
            self.pipeline.finish()
            self.ended.set()
            raise
        self._started_at = time.monotonic()
        self._capture = capture
        capture.start()

    # --- during the call ---------------------------------------------------------------------
    speed = 1.0

    def now(self) -> float:
        """Call time now (the demo's clock runs `speed` times faster)."""
        return 0.0 if self._started_at is None else (time.monotonic() - self._started_at) * self.speed

    def tick(self, step_id: str, done: bool = True) -> None:
        with self._lock:
            event = self.checklist.set_done(step_id, self.now(), done)
        if event is not None:
            self.bus.publish(event)

    def set_coach_config(self, config: CoachingConfig) -> None:
        """New thresholds apply at once: the coach reads its settings at every evaluation."""
        self.config = config
        self.pipeline.coach.config = config.coach
        self.pipeline.monitor.interruptions.config = config.interruptions

    def _on_event(self, event: object) -> None:
        if isinstance(event, FinalSegment):
            with self._lock:
                ticks = self.checklist.on_segment(event)
            for tick in ticks:
                self.bus.publish(tick)

    # --- stopping -------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop capturing; the last words are flushed and CallEnded published on a background thread."""
        self._stop.set()
        capture = self._capture
        if capture is not None and not self.ended.is_set():

            def close() -> None:
                capture.stop()
                self.pipeline.finish()
                self.ended.set()

            threading.Thread(target=close, name="call-close", daemon=True).start()
