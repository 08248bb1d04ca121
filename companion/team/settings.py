"""The agent's team connection, kept in the user config folder as `team.toml` (written by
`companion team connect`, and by `companion team init` for the admin's own address).

The file holds the server's address WITHOUT a password and the role it logs in as:

    [server]
    dsn = "host=team.example.org port=5432 dbname=calls user=alice sslmode=verify-full sslrootcert=/etc/cc/ca.crt"
    role = "agent"
    connected_at = "2026-01-05T09:12:00+00:00"
    # insecure_allow_plaintext = true   (only after `team connect … --insecure-allow-plaintext`:
    #                                    this address without a checked certificate; said at every status)

    [admin]                 # only on the admin's machine: the address `team add-agent` etc. use
    dsn = "host=team.example.org dbname=calls user=admin"

    [team]                  # optional: any of resources/team.toml's numbers, naming only what changes
    backoff_max_s = 300

A password never goes in this file (nor in any other file of ours): it is in the OS keyring or in
libpq's own ~/.pgpass. A DSN that carries one is refused with a clear message.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, fields, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from companion.resources import resource_path
from companion.settings_files import team_path
from companion.team.errors import TeamError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SETTINGS_FILE = "team.toml"
RESOURCE = "team.toml"
KINDS = ("agent", "supervisor", "admin", "superuser")
INSECURE_KEY = "insecure_allow_plaintext"


# the longest wait a failed try may set: a wait further ahead than backoff_max_s can only come from a
# clock that has gone back since, and counts as over (companion.store.outbox), so it must stay bounded
MAX_BACKOFF_S = 86400.0


@dataclass(frozen=True)
class SyncTuning:
    """resources/team.toml's [team] table (and the user's overrides)."""

    backoff_first_s: float = 5.0
    backoff_factor: float = 2.0
    backoff_max_s: float = 600.0
    backoff_jitter: float = 0.2
    feedback_every_s: float = 180.0
    idle_poll_s: float = 0.5
    batch: int = 50

    def backoff(self, failures: int, rand: float = 0.0) -> float:
        """The wait after `failures` failures in a row (1 → backoff_first_s), at most backoff_max_s;
        `rand` in [0, 1] takes up to `backoff_jitter` of it off."""
        n = max(1, int(failures))
        try:
            wait = self.backoff_first_s * self.backoff_factor ** (n - 1)
        except OverflowError:
            wait = self.backoff_max_s
        wait = min(self.backoff_max_s, wait)
        return wait * (1.0 - self.backoff_jitter * min(1.0, max(0.0, rand)))


@dataclass(frozen=True)
class TeamSettings:
    dsn: Optional[str]           # the agent's (or supervisor's) connection, no password; None: not connected
    role: Optional[str]          # 'agent', 'supervisor', 'admin' (what the server said at connect)
    connected_at: Optional[str]
    admin_dsn: Optional[str]     # the admin's address on the admin's machine, no password
    tuning: SyncTuning
    path: Path
    insecure: bool = False       # `dsn` allowed without a checked certificate (--insecure-allow-plaintext)
    admin_insecure: bool = False  # the same for `admin_dsn`

    @property
    def connected(self) -> bool:
        return bool(self.dsn)

    @property
    def uploads(self) -> bool:
        """Calls made on this machine go to the team server: connected as an agent."""
        return self.connected and self.role == "agent"


def settings_path() -> Path:
    return team_path()  # the settings store says where: SETTINGS_FILE in the user config folder


# --- the DSN --------------------------------------------------------------------------------
def check_dsn(dsn: str) -> dict[str, Any]:
    """The DSN's parameters; TeamError when it is malformed or carries a password (passwords belong
    in the OS keyring or ~/.pgpass, never in a setting)."""
    from psycopg.conninfo import conninfo_to_dict

    if not isinstance(dsn, str) or not dsn.strip():
        raise TeamError("Give the team server's address, e.g. \"host=team.example.org dbname=calls user=alice\" "
                        "or postgresql://alice@team.example.org/calls.")
    try:
        params = conninfo_to_dict(dsn)
    except Exception as exc:  # psycopg.ProgrammingError
        line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TeamError(f"The team server address is not a valid connection string ({line}).") from None
    if params.get("password"):
        raise TeamError("The team server address contains a password: leave it out. `companion team connect` asks "
                        "for it (or reads it with --password-stdin) and keeps it in the OS keyring, or put it in "
                        "~/.pgpass; it is never written to a settings file.")
    return params


# --- reading --------------------------------------------------------------------------------
def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise TeamError(f"Cannot read the team settings {path} ({getattr(exc, 'strerror', None) or exc}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise TeamError(f"The team settings {path} are not valid TOML ({exc}); fix or delete the file "
                        "and run `companion team connect` again.") from None


def _tuning(layers: list[tuple[Path, dict[str, Any]]]) -> SyncTuning:
    tuning = SyncTuning()
    known = {f.name: f.type for f in fields(SyncTuning)}
    for path, data in layers:
        table = data.get("team", {})
        if not isinstance(table, dict):
            raise TeamError(f"{path}: [team] must be a table.")
        for key, value in table.items():
            if key not in known:
                raise TeamError(f"{path}: [team] {key} is not a setting (known: {', '.join(known)}).")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value \
                    or value in (float("inf"), float("-inf")):
                raise TeamError(f"{path}: [team] {key} must be a number, not {value!r}.")
            change: dict[str, Any] = {key: int(value) if key == "batch" else float(value)}
            tuning = replace(tuning, **change)
    t = tuning
    if not (0 < t.backoff_first_s <= t.backoff_max_s <= MAX_BACKOFF_S):
        raise TeamError(f"[team] backoff_first_s ({t.backoff_first_s}) must be more than 0 and at most "
                        f"backoff_max_s ({t.backoff_max_s}), itself at most {MAX_BACKOFF_S:.0f} (a day).")
    if t.backoff_factor < 1:
        raise TeamError(f"[team] backoff_factor must be 1 or more, not {t.backoff_factor}.")
    if not 0 <= t.backoff_jitter < 1:
        raise TeamError(f"[team] backoff_jitter must be from 0 to below 1, not {t.backoff_jitter}.")
    if t.feedback_every_s <= 0 or t.idle_poll_s <= 0 or t.batch < 1:
        raise TeamError("[team] feedback_every_s and idle_poll_s must be more than 0, batch at least 1.")
    return t


def _nonblank(value: object) -> Optional[str]:
    return value if isinstance(value, str) and value.strip() else None


def load(path: Optional[Path] = None, check: bool = True) -> TeamSettings:
    """This machine's team settings (not connected when the file does not exist); `check`: refuse a
    DSN with a password typed into the file by hand."""
    path = Path(path or settings_path())
    user = _read_toml(path)
    bundled = resource_path(RESOURCE)
    tuning = _tuning([(bundled, _read_toml(bundled)), (path, user)])
    server = user.get("server", {}) if isinstance(user.get("server"), dict) else {}
    admin = user.get("admin", {}) if isinstance(user.get("admin"), dict) else {}
    dsn, admin_dsn = _nonblank(server.get("dsn")), _nonblank(admin.get("dsn"))
    for value in (dsn, admin_dsn) if check else ():
        if value:
            check_dsn(value)  # a password typed into the file by hand is refused too, never used
    role = server.get("role") if server.get("role") in KINDS else None
    return TeamSettings(dsn=dsn, role=role, connected_at=server.get("connected_at") if dsn else None,
                        admin_dsn=admin_dsn, tuning=tuning, path=path,
                        insecure=bool(dsn) and server.get(INSECURE_KEY) is True,
                        admin_insecure=bool(admin_dsn) and admin.get(INSECURE_KEY) is True)


def plaintext_allowed(dsn: str, path: Optional[Path] = None) -> bool:
    """Did the user allow this exact address without a checked certificate (team.toml's
    insecure_allow_plaintext, written by `--insecure-allow-plaintext`)? False when the file cannot be read."""
    try:
        s = load(path, check=False)
    except TeamError:
        return False
    return (s.insecure and s.dsn == dsn) or (s.admin_insecure and s.admin_dsn == dsn)


def tuning() -> SyncTuning:
    return load().tuning


def uploads_here() -> bool:
    """For the transaction that closes a call: does this machine send its calls to a team server?
    A settings file that cannot be read still counts as connected when it names a server (the agent
    joined a team; the call waits in the outbox and `team status` names the problem)."""
    path = settings_path()
    try:
        if not path.is_file():
            return False
    except OSError:
        return False
    try:
        return load(path, check=False).uploads  # no psycopg import inside the closing transaction
    except TeamError:
        return True  # kept for the team rather than lost to it: an outbox row costs nothing


# --- writing --------------------------------------------------------------------------------
def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string (escapes included)


def _write(path: Path, user: dict[str, Any]) -> None:
    lines = ["# Call Companion's team server (companion team connect). No password here: it is in the OS",
             "# keyring or in ~/.pgpass.", ""]
    for table in ("server", "admin", "team", "live"):  # [live]: companion.team.live_alerts
        values = user.get(table)
        if not values:
            continue
        lines.append(f"[{table}]")
        for key, value in values.items():
            if isinstance(value, bool):
                shown = "true" if value else "false"
            elif isinstance(value, (int, float)):
                shown = repr(value)
            else:
                shown = _toml_string(str(value))
            lines.append(f"{key} = {shown}")
        lines.append("")
    text = "\n".join(lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise TeamError(f"Cannot write the team settings {path} ({exc.strerror or exc}).") from None


def _update(table: str, values: Optional[dict[str, Any]], path: Optional[Path] = None) -> Path:
    path = Path(path or settings_path())
    user = _read_toml(path)
    if values is None:
        user.pop(table, None)
    else:
        user[table] = values
    _write(path, user)
    return path


def save_connection(dsn: str, role: str, path: Optional[Path] = None, insecure: bool = False) -> Path:
    """Remember the agent's server (the DSN is checked to carry no password); `insecure`: the user
    allowed it without a checked certificate."""
    check_dsn(dsn)
    values: dict[str, str | bool] = {"dsn": dsn, "role": role, "connected_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    if insecure:
        values[INSECURE_KEY] = True
    return _update("server", values, path)


def save_admin_dsn(dsn: str, path: Optional[Path] = None, insecure: bool = False) -> Path:
    check_dsn(dsn)
    return _update("admin", {"dsn": dsn, **({INSECURE_KEY: True} if insecure else {})}, path)
