"""What went wrong on the team server, in one line: a psycopg error met on an open connection turned
into a TeamError (or TeamUnreachable) that says what was being done. Every server_* module and the
connection use it; it imports nothing of the team package but its errors."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from companion.team.errors import TeamError, TeamUnreachable

_UNREACHABLE = ("connection refused", "could not connect", "timeout expired", "could not translate host name",
                "no route to host", "network is unreachable", "name or service not known", "connection timed out",
                "server closed the connection", "terminating connection", "the database system is",
                "connection reset", "is the server running", "consuming input failed", "the connection is closed",
                "connection not open", "ssl syscall error", "eof detected", "broken pipe",
                "server conn crashed", "lost synchronization")


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


def explain(exc: BaseException, what: str) -> TeamError:
    """One line for a psycopg error met while doing `what` on an open connection."""
    import psycopg
    from psycopg import errors

    if isinstance(exc, TeamError):
        return exc
    detail = first_line(exc)
    sqlstate = getattr(exc, "sqlstate", None) or ""
    if isinstance(exc, errors.InsufficientPrivilege):
        if "permission denied for schema" in detail or "permission denied for database" in detail:
            return TeamError(f"The team server no longer lets this account in ({detail}: revoked?) — ask your admin. "
                             "Your calls stay on this machine.")
        return TeamError(f"The team server does not allow this ({what}): {detail}.")
    lost = isinstance(exc, psycopg.OperationalError) and (
        not sqlstate or any(s in detail.lower() for s in _UNREACHABLE))
    if sqlstate.startswith("08") or sqlstate in ("57P01", "57P02", "57P03") or lost:
        return TeamUnreachable(f"The connection to the team server was lost while {what} ({detail or 'closed'}); "
                               "nothing half-written was kept.")
    if isinstance(exc, errors.UndefinedTable) or isinstance(exc, errors.UndefinedColumn) \
            or isinstance(exc, errors.UndefinedFunction):
        return TeamError(f"The team server's schema is not what this app expects ({what}: {detail}) — "
                         "ask your admin to run `companion team init`.")
    return TeamError(f"The team server refused {what}: {detail}.")


@contextmanager
def team_errors(what: str) -> Iterator[None]:
    """Turn any psycopg error inside into a TeamError saying what was being done."""
    import psycopg

    try:
        yield
    except psycopg.Error as exc:
        raise explain(exc, what) from None
