"""Questions the rest of the app asks the store, answered as plain data: History's table, a replay's
recording and prompts, the self-check's schema version, and what the team's call document needs
(the call's UUID, its mood, its recording, its transcript as it may leave the machine).

Every read is one query on the caller's connection; `call_uuid` is the one that may write (a call
from before UUIDs gets one). The window and the team package ask here instead of running SQL.
"""

from __future__ import annotations

import sqlite3
import uuid as uuid_mod
from typing import Any, Optional, Sequence, TypedDict

from companion.errors import CompanionError

HISTORY_LIMIT = 2000  # History shows at most this many calls


class HistoryRow(TypedDict):
    id: int
    started_at: str
    duration_s: float
    playbook: Optional[str]
    status: str
    customer_mood: Optional[str]
    upset_s: Optional[float]
    prompts: int


_HISTORY_FIELDS = ("id", "started_at", "duration_s", "playbook", "status", "customer_mood", "upset_s", "prompts")


def history_rows(db: sqlite3.Connection, ids: Sequence[int]) -> dict[int, HistoryRow]:
    """History's columns for the calls `ids` (the first HISTORY_LIMIT of them), by call id."""
    ids = list(ids[:HISTORY_LIMIT])
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = db.execute(
        f"SELECT c.id, c.started_at, c.duration_s, c.playbook, c.status, c.customer_mood, c.upset_s, "
        f"(SELECT COUNT(*) FROM prompts p WHERE p.call_id = c.id) AS prompts FROM calls c WHERE c.id IN ({marks})",
        ids)
    return {r[0]: HistoryRow(**dict(zip(_HISTORY_FIELDS, r))) for r in rows}  # type: ignore[typeddict-item]


def recording_of(db: sqlite3.Connection, call_id: int) -> Optional[str]:
    """The path of the call's recording, as stored (None: not recorded, or no such call)."""
    row = db.execute("SELECT recording FROM calls WHERE id = ?", (call_id,)).fetchone()
    return row[0] if row else None


def prompt_ids(db: sqlite3.Connection, call_id: int) -> list[int]:
    """The ids of the call's prompts, in the call's order (a comment on a prompt names one)."""
    return [r[0] for r in db.execute("SELECT id FROM prompts WHERE call_id = ? ORDER BY t", (call_id,))]


def schema_version(db: sqlite3.Connection) -> int:
    """The store's schema version (companion.store.schema)."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def customer_mood(db: sqlite3.Connection, call_id: int) -> tuple[Optional[str], Optional[float]]:
    """(the customer's worst mood in the call, seconds upset); (None, None) for no such call."""
    row = db.execute("SELECT customer_mood, upset_s FROM calls WHERE id = ?", (call_id,)).fetchone()
    return (row[0], row[1]) if row else (None, None)


def call_uuid(db: sqlite3.Connection, call_id: int) -> str:
    """The call's UUID; a row from before UUIDs (written by hand, or by an older path) gets one now."""
    from companion.store.writes import write

    row = db.execute("SELECT uuid FROM calls WHERE id = ?", (call_id,)).fetchone()
    if row is None:
        raise CompanionError(f"No saved call {call_id}.")
    if row[0]:
        return str(row[0])
    new = str(uuid_mod.uuid4())
    write(db, lambda db: db.execute("UPDATE calls SET uuid = COALESCE(uuid, ?) WHERE id = ?", (new, call_id)))
    return str(db.execute("SELECT uuid FROM calls WHERE id = ?", (call_id,)).fetchone()[0])


def redacted_segments(db: sqlite3.Connection, call_id: int) -> list[dict[str, Any]]:
    """The call's segments as they may leave the machine, whatever this store's own redaction setting:
    written again through `CallRows` with redaction on (on a scratch in-memory store), in the order
    they were said, with their words when the store has them — so numbers said across segments, or the
    agent's question then the customer's answer, are judged together exactly as on a live call."""
    from companion.store.rows import CallRows, insert_call
    from companion.store.schema import migrate

    segments = db.execute('SELECT id, party, start, "end", text FROM segments WHERE call_id = ? ORDER BY start, id',
                          (call_id,)).fetchall()
    if not segments:
        return []
    words: dict[int, list[tuple[str, float, float, Optional[float]]]] = {}
    for seg_id, word, start, end, conf in db.execute(
            'SELECT w.segment_id, w.word, w.start, w."end", w.conf FROM words w JOIN segments s ON s.id = w.segment_id '
            "WHERE s.call_id = ? ORDER BY w.segment_id, w.start, w.rowid", (call_id,)):
        words.setdefault(seg_id, []).append((word, start, end, conf))
    scratch = sqlite3.connect(":memory:", isolation_level=None)
    try:
        migrate(scratch)
        cid = insert_call(scratch, "1970-01-01T00:00:00+00:00", "team", None)
        rows = CallRows(scratch, cid, redaction=True)
        for seg_id, party, start, end, text in segments:
            said = words.get(seg_id, [])
            if said and " ".join(w[0] for w in said) != text:
                said = []  # words that no longer match the text (an older store): the text is what was kept
            rows.segment(party, start, end, text or "", said)
        return [{"party": p, "start": s, "end": e, "text": t} for p, s, e, t in scratch.execute(
            'SELECT party, start, "end", text FROM segments ORDER BY id')]
    finally:
        scratch.close()


def calls_with_content(db: sqlite3.Connection, content_hash: str) -> list[dict[str, Any]]:
    """The calls made from a file with this content hash (an import, a bundle), newest first:
    {id, status, duration_s, writer_pid}."""
    return [{"id": r[0], "status": r[1], "duration_s": r[2], "writer_pid": r[3]} for r in db.execute(
        "SELECT id, status, duration_s, writer_pid FROM calls WHERE content_hash = ? ORDER BY id DESC",
        (content_hash,))]


def call_with_uuid(db: sqlite3.Connection, call_uuid: str) -> Optional[int]:
    """The id of the call with this UUID (a bundle carries its call's), or None when the store has none."""
    row = db.execute("SELECT id FROM calls WHERE uuid = ?", (call_uuid,)).fetchone()
    return int(row[0]) if row else None


def history_ticks(db: sqlite3.Connection, ids: Sequence[int]) -> dict[int, tuple[list[tuple[str, float, bool]], bool]]:
    """For History's adherence column: each call's checklist ticks (step_id, t, done), in call order, and
    whether its root-cause note is written (the after-call step), by call id (the first HISTORY_LIMIT)."""
    ids = list(ids[:HISTORY_LIMIT])
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    found: dict[int, tuple[list[tuple[str, float, bool]], bool]] = {i: ([], False) for i in ids}
    for call_id, step_id, t, done in db.execute(
            f"SELECT call_id, step_id, t, done FROM ticks WHERE call_id IN ({marks}) ORDER BY call_id, t", ids):
        found[call_id][0].append((step_id, t, bool(done)))
    for (call_id,) in db.execute(
            f"SELECT call_id FROM notes WHERE call_id IN ({marks}) AND trim(root_cause) != ''", ids):
        found[call_id] = (found[call_id][0], True)
    return found
