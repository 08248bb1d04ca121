"""Events as JSON objects (one a line in `--events-jsonl`), each with `t` on the call clock and a `type`."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import sys
import threading
from pathlib import Path
from typing import IO, Any, Callable, Optional, Sequence

from companion.errors import CompanionError
from companion.event_redaction import EventRedactor
from companion.events import (
    CallEnded,
    CallStarted,
    CustomerState,
    DeadAir,
    DeviceStatus,
    Event,
    FinalSegment,
    Interruption,
    MessageFromSupervisor,
    MetricsSnapshot,
    MonitorFailed,
    PartialText,
    Prompt,
    SaveFailed,
    SavingResumed,
    StepTicked,
    StoringPaused,
    TranscriberFailed,
    Turn,
)
from companion.payment_pause import PauseSpans


def _round(value: object) -> object:
    return round(value, 3) if isinstance(value, float) else value


JsonDoc = dict[str, Any]


def _metrics(event: MetricsSnapshot) -> JsonDoc:
    doc: JsonDoc = {"t": event.t, "type": "metrics"}
    doc.update({k: _round(v) for k, v in dataclasses.asdict(event).items() if k != "t"})
    return doc


def _device(event: DeviceStatus) -> JsonDoc:
    doc: JsonDoc = {"t": event.t, "type": "device", "party": event.party, "status": event.status,
                    "device": event.device, "message": event.message}
    if event.gap_start is not None:
        doc.update(gap_start=event.gap_start, gap_end=event.gap_end)
    return doc


def _segment(event: FinalSegment) -> JsonDoc:
    return {"t": event.start, "type": "segment", "party": event.party, "start": event.start, "end": event.end,
            "text": event.text, "words": [[w.word, w.start, w.end, w.conf] for w in event.words]}


def _pause(event: StoringPaused) -> JsonDoc:
    return {"t": event.t, "type": "pause", "paused": event.paused, "automatic": event.automatic,
            **({"cue": event.cue} if event.cue else {})}


def _redacted_message(event: MessageFromSupervisor) -> MessageFromSupervisor:
    from companion.store.redaction import redact

    return dataclasses.replace(event, text=redact(event.text), sender=redact(event.sender))


def _not_written(event: Event) -> None:
    """An event the events file leaves out (a checklist tick is the window's and the store's)."""
    return None


# One line per event type the bus carries (companion.events.Event); None: not written.
TO_JSON: dict[type, Callable[[Any], Optional[JsonDoc]]] = {
    Prompt: lambda e: {"t": e.t, "type": "prompt", "kind": e.kind, "reason": e.reason},
    Interruption: lambda e: {"t": e.t, "type": "interruption", "by": e.by, "overlap_s": e.overlap_s},
    FinalSegment: _segment,
    MetricsSnapshot: _metrics,
    DeviceStatus: _device,
    Turn: lambda e: {"t": e.start, "type": "turn", "party": e.party, "start": e.start, "end": e.end},
    PartialText: lambda e: {"t": e.t, "type": "partial", "party": e.party, "text": e.text},
    DeadAir: lambda e: {"t": e.start, "type": "dead_air", "start": e.start, "end": e.end},
    CallStarted: lambda e: {"t": 0.0, "type": "call_start", "wall": round(e.wall, 3)},
    CallEnded: lambda e: {"t": e.duration_s, "type": "call_end", "duration_s": e.duration_s,
                          "dropped_blocks": e.dropped_blocks},
    MonitorFailed: lambda e: {"t": e.t, "type": "error", "message": e.message},
    TranscriberFailed: lambda e: {"t": None, "type": "error", "party": e.party, "message": e.message},
    SaveFailed: lambda e: {"t": None, "type": "save_failed", "what": e.what, "message": e.message},
    SavingResumed: lambda e: {"t": None, "type": "saving_resumed", "what": e.what, "message": e.message},
    CustomerState: lambda e: {"t": e.t, "type": "customer_state", "state": e.state},
    StoringPaused: _pause,
    StepTicked: _not_written,
    MessageFromSupervisor: lambda e: {"t": e.t, "type": "supervisor_message", "from": e.sender, "text": e.text,
                                      **({"message_id": e.message_id} if e.message_id is not None else {})},
}


def event_to_json(event: object) -> Optional[JsonDoc]:
    """The event's line in the events file, or None when it has none (or is not an event)."""
    to_json = TO_JSON.get(type(event))
    return None if to_json is None else to_json(event)


PARTIAL_SLACK_S = 0.5  # a partial's word times are the recogniser's first guess: a word this near a pause counts as in it


def _open_private(target: str, append: bool) -> IO[str]:
    """The events file, owner-only like the store and exports (what was said is in it). A file that
    exists keeps its contents when appending, but not looser permissions: it is made 0600, and that is
    said; one that cannot be made owner-only is refused. Not a regular file (a pipe, /dev/null): as is."""
    path = Path(target)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else 0)  # emptied only once it is ours and private
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        raise CompanionError(f"Cannot write events to {target}: {exc.strerror or exc}.") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) & 0o077:
            try:
                os.fchmod(fd, 0o600)
            except OSError as exc:
                raise CompanionError(f"Cannot make the events file {target} owner-only (it is mode "
                                     f"{stat.S_IMODE(st.st_mode):04o}): {exc.strerror or exc}; give another file.") from None
            print(f"companion: the events file {target} was readable by others (mode {stat.S_IMODE(st.st_mode):04o}); "
                  "it is owner-only (0600) now, like the call store.", file=sys.stderr)
        if stat.S_ISREG(st.st_mode) and not append:
            os.ftruncate(fd, 0)
        return os.fdopen(fd, "a" if append else "w", encoding="utf-8", buffering=1)
    except OSError as exc:
        os.close(fd)
        raise CompanionError(f"Cannot write events to {target}: {exc.strerror or exc}.") from None
    except BaseException:
        os.close(fd)
        raise


class JsonlWriter:
    """A bus subscriber writing each event as one JSON line, flushed at once (file or '-' for stdout).
    A file is started afresh, so one call's events never mix with another's, unless `append`.

    The file follows the store's privacy rules: owner-only (0600, an existing file is tightened);
    nothing said inside a pause for payment, in any event (segments, their words, partials); and,
    unless the user turned redaction off for their store (`redaction=False`, from Settings → Privacy),
    personal data taken out across segments as the store does it (companion.event_redaction: a
    segment that a later one may still show to be half a card number, a postcode, an address, a name or
    a date of birth is held back until that is decided, since a line written cannot be taken back)."""

    def __init__(self, target: str, append: bool = False, redaction: bool = True) -> None:
        self._lock = threading.Lock()
        if target == "-":
            self._out: IO[str] = sys.stdout
            self._owned = False
        else:
            self._out = _open_private(target, append)
            self._owned = True
        self.failed: Optional[str] = None
        self.pauses = PauseSpans()  # pause for payment: what is said inside is not written
        self.redaction = redaction  # personal data out of the words, as in the store
        self.redactor = EventRedactor() if redaction else None
        self._said_until: dict[str, float] = {}  # each party's last final segment ends here
        self._closed = False

    def __call__(self, event: object) -> None:
        self.pauses(event)
        with self._lock:
            if self._closed:
                return
            event = self._outside_pauses(event)
            if event is None:
                return
            if isinstance(event, MessageFromSupervisor) and self.redaction:
                event = _redacted_message(event)  # what a supervisor typed is redacted like every stored text
            self._write_all(self.redactor.feed(event) if self.redactor is not None else [event])

    def _write_all(self, events: Sequence[object]) -> None:
        for event in events:
            doc = event_to_json(event)
            if doc is None or self.failed:
                continue
            try:
                self._out.write(json.dumps(doc, ensure_ascii=False) + "\n")
                self._out.flush()
            except OSError as exc:  # e.g. disk full: say so once, keep coaching
                self.failed = f"Cannot write events any more: {exc.strerror or exc}."
                print(f"companion: {self.failed}", file=sys.stderr)
        if self.redactor is not None and self.redactor.late_words and not self._late_said:
            self._late_said = True
            print("companion: the events file holds words that a later segment showed to be personal (the store "
                  "took them out): that segment came after they were written.", file=sys.stderr)

    _late_said = False

    def _outside_pauses(self, event: object) -> object:
        """The event as it may be written: words said during a pause for payment left out, from every
        event that holds words (a partial after a resume still holds the whole utterance so far)."""
        if isinstance(event, PartialText):
            if self.pauses.covers(event.t):
                return None
            if not event.words:  # no word times: the utterance began after the party's last segment
                return None if self.pauses.covers(self._said_until.get(event.party, 0.0), event.t) else event
            words = tuple(self.pauses.kept(event.words, [(w.start - PARTIAL_SLACK_S, w.end + PARTIAL_SLACK_S)
                                                         for w in event.words]))
            if len(words) == len(event.words):
                return event
            return dataclasses.replace(event, text=" ".join(w.word for w in words), words=words) if words else None
        if isinstance(event, FinalSegment):
            self._said_until[event.party] = max(self._said_until.get(event.party, 0.0), event.end)
            if self.pauses.covers(event.start, event.end):
                words = tuple(self.pauses.kept(event.words, [(w.start, w.end) for w in event.words]))
                return dataclasses.replace(event, start=words[0].start, end=words[-1].end, words=words) if words else None
        return event

    def close(self) -> None:
        with self._lock:
            if not self._closed and self.redactor is not None:
                self._write_all(self.redactor.flush())  # the call is over: what was held back, as judged
            self._closed = True
            try:
                self._out.flush()
                if self._owned:
                    self._out.close()
            except OSError:
                pass
