"""A call's known script as its transcript: the demo without a speech model.

`ScriptedTranscriber` stands where a `PartyTranscriber` stands in the pipeline and emits the same
events a recogniser does, on the call clock, as the audio plays past them: `PartialText` while a
line is being said (the words whose time has come), `FinalSegment` once the line is over (plus the
script's endpoint delay). So the transcript scrolls, the checklist ticks itself from the agent's
words and apologies are counted, exactly as with a model, and the window says where the words
came from. The script's times are the rendering's truth (bench/make_demo_call.py).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import numpy.typing as npt

from companion.asr.call_order import END
from companion.config import AudioConfig, read_toml
from companion.errors import CompanionError
from companion.events import PARTIES, FinalSegment, PartialText, Party, Word


@dataclass(frozen=True)
class ScriptLine:
    party: str
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class CallScript:
    language: str
    final_delay_s: float
    lines: tuple[ScriptLine, ...]

    def words(self, line: ScriptLine) -> tuple[Word, ...]:
        """The line's words, each given a share of the line's time in proportion to its letters."""
        tokens = line.text.split()
        weights = [max(1, sum(ch.isalnum() for ch in token)) for token in tokens]
        total, t, out = sum(weights), line.start, []
        for token, weight in zip(tokens, weights):
            end = t + (line.end - line.start) * weight / total
            out.append(Word(token, round(t, 3), round(end, 3), 1.0))
            t = end
        return tuple(out)


def load_script(path: Path) -> CallScript:
    """Read a call script (TOML: language, final_delay_s, [[line]] party/start/end/text); one clear error if malformed."""
    data = read_toml(Path(path), "Call script")
    try:
        lines = tuple(sorted((ScriptLine(str(raw["party"]), float(raw["start"]), float(raw["end"]), str(raw["text"]))
                              for raw in data["line"]), key=lambda line: line.start))
        script = CallScript(str(data["language"]), float(data.get("final_delay_s", 0.5)), lines)
    except (KeyError, TypeError, ValueError) as exc:
        raise CompanionError(f"Call script {path} has a line or setting without a valid {exc}.") from None
    for line in lines:
        if line.party not in PARTIES or not 0 <= line.start < line.end or not line.text.strip():
            raise CompanionError(f"Call script {path}: the line at {line.start} s needs a party (agent or customer), "
                                 "a start before its end, and words.")
    return script


class ScriptedTranscriber:
    """One party's lines of a script, said as the call's audio reaches them (the PartyTranscriber interface)."""

    def __init__(self, party: Party, script: CallScript, audio: AudioConfig, emit: Callable[[object], None]) -> None:
        self.party = party
        self.frame_s = audio.frame_s
        self.emit = emit
        self.failed: Optional[str] = None
        self.dropped = 0
        self.heard_frames = 0    # the call heard so far, in frames: what is said now is said by then
        self._pending = [(line, script.words(line)) for line in script.lines if line.party == party]
        self._delay = script.final_delay_s
        self._shown = 0          # words of the first pending line already shown as partial text
        self._heard_s = 0.0      # call time of the audio heard so far
        self._lock = threading.Lock()

    # --- the PartyTranscriber interface ------------------------------------------------------
    def start(self) -> None:
        pass  # nothing to decode: the words are known

    def put(self, first_frame: int, frames: npt.NDArray[np.float32]) -> None:
        self.heard_frames = first_frame + frames.shape[0]
        self._heard_until((first_frame + frames.shape[0]) * self.frame_s)

    def offer(self, first_frame: int, frames: npt.NDArray[np.float32]) -> bool:
        self.put(first_frame, frames)
        return True

    def wait_for(self, frames: int) -> None:
        pass  # the words up to the audio fed were emitted in put()

    def reset(self) -> None:
        pass

    def close(self) -> None:
        """The end of the call: the words of a line cut short become final, as a recogniser flushes them."""
        with self._lock:
            self.heard_frames = END
            if self._pending:
                line, words = self._pending[0]
                said = tuple(w for w in words if w.start < self._heard_s)
                if said:
                    self.emit(FinalSegment(self.party, said[0].start, said[-1].end, said))
            self._pending.clear()

    def join(self, timeout: Optional[float] = None) -> None:
        pass

    # --- saying the lines ------------------------------------------------------------------------
    def _heard_until(self, t: float) -> None:
        with self._lock:
            self._heard_s = max(self._heard_s, t)
            while self._pending:
                line, words = self._pending[0]
                if t >= line.end + self._delay:
                    self._pending.pop(0)
                    self._shown = 0
                    self.emit(FinalSegment(self.party, words[0].start, words[-1].end, words))
                    continue
                said = sum(1 for w in words if w.end <= t)
                if said > self._shown:
                    self._shown = said
                    self.emit(PartialText(self.party, round(min(t, line.end), 3), " ".join(w.word for w in words[:said]),
                                          words[:said]))
                break
