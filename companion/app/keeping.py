"""Keeping an analysed recording in the history (`analyze --save`, `import`): the whole call, or
nothing when the recording is rejected, or, when saving fails part-way, an exact account of what
was kept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from companion.analysis import analyze_call
from companion.audio.file_source import CallFileSpec, FileCallSource
from companion.config import CoachingConfig
from companion.store.recorder import CallRecorder


@dataclass(frozen=True)
class Kept:
    doc: dict                  # the analysis, as `analyze --json` prints it
    call_id: Optional[int]     # None when not even the call's row could be written (a read-only folder)
    shortfall: Optional[str]   # None when the whole call was saved


def analyze_and_keep(source: CallFileSpec | FileCallSource, config: CoachingConfig, kind: str, model=None,
                     content_hash: Optional[str] = None) -> Kept:
    """Analyse the recording and save it as it goes. A recording the analysis rejects (no speech,
    unreadable) leaves nothing in the store; the error goes on to the caller."""
    spec = source.spec if isinstance(source, FileCallSource) else source
    recorder = CallRecorder(kind, file=str(spec.path), content_hash=content_hash, redaction=config.privacy.redact,
                            publish=lambda event: None)  # a failed save is told once, as the shortfall, after the call
    try:
        doc = analyze_call(source, config, model=model, subscribers=(recorder,))
    except BaseException:
        recorder.discard()
        recorder.close()
        raise
    recorder.close()
    return Kept(doc, recorder.call_id, recorder.shortfall(doc["duration_s"]))
