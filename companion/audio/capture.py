"""Live capture of both parties: one input stream per device, a pump thread, hot-plug.

Threads at the edges: the PortAudio callback only copies the party's channel into
a preallocated ring (`SampleRing`) and never waits; overflows are counted. The
capture thread moves audio from the rings through the framer (resampling device
rates to the internal rate) into aligned `FrameBlock`s for the pipeline, keeps
both parties on the call clock (which starts when capture starts), and watches
each device: a device that stops delivering, or a PulseAudio source that
disappears, marks the party lost (silent, with a `DeviceStatus` event); it is
reopened with backoff, and the gap is on the timeline when it returns.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Protocol

import numpy as np
import numpy.typing as npt

from companion.audio.devices import InputDevice, guided_message, pulse_source_exists, pulse_sources, sounddevice
from companion.audio.framer import BlockAssembler, PartyFramer
from companion.audio.ring import SampleRing
from companion.config import AudioConfig, CaptureConfig
from companion.errors import DeviceError
from companion.events import CallStarted, DeviceStatus, Event, FrameBlock, LineStatus, Party

_OPEN_LOCK = threading.Lock()  # PULSE_SOURCE is process-wide: one stream opens at a time
OVERFLOW_REPORT_S = 5.0
# A party is padded with silence only when it has stayed behind the call clock for this long: a device (or a
# sound server under load) that hands its audio over in late bursts is behind between bursts, and silence put
# in front of audio that then arrives would move that party later on the clock for the rest of the call (a
# PulseAudio monitor on a busy machine: 0.3 s bursts, which read a 0.4 s reply as a talk-over). A device whose
# clock runs slow stays behind, by a lag that only grows: the least lag over this window is what it owes.
LAG_WINDOW_S = 2.0
# A stream's first sample is placed on the call clock once its audio has come for this long: each callback says
# its first sample was taken no later than (now - samples so far / rate), and the earliest of these is the start.
# The first callback alone would be late by however long the machine kept it waiting (a busy machine: 0.1-0.5 s,
# one party moved later than the other for the rest of the call); the backlog it then hands over tells.
PLACE_AFTER_S = 0.5


@dataclass
class _Line:
    """One party on one device channel."""

    party: Party
    channel: int
    ring: SampleRing
    framer: PartyFramer
    delivered: int = 0          # frames handed to the assembler
    awaiting_first: bool = True
    ever_captured: bool = False
    lost_at: Optional[float] = None  # call time the line went silent
    lags: deque[tuple[float, int]] = field(default_factory=deque)  # (monotonic time, frames behind the clock)

    def behind(self, mono: float, lag: int) -> int:
        """The frames this party has stayed behind the call clock through the last `LAG_WINDOW_S` (0 until it
        has been watched that long): the least of its lags there."""
        lags = self.lags
        lags.append((mono, lag))
        while len(lags) > 1 and lags[1][0] <= mono - LAG_WINDOW_S:
            lags.popleft()
        if mono - lags[0][0] < LAG_WINDOW_S:
            return 0
        return min(held for _, held in lags)


class _Stream(Protocol):
    """What capture uses of a PortAudio input stream (sounddevice.InputStream)."""

    @property
    def active(self) -> bool: ...

    def start(self) -> None: ...

    def abort(self) -> None: ...

    def close(self) -> None: ...


@dataclass
class DeviceInput:
    """One opened device (shared by both parties when a stereo device carries both)."""

    device: InputDevice
    lines: list[_Line]
    stream: Optional[_Stream] = None
    opened_at: float = 0.0
    last_data: float = 0.0
    first_data: Optional[float] = None   # when the stream's first sample was taken (monotonic), at the latest
    first_callback: float = 0.0          # when its first audio came
    received: int = 0                    # samples it has handed over since it opened
    port_overflows: int = 0
    state: str = "closed"       # "ok", "lost"
    attempts: int = 0
    next_retry: float = 0.0
    source_ok: bool = True
    reported_overflows: int = 0
    overflow_said_at: float = -1e9
    channels: int = field(init=False, default=1)
    _closers: list[threading.Thread] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.channels = max(line.channel for line in self.lines) + 1

    def callback(self, indata: npt.NDArray[np.float32], frames: int, time_info: Any, status: Any) -> None:  # PortAudio's thread: copy and go
        if status and status.input_overflow:
            self.port_overflows += 1
        now = time.monotonic()
        self.received += frames
        began = now - self.received / self.device.rate
        if self.first_data is None:
            self.first_callback = now  # (before first_data: the capture thread reads first_data first)
            self.first_data = began
        elif began < self.first_data:
            self.first_data = began
        self.last_data = now
        for line in self.lines:
            line.ring.write(indata[:, line.channel])

    def open(self) -> None:
        sd = sounddevice()
        with _OPEN_LOCK:
            saved = os.environ.get("PULSE_SOURCE")
            if self.device.pulse_source:
                os.environ["PULSE_SOURCE"] = self.device.pulse_source
            try:
                stream = sd.InputStream(
                    device=self.device.portaudio_index, channels=self.channels, samplerate=self.device.rate,
                    dtype="float32", blocksize=max(1, self.device.rate // 50), callback=self.callback,
                )
                stream.start()
            finally:
                if self.device.pulse_source:
                    if saved is None:
                        os.environ.pop("PULSE_SOURCE", None)
                    else:
                        os.environ["PULSE_SOURCE"] = saved
        self.stream = stream
        self.opened_at = time.monotonic()
        self.first_data = None
        self.received = 0
        self.last_data = 0.0
        for line in self.lines:
            line.awaiting_first = True
            line.ring.read()  # whatever an old stream left is not this stream's audio

    def close(self, wait_s: float = 0.0) -> None:
        """Close the stream on a helper thread (a vanished device can block in close and must never
        stall the call); wait up to `wait_s` for it, and for any earlier close still running."""
        stream, self.stream = self.stream, None
        if stream is not None:

            def shut() -> None:
                try:
                    stream.abort()
                    stream.close()
                except Exception:  # noqa: BLE001 - a vanished device may not close cleanly
                    pass

            closer = threading.Thread(target=shut, name="close-stream", daemon=True)
            closer.start()
            self._closers.append(closer)
        if wait_s:
            deadline = time.monotonic() + wait_s
            for closer in self._closers:
                closer.join(max(0.0, deadline - time.monotonic()))
        self._closers = [c for c in self._closers if c.is_alive()]

    @property
    def label(self) -> str:
        return self.device.key if self.device.pulse_source else f"{self.device.name} (#{self.device.key})"


class LiveCapture(threading.Thread):
    """Captures the call and hands aligned blocks to `sink` (the pipeline's `offer`)."""

    def __init__(
        self,
        devices: dict[Party, tuple[InputDevice, int]],
        audio: AudioConfig,
        capture: CaptureConfig,
        sink: Callable[[FrameBlock], bool],
        publish: Callable[[Event], None],
    ) -> None:
        super().__init__(name="capture", daemon=True)
        self.audio, self.cfg = audio, capture
        self.sink, self.publish = sink, publish
        self.inputs: list[DeviceInput] = []
        by_key: dict[str, DeviceInput] = {}
        for party, (device, channel) in devices.items():
            line = _Line(party, channel, SampleRing(int(device.rate * capture.buffer_s)),
                         PartyFramer(device.rate, audio.sample_rate, audio.frame_len))
            if device.key in by_key:
                by_key[device.key].lines.append(line)
                by_key[device.key].channels = max(by_key[device.key].channels, channel + 1)
            else:
                by_key[device.key] = DeviceInput(device, [line])
                self.inputs.append(by_key[device.key])
        self.assembler = BlockAssembler(audio.frame_len, capture.live_block_frames)
        self._halt = threading.Event()
        self.t0 = 0.0
        self.blocks_offered = 0
        self.blocks_dropped = 0

    # --- control ---------------------------------------------------------------------------
    def open_all(self) -> None:
        """Open every device now; a device that cannot be opened at the start is a clear error."""
        for inp in self.inputs:
            parties = " and ".join(line.party for line in inp.lines)
            if inp.device.pulse_source and not pulse_source_exists(inp.device.pulse_source):
                self._close_all()
                raise DeviceError(f"The {parties} source {inp.device.pulse_source} does not exist; 'companion devices' lists them.")
            try:
                inp.open()
            except DeviceError:
                self._close_all()
                raise
            except Exception as exc:  # noqa: BLE001 - PortAudio errors become guided messages
                self._close_all()
                raise DeviceError(guided_message(exc, parties, inp.label)) from None
            inp.state = "ok"
        self.t0 = time.monotonic()
        self.publish(CallStarted(wall=time.time()))

    def stop(self) -> None:
        self._halt.set()
        self.join()

    @property
    def overflows(self) -> int:
        return sum(inp.port_overflows + sum(line.ring.overflows for line in inp.lines) for inp in self.inputs)

    def _close_all(self) -> None:
        for inp in self.inputs:
            inp.close(wait_s=2.0)  # before PortAudio shuts down at exit

    def now(self) -> float:
        return time.monotonic() - self.t0

    # --- the capture thread ---------------------------------------------------------------
    def run(self) -> None:
        if any(inp.device.pulse_source for inp in self.inputs):
            # asking the sound server can be slow: never on the thread that moves the audio
            threading.Thread(target=self._watch_sources, name="source-watch", daemon=True).start()
        try:
            while not self._halt.wait(self.cfg.poll_s):
                mono = time.monotonic()
                for inp in self.inputs:
                    self._watch(inp, mono)
                    self._report_overflows(inp, mono)
                self._move_audio(mono)
            self._move_audio(time.monotonic(), final=True)
        finally:
            self._close_all()
            for inp in self.inputs:
                for line in inp.lines:
                    line.framer.release()  # release the resamplers now, not at interpreter exit

    def _watch_sources(self) -> None:
        while not self._halt.wait(self.cfg.source_check_s):
            self._check_sources()

    def _check_sources(self) -> None:
        try:
            present = {s.name for s in pulse_sources()[0]}
        except Exception:  # noqa: BLE001 - the sound server itself is gone
            present = set()
        for inp in self.inputs:
            if inp.device.pulse_source:
                inp.source_ok = inp.device.pulse_source in present

    def _watch(self, inp: DeviceInput, mono: float) -> None:
        if inp.state == "ok":
            stream = inp.stream
            started = inp.first_data is not None
            silent_for = mono - (inp.last_data if started else inp.opened_at)
            limit = self.cfg.stall_s if started else self.cfg.start_grace_s
            if stream is None or not getattr(stream, "active", False) or silent_for > limit or not inp.source_ok:
                reason = "the source was removed" if not inp.source_ok else "no audio is arriving (unplugged?)"
                self._lose(inp, mono, reason)
        elif inp.state == "lost":
            if inp.device.pulse_source:
                if inp.source_ok:  # checked every source_check_s: reconnect as soon as it is back
                    self._retry(inp, mono)
            elif mono >= inp.next_retry:
                self._retry(inp, mono)

    def _report_overflows(self, inp: DeviceInput, mono: float) -> None:
        """Audio dropped because the computer fell behind is said, at most every few seconds."""
        count = inp.port_overflows + sum(line.ring.overflows for line in inp.lines)
        if count > inp.reported_overflows and mono - inp.overflow_said_at >= OVERFLOW_REPORT_S:
            new = count - inp.reported_overflows
            inp.reported_overflows, inp.overflow_said_at = count, mono
            for line in inp.lines:
                self.publish(DeviceStatus(round(mono - self.t0, 3), line.party, LineStatus.OVERFLOW, inp.label,
                                          f"{new} piece(s) of {line.party} audio were lost: the computer is too busy."))

    def _lose(self, inp: DeviceInput, mono: float, reason: str) -> None:
        inp.close()
        inp.state, inp.attempts = "lost", 0
        inp.next_retry = mono + self.cfg.retry_s[0]
        t = round(mono - self.t0, 3)
        for line in inp.lines:
            line.lost_at = t
            self.publish(DeviceStatus(t, line.party, LineStatus.LOST, inp.label,
                                      f"Lost the {line.party} line ({inp.label}): {reason}. The {line.party} is silent until it "
                                      "returns; retrying."))

    def _retry(self, inp: DeviceInput, mono: float) -> None:
        inp.attempts += 1
        delay = self.cfg.retry_s[min(inp.attempts, len(self.cfg.retry_s) - 1)]
        inp.next_retry = mono + delay
        try:
            inp.open()
        except Exception:  # noqa: BLE001 - still gone: try again later
            inp.close()
            return
        inp.source_ok = True
        inp.state = "ok"  # "recovered" is said when its audio arrives

    def _announce(self, inp: DeviceInput, line: _Line, first_data: float) -> None:
        t = round(max(0.0, first_data - self.t0), 3)
        if not line.ever_captured:
            line.ever_captured = True
            self.publish(DeviceStatus(t, line.party, LineStatus.CAPTURING, inp.label, f"Capturing the {line.party} from {inp.label}."))
        else:
            self.publish(DeviceStatus(t, line.party, LineStatus.RECOVERED, inp.label, f"The {line.party} line is back ({inp.label}).",
                                      gap_start=line.lost_at, gap_end=t))

    def _silence(self, line: _Line, frames: int) -> None:
        if frames > 0:
            self.assembler.add(line.party, np.zeros((frames, self.audio.frame_len), np.float32))
            line.delivered += frames

    def _move_audio(self, mono: float, final: bool = False) -> None:
        frame_s = self.audio.frame_s
        expected = int((mono - self.t0) / frame_s)
        skew = int(self.cfg.max_skew_s / frame_s)
        for inp in self.inputs:
            for line in inp.lines:
                first_data = inp.first_data  # set by the PortAudio thread when a stream's audio first arrives
                if inp.state == "ok" and first_data is not None and line.awaiting_first \
                        and mono - inp.first_callback < PLACE_AFTER_S:
                    continue  # its audio waits in the ring until its start is known
                if inp.state == "ok" and first_data is not None:
                    data = line.ring.read()
                    frames = line.framer.push(data)
                    if line.awaiting_first and data.size:
                        # place the first audio of a (re)opened stream where it belongs on the call clock
                        line.awaiting_first = False
                        self._announce(inp, line, first_data)
                        start = int((first_data - self.t0) / frame_s)
                        if start > line.delivered:
                            self._silence(line, start - line.delivered)
                        else:
                            frames = frames[line.delivered - start :]
                    self.assembler.add(line.party, frames)
                    line.delivered += frames.shape[0]
                    owed = line.behind(mono, expected - line.delivered)
                    if owed > skew:  # a device running slow: what it has stayed behind by, not a late burst
                        self._silence(line, owed)
                        line.lags.clear()
                elif inp.state == "ok":
                    line.lags.clear()
                    self._silence(line, expected - skew - line.delivered)  # waiting for a new stream's first audio
                else:
                    line.lags.clear()
                    self._silence(line, expected - line.delivered)  # lost: the party is silent
        for block in self.assembler.ready(final=final):
            if self.sink(block):
                self.blocks_offered += 1
            else:
                self.blocks_dropped += 1
