"""The one call pipeline: source -> frames -> (voice activity, transcriber) -> monitor -> coach -> events.

Live calls, the demo and `companion analyze` all run through `CallPipeline`;
only the source and what subscribes to the bus differ. Threads:

- the caller feeds blocks (`put` waits for room: files; `offer` never waits: live capture);
- one recogniser thread per party, when a model is loaded. Neither waits for the other nor for
  the monitor: each runs ahead as far as its bounded queue lets it;
- the monitor thread (turns, metrics, coach prompts), which also takes the
  recognised words for the pace.

Fed with `put` (a file, the demo), the monitor takes each block only once both recognisers have
heard it, and publishes what they said up to then first, in call order (companion.asr.call_order):
the order of a file's events never depends on the recognisers' speeds. Fed with `offer` (live), nothing waits
for a recogniser: each publishes its text as it forms, on its own thread.

Bus subscribers are called on the monitor or recogniser threads and must return quickly.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Optional, cast

from companion.asr.call_order import CallOrder
from companion.asr.engine import LoadedModel
from companion.asr.transcriber import PartyTranscriber, Transcriber
from companion.bus import EventBus
from companion.coach.rules import Coach
from companion.config import CoachingConfig
from companion.events import PARTIES, Event, FinalSegment, FrameBlock, Party
from companion.frame_queue import FrameQueue
from companion.monitor.call_monitor import CallMonitor
from companion.monitor.worker import MonitorWorker

if TYPE_CHECKING:
    from companion.asr.scripted import CallScript


class CallPipeline:
    def __init__(self, config: CoachingConfig, bus: Optional[EventBus] = None, model: Optional[LoadedModel] = None,
                 calibration: Optional[Mapping[str, float]] = None) -> None:
        self.config = config
        self.bus = bus or EventBus()
        self.frames: FrameQueue[FrameBlock] = FrameQueue(config.audio.queue_blocks)
        self.monitor = CallMonitor(config, calibration)
        self.coach = Coach(config.coach)
        self.worker = MonitorWorker(self.monitor, self.coach, self.frames, self.bus)
        self.transcribers: dict[Party, Transcriber] = {}
        if model is not None:
            for party in PARTIES:
                self.transcribers[party] = PartyTranscriber(party, model, config.audio, self._recogniser(party),
                                                            config.asr.queue_blocks)
        self._order = CallOrder(self.transcribers)
        self._in_step: Optional[bool] = None   # fed with put (True) or offer (False); None before the first block
        self.worker.heard = self._heard
        self.taps: list[Callable[[FrameBlock], None]] = []  # called with every block the call hears (e.g. the audio recorder)
        self._closed = False
        self.started = False

    def transcribe_from_script(self, script: CallScript) -> None:
        """With no model, take the words of a known script (companion.asr.scripted.CallScript) as each
        party says them: the demo's transcript. Before start()."""
        from companion.asr.scripted import ScriptedTranscriber

        if not self.transcribers and not self.started:
            for party in PARTIES:
                self.transcribers[party] = ScriptedTranscriber(party, script, self.config.audio, self._recogniser(party))

    def _recogniser(self, party: Party) -> Callable[[object], None]:
        return lambda event: self._recognised(party, event)

    def _recognised(self, party: Party, event: object) -> None:
        if self._in_step is False:  # live: at once, from the recogniser's thread
            if isinstance(event, FinalSegment):
                self.worker.segments.put(event)
            self.bus.publish(cast(Event, event))  # a recogniser's: PartialText, FinalSegment, TranscriberFailed
        else:  # published by the monitor, in call order, before the block that reaches the audio it was heard in
            self._order.hold(party, self.transcribers[party].heard_frames, event)

    def _heard(self, frames: Optional[int]) -> list[object]:
        """The recognisers' events to publish before the monitor's block ending at frame `frames`."""
        if self._in_step is False:
            return self._order.held()  # said before the first block (a recogniser that failed to start)
        return self._order.until(frames)

    def start(self) -> "CallPipeline":
        self.started = True
        for transcriber in self.transcribers.values():
            transcriber.start()
        self.worker.start()
        return self

    def put(self, block: FrameBlock) -> None:
        """Hand a block over, waiting for room (files, demo). The recognisers are not waited for
        here: the monitor sees a block only once both have heard it, so a file always gives the
        same result."""
        self._in_step = True
        for party, transcriber in self.transcribers.items():
            transcriber.put(block.first_frame, getattr(block, party))
        for tap in self.taps:
            tap(block)
        self.frames.put(block)

    def offer(self, block: FrameBlock) -> bool:
        """Hand a block over without ever waiting (live capture); drops are counted."""
        self._in_step = False
        for party, transcriber in self.transcribers.items():
            transcriber.offer(block.first_frame, getattr(block, party))
        for tap in self.taps:
            tap(block)
        return self.frames.offer(block)

    def reset_transcriber(self, party: str) -> None:
        if party in self.transcribers:
            self.transcribers[party].reset()

    def finish(self, timeout: Optional[float] = None) -> None:
        """End of the call: recognisers flush their last words, then the monitor
        processes everything queued and publishes CallEnded."""
        if not self.started:
            return
        if not self._closed:
            self._closed = True
            for transcriber in self.transcribers.values():
                transcriber.close()
            for transcriber in self.transcribers.values():
                transcriber.join(timeout)
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
