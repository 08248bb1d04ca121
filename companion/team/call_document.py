"""A saved call as the team server's call document (v1), built from the agent's local store.

Personal data never leaves the machine unredacted: every text is redacted AGAIN here, whatever the
local store's own setting (Settings → Privacy may turn redaction off for one's own store, never for
the team). What was said goes through the store's own write path (`CallRows` on a scratch in-memory
database), so a card number read across several segments is judged as one number, exactly as the
recorder judges it. Then the team's policy is applied: the transcript and the root-cause note only
when it shares text, the call's FLAC only when it shares audio.

The document (docs/team.md, companion.team.server_calls.upsert_call):
{"uuid", "started_at", "duration_s", "status": 'complete'|'interrupted', "source", "playbook",
 "pace_source", "agent_wpm", "agent_talk_ratio", "longest_agent_monologue_s", "customer_mood",
 "upset_s", "turns": [{party, start, end}], "segments": [{party, start, end, text}],
 "prompts": [{t, kind, reason}], "interruptions": [{t, by, overlap_s}], "pace": [{t, wpm}],
 "checklist": [{step_id, title, t, source, done}], "root_cause", "customer_states": [{t, state}],
 "pauses": [{start, end}], "audio_flac": bytes | None}
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Optional

from companion.errors import CompanionError
from companion.store.calls import load_call
from companion.store.queries import call_uuid, customer_mood, recording_of, redacted_segments
from companion.store.redaction import redact

NO_SHARING = {"share_text": False, "share_audio": False}


def _text(value: Optional[str]) -> Optional[str]:
    return redact(value) if isinstance(value, str) and value else value


class AudioNotReady(CompanionError):
    """The call's FLAC is still being finished (the call's row is closed a moment before its audio
    file): try again in a second."""


UNFINISHED_GRACE_S = 60.0  # an unfinished FLAC older than this was cut off by a crash: sent as it is


def _audio(db: sqlite3.Connection, call_id: int, now: Optional[float] = None) -> Optional[bytes]:
    """The call's FLAC (recorded only when the agent turned recording on), or None. A FLAC whose
    header does not know its length yet is still being written: AudioNotReady, unless it has not
    changed for a minute (a crash cut it off: what it holds is sent)."""
    import time

    import soundfile as sf

    from companion.store.recording import recordings_dir

    recording = recording_of(db, call_id)
    candidates = [Path(recording)] if recording else []
    candidates.append(recordings_dir() / f"call-{call_id}.flac")
    for path in candidates:
        try:
            if not path.is_file():
                continue
            info = sf.info(str(path))
            if info.format != "FLAC":
                continue
            unfinished = info.frames <= 0 or info.frames >= 2 ** 62  # libsndfile: length not in the header yet
            if unfinished and (now or time.time()) - path.stat().st_mtime < UNFINISHED_GRACE_S:
                raise AudioNotReady(f"the recording of call {call_id} is still being finished")
            return path.read_bytes()
        except (OSError, RuntimeError):  # unreadable: the call goes without its audio
            continue
    return None


def build_document(db: sqlite3.Connection, call_id: int, shares: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """Call `call_id` of the local store as the team server's document v1, redacted, under the team's
    policy `shares` ({"share_text", "share_audio"}; nothing shared when None)."""
    shares = dict(NO_SHARING, **(shares or {}))
    saved = load_call(db, call_id)
    call = saved["call"]
    mood, upset_s = customer_mood(db, call_id)
    status = call["status"] if call["status"] == "complete" else "interrupted"  # closed by a crash: interrupted
    doc = {
        "uuid": call_uuid(db, call_id),
        "started_at": call["started_at"],
        "duration_s": saved["duration_s"],
        "status": status,
        "source": call["source"],
        "playbook": call["playbook"],
        "pace_source": saved["pace_source"],
        "agent_wpm": saved["agent_wpm"],
        "agent_talk_ratio": saved["agent_talk_ratio"],
        "longest_agent_monologue_s": saved["longest_agent_monologue_s"],
        "customer_mood": mood,
        "upset_s": upset_s,
        "turns": [{"party": t["party"], "start": t["start"], "end": t["end"]} for t in saved["turns"]],
        "segments": redacted_segments(db, call_id) if shares["share_text"] else [],
        "prompts": [{"t": p["t"], "kind": p["kind"], "reason": _text(p["reason"])} for p in saved["prompts"]],
        "interruptions": [{"t": i["t"], "by": i["by"], "overlap_s": i["overlap_s"]} for i in saved["interruptions"]],
        "pace": saved["pace"],
        "checklist": [{"step_id": c["step_id"], "title": _text(c["title"]), "t": c["t"], "source": c["source"],
                       "done": bool(c["done"])} for c in call["checklist"]],
        "root_cause": _text(call["notes"]) if shares["share_text"] else None,
        "customer_states": saved["customer_states"],
        "pauses": call["pauses"],
        "audio_flac": _audio(db, call_id) if shares["share_audio"] else None,
    }
    return doc
