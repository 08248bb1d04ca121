"""Offline-first sync of the agent's finished calls to the team server, and of the supervisors'
feedback back to the agent's history.

The local SQLite store stays the source of truth; a call is never held up by the network. A team
call is queued in the outbox in the transaction that closes it (companion.team.outbox); then:

    due outbox rows → connect → check the schema → read the policy → for each call: build its
    document (redacted again, stripped per the policy) → upsert it on the server (its own
    transaction, committed there) → THEN delete the local outbox row

so delivery is at least once (a crash between the server's commit and the local delete sends the
call again; the server's upsert on the call's UUID keeps one copy). After each upload, and every
`feedback_every_s`, supervisors' comments and reviews are pulled into the local store.

Failures: the server unreachable (or the connection dropped) → back off and try again, from
`backoff_first_s` to `backoff_max_s` (resources/team.toml), for as long as it takes; a refusal
(wrong password, revoked account, a schema this app does not know) → state 'refused' with the
server's message, the local calls kept and still queued, tried again on the same backoff; a call
the server refuses on its own (a value it will not take) waits on its own backoff and does not hold
up the others.

`sync_once` is one pass, for `companion team sync`; `SyncWorker` (companion.team.sync_worker) runs
it on a daemon thread of its own with its own SQLite connection, woken at once when a call is queued
in this process, and keeps to the backoff above. Here too: the status helpers (`local_status`,
`status_of`) and `TeamSyncStatus`, which the worker publishes.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Optional

from companion.errors import CompanionError
from companion.team import outbox
from companion.team.errors import TeamError, TeamUnreachable

STATES = ("synced", "waiting", "unreachable", "refused")
AUDIO_RETRY_S = 1.0  # a call whose recording is still being finished is looked at again this soon
FEEDBACK_OVERLAP = timedelta(minutes=5)  # feedback pulled again a little before the newest seen: none is missed


@dataclass(frozen=True)
class TeamSyncStatus:
    """Published by the sync worker (the status bar: "synced", "N waiting", "server unreachable since
    HH:MM"). `since` is a time.time(): for 'unreachable' and 'refused' when that began, for 'synced'
    and 'waiting' the last successful upload (None: none yet)."""

    state: str        # 'synced' | 'waiting' | 'unreachable' | 'refused'
    pending: int      # calls in the outbox
    since: Optional[float]
    message: str


@dataclass
class SyncResult:
    state: str
    sent: int = 0
    pending: int = 0
    refused_calls: int = 0     # calls the server would not take, each waiting for its own retry
    comments: int = 0          # supervisors' comments brought into the local store
    reviews: int = 0           # calls whose review status changed here
    server_version: Optional[int] = None
    message: str = ""

    @property
    def exit_code(self) -> int:
        """`companion team sync`: 0 all sent, 1 some wait, 2 refused."""
        return {"synced": 0, "refused": 2}.get(self.state, 1)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _sqlstate(exc: BaseException) -> str:
    seen = exc
    while seen is not None:
        state = getattr(seen, "sqlstate", None)
        if state:
            return state
        seen = seen.__context__
    return ""


def _this_call_only(exc: TeamError) -> bool:
    """The server refused this one call's data (a value out of range, a constraint), not the agent."""
    return _sqlstate(exc)[:2] in ("22", "23")


def _write(db: sqlite3.Connection, work: Callable[[sqlite3.Connection], object]) -> object:
    from companion.store.db import write

    return write(db, work)


# --- one pass ---------------------------------------------------------------------------------
def sync_once(db: Optional[sqlite3.Connection] = None, settings=None, password: Optional[str] = None,
              respect_backoff: bool = False, pull: bool = True, limit: Optional[int] = None,
              stop: Optional[threading.Event] = None) -> SyncResult:
    """Send what the outbox holds (only what is due with `respect_backoff`; everything otherwise, as
    `companion team sync` does), then pull the supervisors' feedback (with `pull`). Never raises for
    the server's trouble: the result says it. `db` is the caller's store connection (opened and
    closed here when None)."""
    from companion.store.db import open_store
    from companion.team.settings import load

    own = db is None
    if own:
        db = open_store()
    try:
        settings = settings or load()
        if not settings.connected:
            raise TeamError("This machine is not connected to a team server — run `companion team connect DSN`.")
        return _pass(db, settings, password, respect_backoff, pull, limit, stop)
    finally:
        if own:
            db.close()


def _pass(db, settings, password, respect_backoff, pull, limit, stop) -> SyncResult:
    from companion.team.call_document import AudioNotReady, build_document
    from companion.team.connection import connect, role_kind
    from companion.team.server_calls import call_row, policy, upsert_call
    from companion.team.server_schema import check_version

    rows = outbox.due(db, time.time() if respect_backoff else None, limit)
    result = SyncResult(state="synced", pending=outbox.pending(db))
    if not rows and not pull:
        return _finish(db, result, connected=False)
    try:
        conn = connect(settings.dsn, password)
    except TeamError as exc:
        return _failed(db, result, exc, [r["call_id"] for r in rows])
    try:
        try:
            result.server_version = check_version(conn)
            kind = role_kind(conn)
            if kind != "agent":
                if rows:
                    raise TeamError(f"This machine is connected to the team server as {kind or 'no team member'}; "
                                    "only an agent's calls are uploaded (`companion team connect` with the agent's "
                                    "account).")
                rows = []
            shares = policy(conn) if rows else {}
        except TeamError as exc:
            return _failed(db, result, exc, [r["call_id"] for r in rows])
        for n, row in enumerate(rows):
            if stop is not None and stop.is_set():
                break
            cid = row["call_id"]
            try:
                doc = build_document(db, cid, shares)
                call_row(doc, shares)  # the server's own checks, here: a bad call waits alone
            except AudioNotReady as exc:  # closed a moment before its audio file: in a second
                _write(db, lambda db: outbox.postpone(db, cid, time.time() + AUDIO_RETRY_S, exc.message))
                continue
            except TeamError as exc:
                _write(db, lambda db: outbox.mark_failed(db, cid, exc.message, settings.tuning.backoff))
                result.refused_calls += 1
                continue
            except CompanionError:  # the call is gone from the store (deleted since it was queued)
                _write(db, lambda db: outbox.mark_sent(db, cid))
                continue
            try:
                upsert_call(conn, doc)  # committed on the server when this returns
            except TeamError as exc:
                if isinstance(exc, TeamUnreachable) or not _this_call_only(exc):
                    return _failed(db, result, exc, [r["call_id"] for r in rows[n:]])
                _write(db, lambda db: outbox.mark_failed(db, cid, exc.message, settings.tuning.backoff))
                result.refused_calls += 1
                continue
            now = time.time()
            _write(db, lambda db: (outbox.mark_sent(db, cid),
                                   outbox.set_state(db, last_sync_ok=now, unreachable_since=None, refused_since=None,
                                                    last_error=None, server_version=result.server_version)))
            result.sent += 1
        if pull and (stop is None or not stop.is_set()):
            try:
                result.comments, result.reviews = pull_feedback(conn, db)
            except TeamError as exc:
                return _failed(db, result, exc, [])
    finally:
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - a connection already dropped
            pass
    return _finish(db, result)


def _finish(db: sqlite3.Connection, result: SyncResult, connected: bool = True) -> SyncResult:
    result.pending = outbox.pending(db)
    now = time.time()
    if connected:  # the server answered: it is neither unreachable nor refusing any more
        _write(db, lambda db: outbox.set_state(db, unreachable_since=None, refused_since=None, last_error=None,
                                               last_sync_ok=now if result.sent else outbox.get_state(db, "last_sync_ok"),
                                               server_version=result.server_version))
    got = [_plural(n, what) for n, what in ((result.comments, "new comment"), (result.reviews, "review")) if n]
    feedback = f"; {' and '.join(got)} from supervisors" if got else ""
    if result.pending == 0:
        result.state = "synced"
        result.message = (f"{_plural(result.sent, 'call')} sent; every call is on the team server{feedback}."
                          if result.sent else f"Nothing to send; every call is on the team server{feedback}.")
    else:
        result.state = "waiting"
        why = (f" ({_plural(result.refused_calls, 'call')} the team server would not take; tried again later)"
               if result.refused_calls else "")
        result.message = f"{_plural(result.sent, 'call')} sent, {result.pending} waiting{why}{feedback}."
    return result


def _failed(db: sqlite3.Connection, result: SyncResult, exc: TeamError, waiting: list[int]) -> SyncResult:
    """The server could not be reached (try again later) or refused us (stop, say why, keep the calls)."""
    now = time.time()
    unreachable = isinstance(exc, TeamUnreachable) or getattr(exc, "retry", False)
    result.state = "unreachable" if unreachable else "refused"

    def note(db: sqlite3.Connection) -> None:
        outbox.note_error(db, waiting, exc.message)
        key = "unreachable_since" if unreachable else "refused_since"
        other = "refused_since" if unreachable else "unreachable_since"
        outbox.set_state(db, **{key: outbox.get_state(db, key) or now, other: None, "last_error": exc.message,
                                "last_state": result.state})
        if result.sent:
            outbox.set_state(db, last_sync_ok=now)

    _write(db, note)
    result.pending = outbox.pending(db)
    sent = f"{_plural(result.sent, 'call')} sent; " if result.sent else ""
    if unreachable:
        result.message = f"{exc.message} {sent}{_plural(result.pending, 'call')} wait on this machine and go when it answers."
    else:
        result.message = f"{exc.message} {sent}{_plural(result.pending, 'call')} wait on this machine."
    return result


# --- feedback ---------------------------------------------------------------------------------
def pull_feedback(conn, db: sqlite3.Connection) -> tuple[int, int]:
    """Supervisors' comments and reviews on this agent's calls, into the local store (comments once
    each, by their server id; a review is the call's state). Returns (new comments, reviews changed)."""
    from companion.store.redaction import redact
    from companion.team.server_calls import feedback_since

    since = outbox.get_state(db, "feedback_since")
    ask = None
    if since:
        try:
            ask = (datetime.fromisoformat(since) - FEEDBACK_OVERLAP).isoformat()
        except ValueError:
            ask = None
    items = feedback_since(conn, ask)

    def apply(db: sqlite3.Connection) -> tuple[int, int]:
        comments = reviews = 0
        ids = {}
        for item in items:
            uuid = item.get("call_uuid")
            if uuid not in ids:
                row = db.execute("SELECT id FROM calls WHERE uuid = ?", (uuid,)).fetchone()
                ids[uuid] = row[0] if row else None
            cid = ids[uuid]
            if cid is None:
                continue  # deleted on this machine: its feedback stays on the server
            if item.get("type") == "comment":
                t = item.get("t")
                cur = db.execute(
                    "INSERT INTO comments(call_id, t, prompt_id, author, text, created_at, server_id) "
                    "VALUES (?, ?, NULL, ?, ?, ?, ?) ON CONFLICT(server_id) DO NOTHING",
                    (cid, float(t) if isinstance(t, (int, float)) else 0.0, redact(str(item.get("author") or "")) or None,
                     redact(str(item.get("text") or "")), str(item.get("at")), int(item["id"])))
                comments += cur.rowcount
            elif item.get("type") == "review":
                by, at = (item.get("by"), item.get("at")) if item.get("reviewed") else (None, None)
                cur = db.execute("UPDATE calls SET reviewed_by = ?, reviewed_at = ? WHERE id = ? "
                                 "AND (reviewed_by IS NOT ? OR reviewed_at IS NOT ?)", (by, at, cid, by, at))
                reviews += cur.rowcount
        newest = items[-1]["at"] if items else since
        outbox.set_state(db, feedback_since=newest, last_feedback=time.time())
        return comments, reviews

    return _write(db, apply)


def review_status(db: sqlite3.Connection, call_id: int) -> dict:
    """{"reviewed": bool, "reviewed_by", "reviewed_at"} of a local call, as last pulled from the server."""
    row = db.execute("SELECT reviewed_by, reviewed_at FROM calls WHERE id = ?", (call_id,)).fetchone()
    if row is None:
        raise CompanionError(f"No saved call {call_id}.")
    return {"reviewed": row[1] is not None, "reviewed_by": row[0], "reviewed_at": row[1]}


# --- the status, for `team status` and the status bar -------------------------------------------
def local_status(db: sqlite3.Connection) -> dict:
    """What this machine knows without asking the server: pending, last sync, unreachable since, …"""
    state = outbox.all_state(db)

    def number(key: str) -> Optional[float]:
        try:
            return float(state[key]) if key in state else None
        except ValueError:
            return None

    oldest = db.execute("SELECT MIN(queued_at), MAX(attempts) FROM outbox").fetchone()
    return {"pending": outbox.pending(db), "oldest_pending": oldest[0], "most_attempts": oldest[1] or 0,
            "last_sync_ok": number("last_sync_ok"), "unreachable_since": number("unreachable_since"),
            "refused_since": number("refused_since"), "last_error": state.get("last_error"),
            "server_version": int(state["server_version"]) if state.get("server_version", "").isdigit() else None,
            "feedback_since": state.get("feedback_since"), "last_feedback": number("last_feedback")}


def status_of(result: SyncResult, db: sqlite3.Connection) -> TeamSyncStatus:
    known = local_status(db)
    since = {"unreachable": known["unreachable_since"], "refused": known["refused_since"]}.get(
        result.state, known["last_sync_ok"])
    return TeamSyncStatus(result.state, result.pending, since, result.message)
