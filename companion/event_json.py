"""Events as JSON objects (one a line in `--events-jsonl`), each with `t` on the call clock and a `type`."""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
from pathlib import Path
from typing import IO, Optional

from companion.events import (
    CallEnded,
    CallStarted,
    CustomerState,
    DeadAir,
    DeviceStatus,
    FinalSegment,
    Interruption,
    MetricsSnapshot,
    MonitorFailed,
    PartialText,
    Prompt,
    SaveFailed,
    StoringPaused,
    TranscriberFailed,
    Turn,
)
from companion.payment_pause import PauseSpans
from companion.errors import CompanionError


def _round(value):
    return round(value, 3) if isinstance(value, float) else value


def event_to_json(event: object) -> Optional[dict]:
    if isinstance(event, Prompt):
        return {"t": event.t, "type": "prompt", "kind": event.kind, "reason": event.reason}
    if isinstance(event, Interruption):
        return {"t": event.t, "type": "interruption", "by": event.by, "overlap_s": event.overlap_s}
    if isinstance(event, FinalSegment):
        return {"t": event.start, "type": "segment", "party": event.party, "start": event.start, "end": event.end,
                "text": event.text, "words": [[w.word, w.start, w.end, w.conf] for w in event.words]}
    if isinstance(event, MetricsSnapshot):
        doc = {"t": event.t, "type": "metrics"}
        doc.update({k: _round(v) for k, v in dataclasses.asdict(event).items() if k != "t"})
        return doc
    if isinstance(event, DeviceStatus):
        doc = {"t": event.t, "type": "device", "party": event.party, "status": event.status, "device": event.device,
               "message": event.message}
        if event.gap_start is not None:
            doc.update(gap_start=event.gap_start, gap_end=event.gap_end)
        return doc
    if isinstance(event, Turn):
        return {"t": event.start, "type": "turn", "party": event.party, "start": event.start, "end": event.end}
    if isinstance(event, PartialText):
        return {"t": event.t, "type": "partial", "party": event.party, "text": event.text}
    if isinstance(event, DeadAir):
        return {"t": event.start, "type": "dead_air", "start": event.start, "end": event.end}
    if isinstance(event, CallStarted):
        return {"t": 0.0, "type": "call_start", "wall": round(event.wall, 3)}
    if isinstance(event, CallEnded):
        return {"t": event.duration_s, "type": "call_end", "duration_s": event.duration_s, "dropped_blocks": event.dropped_blocks}
    if isinstance(event, MonitorFailed):
        return {"t": event.t, "type": "error", "message": event.message}
    if isinstance(event, TranscriberFailed):
        return {"t": None, "type": "error", "party": event.party, "message": event.message}
    if isinstance(event, SaveFailed):
        return {"t": None, "type": "save_failed", "what": event.what, "message": event.message}
    if isinstance(event, CustomerState):
        return {"t": event.t, "type": "customer_state", "state": event.state}
    if isinstance(event, StoringPaused):
        return {"t": event.t, "type": "pause", "paused": event.paused}
    return None


def _redacted(event: object) -> object:
    """Recognised text with personal data taken out (card, phone, e-mail…), one segment at a time."""
    from companion.store.redaction import redact, redact_words

    if isinstance(event, FinalSegment) and event.words:
        said = redact_words([w.word for w in event.words])
        return dataclasses.replace(event, words=tuple(dataclasses.replace(w, word=s) for w, s in zip(event.words, said)))
    if isinstance(event, PartialText) and event.text:
        return dataclasses.replace(event, text=redact(event.text), words=())
    return event


class JsonlWriter:
    """A bus subscriber writing each event as one JSON line, flushed at once (file or '-' for stdout).
    A file is started afresh, so one call's events never mix with another's, unless `append`."""

    def __init__(self, target: str, append: bool = False, redaction: bool = False):
        self._lock = threading.Lock()
        if target == "-":
            self._out: IO[str] = sys.stdout
            self._owned = False
        else:
            try:
                self._out = open(Path(target), "a" if append else "w", encoding="utf-8", buffering=1)
            except OSError as exc:
                raise CompanionError(f"Cannot write events to {target}: {exc.strerror or exc}.") from None
            self._owned = True
        self.failed: Optional[str] = None
        self.pauses = PauseSpans()  # pause for payment: what is said inside is not written
        self.redaction = redaction  # personal data out of the words, as in the store

    def __call__(self, event: object) -> None:
        self.pauses(event)
        event = self._outside_pauses(event)
        if self.redaction and event is not None:
            event = _redacted(event)
        doc = None if event is None else event_to_json(event)
        if doc is None or self.failed:
            return
        line = json.dumps(doc, ensure_ascii=False)
        with self._lock:
            try:
                self._out.write(line + "\n")
                self._out.flush()
            except OSError as exc:  # e.g. disk full: say so once, keep coaching
                self.failed = f"Cannot write events any more: {exc.strerror or exc}."
                print(f"companion: {self.failed}", file=sys.stderr)

    def _outside_pauses(self, event: object) -> object:
        """The event as it may be written: words said during a pause for payment left out."""
        if isinstance(event, PartialText) and self.pauses.covers(event.t):
            return None
        if isinstance(event, FinalSegment) and self.pauses.covers(event.start, event.end):
            words = tuple(self.pauses.kept(event.words, [(w.start, w.end) for w in event.words]))
            return dataclasses.replace(event, start=words[0].start, end=words[-1].end, words=words) if words else None
        return event

    def close(self) -> None:
        with self._lock:
            try:
                self._out.flush()
                if self._owned:
                    self._out.close()
            except OSError:
                pass
