"""libpq's password file (~/.pgpass, or PGPASSFILE, or the DSN's `passfile`): the one line for a
team server, written the way libpq reads it, for `companion team connect` on a machine whose
keyring cannot keep the password.

libpq reads `hostname:port:database:username:password`, the first matching line wins, `*` matches
anything, `:` and `\\` inside a field are escaped with `\\`, and the file is ignored (with a warning)
unless only its owner can read it. So the line is written escaped, in place of the first line that
would match this server (an older password, or a wildcard line that would shadow it), any other line
for exactly the same host/port/database/user is dropped, every other line is kept as it was, and the
file is replaced in one step with mode 0600.
"""

from __future__ import annotations

import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from companion.team.errors import TeamError


@dataclass(frozen=True)
class PgpassEntry:
    host: str
    port: str
    dbname: str
    user: str

    def line(self, password: str) -> str:
        return ":".join(escape(f) for f in (self.host, self.port, self.dbname, self.user, password))

    def shown(self) -> str:
        return ":".join(escape(f) for f in (self.host, self.port, self.dbname, self.user)) + ":PASSWORD"


def escape(field: str) -> str:
    return field.replace("\\", "\\\\").replace(":", "\\:")


def split_line(line: str) -> Optional[list[str]]:
    """The five fields of a pgpass line, unescaped as libpq does; None for a comment, a blank line or
    a line with fewer than five fields (libpq skips those)."""
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    fields: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line):
            current.append(line[i + 1])
            i += 2
            continue
        if ch == ":" and len(fields) < 4:
            fields.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    fields.append("".join(current))
    return fields if len(fields) == 5 else None


def entry_for(dsn: str) -> PgpassEntry:
    """The host/port/database/user libpq will look up for `dsn` (its `host`, else `hostaddr`, else
    localhost; the default port 5432)."""
    from companion.team.connection import target

    t = target(dsn)
    if "," in t["host"] or "," in t["port"]:
        raise TeamError("This address names several hosts; put a ~/.pgpass line for each yourself "
                        "(host:port:database:user:password, mode 600).")
    return PgpassEntry(t["host"], t["port"], t["dbname"], t["user"])


def path_for(dsn: str) -> Path:
    """Where libpq looks: the DSN's `passfile`, PGPASSFILE, else ~/.pgpass (%APPDATA%\\postgresql\\pgpass.conf
    on Windows)."""
    from companion.team.connection import target

    given = target(dsn)["params"].get("passfile") or os.environ.get("PGPASSFILE")
    if given:
        return Path(given).expanduser()
    if os.name == "nt":
        return Path(os.environ.get("APPDATA", str(Path.home()))) / "postgresql" / "pgpass.conf"
    return Path.home() / ".pgpass"


def _matches(fields: list[str], entry: PgpassEntry, exact: bool) -> bool:
    wanted = (entry.host, entry.port, entry.dbname, entry.user)
    return all(f == w or (not exact and f == "*") for f, w in zip(fields[:4], wanted))


def updated(text: str, entry: PgpassEntry, password: str) -> str:
    """`text` (a pgpass file) with the line for `entry` set to `password`."""
    out, placed = [], False
    for raw in text.splitlines():
        fields = split_line(raw)
        if fields is not None and _matches(fields, entry, exact=False):
            if not placed:  # the first line libpq would use for this server: ours goes here
                out.append(entry.line(password))
                placed = True
                if not _matches(fields, entry, exact=True):
                    out.append(raw)  # a wildcard line, still right for other servers
                continue
            if _matches(fields, entry, exact=True):
                continue  # a duplicate for the same server
        out.append(raw)
    if not placed:
        out.append(entry.line(password))
    return "\n".join(out) + "\n"


def write_password(dsn: str, password: str) -> Path:
    """Set the line for `dsn` in libpq's password file (mode 0600, replaced in one step); returns the
    file. TeamError (one line) when it cannot be written."""
    if "\n" in password or "\r" in password:
        raise TeamError("This password has a line break in it, which a ~/.pgpass line cannot hold.")
    entry = entry_for(dsn)
    path = Path(os.path.realpath(path_for(dsn)))
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise TeamError(f"Cannot read {path} to add the team server's line ({exc}).") from None
    if path.exists() and not stat.S_ISREG(path.stat().st_mode):
        raise TeamError(f"{path} is not a regular file; libpq would not read it.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".pgpass-", dir=path.parent)  # created 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(updated(text, entry, password))
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise TeamError(f"Cannot write {path} ({exc.strerror or exc}).") from None
    return path
