"""A streaming recogniser for one party, on its own thread.

Frames in (a bounded queue), events out: `PartialText` as the speaker talks,
`FinalSegment` with word timings at each endpoint and when the stream ends
(nothing said is dropped on Stop). Vosk counts time in audio fed; the
transcriber maps it onto the call clock, across dropped blocks and resets.
"""

from __future__ import annotations

import bisect
import enum
import functools
import json
import threading
from typing import Any, Callable, Optional, Protocol, TypedDict, Union

import numpy as np
import numpy.typing as npt

from companion.asr.call_order import END
from companion.asr.engine import LoadedModel, Recognizer, recognizer
from companion.config import AudioConfig
from companion.events import FinalSegment, PartialText, Party, TranscriberFailed, Word
from companion.frame_queue import FrameQueue
from companion.vad.voice_activity import to_pcm16


class Transcriber(Protocol):
    """One party's words from its audio, as events on the call clock: a recogniser (`PartyTranscriber`)
    or a known script (`companion.asr.scripted.ScriptedTranscriber`)."""

    @property
    def failed(self) -> Optional[str]: ...

    @property
    def dropped(self) -> int: ...

    @property
    def heard_frames(self) -> int:
        """How much of the call (frames) had been heard when the event being emitted now was said:
        after a block, its end; at the end of the call, companion.asr.call_order.END."""
        ...

    def start(self) -> None: ...

    def put(self, first_frame: int, frames: npt.NDArray[np.float32]) -> None: ...

    def offer(self, first_frame: int, frames: npt.NDArray[np.float32]) -> bool: ...

    def wait_for(self, frames: int) -> None: ...

    def reset(self) -> None: ...

    def close(self) -> None: ...

    def join(self, timeout: Optional[float] = None) -> None: ...


class _VoskTimes(TypedDict):
    word: str
    start: float
    end: float


class _VoskWord(_VoskTimes, total=False):
    """One word of a Vosk result (seconds of audio fed)."""

    conf: float


class _Signal(enum.Enum):
    RESET = "reset"  # flush the words so far and start a fresh utterance


_Work = Union[tuple[int, npt.NDArray[np.float32]], _Signal]


class PartyTranscriber(threading.Thread):
    # A Vosk recogniser's memory grows with the audio it has heard, endpoints or not (most likely its cached
    # look-ahead decoding graph, kept for its life): at the first endpoint after this much audio it is replaced
    # by a fresh one, so memory stays flat through a long call (docs/benchmarks.md). Calls under it are untouched.
    renew_after_s = 300.0

    def __init__(self, party: Party, model: LoadedModel, audio: AudioConfig, emit: Callable[[object], None],
                 max_blocks: int = 64) -> None:
        super().__init__(name=f"asr-{party}", daemon=True)
        self.party = party
        self.model = model
        self.rate = audio.sample_rate
        self.frame_s = audio.frame_s
        self.emit = emit
        self._queue: FrameQueue[_Work] = FrameQueue(max_blocks)
        self._done_frames = 0
        self.heard_frames = 0
        self._cond = threading.Condition()
        self._finished = False
        self.failed: Optional[str] = None
        # Vosk time -> call time: anchors (vosk_s, call_s), added whenever the audio jumps
        self._anchors: list[tuple[float, float]] = [(0.0, 0.0)]
        self._fed_s = 0.0
        self._reset_at: Optional[float] = None
        self._reset_offset = 0.0
        self._base_s = 0.0      # audio fed before the current recogniser was made: its time starts there
        self._renew = False     # an endpoint came after renew_after_s of audio: make a fresh recogniser
        self._last_partial = ""

    # --- feeding (any thread) ---------------------------------------------
    def put(self, first_frame: int, frames: npt.NDArray[np.float32]) -> None:
        self._queue.put((first_frame, frames))

    def offer(self, first_frame: int, frames: npt.NDArray[np.float32]) -> bool:
        return self._queue.offer((first_frame, frames))

    @property
    def dropped(self) -> int:
        return self._queue.dropped

    def reset(self) -> None:
        """Flush the words so far and start a fresh utterance (e.g. after a device change)."""
        self._queue.put(_Signal.RESET)

    def close(self) -> None:
        self._queue.close()

    def wait_for(self, frames: int) -> None:
        """Block until the audio up to frame `frames` has been recognised (analysis runs in step)."""
        with self._cond:
            self._cond.wait_for(lambda: self._done_frames >= frames or self._finished)

    # --- the recogniser thread ---------------------------------------------
    def run(self) -> None:
        rec: Optional[Recognizer] = None
        try:
            rec = recognizer(self.model, self.rate)
        except Exception as exc:  # noqa: BLE001
            self._fail(exc)
        while True:
            item = self._queue.get()
            if item is None:  # closed: the end of the call
                self.heard_frames = END
                if rec is not None and self.failed is None:
                    self._safely(functools.partial(self._finish, rec))
                break
            if isinstance(item, _Signal):  # RESET: its words come after the block before it, before the next one
                self.heard_frames = self._done_frames + 1
                if rec is not None and self.failed is None:
                    self._safely(functools.partial(self._reset, rec))
                continue
            first_frame, frames = item
            self.heard_frames = first_frame + frames.shape[0]
            if rec is not None and self.failed is None:
                self._safely(functools.partial(self._accept, rec, first_frame, frames))
                if self._renew:
                    rec = self._renewed(rec)
            with self._cond:
                self._done_frames = first_frame + frames.shape[0]
                self._cond.notify_all()
        with self._cond:
            self._finished = True
            self._cond.notify_all()

    def _finish(self, rec: Recognizer) -> None:
        self._final(json.loads(rec.FinalResult()))

    def _safely(self, step: Callable[[], None]) -> None:
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - a recogniser error must not end the call
            self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        self.failed = f"{type(exc).__name__}: {exc}"
        self.emit(TranscriberFailed(self.party, f"Transcription of the {self.party} stopped ({self.failed}); coaching goes on."))

    def _accept(self, rec: Recognizer, first_frame: int, frames: npt.NDArray[np.float32]) -> None:
        call_t = first_frame * self.frame_s
        expected = self._to_call(self._fed_s)
        if abs(call_t - expected) > self.frame_s / 2:
            self._anchors.append((self._fed_s, call_t))  # audio was dropped or skipped
        self._fed_s += frames.shape[0] * self.frame_s
        if rec.AcceptWaveform(to_pcm16(frames).tobytes()):
            self._final(json.loads(rec.Result()))
            self._renew = self._fed_s - self._base_s >= self.renew_after_s
        else:
            partial = json.loads(rec.PartialResult())
            text = partial.get("partial", "")
            if text != self._last_partial:
                self._last_partial = text
                words = self._words(partial.get("partial_result", []), self._reset_offset)
                self.emit(PartialText(self.party, round(self._to_call(self._fed_s), 3), text, words))

    def _renewed(self, rec: Recognizer) -> Recognizer:
        """A fresh recogniser at an endpoint (nothing is pending: the utterance was just given as final)."""
        self._renew = False
        try:
            fresh = recognizer(self.model, self.rate)
        except Exception:  # noqa: BLE001 - the one in use goes on; tried again at the next endpoint
            return rec
        self._base_s, self._reset_at, self._reset_offset = self._fed_s, None, 0.0
        return fresh

    def _reset(self, rec: Recognizer) -> None:
        self._final(json.loads(rec.FinalResult()))
        rec.Reset()
        self._reset_at = self._fed_s

    def _to_call(self, vosk_s: float) -> float:
        at = bisect.bisect_right(self._anchors, vosk_s + 1e-9, key=lambda anchor: anchor[0])
        anchor_v, anchor_c = self._anchors[max(at - 1, 0)]
        return anchor_c + (vosk_s - anchor_v)

    def _forget_anchors_before(self, vosk_s: float) -> None:
        """Words still to come lie after `vosk_s` (the end of an utterance given as final): only the anchor in
        force there and later ones are needed, so a call with many dropped blocks keeps a short list."""
        at = bisect.bisect_right(self._anchors, vosk_s + 1e-9, key=lambda anchor: anchor[0])
        if at > 1:
            del self._anchors[:at - 1]

    def _words(self, raw: list[_VoskWord], offset: float) -> tuple[Word, ...]:
        return tuple(
            Word(str(w["word"]), round(self._to_call(float(w["start"]) + self._base_s + offset), 3),
                 round(self._to_call(float(w["end"]) + self._base_s + offset), 3), round(float(w.get("conf", 1.0)), 3))
            for w in raw
            if not str(w.get("word", "")).startswith(("[", "<"))
        )

    def _final(self, result: dict[str, Any]) -> None:
        raw = [w for w in result.get("result", []) if not str(w.get("word", "")).startswith(("[", "<"))]
        if self._reset_at is not None and raw:
            # Vosk 0.3.x keeps counting time across Reset(); if a build restarts it, shift by the reset point.
            restarted = float(raw[0]["start"]) + self._base_s < self._reset_at - 0.25
            self._reset_offset = self._reset_at - self._base_s if restarted else 0.0
            self._reset_at = None
        words = self._words(raw, self._reset_offset)
        if raw:
            self._forget_anchors_before(float(raw[-1]["end"]) + self._base_s + self._reset_offset)
        if self._last_partial:
            self._last_partial = ""
        if words:
            self.emit(FinalSegment(self.party, words[0].start, words[-1].end, words))
