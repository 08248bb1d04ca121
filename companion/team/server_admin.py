"""Setting a team server up and managing who is on it (`companion team init`, `add-agent`,
`add-supervisor`). Run by the server's admin: a superuser, or a role with CREATEROLE that owns the
database. Each person gets their own LOGIN role, a member of one group (cc_agent, cc_supervisor,
cc_admin); the password is stored on the server only as a SCRAM verifier computed here, so the
clear password never travels in a statement or lands in the server's log."""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any, Optional

from companion.team.errors import TeamError
from companion.team.server_errors import team_errors
from companion.team.server_rows import one
from companion.team.server_schema import GROUPS, migrate

if TYPE_CHECKING:
    from psycopg import Connection

KINDS = {"agent": "cc_agent", "supervisor": "cc_supervisor", "admin": "cc_admin"}
NAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,62}$")
RESERVED = ("pg_", "cc_")


def init_server(conn: Connection[Any], share_text: bool, share_audio: bool) -> int:
    """Schema, groups, row-level security and the policy; safe to run again (it then upgrades an
    older schema and sets the policy). Returns the schema version."""
    with team_errors("setting up the team server"):
        version = migrate(conn)
        with conn.transaction():
            conn.execute("UPDATE cc.policy SET share_text = %s, share_audio = %s, changed_at = now()",
                         (bool(share_text), bool(share_audio)))
            from psycopg import sql

            db = sql.Identifier(one(conn.execute("SELECT current_database()"))[0])
            # only team members may connect: a revoked member is turned away at the door
            conn.execute(sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(db))
            conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO cc_agent, cc_supervisor, cc_admin").format(db))
            superuser = one(conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))[0]
            if not superuser:  # the tables' owner is under FORCEd row-level security too: let it see them
                conn.execute("GRANT cc_admin TO CURRENT_USER")
    return version


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME.match(name) or name.startswith(RESERVED) or name in ("postgres", "public"):
        raise TeamError(f"{name!r} cannot be a team member's name: use 1–63 lowercase letters, digits and . _ @ - "
                        "(not starting with pg_ or cc_).")
    return name


def _check_team(team: Optional[str], kind: str) -> Optional[str]:
    if team is None and kind == "admin":
        return None
    if not isinstance(team, str) or not team.strip() or len(team) > 100 or not team.isprintable():
        raise TeamError(f"{team!r} is not a team name: give one of up to 100 printable characters.")
    return team.strip()


def add_member(conn: Connection[Any], name: str, team: Optional[str], kind: str, password: Optional[str] = None,
               display_name: Optional[str] = None) -> str:
    """Create (or re-enable) `name` as a LOGIN role in the group for `kind` ('agent', 'supervisor',
    'admin') and put them in `team` (several calls: several teams). Returns the password, generated
    when none is given: show it once, it is not kept anywhere. A role that exists on the server but
    is not a member here (revoked members are) is refused: it belongs to someone else."""
    from psycopg import sql

    if kind not in KINDS:
        raise TeamError(f"{kind!r} is not a kind of member: agent, supervisor or admin.")
    name, team = _check_name(name), _check_team(team, kind)
    password = password or secrets.token_urlsafe(18)
    verifier = conn.pgconn.encrypt_password(password.encode(), name.encode(), b"scram-sha-256").decode()
    role = sql.Identifier(name)
    with team_errors(f"adding {name}"), conn.transaction():
        row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
        if row and row[0]:
            raise TeamError(f"{name} is a superuser on this server; give the team member another name.")
        if row and not conn.execute("SELECT 1 FROM cc.members WHERE role = %s", (name,)).fetchone():
            # someone else's role (a DBA's, an application's): changing its password and attributes takes it over
            raise TeamError(f"{name} is already a role on this server and not a member of this team — choose "
                            "another name. Nothing was changed.")
        verb = "ALTER" if row else "CREATE"
        extra = sql.SQL(" CREATEROLE") if kind == "admin" else sql.SQL(" NOCREATEROLE")
        conn.execute(sql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOBYPASSRLS{} PASSWORD {}")
                     .format(role, extra, sql.Literal(verifier)))
        for group in GROUPS:
            if group != KINDS[kind]:
                conn.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(group), role))
        conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(KINDS[kind]), role))
        conn.execute("INSERT INTO cc.members (role, kind, display_name) VALUES (%s, %s, %s) "
                     "ON CONFLICT (role) DO UPDATE SET kind = EXCLUDED.kind, revoked_at = NULL, "
                     "display_name = coalesce(EXCLUDED.display_name, cc.members.display_name)",
                     (name, kind, display_name))
        if team is not None:
            conn.execute("INSERT INTO cc.teams (name) VALUES (%s) ON CONFLICT DO NOTHING", (team,))
            conn.execute("INSERT INTO cc.team_members (role, team) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                         (name, team))
    return password


def revoke_member(conn: Connection[Any], name: str) -> None:
    """`name` can no longer log in or read anything; their calls stay on the server (and on their
    machine). Their open sessions are ended where this role may do so."""
    from psycopg import sql

    with team_errors(f"revoking {name}"):
        with conn.transaction():
            found = conn.execute("SELECT 1 FROM cc.members WHERE role = %s", (name,)).fetchone()
            if not found:
                raise TeamError(f"{name} is not a member of this team server.")
            role = sql.Identifier(name)
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone():
                conn.execute(sql.SQL("ALTER ROLE {} NOLOGIN").format(role))
                for group in GROUPS:
                    conn.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(group), role))
            conn.execute("DELETE FROM cc.team_members WHERE role = %s", (name,))
            conn.execute("UPDATE cc.members SET revoked_at = now() WHERE role = %s", (name,))
        try:
            with conn.transaction():
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (name,))
        except Exception:
            pass  # not allowed to end their sessions: their next statement is refused anyway


def members(conn: Connection[Any]) -> list[dict[str, Any]]:
    """Everyone on the server: {role, kind, display_name, teams, revoked}."""
    with team_errors("listing the team"):
        rows = conn.execute(
            "SELECT m.role, m.kind, m.display_name, m.revoked_at IS NOT NULL, "
            "coalesce(array_agg(t.team ORDER BY t.team) FILTER (WHERE t.team IS NOT NULL), '{}') "
            "FROM cc.members m LEFT JOIN cc.team_members t ON t.role = m.role "
            "GROUP BY m.role ORDER BY m.role").fetchall()
    return [{"role": r[0], "kind": r[1], "display_name": r[2], "revoked": r[3], "teams": list(r[4])} for r in rows]
