"""Connecting to the team server with psycopg 3, and saying in one line what went wrong.

The password comes, first hit wins, from: the `password` argument (or the DSN itself); the OS
keyring (service "call-companion-team", key "user@host:port/dbname"); libpq's own ~/.pgpass
(PGPASSFILE), read by libpq when no password is passed. Never from a config file of ours. A keyring
that is missing or failing (no Secret Service on a headless box) is not an error: it is named only
when no password turned up anywhere. TLS is libpq's: `sslmode`, `sslrootcert`, … in the DSN, with
the rules of `transport` laid on every connection (SCRAM only; a network server's certificate
checked unless the user allowed otherwise for that address).
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional, TypedDict

from companion.team.errors import TeamError, TeamUnreachable
from companion.team.server_errors import _UNREACHABLE, explain, team_errors  # noqa: F401  (from here too)
from companion.team.server_errors import first_line as _first_line
from companion.team.server_session import role_groups

if TYPE_CHECKING:
    from psycopg import Connection

    from companion.team.transport import Plan

KEYRING_SERVICE = "call-companion-team"
GROUP_KINDS = {"cc_agent": "agent", "cc_supervisor": "supervisor", "cc_admin": "admin"}
_DEFAULTS = {"connect_timeout": "10", "application_name": "call-companion",
             "keepalives_idle": "30", "keepalives_interval": "10", "keepalives_count": "3"}


class Target(TypedDict):
    """Who and where a DSN points at (`target`)."""

    user: str
    host: str
    port: str
    dbname: str
    params: dict[str, Any]  # the DSN's libpq parameters, as written


def target(dsn: str) -> Target:
    """Who and where the DSN points at, with libpq's defaults filled in (PGUSER, PGHOST, …)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(dsn)
    except Exception as exc:  # psycopg.ProgrammingError: a malformed DSN
        raise TeamError(f"The team server address is not a valid connection string ({_first_line(exc)}).") from None
    user = str(params.get("user") or os.environ.get("PGUSER") or getpass.getuser())
    host = str(params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST") or "localhost")
    return {"user": user, "host": host, "port": str(params.get("port") or os.environ.get("PGPORT") or "5432"),
            "dbname": str(params.get("dbname") or os.environ.get("PGDATABASE") or user), "params": params}


def keyring_key(dsn: str) -> str:
    t = target(dsn)
    return f"{t['user']}@{t['host']}:{t['port']}/{t['dbname']}"


def keyring_password(dsn: str) -> tuple[Optional[str], Optional[str]]:
    """(password, None) from the OS keyring, (None, None) when it has none, (None, why) when the
    keyring cannot be used at all."""
    try:
        import keyring

        return keyring.get_password(KEYRING_SERVICE, keyring_key(dsn)), None
    except Exception as exc:  # NoKeyringError, a locked or absent Secret Service, D-Bus errors, …
        if type(exc).__name__ == "NoKeyringError":  # its text advises installing keyrings.alt: not here
            return None, "this machine has none"
        return None, _first_line(exc) or type(exc).__name__


def save_password(dsn: str, password: str) -> str:
    """Keep the password in the OS keyring (for `companion team connect`); returns the key used."""
    key = keyring_key(dsn)
    try:
        import keyring

        keyring.set_password(KEYRING_SERVICE, key, password)
    except Exception as exc:
        raise TeamError(f"The OS keyring cannot keep the password ({_first_line(exc) or type(exc).__name__}); "
                        f"put it in ~/.pgpass instead (a line {target(dsn)['host']}:{target(dsn)['port']}:"
                        f"{target(dsn)['dbname']}:{target(dsn)['user']}:PASSWORD, mode 600).") from None
    return key


# The OS's own keyrings, which encrypt what they keep (with the user's login); anything else
# keyring may pick (keyrings.alt's files, a backend of someone's own) is not taken for one.
OS_KEYRINGS = {"keyring.backends.SecretService": "the Secret Service", "keyring.backends.libsecret": "the Secret Service",
               "keyring.backends.kwallet": "KWallet", "keyring.backends.macOS": "the macOS Keychain",
               "keyring.backends.Windows": "the Windows Credential Locker"}
PLAINTEXT_KEYRING_FLAG = "--allow-plaintext-keyring"


@dataclass(frozen=True)
class KeyringKind:
    """The keyring backend a password would go to, judged by its class and priority."""

    name: str        # module.Class, as keyring shows it
    keeps: bool      # it keeps passwords at all (not keyring's fail or null backend)
    encrypted: bool  # one of OS_KEYRINGS
    what: str        # for the user: "the Secret Service", "passwords unencrypted in FILE", …


def keyring_kind(backend: Any = None) -> KeyringKind:  # a keyring backend (keyring has no types)
    """`backend` (default: the one keyring would use) judged by its class: one of the OS's keyrings;
    keyring's own fail/null backends (or any with priority 0 or less), which keep nothing; or
    anything else, which this app does not take for an encrypted keyring."""
    try:
        import keyring
        from keyring.backends.chainer import ChainerBackend

        backend = backend if backend is not None else keyring.get_keyring()
        if isinstance(backend, ChainerBackend):  # it stores in the first of its backends that takes it
            chain = list(backend.backends)
            if not chain:
                return KeyringKind("keyring.backends.chainer.ChainerBackend", False, False, "no keyring backend")
            backend = chain[0]
    except Exception as exc:  # noqa: BLE001 - keyring missing, or broken
        return KeyringKind("none", False, False, _first_line(exc) or type(exc).__name__)
    cls = type(backend)
    name = f"{cls.__module__}.{cls.__qualname__}"
    for module, label in OS_KEYRINGS.items():
        if cls.__module__ == module or cls.__module__.startswith(module + "."):
            return KeyringKind(name, True, True, label)
    try:
        priority = float(cls.priority)
    except Exception:  # noqa: BLE001 - a backend that cannot run here
        priority = 0.0
    if cls.__module__ in ("keyring.backends.fail", "keyring.backends.null") or priority <= 0:
        return KeyringKind(name, False, False, "keeps no passwords")
    try:
        path = getattr(backend, "file_path", None)  # keyrings.alt's file backends
    except Exception:  # noqa: BLE001
        path = None
    where = f" in {path}" if isinstance(path, str) and path else ""
    plain = "plaintext" in cls.__name__.lower() or "no enc" in str(getattr(cls, "scheme", "")).lower()
    return KeyringKind(name, True, False, f"passwords unencrypted (base64 at most){where}" if plain else
                       f"passwords{where} without the OS keyring's encryption, as far as this app can tell")


def keep_password(dsn: str, password: str, allow_plaintext: bool = False) -> tuple[bool, str]:
    """Store the password in the keyring and read it back, if the backend is one of the OS's keyrings
    (any backend that keeps passwords with `allow_plaintext`): (True, where it is) or (False, why not)."""
    kind = keyring_kind()
    if not kind.keeps:
        return False, f"there is no keyring to keep it (backend {kind.name}: {kind.what})"
    if not kind.encrypted and not allow_plaintext:
        return False, (f"the keyring backend {kind.name} is not the OS keyring: it keeps {kind.what} "
                       f"({PLAINTEXT_KEYRING_FLAG} stores it there all the same)")
    try:
        import keyring

        keyring.set_password(KEYRING_SERVICE, keyring_key(dsn), password)
        if keyring.get_password(KEYRING_SERVICE, keyring_key(dsn)) != password:
            return False, f"the keyring backend {kind.name} does not give the password back"
    except Exception as exc:  # noqa: BLE001 - a locked or absent Secret Service, D-Bus errors
        return False, f"the keyring backend {kind.name} failed ({type(exc).__name__}: {_first_line(exc)})"
    if kind.encrypted:
        return True, f"the password is in the OS keyring ({kind.what}: {kind.name})"
    return True, (f"WARNING: the password is in the keyring backend {kind.name}, which keeps {kind.what} "
                  f"({PLAINTEXT_KEYRING_FLAG})")


def plan_for(dsn: str, insecure: Optional[bool] = None) -> Plan:
    """How a connection to `dsn` must go (transport.Plan), or TeamError when it may not be made.
    `insecure` None: what team.toml says for this exact address (--insecure-allow-plaintext)."""
    from companion.team.transport import plan

    if insecure is None:
        from companion.team.settings import plaintext_allowed

        insecure = plaintext_allowed(dsn)
    return plan(target(dsn)["params"], insecure)


def connect(dsn: str, password: Optional[str] = None, role_check: bool = True,
            insecure: Optional[bool] = None) -> Connection[Any]:
    """An autocommit psycopg connection (each function of this package makes its own transaction),
    made only as `transport` allows (TeamError before anything is sent otherwise; `insecure` as in
    `plan_for`). With `role_check`, the login must be in a team group and the schema the one this app
    knows (TeamError otherwise, and the connection is closed)."""
    import psycopg

    t = target(dsn)
    way = plan_for(dsn, insecure)
    kwargs: dict[str, Any] = {k: v for k, v in _DEFAULTS.items() if k not in t["params"]}
    kwargs.update(way.params)
    keyring_problem = None
    if password is None and not t["params"].get("password"):
        password, keyring_problem = keyring_password(dsn)
    if password is not None:
        kwargs["password"] = password
    try:
        conn = psycopg.connect(dsn, autocommit=True, **kwargs)
    except psycopg.Error as exc:
        raise _connect_error(exc, t, keyring_problem) from None
    if role_check:
        try:
            if role_kind(conn) is None:
                raise TeamError(f"The team server account {t['user']} is in no team group (revoked?) — ask your "
                                "admin. Your calls stay on this machine.")
            from companion.team.server_schema import check_version

            check_version(conn)
        except BaseException:
            conn.close()
            raise
    return conn


def role_kind(conn: Connection[Any]) -> Optional[str]:
    """'agent', 'supervisor', 'admin' (or 'superuser') for the connected role; None when it is in no group."""
    with team_errors("reading your role"):
        row = role_groups(conn)
    if row is None:
        return None
    for group in ("cc_admin", "cc_supervisor", "cc_agent"):
        if group in row[1]:
            return GROUP_KINDS[group]
    return "superuser" if row[0] else None


def _detail(exc: BaseException) -> str:
    """libpq's reason without its "connection to server at … failed:" preamble."""
    line = _first_line(exc)
    if "failed: " in line:
        line = line.rsplit("failed: ", 1)[1]
    return line.strip().rstrip(".")


def _connect_error(exc: Exception, t: Target, keyring_problem: Optional[str]) -> TeamError:
    text, detail = str(exc).lower(), _detail(exc)
    user, where = t["user"], f"{t['host']}:{t['port']}"
    if "password authentication failed" in text:
        return TeamError(f"The team server at {where} refused the password for {user} — check it, or ask your admin "
                         "to reset it (`companion team connect` stores a new one).")
    if "no password supplied" in text or "password is required" in text:
        key = f"{user}@{where}/{t['dbname']}"
        if keyring_problem:
            return TeamError(f"No password for {key}: the OS keyring is not available ({keyring_problem}) and "
                             "~/.pgpass has none — run `companion team connect`, or add it to ~/.pgpass.")
        return TeamError(f"No password for {key} in the OS keyring or ~/.pgpass — run `companion team connect`.")
    if "not permitted to log in" in text:
        return TeamError(f"The team server account {user} has been revoked — ask your admin. "
                         "Your calls stay on this machine.")
    if "permission denied for database" in text or "connect privilege" in text:
        return TeamError(f"The team server account {user} may not connect to {t['dbname']} (revoked, or not in "
                         "the team) — ask your admin. Your calls stay on this machine.")
    if "authentication method requirement" in text or "channel binding" in text:
        return _auth_refused(text, detail, where)
    if "does not support ssl" in text:
        return TeamError(f"The team server at {where} does not offer TLS, which this address requires — nothing was "
                         "sent. Ask your admin to turn ssl on (or someone in between is answering for the server).")
    if "does not match host name" in text:
        return TeamError(f"The team server's TLS certificate is not for {t['host']} ({detail}) — connect by the name "
                         "in its certificate, or ask your admin.")
    if "certificate verify failed" in text or "self-signed certificate" in text or "unable to get local issuer" in text:
        return TeamError(f"The team server's TLS certificate is not signed by the CA you trust (sslrootcert) — "
                         f"check that file, or ask your admin ({detail}).")
    if "root certificate file" in text or ("certificate" in text and "does not exist" in text):
        return TeamError(f"The CA file for the team server's TLS check is missing ({detail}).")
    if any(s in text for s in _UNREACHABLE):
        return TeamUnreachable(f"The team server at {where} cannot be reached ({detail}).")
    if any(s in text for s in ("does not support ssl", "ssl error", "ssl connection", "certificate", "sslmode")):
        return TeamError(f"TLS with the team server at {where} failed ({detail}).")
    if "no pg_hba.conf entry" in text or "pg_hba.conf rejects" in text:
        return TeamError(f"The team server at {where} does not accept {user} from this machine, or requires TLS "
                         "(pg_hba.conf) — ask your admin.")
    if "database" in text and "does not exist" in text:
        return TeamError(f"The team server at {where} has no database {t['dbname']} — check the address.")
    return TeamError(f"Cannot connect to the team server at {where} ({detail}).")


def _auth_refused(text: str, detail: str, where: str) -> TeamError:
    """libpq ended the sign-in itself (require_auth, channel_binding): say what the server asked for."""
    tail = ("; the password was not sent, not even as a hash. The app signs in only with SCRAM-SHA-256 — ask your "
            "admin to set password_encryption = 'scram-sha-256' and scram-sha-256 in pg_hba.conf, and to reset your "
            "password (or someone in between is answering for the server).")
    if "cleartext password" in text:
        return TeamError(f"The team server at {where} asked for your password in clear text{tail}")
    if "hashed password" in text or "md5" in text:
        return TeamError(f"The team server at {where} asked for an MD5 password hash{tail}")
    if "channel binding" in text:
        return TeamError(f"The team server at {where} did not sign in with channel binding (SCRAM-SHA-256-PLUS) over "
                         f"TLS ({detail}); the password was not sent. Something between you and the server (a proxy "
                         "ending TLS?) is in the way — ask your admin.")
    if "did not complete authentication" in text:
        return TeamError(f"The team server at {where} let you in without checking a password ({detail}); the app "
                         "does not use a server that cannot prove it knows your password — ask your admin "
                         "(pg_hba.conf: scram-sha-256).")
    return TeamError(f"The team server at {where} asked for a way of signing in the app does not use ({detail}); "
                     "the password was not sent. The app signs in only with SCRAM-SHA-256 — ask your admin.")
