"""`companion team …`: set a team server up (admin), join it (agent), see and push the sync.

    companion team init DSN [--share-text] [--share-audio] [--password-stdin]     (admin)
    companion team add-agent NAME --team T [--dsn ADMIN_DSN] [--password-stdin]    (admin)
    companion team add-supervisor NAME --team T [--dsn ADMIN_DSN] [--password-stdin]
    companion team revoke NAME [--dsn ADMIN_DSN]                                   (admin)
    companion team connect DSN [--password-stdin] [--allow-plaintext-keyring] [--pgpass]
                          (agent, supervisor; exit 0 only when the next connection will sign in by itself)
    companion team status [--json]        (exit 0: connected or no server set; 1: unreachable; 2: refused)
    companion team sync

Every connection follows companion/team/transport.py: SCRAM only, and a server on the network only
with sslmode=verify-full and a CA, unless --insecure-allow-plaintext (connect, init and the admin
commands' --dsn) allows that address; team.toml keeps that choice and status says it every time.

Admin commands connect with an admin's or superuser's DSN: `init` takes it as its argument (and
remembers it, without a password, for the others on this machine), the others with --dsn. Their
password comes from PGPASSWORD, ~/.pgpass or the OS keyring (`init` also reads it with
--password-stdin). For `add-agent` / `add-supervisor`, --password-stdin reads the NEW member's
password; without it one is made and printed once.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time
from typing import TYPE_CHECKING, Any, Optional

from companion.team.errors import TeamError, TeamUnreachable

if TYPE_CHECKING:
    from psycopg import Connection

    from companion.team.settings import TeamSettings
    from companion.team.transport import Plan


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("team", help="the team server: set it up, connect this machine, sync calls",
                       description="Share finished calls with the team's PostgreSQL server and get supervisors' "
                                   "comments back. See docs/team.md.")
    tsub = p.add_subparsers(dest="team_command", metavar="ACTION", required=True)
    init = tsub.add_parser("init", help="(admin) set up a team server: schema, roles, row-level security, policy")
    init.add_argument("dsn", metavar="DSN", help="an admin's or superuser's address, without a password")
    init.add_argument("--share-text", action="store_true", help="agents upload their (redacted) transcripts")
    init.add_argument("--share-audio", action="store_true", help="agents upload their calls' recordings")
    init.add_argument("--password-stdin", action="store_true", help="read the admin's password from stdin")
    _insecure_flag(init)
    for kind in ("agent", "supervisor"):
        a = tsub.add_parser(f"add-{kind}", help=f"(admin) add a{'n' if kind == 'agent' else ''} {kind} to a team "
                                                "(again: another team, or a new password)")
        a.add_argument("name", metavar="NAME", help="their login on the server (lowercase letters, digits, . _ @ -)")
        a.add_argument("--team", required=True, metavar="T")
        a.add_argument("--dsn", metavar="ADMIN_DSN", help="the admin's address (default: the one `team init` used here)")
        a.add_argument("--password-stdin", action="store_true",
                       help=f"read the new {kind}'s password from stdin (default: make one and print it once)")
        _insecure_flag(a)
        a.set_defaults(kind=kind)
    r = tsub.add_parser("revoke", help="(admin) a member can no longer log in; their calls stay")
    r.add_argument("name", metavar="NAME")
    r.add_argument("--dsn", metavar="ADMIN_DSN", help="the admin's address (default: the one `team init` used here)")
    _insecure_flag(r)
    c = tsub.add_parser("connect", help="connect this machine to the team server (asks for your password)")
    c.add_argument("dsn", metavar="DSN", help="e.g. \"host=team.example.org dbname=calls user=alice sslmode=verify-full "
                                              "sslrootcert=/path/to/ca.crt\"")
    c.add_argument("--password-stdin", action="store_true", help="read the password from stdin instead of asking")
    _insecure_flag(c)
    c.add_argument("--allow-plaintext-keyring", action="store_true",
                   help="keep the password in a keyring backend that is not the OS's encrypted keyring (e.g. "
                        "keyrings.alt's PlaintextKeyring, a base64 file); refused otherwise")
    c.add_argument("--pgpass", action="store_true",
                   help="when no keyring can keep the password, write its line to ~/.pgpass (or PGPASSFILE; "
                        "mode 600) without asking; in a terminal you are asked")
    s = tsub.add_parser("status", help="connected?, calls waiting, last sync, the server's schema version "
                                       "(exit 1: unreachable, 2: refused)")
    s.add_argument("--json", action="store_true")
    tsub.add_parser("sync", help="send the waiting calls now and pull supervisors' feedback "
                                 "(exit 0: all sent, 1: some wait, 2: refused)")
    from companion.team import live_cli  # watch, message: the team live (issue 25)

    live_cli.add_parsers(tsub)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    command = args.team_command
    if command == "init":
        return _init(args)
    if command in ("add-agent", "add-supervisor"):
        return _add(args)
    if command == "revoke":
        return _revoke(args)
    if command == "connect":
        return _connect(args)
    if command == "status":
        return _status(args)
    if command in ("watch", "message"):
        from companion.team import live_cli

        return live_cli.run(args)
    return _sync(args)


def _insecure_flag(parser: argparse.ArgumentParser) -> None:
    from companion.team.flags import INSECURE_FLAG

    parser.add_argument(INSECURE_FLAG, dest="insecure", action="store_true",
                        help="INSECURE: allow a server on the network without sslmode=verify-full (no TLS, or its "
                             "certificate not checked); kept in team.toml for this address and said at every status. "
                             "The password is still never sent (SCRAM only).")


def _say(message: str) -> None:
    print(f"companion: {message}", file=sys.stderr, flush=True)


def _stdin_password(what: str) -> str:
    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise TeamError(f"--password-stdin: no {what} on stdin (one line).")
    return password


def _where(dsn: str) -> str:
    from companion.team.connection import target

    t = target(dsn)
    return f"{t['user']}@{t['host']}:{t['port']}/{t['dbname']}"


# --- the way there ------------------------------------------------------------------------------
def _plan(dsn: str, insecure_flag: bool, saved: bool = False) -> Plan:
    """How `dsn` may be reached (TeamError when not at all), saying loudly when only the insecure
    flag allows it, and that the flag is not needed when it is not. `saved`: the flag as team.toml
    keeps it for this address counts too."""
    from companion.team.connection import plan_for
    from companion.team.flags import INSECURE_FLAG
    from companion.team.transport import warning

    way = plan_for(dsn, True if insecure_flag else (None if saved else False))
    if insecure_flag and not way.relaxed:
        _say(f"{INSECURE_FLAG} is not needed for this address (its certificate is checked, or it is on this machine); "
             "nothing insecure is kept.")
    loud = warning(way)  # a line exactly when the address is relaxed
    if way.relaxed and loud:
        _say(loud)
    return way


# --- admin ------------------------------------------------------------------------------------
def _admin_dsn(args: argparse.Namespace) -> str:
    from companion.team.settings import check_dsn, load

    dsn = getattr(args, "dsn", None) or load().admin_dsn
    if not dsn:
        raise TeamError("Give the admin's address with --dsn (or run `companion team init DSN` on this machine first).")
    check_dsn(dsn)
    return dsn


def _admin_connect(args: argparse.Namespace, password: Optional[str] = None) -> Connection[Any]:
    from companion.team.connection import connect

    dsn = _admin_dsn(args)
    way = _plan(dsn, args.insecure, saved=True)
    return connect(dsn, password, role_check=False, insecure=way.relaxed)


def _init(args: argparse.Namespace) -> int:
    from companion.team.connection import connect
    from companion.team.server_admin import init_server
    from companion.team.settings import check_dsn, save_admin_dsn

    check_dsn(args.dsn)
    way = _plan(args.dsn, args.insecure)
    password = _stdin_password("password") if args.password_stdin else None
    conn = connect(args.dsn, password, role_check=False, insecure=way.relaxed)  # a new server has no schema yet
    try:
        version = init_server(conn, args.share_text, args.share_audio)
    finally:
        conn.close()
    save_admin_dsn(args.dsn, insecure=way.relaxed)
    shares = [w for w, on in (("transcripts (redacted)", args.share_text), ("recordings", args.share_audio)) if on]
    _say(f"the team server {_where(args.dsn)} is ready (schema version {version}); agents upload their calls' "
         f"figures{', ' + ' and '.join(shares) if shares else ' only (no transcripts, no recordings)'}. "
         "Add people with `companion team add-agent NAME --team T`.")
    return 0


def _add(args: argparse.Namespace) -> int:
    from companion.team.server_admin import add_member

    password = _stdin_password(f"password for {args.name}") if args.password_stdin else None
    conn = _admin_connect(args)
    try:
        made = add_member(conn, args.name, args.team, args.kind, password=password)
    finally:
        conn.close()
    _say(f"{args.name} is a{'n' if args.kind == 'agent' else ''} {args.kind} in team {args.team}.")
    if password is None:
        print(made)  # stdout, once: hand it to them; it is kept nowhere
        _say(f"that is {args.name}'s password, shown this once; they run `companion team connect` with it.")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from companion.team.server_admin import revoke_member

    conn = _admin_connect(args)
    try:
        revoke_member(conn, args.name)
    finally:
        conn.close()
    _say(f"{args.name} can no longer log in to the team server; their calls stay there and on their machine.")
    return 0


# --- agent ------------------------------------------------------------------------------------
def _connect(args: argparse.Namespace) -> int:
    from companion.team.connection import connect, keep_password, role_kind
    from companion.team.server_calls import policy
    from companion.team.settings import check_dsn, save_connection
    from companion.team.transport import describe

    check_dsn(args.dsn)
    way = _plan(args.dsn, args.insecure)  # refused here, before a password is asked for or sent
    password = _stdin_password("password") if args.password_stdin else None
    if password is None:
        try:  # a password already in the keyring or ~/.pgpass: no need to ask
            conn = connect(args.dsn, insecure=way.relaxed)
        except TeamUnreachable:
            raise
        except TeamError as exc:
            if "No password" not in exc.message and "refused the password" not in exc.message:
                raise
            if not sys.stdin.isatty():
                raise TeamError("No password for the team server: give it with --password-stdin, or run "
                                "`companion team connect` in a terminal to be asked.") from None
            password = getpass.getpass(f"Password for {_where(args.dsn)}: ")
            conn = connect(args.dsn, password, insecure=way.relaxed)
    else:
        conn = connect(args.dsn, password, insecure=way.relaxed)
    try:
        how = describe(conn, way)
        kind = role_kind(conn)
        shares = policy(conn)
        from companion.team.server_schema import check_version

        version = check_version(conn)
    finally:
        conn.close()
    if kind is None:  # not reached: connect() and the policy read above need a team group; said plainly if ever
        raise TeamError(f"The team server account {_where(args.dsn)} is in no team group (revoked?) — ask your admin. "
                        "Your calls stay on this machine.")
    kept: Optional[str] = "the password comes from the OS keyring or ~/.pgpass"
    if password is not None:
        stored, said = keep_password(args.dsn, password, args.allow_plaintext_keyring)
        if stored:
            kept = said
        elif _logs_in_alone(args.dsn, way.relaxed):
            kept = f"the password was not put in a keyring ({said[:300]}); ~/.pgpass has it"
        else:
            kept = _offer_pgpass(args, password, said[:300])
    path = save_connection(args.dsn, kind, insecure=way.relaxed)
    what = ("calls from now on are uploaded" if kind == "agent" else f"connected as {kind}: calls here are not uploaded")
    shared = "figures" + "".join(f", {w}" for w, on in (("redacted transcripts", shares["share_text"]),
                                                        ("recordings", shares["share_audio"])) if on)
    works = kept is not None and _logs_in_alone(args.dsn, way.relaxed, role_check=True)
    if works:
        _say(f"connected to {_where(args.dsn)} as {kind} (schema version {version}); {what} ({shared}). "
             f"Settings: {path}.")
    else:  # signed in once, with the password just given; the sync and `team status` could not
        _say(f"signed in to {_where(args.dsn)} as {kind} (schema version {version}) with the password just given, "
             f"but this machine cannot sign in again by itself: nothing is uploaded until it can. Settings: {path}.")
    _say(f"the connection: {how}.")
    if kept:
        _say(f"{kept}.")
        if not works:
            import os

            first = (" PGPASSWORD is set in this environment, and libpq sends it before ~/.pgpass: unset it."
                     if os.environ.get("PGPASSWORD") else "")
            _say("a new connection without the password given here was refused; check ~/.pgpass (PGPASSFILE) and "
                 f"the keyring, then run `companion team status`.{first}")
    return 0 if works else 1


def _offer_pgpass(args: argparse.Namespace, password: str, why: str) -> Optional[str]:
    """No keyring kept the password and libpq finds none: write its ~/.pgpass line with --pgpass, or
    when the user says yes in a terminal. What to say of where it is, or None (said why here)."""
    from companion.team.pgpass import entry_for, path_for, write_password

    where, line = path_for(args.dsn), entry_for(args.dsn).shown()
    consent = args.pgpass
    if not consent and sys.stdin.isatty() and not args.password_stdin:
        _say(f"no keyring can keep the password ({why}).")
        try:
            answer = input(f"Write it to {where} (readable only by you) so that the sync can sign in? [y/N] ")
        except EOFError:
            answer = ""
        consent = answer.strip().lower() in ("y", "yes")
        if not consent:
            _say(f"the password was NOT stored. Put it in {where} (mode 600) as the line {line} and the sync "
                 "will use it, or run `companion team connect` again with --pgpass.")
            return None
    if not consent:
        _say(f"the password was NOT stored: {why}. Put it in ~/.pgpass (mode 600) as the line {line} and the sync "
             "will use it, or run `companion team connect` again with --pgpass to have it written.")
        return None
    written = write_password(args.dsn, password)
    return (f"the password was not put in a keyring ({why}); it is in {written} (mode 600, "
            f"the line {line}), where libpq reads it")


def _logs_in_alone(dsn: str, insecure: bool, role_check: bool = False) -> bool:
    """True when a new connection signs in with no password given: the keyring's, or libpq's own
    (~/.pgpass, PGPASSFILE, PGPASSWORD). `role_check`: and is let in as `team status` would be."""
    from companion.team.connection import connect

    try:
        connect(dsn, role_check=role_check, insecure=insecure).close()
        return True
    except TeamError:
        return False


def _when(ts: Optional[float]) -> Optional[str]:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else None


def _status(args: argparse.Namespace) -> int:
    """Exit 0 when connected (or no server is set), 1 when the server cannot be reached, 2 when it
    refuses (or this machine's way to it is refused)."""
    from companion.store.db import open_store
    from companion.team.server_schema import SCHEMA_VERSION
    from companion.team.settings import load
    from companion.team.sync import local_status

    settings = load()
    db = open_store()
    try:
        known = local_status(db)
    finally:
        db.close()
    report = {"connected": False, "server": _where(settings.dsn) if settings.dsn else None, "role": settings.role,
              "reachable": None, "server_schema_version": known["server_version"], "schema_version_seen": "last sync",
              "app_schema_version": SCHEMA_VERSION, "pending": known["pending"],
              "last_sync": _when(known["last_sync_ok"]), "unreachable_since": _when(known["unreachable_since"]),
              "refused_since": _when(known["refused_since"]), "last_error": known["last_error"], "problem": None,
              "insecure": settings.insecure, "warning": None}
    if known["server_version"] is None:
        report["schema_version_seen"] = None
    if settings.dsn:
        report["warning"] = _status_warning(settings.dsn)
        if report["warning"]:
            _say(report["warning"])
        _status_server(settings.dsn, report)
    if args.json:
        print(json.dumps(report))
    else:
        _print_status(settings, report)
    if report["reachable"] is False:
        return 1
    return 2 if settings.dsn and not report["connected"] else 0


def _status_warning(dsn: str) -> Optional[str]:
    from companion.team.connection import plan_for
    from companion.team.transport import warning

    try:
        return warning(plan_for(dsn))
    except TeamError:
        return None  # refused outright: _status_server says why


def _status_server(dsn: str, report: dict[str, Any]) -> None:
    """Connect now: fills reachable/connected/problem and the server's schema version as it is now."""
    from companion.team.connection import connect, plan_for
    from companion.team.server_schema import server_version

    try:
        plan_for(dsn)
    except TeamError as exc:  # this machine will not use the address: nothing was tried
        report["problem"] = exc.message
        return
    try:
        conn = connect(dsn)
        try:
            report["server_schema_version"] = server_version(conn)
        finally:
            conn.close()
        report["connected"] = report["reachable"] = True
        report["schema_version_seen"] = "now"
    except TeamError as exc:
        report["reachable"] = not isinstance(exc, TeamUnreachable)
        report["problem"] = exc.message
        if report["reachable"]:
            now = _schema_anyway(dsn)  # refused for its version, or the account: what the server has now
            if now is not None:
                report["server_schema_version"], report["schema_version_seen"] = now, "now"


def _print_status(settings: TeamSettings, report: dict[str, Any]) -> None:
    if not settings.dsn:
        print("Team server: not connected (companion team connect DSN).")
    else:
        state = "connected" if report["connected"] else ("unreachable" if report["reachable"] is False else "refused")
        print(f"Team server: {report['server']} as {settings.role or '?'} — {state}")
        if report["problem"]:
            print(f"  {report['problem']}")
    found, app = report["server_schema_version"], report["app_schema_version"]
    seen = {"now": "", "last sync": " at the last sync"}.get(report["schema_version_seen"], "")
    print(f"Server schema version: {found if found is not None else 'unknown'}{seen} (this app knows version {app})")
    print(f"Waiting to upload: {report['pending']}")
    print(f"Last sync: {report['last_sync'] or 'never'}")
    if report["unreachable_since"]:
        print(f"Unreachable since: {report['unreachable_since']}")
    if report["refused_since"]:
        print(f"Refused since: {report['refused_since']}")
    if report["last_error"] and report["pending"]:
        print(f"Last error: {report['last_error']}")


def _schema_anyway(dsn: str) -> Optional[int]:
    """The server's schema version when the app refuses to work with it (a mismatch), for `status`."""
    from companion.team.connection import connect
    from companion.team.server_schema import server_version

    try:
        conn = connect(dsn, role_check=False)
    except TeamError:
        return None
    try:
        return server_version(conn)
    except Exception:  # noqa: BLE001 - no right to look (revoked): the version stays unknown
        return None
    finally:
        conn.close()


def _sync(args: argparse.Namespace) -> int:
    from companion.team.settings import load
    from companion.team.sync import sync_once

    settings = load()
    warned = _status_warning(settings.dsn) if settings.dsn else None
    if warned:
        _say(warned)
    result = sync_once(settings=settings)
    _say(result.message)
    return result.exit_code
