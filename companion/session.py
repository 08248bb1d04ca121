"""One call, start to end: the one owner of a call's lifecycle, for the window, `companion live`
and the demo.

A `CallSession` owns the pipeline, the source (the demo call played in real time, or the live
devices), the checklist and whatever keeps the call (the store's recorder, the audio recording,
an events file); everything it learns goes out on its bus. Starting never blocks the caller;
`stop()` returns at once and ends the call on a background thread; `close(timeout)` ends it and
waits until the last words are flushed, the call is marked complete in the store and the audio
file is finished: the window calls it when it is closed mid-call, `live` when it is told to stop.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol

from companion.asr.engine import LoadedModel
from companion.audio.file_source import CallFileSpec, FileCallSource
from companion.bus import EventBus
from companion.checklist import ChecklistTracker
from companion.config import CoachingConfig
from companion.events import CallStarted, FinalSegment, MonitorFailed, StepTicked, StoringPaused
from companion.payment_cues import AutoPauseSettings, PaymentCueWatcher
from companion.pipeline import CallPipeline
from companion.playbooks import Playbook

if TYPE_CHECKING:
    from companion.asr.scripted import CallScript
    from companion.audio.capture import LiveCapture
    from companion.audio.devices import InputDevice
    from companion.store.recorder import CallRecorder

CLOSE_TIMEOUT_S = 10.0


class LiveLines(Protocol):
    """The devices (and channels) that carry the agent and the customer: companion.live.LiveDevices."""

    @property
    def agent(self) -> InputDevice: ...

    @property
    def agent_channel(self) -> int: ...

    @property
    def customer(self) -> InputDevice: ...

    @property
    def customer_channel(self) -> int: ...


def auto_pause_settings(config: CoachingConfig, playbook: Optional[Playbook]) -> AutoPauseSettings:
    """Automatic pause for payment as this call's settings and playbook ask: the playbook's own cues, if any."""
    privacy = config.privacy
    cues = playbook.payment_cues if playbook is not None and playbook.payment_cues else privacy.payment_cues
    return AutoPauseSettings(enabled=privacy.auto_pause, cues=tuple(cues), auto_resume_s=privacy.auto_resume_s)


class CallSession:
    def __init__(self, config: CoachingConfig, playbook: Optional[Playbook] = None, model: Optional[LoadedModel] = None,
                 bus: Optional[EventBus] = None) -> None:
        self.config = config
        self.bus = bus or EventBus()
        self.pipeline = CallPipeline(config, bus=self.bus, model=model)
        self.checklist = ChecklistTracker(playbook) if playbook is not None else None
        self.payment_cues = PaymentCueWatcher(auto_pause_settings(config, playbook), self._auto_pause)
        self.bus.subscribe(self.payment_cues)  # first: a pause it starts is applied before the words that said so are kept
        self.bus.subscribe(self._on_event)
        self.recorder: Optional[CallRecorder] = None  # when the call is kept in the store
        self._closers: list[Callable[[float], None]] = []
        self._stop = threading.Event()
        self._started_at: Optional[float] = None
        self._capture: Optional[LiveCapture] = None
        self._feeder: Optional[threading.Thread] = None
        self.ended = threading.Event()   # the call is over and everything that keeps it is finished
        self._lock = threading.Lock()
        self._close_lock = threading.Lock()
        self._closed = False

    # --- keeping the call -----------------------------------------------------------------------
    def keep(self, source: str, playbook: Optional[str] = None, record_audio: bool = False,
             **recorder_args: Any) -> CallRecorder:
        """Save this call in the local store as it happens (and its audio, when asked). Call before starting."""
        from companion.store.recorder import CallRecorder

        recorder = CallRecorder(source, playbook=playbook, redaction=self.config.privacy.redact,
                                publish=self.bus.publish, **recorder_args)
        self.recorder = recorder
        self.bus.subscribe(recorder)
        self.on_close(recorder.close)
        if record_audio:
            recorder.record_audio(self.pipeline, self.config.audio.sample_rate)
        return recorder

    def on_close(self, closer: Callable[[float], None]) -> None:
        """`closer(timeout)` runs once the pipeline has ended the call (e.g. an events file's close)."""
        self._closers.append(closer)

    # --- starting -------------------------------------------------------------------------
    def start_demo(self, path: Path, speed: float = 1.0, script: Optional[CallScript] = None) -> None:
        """Play a two-channel recording through the live pipeline in real time (`speed` > 1: faster).
        With no model, a `script` (companion.asr.scripted.CallScript) of the recording is its transcript."""
        source = FileCallSource(CallFileSpec(Path(path)), self.config.audio, realtime=True, speed=speed)
        self.speed = speed
        if script is not None:
            self.pipeline.transcribe_from_script(script)
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
                self.close()

        self._feeder = threading.Thread(target=feed, name="demo-feeder", daemon=True)
        self._feeder.start()

    def start_live(self, devices: LiveLines) -> None:
        """Capture the agent and the customer from `devices` (companion.live.LiveDevices)."""
        from companion.audio.capture import LiveCapture

        capture = LiveCapture(
            {"agent": (devices.agent, devices.agent_channel), "customer": (devices.customer, devices.customer_channel)},
            self.config.audio, self.config.capture, sink=self.pipeline.offer, publish=self.bus.publish,
        )
        self._use_calibration()
        self.pipeline.start()
        try:
            capture.open_all()
        except BaseException:
            self.close()
            raise
        self._started_at = time.monotonic()
        self._capture = capture
        capture.start()

    def _use_calibration(self) -> None:
        """A live call is this agent's: their own pace calibration applies, and a call with a transcriber
        adds to it when it ends (a demo or a recording of someone else does neither)."""
        from companion.pace_calibration import load_calibration

        stored = load_calibration()
        if stored is not None:
            self.pipeline.monitor.calibration = dict(stored.units_per_word)
        self._learns = bool(self.pipeline.transcribers)

    _learns = False

    def _keep_calibration(self) -> None:
        from companion.pace_calibration import load_calibration, merge, save_calibration

        learned = self.pipeline.monitor.learner.result()
        if learned is None:
            return
        try:
            save_calibration(merge(load_calibration(), learned, self.config.pace.calibration_memory_words))
        except OSError:
            pass  # the settings folder is not writable: the next call simply is not calibrated from this one

    # --- during the call ---------------------------------------------------------------------
    speed = 1.0

    @property
    def capture(self) -> Optional[LiveCapture]:
        return self._capture

    def now(self) -> float:
        """Call time now (the demo's clock runs `speed` times faster)."""
        return 0.0 if self._started_at is None else (time.monotonic() - self._started_at) * self.speed

    def tick(self, step_id: str, done: bool = True) -> None:
        if self.checklist is None:
            return
        with self._lock:
            event = self.checklist.set_done(step_id, self.now(), done)
        if event is not None:
            self.bus.publish(event)

    def switch_playbook(self, playbook: Playbook) -> list[StepTicked]:
        """The agent switched the checklist to `playbook` for the rest of the call: what they say ticks its
        steps from now on; a step already done stays done where `playbook` has a step of the same id (returned,
        for the window's checklist); whatever keeps the call records the playbook it ended with."""
        with self._lock:
            tracker = ChecklistTracker(playbook)
            if self.checklist is not None:
                ids = {s.id for s in playbook.steps}
                tracker.done = {sid: tick for sid, tick in self.checklist.done.items() if sid in ids}
            self.checklist = tracker
            kept = list(tracker.done.values())
        self.payment_cues.use(auto_pause_settings(self.config, playbook))
        if self.recorder is not None:
            self.recorder.set_playbook(playbook.id)  # the saved call has the playbook it ended with
        return kept

    storing_paused = False

    def pause_storing(self, paused: bool = True) -> None:
        """Pause for payment: from now until resumed, nothing said is stored (text or audio) by
        whatever keeps the call; coaching from the sound goes on. Any thread."""
        self._set_paused(paused, round(self.now(), 2))

    def _auto_pause(self, paused: bool, t: float, cue: Optional[str]) -> None:
        """The payment-cue watcher's request: pause from `t`, when the cue was said, or resume at `t`."""
        self._set_paused(paused, round(min(t, self.now()) if paused else t, 2), automatic=True, cue=cue)

    def _set_paused(self, paused: bool, t: float, automatic: bool = False, cue: Optional[str] = None) -> None:
        with self._lock:
            if paused == self.storing_paused:
                return
            self.storing_paused = paused
        self.bus.publish(StoringPaused(t, paused, automatic=automatic, cue=cue))

    def set_coach_config(self, config: CoachingConfig) -> None:
        """New thresholds apply at once: the coach reads its settings at every evaluation."""
        self.config = config
        self.payment_cues.use(auto_pause_settings(config, self.checklist.playbook if self.checklist else None))
        self.pipeline.coach.config = config.coach
        self.pipeline.monitor.interruptions.config = config.interruptions

    def _on_event(self, event: object) -> None:
        if isinstance(event, FinalSegment) and self.checklist is not None:
            with self._lock:
                ticks = self.checklist.on_segment(event)
            for tick in ticks:
                self.bus.publish(tick)

    # --- stopping -------------------------------------------------------------------------------
    def stop(self) -> None:
        """End the call without waiting: the last words are flushed, CallEnded published and the
        call's store and audio finished on a background thread; `ended` is set when all is done."""
        self._stop.set()
        if not self.ended.is_set():
            threading.Thread(target=self.close, name="call-close", daemon=True).start()

    def close(self, timeout: float = CLOSE_TIMEOUT_S) -> bool:
        """End the call and wait (up to `timeout`) until everything that keeps it is finished:
        capture stopped, the last captured audio heard, recognisers flushed, the monitor's CallEnded
        written to the store, the audio file closed. Any thread, any number of times.
        Returns True when the call ended within `timeout`."""
        self._stop.set()
        deadline = time.monotonic() + timeout

        def left() -> float:
            return max(0.0, deadline - time.monotonic())

        if threading.current_thread() is self._feeder:  # the demo ran out: close unless a closer is already at it
            if not self._close_lock.acquire(blocking=False):
                return False  # that closer is waiting for this thread to end
        elif not self._close_lock.acquire(timeout=timeout):
            return self.ended.wait(max(0.0, deadline - time.monotonic()))
        try:
            if not self._closed:
                self._closed = True
                if self._capture is not None:
                    self._capture.stop()  # the last captured audio still goes in
                feeder = self._feeder
                if feeder is not None and feeder is not threading.current_thread():
                    feeder.join(left())
                self.pipeline.finish(left())  # recognisers flush, the monitor ends the call
                if self._learns and self._started_at is not None:
                    self._keep_calibration()
                if self._started_at is None and self.recorder is not None:
                    self.recorder.discard()  # a call that never started (no device) leaves nothing behind
                for closer in self._closers:
                    closer(max(left(), 1.0))
                self.ended.set()
        finally:
            self._close_lock.release()
        return self.ended.is_set()
