"""Offline-first sync of the agent's finished calls to the team server, and of the supervisors'
feedback back to the agent's history.

The local SQLite store stays the source of truth; a call is never held up by the network. A team
call is queued in the outbox in the transaction that closes it (companion.store.outbox); then:

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
the server refuses on its own (a value it will not take, or a row-level security refusal: another
account already holds a call under its UUID) waits on its own backoff, with the server's reason in
its outbox row, and does not hold up the others.

Several syncs on one store at once (`team sync` three times, the window's worker beside it) each
claim the rows they send (companion.store.outbox): each call is sent by one of them, and each says
what it sent itself.

Feedback comes back through companion.team.feedback, which trusts nothing the server sends.

`sync_once` is one pass, for `companion team sync`; `SyncWorker` (companion.team.sync_worker) runs
it on a daemon thread of its own with its own SQLite connection, woken at once when a call is queued
in this process, and keeps to the backoff above. Here too: the status helpers (`local_status`,
`status_of`) and `TeamSyncStatus`, which the worker publishes.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar

from companion.errors import CompanionError
from companion.store import outbox
from companion.store.feedback_rows import review_status  # noqa: F401  (review_status: from here too)
from companion.team.errors import TeamError, TeamUnreachable
from companion.team.feedback import pull_feedback

if TYPE_CHECKING:
    from psycopg import Connection

    from companion.team.settings import TeamSettings

T = TypeVar("T")

AUDIO_RETRY_S = 1.0  # a call whose recording is still being finished is looked at again this soon


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
    refusal: str = ""          # the server's reason for the first of them
    elsewhere: int = 0         # calls another sync on this machine is sending now
    comments: int = 0          # supervisors' comments brought into the local store
    reviews: int = 0           # calls whose review status changed here
    mended: int = 0            # comments whose time was not a time in the call: kept at its start
    skipped: int = 0           # feedback items that could not be read at all
    server_version: Optional[int] = None
    message: str = ""

    @property
    def exit_code(self) -> int:
        """`companion team sync`: 0 all sent (or the rest is being sent by another sync on this
        machine), 1 some wait, 2 refused."""
        if self.state == "waiting" and self.pending and self.pending == self.elsewhere:
            return 0
        return {"synced": 0, "refused": 2}.get(self.state, 1)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _verb(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def _sqlstate(exc: BaseException) -> str:
    seen: Optional[BaseException] = exc
    while seen is not None:
        state = getattr(seen, "sqlstate", None)  # psycopg's errors: the SQLSTATE, a str
        if state:
            return str(state)
        seen = seen.__context__
    return ""


def _this_call_only(exc: TeamError) -> bool:
    """The server refused this one call (a value out of range, a constraint, or row-level security
    refusing the row: another account holds a call under its UUID), not the agent."""
    state = _sqlstate(exc)
    return state[:2] in ("22", "23") or (state == "42501" and "row-level security" in exc.message)


def _write(db: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    from companion.store.db import write

    return write(db, work)


# --- one pass ---------------------------------------------------------------------------------
def sync_once(db: Optional[sqlite3.Connection] = None, settings: Optional[TeamSettings] = None, password: Optional[str] = None,
              respect_backoff: bool = False, pull: bool = True, limit: Optional[int] = None,
              stop: Optional[threading.Event] = None) -> SyncResult:
    """Send what the outbox holds (only what is due with `respect_backoff`; everything otherwise, as
    `companion team sync` does; never what another sync on this machine is sending), then pull the
    supervisors' feedback (with `pull`). Never raises for the server's trouble: the result says it.
    `db` is the caller's store connection (opened and closed here when None)."""
    from companion.store.db import open_store
    from companion.team.settings import load

    own = db is None
    store = open_store() if db is None else db
    try:
        settings = settings or load()
        if not settings.connected:
            raise TeamError("This machine is not connected to a team server — run `companion team connect DSN`.")
        claimant = outbox.new_claimant()
        try:
            return _pass(store, settings, password, respect_backoff, pull, limit, stop, claimant)
        finally:
            outbox.end_claimant(claimant)  # what it still holds is free for others from now on …
            try:
                _write(store, lambda db: outbox.release(db, claimant))  # … and so written
            except sqlite3.Error:
                pass  # the claims lapse anyway: their pass has ended
    finally:
        if own:
            store.close()


def _pass(db: sqlite3.Connection, settings: TeamSettings, password: Optional[str], respect_backoff: bool, pull: bool,
          limit: Optional[int], stop: Optional[threading.Event], claimant: str) -> SyncResult:
    from companion.team.connection import connect, role_kind
    from companion.team.server_calls import policy
    from companion.team.server_schema import check_version

    tuning = settings.tuning
    max_wait = tuning.backoff_max_s

    def waiting_ids() -> list[int]:
        now = outbox.wall_clock()
        return [r["call_id"] for r in outbox.due(db, now if respect_backoff else None, None, max_wait)]

    result = SyncResult(state="synced", pending=outbox.pending(db))
    has_work = bool(outbox.due(db, outbox.wall_clock() if respect_backoff else None, 1, max_wait))
    if not has_work and not pull:
        return _finish(db, result, claimant, connected=False)
    assert settings.dsn is not None  # sync_once made sure the settings are connected
    try:
        conn = connect(settings.dsn, password)
    except TeamError as exc:
        return _failed(db, result, exc, waiting_ids(), claimant)
    try:
        try:
            result.server_version = check_version(conn)
            kind = role_kind(conn)
            if kind != "agent":
                if has_work:
                    raise TeamError(f"This machine is connected to the team server as {kind or 'no team member'}; "
                                    "only an agent's calls are uploaded (`companion team connect` with the agent's "
                                    "account).")
            shares = policy(conn) if has_work else {}
        except TeamError as exc:
            return _failed(db, result, exc, waiting_ids(), claimant)
        taken = 0
        while has_work and (limit is None or taken < limit):
            if stop is not None and stop.is_set():
                break
            size = tuning.batch if limit is None else min(tuning.batch, limit - taken)
            def claim(db: sqlite3.Connection, size: int = size) -> list[dict[str, Any]]:
                return outbox.claim(db, claimant, size, respect_backoff, outbox.wall_clock(), max_wait)

            rows = _write(db, claim)
            if not rows:
                break
            taken += len(rows)
            for n, row in enumerate(rows):
                if stop is not None and stop.is_set():
                    break
                failed = _send_one(db, conn, row["call_id"], shares, settings, result, claimant)
                if failed is not None:
                    return _failed(db, result, failed, [r["call_id"] for r in rows[n:]] + waiting_ids(), claimant)
        if pull and (stop is None or not stop.is_set()):
            try:
                got = pull_feedback(conn, db)
                result.comments, result.reviews, result.mended, result.skipped = \
                    got.comments, got.reviews, got.mended, got.skipped
            except TeamError as exc:
                return _failed(db, result, exc, [], claimant)
    finally:
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - a connection already dropped
            pass
    return _finish(db, result, claimant)


def _send_one(db: sqlite3.Connection, conn: Connection[Any], cid: int, shares: dict[str, Any], settings: TeamSettings,
              result: SyncResult, claimant: str) -> Optional[TeamError]:
    """Upload one claimed call; returns the error that stops the pass (None: go on)."""
    from companion.team.call_document import AudioNotReady, build_document
    from companion.team.server_calls import call_row, upsert_call

    backoff = settings.tuning.backoff
    try:
        doc = build_document(db, cid, shares)
        call_row(doc, shares)  # the server's own checks, here: a bad call waits alone
    except AudioNotReady as exc:  # closed a moment before its audio file: in a second
        why = exc.message
        _write(db, lambda db: outbox.postpone(db, cid, outbox.wall_clock() + AUDIO_RETRY_S, why))
        return None
    except TeamError as exc:
        _refused(db, cid, exc, backoff, result)
        return None
    except CompanionError:  # the call is gone from the store (deleted since it was queued)
        _write(db, lambda db: outbox.mark_sent(db, cid))
        return None
    try:
        upsert_call(conn, doc)  # committed on the server when this returns
    except TeamError as exc:
        if isinstance(exc, TeamUnreachable) or not _this_call_only(exc):
            return exc
        _refused(db, cid, exc, backoff, result)
        return None
    now = outbox.wall_clock()
    def sent(db: sqlite3.Connection) -> None:
        outbox.mark_sent(db, cid)
        outbox.renew(db, claimant, now)
        outbox.set_state(db, last_sync_ok=now, unreachable_since=None, refused_since=None, last_error=None,
                         server_version=result.server_version)

    _write(db, sent)
    result.sent += 1
    return None


def _refused(db: sqlite3.Connection, cid: int, exc: TeamError, backoff: Callable[[int, float], float],
             result: SyncResult) -> None:
    """The server would not take this one call: it waits on its own backoff, the reason in its row."""
    _write(db, lambda db: outbox.mark_failed(db, cid, exc.message, backoff))
    result.refused_calls += 1
    result.refusal = result.refusal or exc.message


def _finish(db: sqlite3.Connection, result: SyncResult, claimant: Optional[str] = None,
            connected: bool = True) -> SyncResult:
    result.pending, result.elsewhere = outbox.counts(db, claimant)
    now = outbox.wall_clock()
    if connected:  # the server answered: it is neither unreachable nor refusing any more
        _write(db, lambda db: outbox.set_state(db, unreachable_since=None, refused_since=None, last_error=None,
                                               last_sync_ok=now if result.sent else outbox.get_state(db, "last_sync_ok"),
                                               server_version=result.server_version))
    feedback = _feedback_words(result)
    sent = _plural(result.sent, "call") + " sent"
    waiting = result.pending - result.elsewhere
    if result.pending == 0:
        result.state = "synced"
        result.message = (f"{sent}; every call is on the team server{feedback}."
                          if result.sent else f"Nothing to send; every call is on the team server{feedback}.")
        return result
    result.state = "waiting"
    if waiting == 0:  # the rest is another sync's on this machine (a `team sync`, the app's worker)
        result.message = (f"{sent}; another sync on this machine is sending the other {result.elsewhere}{feedback}."
                          if result.sent else f"Nothing to send here; another sync on this machine is sending "
                                              f"{_plural(result.elsewhere, 'call')}{feedback}.")
        return result
    why = ""
    if result.refused_calls:
        why = (f" ({_plural(result.refused_calls, 'call')} the team server would not take, tried again later: "
               f"{result.refusal.rstrip('.')})")
    more = f"; another sync on this machine is sending {result.elsewhere} more" if result.elsewhere else ""
    result.message = f"{sent}, {waiting} waiting{why}{more}{feedback}."
    return result


def _feedback_words(result: SyncResult) -> str:
    got = [_plural(n, what) for n, what in ((result.comments, "new comment"), (result.reviews, "review")) if n]
    words = f"; {' and '.join(got)} from supervisors" if got else ""
    if result.mended:
        words += (f" ({_plural(result.mended, 'comment')} with no valid time in the call from the team server, "
                  "kept at the call's start)")
    if result.skipped:
        words += (f"; {_plural(result.skipped, 'feedback item')} from the team server could not be read and "
                  f"{_verb(result.skipped, 'was', 'were')} skipped")
    return words


def _failed(db: sqlite3.Connection, result: SyncResult, exc: TeamError, waiting: list[int],
            claimant: Optional[str] = None) -> SyncResult:
    """The server could not be reached (try again later) or refused us (stop, say why, keep the calls)."""
    now = outbox.wall_clock()
    unreachable = isinstance(exc, TeamUnreachable) or getattr(exc, "retry", False)
    result.state = "unreachable" if unreachable else "refused"

    def note(db: sqlite3.Connection) -> None:
        outbox.note_error(db, sorted(set(waiting)), exc.message)
        key = "unreachable_since" if unreachable else "refused_since"
        other = "refused_since" if unreachable else "unreachable_since"
        outbox.set_state(db, **{key: outbox.get_state(db, key) or now, other: None, "last_error": exc.message,
                                "last_state": result.state})
        if result.sent:
            outbox.set_state(db, last_sync_ok=now)

    _write(db, note)
    result.pending, result.elsewhere = outbox.counts(db, claimant)
    sent = f"{_plural(result.sent, 'call')} sent; " if result.sent else ""
    n = result.pending
    if unreachable:
        result.message = (f"{exc.message} {sent}{_plural(n, 'call')} {_verb(n, 'waits', 'wait')} on this machine "
                          f"and {_verb(n, 'goes', 'go')} when it answers.")
    else:
        result.message = f"{exc.message} {sent}{_plural(n, 'call')} {_verb(n, 'waits', 'wait')} on this machine."
    return result


# --- the status, for `team status` and the status bar -------------------------------------------
def local_status(db: sqlite3.Connection) -> dict[str, Any]:
    """What this machine knows without asking the server: pending, last sync, unreachable since, …"""
    state = outbox.all_state(db)

    def number(key: str) -> Optional[float]:
        try:
            return float(state[key]) if key in state else None
        except ValueError:
            return None

    oldest = outbox.oldest(db)
    refused = outbox.refused(db)
    last_error = state.get("last_error")
    if not last_error and refused[0]:  # the server is fine; some calls it would not take say why
        last_error = (f"{_plural(refused[0], 'call')} the team server would not take: {refused[1]}"
                      if refused[0] > 1 else refused[1])
    return {"pending": outbox.pending(db), "oldest_pending": oldest[0], "most_attempts": oldest[1] or 0,
            "refused_calls": refused[0],
            "last_sync_ok": number("last_sync_ok"), "unreachable_since": number("unreachable_since"),
            "refused_since": number("refused_since"), "last_error": last_error,
            "server_version": int(state["server_version"]) if state.get("server_version", "").isdigit() else None,
            "feedback_since": state.get("feedback_since"), "last_feedback": number("last_feedback")}


def status_of(result: SyncResult, db: sqlite3.Connection) -> TeamSyncStatus:
    known = local_status(db)
    since = {"unreachable": known["unreachable_since"], "refused": known["refused_since"]}.get(
        result.state, known["last_sync_ok"])
    return TeamSyncStatus(result.state, result.pending, since, result.message)
