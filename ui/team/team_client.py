"""The windows' way to the team server: one connection per window, used on a worker thread of its own,
answers back on the GUI thread.

`TeamClient.submit(job, done, failed)` runs `job(conn)` as one of the window's serial tasks
(ui/tasks.py: jobs run one after another, in order, on one thread; the psycopg connection is made on
first use and again after it was lost) and calls `done(result)` or `failed(message)` on the GUI thread.
`failed` gets one line for the user, never a traceback. A query that takes long leaves the window
usable; `busy_for()` says for how long the current job has run, for a "the team server is slow" line.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from PySide6.QtCore import QObject

from ui.tasks import Tasks

VIEWER_ROLES = ("supervisor", "admin", "superuser")
STATEMENT_TIMEOUT_MS = 120_000


def team_dsn() -> Optional[str]:
    """The address the History's Team source and the dashboard use on this machine: the supervisor's
    (or admin's) saved connection, else the admin's address; None when there is none, or when this
    machine is an agent's (their calls are in their own history)."""
    try:
        from companion.team.settings import load

        settings = load()
    except Exception:  # noqa: BLE001 - unreadable team settings: no Team source (the status bar says why)
        return None
    if settings.connected and settings.role in VIEWER_ROLES:
        return settings.dsn
    return settings.admin_dsn


def one_line(exc: BaseException) -> str:
    """A TeamError's own sentence; anything else as its first line, named."""
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message:
        return message
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"Unexpected problem with the team server ({type(exc).__name__}{': ' + text if text else ''})."


def people(conn) -> dict:
    """The agents and teams this login may filter by: {"agents": [(role, shown name)], "teams": [...]}."""
    from companion.team.connection import role_kind
    from companion.team.server_admin import members
    from companion.team.server_errors import team_errors
    from companion.team.server_session import current_role, visible_agents

    kind = role_kind(conn)
    everyone = members(conn)
    with team_errors("reading the team's members"):
        me = current_role(conn)
        visible = None if kind in ("admin", "superuser") else visible_agents(conn)
    agents = [m for m in everyone if m["kind"] == "agent" and (visible is None or m["role"] in visible)]
    if visible is None:
        teams = sorted({t for m in everyone for t in m["teams"]})
    else:
        teams = sorted({t for m in everyone if m["role"] == me for t in m["teams"]})
    return {"agents": [(m["role"], m["display_name"] or m["role"]) for m in agents], "teams": teams, "me": me}


class TeamClient(QObject):
    """One connection to the team server for a window: `submit(job, done, failed)` runs `job(conn)` as one
    of the window's serial tasks (ui/tasks.py), connecting on first use and again after the connection was
    lost; `done(result)` or `failed(one line)` follow on the GUI thread. Gone with its parent window."""

    def __init__(self, dsn: str, password: Optional[str] = None, parent: Optional[QObject] = None):
        super().__init__(parent)
        self.dsn, self.password = dsn, password
        self._conn: Any = None  # used (and closed) on the tasks' thread only
        self.tasks = Tasks(self, serial=True, name="team-client", cleanup=self._drop)

    # --- GUI thread -------------------------------------------------------------------------
    def submit(self, job: Callable[[Any], Any], done: Optional[Callable[[Any], None]] = None,
               failed: Optional[Callable[[str], None]] = None) -> None:
        def said(exc: Exception) -> None:
            if failed is not None:
                failed(one_line(exc))

        self.tasks.run(lambda: self._on_connection(job), done, said)

    def busy_for(self) -> float:
        """How long the current query has run: for a "the team server is slow" line."""
        return self.tasks.busy_for()

    def close(self) -> None:
        """No more answers; the connection is closed once the current query is over."""
        self.tasks.close()

    # --- the tasks' thread ------------------------------------------------------------------
    def _on_connection(self, job: Callable[[Any], Any]) -> Any:
        if self._conn is None or self._conn.closed:
            from companion.team.connection import connect
            from companion.team.server_session import set_statement_timeout

            self._conn = connect(self.dsn, self.password)
            set_statement_timeout(self._conn, STATEMENT_TIMEOUT_MS)  # never a query hung for good
        try:
            return job(self._conn)
        except Exception as exc:
            if getattr(exc, "retry", False) or self._conn.closed:
                self._drop()  # lost: connect again for the next job
            raise

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - already gone
                pass
