"""Questions about the open team-server session itself (not the team's data): who this login is, its
groups, what TLS it runs over, which agents it may see, and its statement timeout."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from psycopg import Connection


def role_groups(conn: "Connection[Any]") -> Optional[tuple[bool, list[str]]]:
    """(is the connected role a superuser, the groups it is a member of); None when the role is gone."""
    row = conn.execute(
        "SELECT r.rolsuper, array(SELECT g.rolname::text FROM pg_auth_members m "
        "JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid) "
        "FROM pg_roles r WHERE r.rolname = current_user").fetchone()
    return (bool(row[0]), [str(g) for g in row[1]]) if row else None


def current_role(conn: "Connection[Any]") -> str:
    row = conn.execute("SELECT current_user::text").fetchone()
    return str(row[0]) if row else ""


def visible_agents(conn: "Connection[Any]") -> set[str]:
    """The agents whose calls this login may see (row-level security's own rule, cc.visible_agents)."""
    return {str(r[0]) for r in conn.execute("SELECT unnest(cc.visible_agents())").fetchall()}


def tls_in_use(conn: "Connection[Any]") -> Optional[tuple[str, str]]:
    """(TLS version, cipher) of this session as the server sees it; None when it does not say."""
    row = conn.execute("SELECT version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
    return (str(row[0]), str(row[1])) if row and row[0] else None


def set_statement_timeout(conn: "Connection[Any]", ms: int) -> None:
    """No statement of this session runs longer than `ms` milliseconds."""
    conn.execute(f"SET statement_timeout = {int(ms)}")
