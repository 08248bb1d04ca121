"""Reading saved calls: the list, one call as a document, full-text search."""

from __future__ import annotations

import sqlite3

from companion.errors import CompanionError

# One call as a document, the `analyze --json` schema (the same shape comes from analyze, a bundle and the
# team server, and the reports render it): JSON values, read by key. (typing is not imported to list calls.)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional, TypedDict

    CallDocument = dict[str, Any]

    class CallListing(TypedDict):
        """One line of the list of saved calls."""

        id: int
        started_at: str
        duration_s: float
        status: str                    # "complete", "interrupted" or "active"
        prompts: int
        customer_mood: Optional[str]   # the worst state reached; None when never read
        upset_s: Optional[float]
else:
    CallDocument = dict


def _seconds(value: object) -> float:
    """A stored duration as a number, whatever an older version let in (one bad row must not hide the history)."""
    return float(value) if isinstance(value, (int, float)) and value == value else 0.0


def _mood(value: object) -> Optional[str]:
    from companion.timeline import MOOD_LABELS  # the customer's states, without the analysis (numpy) behind them

    return value if isinstance(value, str) and value in MOOD_LABELS else None


def list_calls(db: sqlite3.Connection, limit: Optional[int] = None, offset: int = 0, text: Optional[str] = None,
               kind: Optional[str] = None, interrupted: Optional[bool] = None,
               upset: Optional[bool] = None) -> list[CallListing]:
    """`calls_page` without the sources."""
    return [listing for listing, _ in calls_page(db, limit, offset, text, kind, interrupted, upset)]


def calls_page(db: sqlite3.Connection, limit: Optional[int] = None, offset: int = 0, text: Optional[str] = None,
               kind: Optional[str] = None, interrupted: Optional[bool] = None,
               upset: Optional[bool] = None) -> list[tuple[CallListing, str]]:
    """One page of the saved calls, newest first, each with its source ('live', 'demo', 'analyze', 'import'):
    {id, started_at, duration_s, status, prompts, customer_mood,
    upset_s}; `customer_mood` is the worst state the customer reached ('calm', 'tense', 'upset'; None when it
    was never read) and `upset_s` how long they were upset. `limit` calls from `offset` (None: all of them),
    only those passing the filters (as `search`). One query: the page is chosen by the calls index (and the
    search index), and only the page's calls have their prompts counted."""
    where, args = _filters(text, kind, None, None, interrupted, upset)
    page = ("SELECT c.id, c.started_at, c.duration_s, c.source, c.status, c.customer_mood, c.upset_s FROM calls c" + where +
            " ORDER BY c.started_at DESC, c.id DESC LIMIT ? OFFSET ?")
    args += [-1 if limit is None else max(int(limit), 0), max(int(offset), 0)]
    sql = ("WITH page AS (" + page + "), counted AS (SELECT p.call_id, COUNT(*) AS n FROM prompts p "
           "WHERE p.call_id IN (SELECT id FROM page) GROUP BY p.call_id) "
           "SELECT page.*, COALESCE(counted.n, 0) AS prompts FROM page LEFT JOIN counted ON counted.call_id = page.id "
           "ORDER BY page.started_at DESC, page.id DESC")
    return [({"id": r["id"], "started_at": str(r["started_at"]), "duration_s": round(_seconds(r["duration_s"]), 2),
             "status": "interrupted" if r["status"] == "interrupted" else ("complete" if r["status"] == "complete" else "active"),
             "prompts": r["prompts"], "customer_mood": _mood(r["customer_mood"]),
             "upset_s": round(_seconds(r["upset_s"]), 2) if _mood(r["customer_mood"]) else None},
             str(r["source"] or "")) for r in db.execute(sql, args)]


def load_call(db: sqlite3.Connection, call_id: int) -> CallDocument:
    """One call in the `analyze --json` schema, plus its metadata, checklist and notes."""
    c = db.execute("SELECT * FROM calls WHERE id = ?", (call_id,)).fetchone()
    if c is None:
        raise CompanionError(f"No saved call {call_id}; 'companion calls list' shows them.")
    turns = [dict(r) for r in db.execute('SELECT party, start, "end" FROM turns WHERE call_id = ? ORDER BY start', (call_id,))]
    segments = [dict(r) for r in db.execute('SELECT party, start, "end", text FROM segments WHERE call_id = ? ORDER BY start', (call_id,))]
    _turn_texts(turns, segments)
    return {
        "file": c["file"] or f"call {call_id}",
        "duration_s": round(c["duration_s"], 3),
        "pace_source": c["pace_source"] or "acoustic",
        "agent_wpm": c["agent_wpm"],
        "agent_talk_ratio": round(c["agent_talk_ratio"] or 0.0, 4),
        "longest_agent_monologue_s": round(c["longest_agent_monologue_s"] or 0.0, 2),
        "turns": turns,
        "interruptions": [dict(r) for r in db.execute(
            "SELECT t, overlap_s, by FROM interruptions WHERE call_id = ? ORDER BY t", (call_id,))],
        "prompts": [dict(r) for r in db.execute("SELECT t, kind, reason FROM prompts WHERE call_id = ? ORDER BY t", (call_id,))],
        "pace": [{"t": r["t"], "wpm": r["pace_wpm"]} for r in db.execute(
            "SELECT t, pace_wpm FROM metrics WHERE call_id = ? AND pace_wpm IS NOT NULL ORDER BY t", (call_id,))],
        "customer_states": [{"t": r["t"], "state": r["state"]} for r in db.execute(
            "SELECT t, state FROM customer_states WHERE call_id = ? ORDER BY t, rowid", (call_id,))],
        "call": {
            "id": c["id"], "started_at": c["started_at"], "status": c["status"], "source": c["source"],
            "playbook": c["playbook"],
            "segments": segments,
            "checklist": [dict(r) for r in db.execute(
                "SELECT t, step_id, title, source, done FROM ticks WHERE call_id = ? ORDER BY t", (call_id,))],
            "volume": [{"t": r["t"], "db": r["loudness_delta_db"]} for r in db.execute(
                "SELECT t, loudness_delta_db FROM metrics WHERE call_id = ? AND loudness_delta_db IS NOT NULL ORDER BY t", (call_id,))],
            "pauses": [{"start": r["start"], "end": r["end"] if r["end"] is not None else c["duration_s"]} for r in db.execute(
                'SELECT start, "end" FROM pauses WHERE call_id = ? ORDER BY start', (call_id,))],
            "notes": (db.execute("SELECT root_cause FROM notes WHERE call_id = ?", (call_id,)).fetchone() or [None])[0],
            "comments": [dict(r) for r in db.execute(
                "SELECT t, prompt_id, author, text, created_at FROM comments WHERE call_id = ? ORDER BY t", (call_id,))],
            "supervisor_messages": [dict(r) for r in db.execute(  # the team live: what a supervisor sent during the call
                "SELECT t, sender, text FROM supervisor_messages WHERE call_id = ? ORDER BY t, rowid", (call_id,))],
        },
    }


def _turn_texts(turns: list[dict[str, Any]], segments: list[dict[str, Any]]) -> None:
    """Each turn's `text`: the same party's segments whose middle lies within the turn (half a second of
    slack each side), in the segments' order; None for every turn when the call has no transcript.
    Each party's segments are sorted by their middle once and each turn finds its own by bisection:
    n log n, where looking through every segment for every turn was quadratic in a long call."""
    from bisect import bisect_left, bisect_right

    by_party: dict[object, tuple[list[float], list[int]]] = {}
    for index, s in enumerate(segments):
        middle = (s["start"] + s["end"]) / 2
        if middle == middle:  # a NaN middle lies within no turn
            by_party.setdefault(s["party"], ([], []))[1].append(index)
    for middles, order in by_party.values():
        order.sort(key=lambda i: (segments[i]["start"] + segments[i]["end"]) / 2)
        middles.extend((segments[i]["start"] + segments[i]["end"]) / 2 for i in order)
    for turn in turns:
        if not segments:
            turn["text"] = None
            continue
        middles, order = by_party.get(turn["party"], ([], []))
        low, high = turn["start"] - 0.5, turn["end"] + 0.5
        inside = sorted(order[bisect_left(middles, low):bisect_right(middles, high)]) if low <= high else []
        turn["text"] = " ".join(segments[i]["text"] for i in inside)


def search(db: sqlite3.Connection, text: Optional[str] = None, kind: Optional[str] = None,
           since: Optional[str] = None, until: Optional[str] = None, interrupted: Optional[bool] = None,
           upset: Optional[bool] = None) -> list[int]:
    """Call ids, newest first, whose transcript matches `text` (FTS5) and that pass the filters;
    `upset` True: only calls whose customer was upset at some point (False: never upset)."""
    where, args = _filters(text, kind, since, until, interrupted, upset)
    sql = "SELECT c.id FROM calls c" + where + " ORDER BY c.started_at DESC, c.id DESC"
    return [r[0] for r in db.execute(sql, args)]


def _filters(text: Optional[str], kind: Optional[str], since: Optional[str], until: Optional[str],
             interrupted: Optional[bool], upset: Optional[bool]) -> tuple[str, list[object]]:
    """The WHERE clause (with its leading space; empty without filters) and its parameters, over `calls c`."""
    where: list[str] = []
    args: list[object] = []
    if text:
        terms = " ".join('"' + t.replace('"', '""') + '"' for t in text.split())
        where.append("c.id IN (SELECT s.call_id FROM segments_fts f JOIN segments s ON s.id = f.rowid WHERE segments_fts MATCH ?)")
        args.append(terms)
    if kind:
        where.append("EXISTS (SELECT 1 FROM prompts p WHERE p.call_id = c.id AND p.kind = ?)")
        args.append(kind)
    if since:
        where.append("c.started_at >= ?")
        args.append(since)
    if until:
        where.append("c.started_at < ?")
        args.append(until)
    if interrupted is not None:
        where.append("c.status " + ("=" if interrupted else "!=") + " 'interrupted'")
    if upset is not None:
        where.append("c.customer_mood = 'upset'" if upset else "c.customer_mood IS NOT 'upset'")
    return (" WHERE " + " AND ".join(where) if where else ""), args



def save_root_cause(call_id: int, text: str, redaction: bool = True) -> None:
    """The agent's root-cause note for a call (from the summary), redacted like every stored text."""
    from companion.store.db import open_store
    from companion.store.rows import CallRows

    if not text.strip():
        return
    try:
        db = open_store()
        try:
            with db:
                CallRows(db, call_id, redaction).note(text)
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise CompanionError(f"The notes could not be saved ({exc}).") from None
