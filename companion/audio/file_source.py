"""Call recordings as phone systems write them, read as two parties on one clock.

One stereo file (agent on channel 0, customer on channel 1 by default) or two
mono files, one per party. WAV (PCM 16/24/32, float, mu-law, A-law), FLAC and
anything else libsndfile reads; any rate from 8 kHz up, resampled to the internal rate.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import numpy as np
import soundfile as sf

from companion.audio.framer import BlockAssembler, PartyFramer
from companion.audio.wav_header import missing_data_bytes
from companion.config import AudioConfig
from companion.errors import AudioInputError
from companion.events import FrameBlock, Party
from companion.textsafe import shown

MIN_RATE = 8000
READ_SECONDS = 0.5
PCM16_SCALE = np.float32(1.0 / 32768.0)   # libsndfile's 16-bit samples as floats: exact in float32


@dataclass(frozen=True)
class CallFileSpec:
    path: Path
    customer_path: Optional[Path] = None
    agent_channel: Optional[int] = None      # default 0
    customer_channel: Optional[int] = None   # default 1 in a stereo call, 0 in a customer file


@dataclass(frozen=True)
class _Track:
    party: Party
    path: Path
    channel: int


def _describe(path: Path) -> str:
    """The file's name as it may be printed (escape sequences in it written out, never sent to the terminal)."""
    return shown(path.name or str(path))


def _open(path: Path) -> sf.SoundFile:
    if not path.exists():
        raise AudioInputError(f"No such file: {shown(path)}")
    if path.is_dir():
        raise AudioInputError(f"{shown(path)} is a folder, not a call recording.")
    if not path.is_file():  # a pipe or a device would block or never end
        raise AudioInputError(f"{shown(path)} is not a regular file (a pipe or a device); save the recording to a file first.")
    try:
        handle = sf.SoundFile(str(path))
    except sf.LibsndfileError as exc:
        raise AudioInputError(
            f"{_describe(path)} is not an audio file we can read ({exc.error_string.rstrip('.')}); "
            "use WAV or FLAC."
        ) from None
    except OSError as exc:
        raise AudioInputError(f"Cannot open {shown(path)}: {exc.strerror or exc}") from None
    if handle.samplerate < MIN_RATE:
        handle.close()
        raise AudioInputError(f"{_describe(path)} is sampled at {handle.samplerate} Hz; calls need at least {MIN_RATE} Hz.")
    if handle.frames == 0:
        handle.close()
        raise AudioInputError(f"{_describe(path)} holds no audio.")
    return handle


def _check_channel(handle: sf.SoundFile, path: Path, channel: int, flag: str) -> None:
    if not 0 <= channel < handle.channels:
        have = "channel 0 only" if handle.channels == 1 else f"channels 0-{handle.channels - 1}"
        raise AudioInputError(
            f"{_describe(path)} has {handle.channels} channel{'s' if handle.channels > 1 else ''} "
            f"({have}); {flag} {channel} does not exist."
        )


class FileCallSource:
    """Reads a call recording and yields FrameBlocks, as fast as possible or paced in real time."""

    def __init__(self, spec: CallFileSpec, audio: AudioConfig, realtime: bool = False, speed: float = 1.0) -> None:
        self.spec = spec
        self.audio = audio
        self.realtime = realtime
        self.speed = speed  # paced playback: 1.0 is real time
        self._handles: dict[Path, sf.SoundFile] = {}
        try:
            self._tracks = self._plan(spec)
        except AudioInputError:
            self.close()
            raise
        rates = {t.path: self._handles[t.path].samplerate for t in self._tracks}
        self.duration_s = max(h.frames / h.samplerate for h in self._handles.values())
        self.input_rates = rates
        self.warnings: list[str] = []  # said once each, after the call (by whoever runs it)
        for path, handle in self._handles.items():
            short = missing_data_bytes(path)
            if short is not None:
                declared_s = handle.frames / handle.samplerate * short[0] / max(short[1], 1)
                self.warnings.append(
                    f"{_describe(path)} ends at {handle.frames / handle.samplerate:.1f} s but its header says "
                    f"{declared_s:.1f} s: the recording was cut short; the {handle.frames / handle.samplerate:.1f} s "
                    "that are there were analysed.")

    def _handle(self, path: Path) -> sf.SoundFile:
        if path not in self._handles:
            self._handles[path] = _open(path)
        return self._handles[path]

    def _plan(self, spec: CallFileSpec) -> list[_Track]:
        path = Path(spec.path)
        main = self._handle(path)
        agent_ch = 0 if spec.agent_channel is None else spec.agent_channel
        _check_channel(main, path, agent_ch, "--agent-channel")
        if spec.customer_path is not None:
            cpath = Path(spec.customer_path)
            if cpath.resolve() == path.resolve():
                raise AudioInputError("--customer names the same file as the call; give the customer's own recording.")
            other = self._handle(cpath)
            cust_ch = 0 if spec.customer_channel is None else spec.customer_channel
            _check_channel(other, cpath, cust_ch, "--customer-channel")
            return [_Track("agent", path, agent_ch), _Track("customer", cpath, cust_ch)]
        if main.channels == 1:
            raise AudioInputError(
                f"{_describe(path)} is mono, so it holds only one party; give the customer's side with "
                "--customer FILE, or use a two-channel recording."
            )
        cust_ch = 1 if spec.customer_channel is None else spec.customer_channel
        _check_channel(main, path, cust_ch, "--customer-channel")
        if cust_ch == agent_ch:
            raise AudioInputError(f"The agent and the customer are both set to channel {agent_ch}; choose two different channels.")
        return [_Track("agent", path, agent_ch), _Track("customer", path, cust_ch)]

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()

    def blocks(self, stop: Optional[threading.Event] = None) -> Iterator[FrameBlock]:
        """Every frame of the call, both parties aligned; the last block is padded with silence."""
        audio = self.audio
        assembler = BlockAssembler(audio.frame_len, audio.file_block_frames)
        framers = {
            t.party: PartyFramer(self._handles[t.path].samplerate, audio.sample_rate, audio.frame_len)
            for t in self._tracks
        }
        by_path: dict[Path, list[_Track]] = {}
        for track in self._tracks:
            by_path.setdefault(track.path, []).append(track)
        done = {path: False for path in by_path}
        started = time.monotonic()
        frame_s = audio.frame_s
        try:
            while not all(done.values()):
                if stop is not None and stop.is_set():
                    return
                for path, tracks in by_path.items():
                    if done[path]:
                        continue
                    handle = self._handles[path]
                    pcm16 = handle.subtype == "PCM_16"
                    try:
                        data = handle.read(int(handle.samplerate * READ_SECONDS), dtype="int16" if pcm16 else "float32",
                                           always_2d=True)
                    except (sf.LibsndfileError, RuntimeError) as exc:
                        raise AudioInputError(f"{_describe(path)} is damaged and could not be read to the end ({exc}).") from None
                    last = data.shape[0] == 0 or handle.tell() >= handle.frames
                    if last:
                        done[path] = True
                    for track in tracks:
                        if pcm16:  # as libsndfile gives them in float, exactly (x / 32768), and never NaN
                            samples = data[:, track.channel].astype(np.float32)
                            samples *= PCM16_SCALE
                            frames = framers[track.party].push(samples, last=last, finite=True)
                        else:
                            frames = framers[track.party].push(data[:, track.channel], last=last)
                        assembler.add(track.party, frames)
                for block in assembler.ready(final=all(done.values())):
                    if self.realtime:
                        due = started + (block.first_frame + block.frames) * frame_s / self.speed
                        delay = due - time.monotonic()
                        if delay > 0:
                            if stop is not None:
                                if stop.wait(delay):
                                    return
                            else:
                                time.sleep(delay)
                    yield block
            self._report_bad_samples(framers)
        finally:
            self.close()

    def _report_bad_samples(self, framers: dict[Party, PartyFramer]) -> None:
        for party, framer in framers.items():
            if framer.bad_samples:
                self.warnings.append(
                    f"The {party}'s audio holds {framer.bad_samples} sample{'s that are' if framer.bad_samples > 1 else ' that is'} "
                    "not a number (NaN or infinite), from a damaged file or a faulty converter; they were treated "
                    "as silence (infinite ones as full scale).")
