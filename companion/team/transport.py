"""How a connection to the team server must go, decided before a byte leaves this machine.

`plan(params, insecure)` looks at the address (its libpq parameters, with libpq's PG* environment
filled in) and either refuses with one line or returns the parameters that `connection.connect`
adds to it, so that no environment variable or default can weaken them:

- **SCRAM-SHA-256 only** (`require_auth`): a server, or anyone in between, that asks for the
  password in clear text or as an MD5 hash gets nothing; the connection ends first. Over a Unix
  socket the server may also know the user from the socket itself (`peer`: no password at all).
- **A network server's certificate is checked**: any host that is not a Unix socket, `localhost`
  or a loopback address (127.0.0.0/8, ::1) needs `sslmode=verify-full` and a CA to check against
  (`sslrootcert=FILE`, `sslrootcert=system`, or libpq's ~/.postgresql/root.crt). The NAME the user
  gave is what counts: `host=team.example hostaddr=127.0.0.1` is a network name, checked as one.
  Only `--insecure-allow-plaintext` (kept per address in team.toml) lifts this rule, never the first.
- **Channel binding wherever TLS is required** (`channel_binding=require`): SCRAM then proves the
  server holds the certificate the client saw, so a man in the middle cannot relay the sign-in.
- **libpq older than 16** has no `require_auth`. There `channel_binding=require` (libpq 13+) is what
  refuses clear-text and MD5, and it needs TLS: every TCP connection, loopback included, must then
  use TLS, a network one verify-full, and the insecure flag is not honoured.
- A pg_service.conf service is refused: its file could change host or sslmode after this check.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from companion.team.errors import TeamError
from companion.team.flags import INSECURE_FLAG  # named in its warnings

if TYPE_CHECKING:
    from psycopg import Connection

SCRAM = "scram-sha-256"
REQUIRE_AUTH_LIBPQ = 160000           # libpq 16: require_auth, sslrootcert=system
TLS_REQUIRED = ("require", "verify-ca", "verify-full")
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_ENV = {"host": "PGHOST", "hostaddr": "PGHOSTADDR", "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT",
        "require_auth": "PGREQUIREAUTH", "channel_binding": "PGCHANNELBINDING", "service": "PGSERVICE"}


@dataclass(frozen=True)
class Plan:
    """What `connect` adds to the address (`params`), and what it may say about the connection."""

    params: dict[str, str] = field(default_factory=dict)
    name: str = ""                 # the host name the certificate is checked for (or the socket / address)
    socket: bool = False           # every host is a Unix socket: TLS does not apply
    network: bool = False          # some host is neither a socket nor loopback
    sslmode: str = "prefer"
    ca: Optional[str] = None       # what the certificate is checked against (verify-full / verify-ca)
    relaxed: bool = False          # a network host without verify-full: only --insecure-allow-plaintext allows it
    libpq: int = 0


def libpq_version() -> int:
    import psycopg

    return psycopg.pq.version()


def libpq_text(version: int) -> str:
    return f"{version // 10000}.{version % 10000}"


def _setting(params: dict[str, Any], key: str) -> str:
    value = params.get(key)
    if value is not None:
        return str(value)
    return os.environ.get(_ENV[key], "")


def _loopback_address(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def _local_name(name: str) -> bool:
    return name.startswith(("/", "@")) or name.lower() == "localhost" or _loopback_address(name)


def _hosts(params: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, address) for each host libpq will try; ("", "") is the default Unix socket."""
    names = [h.strip() for h in _setting(params, "host").split(",")]
    addrs = [a.strip() for a in _setting(params, "hostaddr").split(",")]
    return [(n or "", a or "") for n, a in zip_longest(names, addrs, fillvalue="")]


def _is_socket(name: str, addr: str) -> bool:
    return not addr and (not name or name.startswith(("/", "@")))


def _is_local(name: str, addr: str) -> bool:
    """Loopback or a Unix socket: the name the user gave, and the address when one is given too."""
    return (not addr or _loopback_address(addr)) and (not name or _local_name(name))


def default_root_cert() -> Path:
    return Path.home() / ".postgresql" / "root.crt"


def _ca(params: dict[str, Any], version: int) -> Optional[str]:
    """What verify-full checks the certificate against; TeamError when there is nothing."""
    ca = _setting(params, "sslrootcert")
    if ca == "system":
        if version < REQUIRE_AUTH_LIBPQ:
            raise TeamError(f"sslrootcert=system needs libpq 16 or newer; this one is {libpq_text(version)} — give "
                            "the CA file instead (sslrootcert=/path/to/ca.crt), or update psycopg.")
        return "the system's trusted CAs"
    if ca:
        if not Path(ca).is_file():
            raise TeamError(f"The CA file for the team server's TLS check is missing ({ca} does not exist) — check "
                            "the sslrootcert path; your admin gives you that file.")
        return ca
    if default_root_cert().is_file():
        return str(default_root_cert())
    raise TeamError("The team server's certificate cannot be checked: no CA is given — add sslrootcert=/path/to/ca.crt "
                    "(the file your admin gives you) to the address, or sslrootcert=system for a public CA, or put it "
                    f"in {default_root_cert()}.")


def plan(params: dict[str, Any], insecure: bool = False, version: Optional[int] = None) -> Plan:
    """The parameters a connection to this address gets, or TeamError saying why it may not be made."""
    version = libpq_version() if version is None else version
    if _setting(params, "service"):
        raise TeamError("The team server address names a pg_service.conf service (service=, or PGSERVICE): write "
                        "its host, port, dbname, user, sslmode and sslrootcert in the address itself, so the app can "
                        "check how the password is protected before it is used.")
    hosts = _hosts(params)
    socket = all(_is_socket(n, a) for n, a in hosts)
    network = not all(_is_local(n, a) for n, a in hosts)
    far = next(((n, a) for n, a in hosts if not _is_local(n, a)), hosts[0])
    name = far[0] or far[1] or "the local socket"
    where = f"{far[0]} ({far[1]})" if far[0] and far[1] and far[0] != far[1] else name
    sslmode = (_setting(params, "sslmode") or "prefer").lower()
    if sslmode not in SSLMODES:
        raise TeamError(f"sslmode={sslmode} is not one of libpq's ({', '.join(SSLMODES)}); for the team server use "
                        "sslmode=verify-full.")
    asked_auth = _setting(params, "require_auth")
    if asked_auth and asked_auth.lower() != SCRAM:
        raise TeamError(f"require_auth={asked_auth}: the app signs in to the team server with SCRAM-SHA-256 only "
                        "(no clear-text or MD5 password ever leaves this machine) — leave require_auth out.")
    relaxed = network and sslmode != "verify-full"
    old = version < REQUIRE_AUTH_LIBPQ
    if relaxed and (not insecure or old):
        why = (f" (this libpq, {libpq_text(version)}, cannot refuse a clear-text password request otherwise, so "
               f"{INSECURE_FLAG} is not honoured with it)") if old else ""
        lacks = ("does not check the server's name in its certificate" if sslmode == "verify-ca"
                 else "does not check its certificate")
        raise TeamError(f"The team server at {where} is on the network, and sslmode={sslmode} {lacks}, so anyone on "
                        f"the way could read your calls or pose as the server{why}. Add "
                        "sslmode=verify-full and sslrootcert=/path/to/ca.crt (from your admin) to the address"
                        + ("." if old else f" — or, knowing that, give {INSECURE_FLAG}."))
    tls_required = sslmode in TLS_REQUIRED and not socket
    if old and not tls_required:
        raise TeamError(f"This libpq ({libpq_text(version)}) cannot refuse a server's request for the password in "
                        "clear text unless the connection uses TLS with channel binding: add sslmode=require (or "
                        "verify-full) and use TCP, or update psycopg (pip install -U \"psycopg[binary]\" brings libpq "
                        "17 or newer).")
    binding = _setting(params, "channel_binding").lower()
    if tls_required and binding and binding != "require":
        raise TeamError(f"channel_binding={binding}: over TLS the app signs in with channel binding, so that no one "
                        "in between can relay the sign-in — leave channel_binding out of the address.")
    ca = _ca(params, version) if sslmode in ("verify-ca", "verify-full") else None
    extra = {"sslmode": sslmode}
    if not old:
        extra["require_auth"] = f"{SCRAM},none" if socket else SCRAM
    if tls_required:
        extra["channel_binding"] = "require"
    for key in ("host", "hostaddr", "sslrootcert"):
        value = _setting(params, key)
        if value and key not in params:
            extra[key] = value  # from the environment: pinned, as checked
    return Plan(params=extra, name=name, socket=socket, network=network, sslmode=sslmode, ca=ca,
                relaxed=relaxed, libpq=version)


def describe(conn: "Connection[Any]", plan: Plan) -> str:
    """What the connection that was just made verified, in one sentence (for `team connect`)."""
    pgconn = conn.pgconn
    if pgconn.ssl_in_use:
        try:
            from companion.team.server_session import tls_in_use

            row = tls_in_use(conn)
        except Exception:  # noqa: BLE001 - a proxy, or no right to look: TLS all the same
            row = None
        tls = f"TLS ({row[0]}, {row[1]})" if row and row[0] else "TLS"
        if plan.sslmode == "verify-full":
            how = f"{tls}; the server's certificate was checked against {plan.ca} and is for {plan.name}"
        elif plan.sslmode == "verify-ca":
            how = f"{tls}; the server's certificate was checked against {plan.ca}, but NOT its name"
        else:
            how = f"{tls}; the server's certificate was NOT checked"
    elif plan.socket:
        how = f"a Unix socket on this machine ({plan.name}), no TLS needed"
    elif plan.network:
        how = "NO TLS: your calls cross the network unencrypted"
    else:
        how = f"a loopback connection on this machine ({plan.name}), no TLS"
    if not pgconn.used_password:
        sign_in = "the server knew you without a password (peer)"
    elif plan.params.get("channel_binding") == "require":
        sign_in = "signed in with SCRAM-SHA-256 and channel binding, so the password itself was never sent"
    elif "require_auth" in plan.params:
        sign_in = "signed in with SCRAM-SHA-256, so the password itself was never sent"
    else:
        sign_in = "signed in with SCRAM"
    return f"{how}; {sign_in}"


def warning(plan: Plan) -> Optional[str]:
    """The loud line for an address allowed only by --insecure-allow-plaintext (None otherwise)."""
    if not plan.relaxed:
        return None
    what = ("NOT encrypted (no TLS)" if plan.sslmode == "disable" else
            "encrypted only if the server offers it, its certificate NOT checked" if plan.sslmode in ("allow", "prefer")
            else "encrypted, but the server's certificate is NOT checked against its name"
            if plan.sslmode == "verify-ca" else "encrypted, but the server's certificate is NOT checked")
    return (f"WARNING: the connection to the team server at {plan.name} is {what} ({INSECURE_FLAG}): anyone on the "
            "way can read your calls or pose as the server; the password itself is still never sent (SCRAM).")
