"""What an agent's sync worker does on the team server: upload a finished call, read the team's
policy, pull back supervisors' comments and reviews. Pure functions of a connection (from
`companion.team.connection.connect`); each makes its own transaction and raises TeamError
(`TeamUnreachable` when trying again later can help).

The call document (v1) is the dict described in docs/team.md: {"uuid", "started_at", "duration_s",
"status", …, "segments", "prompts", …, "audio_flac"}. What the list and the dashboard filter on is
copied into columns; the document (without the audio) is kept in `doc`, shaped to the server's rules
(companion.team.doc_rules: known keys only, each value of its type and range), which the server
enforces again itself.
"""

from __future__ import annotations

import math
import uuid as uuid_mod
from collections import Counter
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Optional

from companion.team import doc_rules as rules
from companion.team.errors import TeamError
from companion.team.server_errors import team_errors
from companion.team.server_schema import check_version

if TYPE_CHECKING:
    from psycopg import Connection

MOODS = rules.MOODS
_EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)  # the server's bounds on started_at
_LATEST = datetime(2200, 1, 1, tzinfo=timezone.utc)
_COLUMNS = ("uuid", "started_at", "duration_s", "status", "source", "playbook", "pace_source", "agent_wpm",
            "agent_talk_ratio", "longest_agent_monologue_s", "prompts", "prompt_counts", "interruptions",
            "interruptions_by_agent", "customer_mood", "upset_s", "doc", "transcript")
# no "WHERE changed" on the update: the existing row must always pass the agent's UPDATE policy, so
# a uuid that is someone else's call is refused, even when the content sent is the same
_UPSERT = "INSERT INTO cc.calls ({cols}) VALUES ({vals}) ON CONFLICT (uuid) DO UPDATE SET {sets}".format(
    cols=", ".join(_COLUMNS), vals=", ".join(f"%({c})s" for c in _COLUMNS),
    sets=", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS[1:]))
_AUDIO = "INSERT INTO cc.call_audio (uuid, flac) VALUES (%s, %s) ON CONFLICT (uuid) DO UPDATE SET flac = EXCLUDED.flac"


def policy(conn: Connection[Any]) -> dict[str, Any]:
    """{"share_text": bool, "share_audio": bool}: what the team's server takes beyond the numbers."""
    with team_errors("reading the team's policy"):
        row = conn.execute("SELECT share_text, share_audio FROM cc.policy").fetchone()
    return {"share_text": bool(row and row[0]), "share_audio": bool(row and row[1])}


def upsert_call(conn: Connection[Any], doc: dict[str, Any]) -> None:
    """Store the call once however often it is sent (keyed by doc["uuid"]): later sends replace
    it. The agent is whoever is logged in, never a field of `doc`. Text and audio the policy does
    not share are taken out here (and again by the server): without share_text no segments, transcript
    or root-cause note; segments and the note are redacted again before they leave. Nothing is
    written when the server's schema is not the one this app knows."""
    with team_errors("uploading a call"), conn.transaction():
        check_version(conn)
        shares = policy(conn)
        row, audio = call_row(doc, shares)
        conn.execute(_UPSERT, row)
        if audio is not None and shares["share_audio"]:
            conn.execute(_AUDIO, (row["uuid"], audio))


def call_row(doc: dict[str, Any], shares: dict[str, Any]) -> tuple[dict[str, Any], Optional[bytes]]:
    """The `cc.calls` columns for `doc` under the policy `shares`, and the audio to upload (or None).
    The document is shaped to the server's rules (companion.team.doc_rules): only the keys it keeps,
    every value one it takes (else null), so a call from the agent's own store is never refused."""
    from psycopg.types.json import Jsonb

    from companion.store.redaction import redact

    if not isinstance(doc, dict):
        raise TeamError("A call to upload must be a document (a dict).")
    try:
        call_uuid = str(uuid_mod.UUID(str(doc.get("uuid"))))
    except ValueError:
        raise TeamError(f"The call has no valid uuid ({str(doc.get('uuid'))[:40]!r}); it cannot be uploaded.") from None
    started = _timestamp(doc.get("started_at"))
    if started is None or not _EARLIEST <= started < _LATEST:
        raise TeamError(f"The call {call_uuid} has no valid started_at; it cannot be uploaded.")
    status = doc.get("status")
    status = "complete" if status == "complete" else "interrupted"  # a call never closed counts as interrupted
    share_text = bool(shares.get("share_text"))
    clean = rules.shape(_clean_doc({k: v for k, v in doc.items() if k in rules.TOP}), share_text)
    segments = sorted(clean.get("segments") or [], key=lambda s: s.get("start") or 0.0)
    for seg in segments:
        seg["text"] = redact(seg["text"]) if isinstance(seg.get("text"), str) else None
    clean["segments"] = segments
    transcript = "\n".join(s["text"] for s in segments if s.get("text")) or None
    if isinstance(clean.get("root_cause"), str):
        clean["root_cause"] = rules.fit(redact(clean["root_cause"]), rules.TOP["root_cause"])
    prompts = clean.get("prompts") or []
    interruptions = clean.get("interruptions") or []
    mood = clean.get("customer_mood")
    duration = min(rules.MAX_SECONDS, max(0.0, _number(doc.get("duration_s")) or 0.0))
    clean["duration_s"] = duration
    row = {
        "uuid": call_uuid, "started_at": started, "duration_s": duration, "status": status,
        "source": clean.get("source"), "playbook": clean.get("playbook"), "pace_source": clean.get("pace_source"),
        "agent_wpm": clean.get("agent_wpm"), "agent_talk_ratio": clean.get("agent_talk_ratio"),
        "longest_agent_monologue_s": clean.get("longest_agent_monologue_s"),
        "prompts": len(prompts),
        "prompt_counts": Jsonb(dict(Counter(p["kind"] for p in prompts if p.get("kind")))),
        "interruptions": len(interruptions),
        "interruptions_by_agent": sum(1 for i in interruptions if i.get("by") == "agent"),
        "customer_mood": mood, "upset_s": clean.get("upset_s") if mood else None,
        "doc": Jsonb(clean), "transcript": transcript,
    }
    audio = doc.get("audio_flac")
    audio = bytes(audio) if isinstance(audio, (bytes, bytearray, memoryview)) and audio else None
    return row, (audio if shares.get("share_audio") else None)


def feedback_since(conn: Connection[Any], since_iso: Optional[str]) -> list[dict[str, Any]]:
    """Supervisors' comments and reviews on the logged-in agent's calls at or after `since_iso`
    (all when None), oldest first:
    {"type": "comment", "call_uuid", "id", "author", "t", "at", "text"} and
    {"type": "review", "call_uuid", "reviewed", "by", "at"}. `at` is the server's clock: keep the
    newest one seen as the next `since`; items at exactly `since` come again (apply them idempotently:
    a comment by its id, a review is a state)."""
    since = None
    if since_iso is not None:
        since = _timestamp(since_iso)
        if since is None:
            raise TeamError(f"{since_iso!r} is not a date and time (ISO 8601).")
    with team_errors("reading supervisors' feedback"):
        comments = conn.execute(
            "SELECT m.call_uuid, m.id, m.author_role, m.t, m.at, m.text FROM cc.comments m "
            "JOIN cc.calls c ON c.uuid = m.call_uuid WHERE c.agent_role = session_user::text "
            "AND (%(since)s::timestamptz IS NULL OR m.at >= %(since)s) ORDER BY m.at, m.id",
            {"since": since}).fetchall()
        reviews = conn.execute(
            "SELECT uuid, reviewed, reviewed_by, reviewed_at FROM cc.calls WHERE agent_role = session_user::text "
            "AND reviewed_at IS NOT NULL AND (%(since)s::timestamptz IS NULL OR reviewed_at >= %(since)s) "
            "ORDER BY reviewed_at", {"since": since}).fetchall()
    items = [{"type": "comment", "call_uuid": str(r[0]), "id": r[1], "author": r[2], "t": rules.number(r[3]),
              "at": r[4].isoformat(),
              "text": r[5], "_at": r[4]} for r in comments]
    items += [{"type": "review", "call_uuid": str(r[0]), "reviewed": r[1], "by": r[2], "at": r[3].isoformat(),
               "_at": r[3]} for r in reviews]
    items.sort(key=lambda i: i.pop("_at"))
    return items


# --- the document, made safe to store -------------------------------------------------------
def _timestamp(value: object) -> Optional[datetime]:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)  # the store writes UTC


def _number(value: object) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        value = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return value if math.isfinite(value) else None


def _clean_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """A document as `_clean` makes any JSON object."""
    return {str(k).replace("\x00", ""): _clean(v) for k, v in doc.items()}


def _clean(value: object) -> object:
    """JSON PostgreSQL accepts: no NaN or infinities (None), no NUL characters, string keys."""
    if isinstance(value, dict):
        return {str(k).replace("\x00", ""): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value.replace("\x00", "")
    if value is None or isinstance(value, (bool, int)):
        return value
    return str(value)
