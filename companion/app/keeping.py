"""Keeping an analysed recording in the history (`analyze --save`, `import`): the whole call, or
nothing when the recording is rejected, or, when saving fails part-way, an exact account of what
was kept."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any, Callable, Optional

from companion.analysis import analyze_call
from companion.asr.engine import LoadedModel
from companion.audio.file_source import CallFileSpec, FileCallSource
from companion.config import CoachingConfig
from companion.store.db import delete_call
from companion.store.queries import calls_with_content
from companion.store.recorder import CallRecorder


@dataclass(frozen=True)
class Kept:
    doc: dict[str, Any]        # the analysis, as `analyze --json` prints it
    call_id: Optional[int]     # None when not even the call's row could be written (a read-only folder)
    shortfall: Optional[str]   # None when the whole call was saved


def analyze_and_keep(source: CallFileSpec | FileCallSource, config: CoachingConfig, kind: str,
                     model: Optional[LoadedModel] = None,
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


def kept_before(db: sqlite3.Connection, content_hash: str, say: Callable[[str], None],
                what: str = "import", doing: str = "importing") -> Optional[int]:
    """The call already kept from a recording with this content hash (the newest complete one), or None.
    A keeping that never finished (a full disk, a crash) is deleted, and said, so it is done again;
    one still being written by a running process is refused (StoreError) rather than doubled."""
    earlier = calls_with_content(db, content_hash)
    for row in earlier:
        if row["status"] == "complete":
            return int(row["id"])
    for row in earlier:
        delete_call(db, row["id"])
        say(f"the earlier {what} (call {row['id']}, {row['duration_s']:.0f} s) did not finish; {doing} again")
    return None
