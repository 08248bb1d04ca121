"""Agents with their own machines, a supervisor and a team server, for tests/test_team_sync.py and
bench/bench_team_sync.py.

A `TeamDb` is a fresh database on the test session's PostgreSQL server (tests/pg_server.py), set up
with the app's own `init_server`, its members made with `add_member` (role names get a suffix:
roles are server-wide). An `Agent` is one agent's machine: their own data and config folders (their
own SQLite store and team.toml), their own ~/.pgpass (PGPASSFILE), and the installed `companion`
command run with that environment. Their calls are made through the real pipeline
(companion.session.CallSession on the bundled demo recording, its script as the recogniser's words,
kept as a 'live' call), or, for many calls at once, through the store's own CallRecorder.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Iterable, Optional, Sequence

import psycopg

from tests.installed import OUTSIDE

# keyring: no backend of this machine's (a Secret Service over D-Bus) in the agents' processes unless a
# test names one; "fail" is keyring's own backend that keeps nothing
NO_KEYRING = "keyring.backends.fail.Keyring"


class TeamDb:
    def __init__(self, server, share_text: bool = True, share_audio: bool = False,
                 members: Sequence[tuple[str, str, str]] = (("ann", "north", "agent"), ("bob", "north", "agent"),
                                                            ("sue", "north", "supervisor"))):
        from companion.team import server_admin as admin

        self.server, self.sfx = server, uuid.uuid4().hex[:6]
        self.dbname = f"ccsync_{self.sfx}"
        self.su_dsn = server.create_database(self.dbname)
        self._su = psycopg.connect(self.su_dsn, autocommit=True)
        admin.init_server(self.su, share_text=share_text, share_audio=share_audio)
        self.passwords: dict[str, str] = {}
        for base, team, kind in members:
            self.passwords[self.name(base)] = admin.add_member(self.su, self.name(base), team, kind)
        self._conns: list = []

    @property
    def su(self):
        """The superuser's connection to the team's database (again after the server was restarted)."""
        try:
            self._su.execute("SELECT 1")
        except psycopg.Error:
            self._su.close()
            self._su = psycopg.connect(self.su_dsn, autocommit=True)
        return self._su

    def name(self, base: str) -> str:
        return f"{base}{self.sfx}"

    def dsn(self, base: str, **params) -> str:
        """The address an agent is given: no password in it."""
        return self.server.dsn(self.name(base), dbname=self.dbname, **params)

    def admin_dsn(self) -> str:
        return self.server.dsn(self.server.superuser, dbname=self.dbname)

    def as_role(self, base: str):
        """A plain connection as that person (their own login role: row-level security applies)."""
        conn = psycopg.connect(self.dsn(base, password=self.passwords[self.name(base)]), autocommit=True)
        self._conns.append(conn)
        return conn

    def count(self, sql: str = "SELECT count(*) FROM cc.calls", *args) -> int:
        return self.su.execute(sql, args).fetchone()[0]

    def uuids(self) -> list[str]:
        return sorted(str(r[0]) for r in self.su.execute("SELECT uuid FROM cc.calls"))

    def backends(self, base: str) -> list[tuple[int, Optional[str]]]:
        """(pid, wait_event_type) of that person's open sessions."""
        return [(r[0], r[1]) for r in self.su.execute(
            "SELECT pid, wait_event_type FROM pg_stat_activity WHERE usename = %s", (self.name(base),))]

    def close(self) -> None:
        for conn in self._conns:
            conn.close()
        self._su.close()
        with psycopg.connect(self.server.superuser_dsn, autocommit=True) as su:
            su.execute(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')
            for name in self.passwords:
                su.execute(f'DROP ROLE IF EXISTS "{name}"')


class Agent:
    """One agent's machine."""

    def __init__(self, team: TeamDb, base: str, root: Path, pgpass: bool = True, keyring_backend: str = NO_KEYRING,
                 team_settings: str = ""):
        self.team, self.base = team, base
        self.role = team.name(base)
        self.password = team.passwords[self.role]
        self.root = Path(root) / base
        self.data, self.config = self.root / "data", self.root / "config"
        self.config.mkdir(parents=True, exist_ok=True)
        self.pgpass = self.root / "pgpass"
        if pgpass:
            self.write_pgpass()
        self.keyring_backend = keyring_backend
        self.pythonpath: list[str] = []
        self.team_settings = team_settings  # a [team] table for team.toml (fast backoff in tests)

    @property
    def dsn(self) -> str:
        return self.team.dsn(self.base)

    @property
    def store_path(self) -> Path:
        return self.data / "calls.sqlite3"

    def write_pgpass(self) -> None:
        s = self.team.server
        self.pgpass.write_text(f"{s.host}:{s.port}:{self.team.dbname}:{self.role}:{self.password}\n")
        os.chmod(self.pgpass, 0o600)

    def env(self, **extra: str) -> dict:
        env = dict(os.environ, COMPANION_DATA_DIR=str(self.data), COMPANION_CONFIG_DIR=str(self.config),
                   PGPASSFILE=str(self.pgpass), PYTHON_KEYRING_BACKEND=self.keyring_backend)
        env.pop("PGPASSWORD", None)
        if self.pythonpath:
            env["PYTHONPATH"] = os.pathsep.join(self.pythonpath)
        env.update(extra)
        return env

    @contextlib.contextmanager
    def here(self):
        """This process acts as the agent's machine (its folders, its ~/.pgpass) for the block."""
        keys = ("COMPANION_DATA_DIR", "COMPANION_CONFIG_DIR", "PGPASSFILE", "PYTHON_KEYRING_BACKEND", "PGPASSWORD")
        saved = {k: os.environ.get(k) for k in keys}
        env = self.env()
        try:
            for k in keys:
                if k in env:
                    os.environ[k] = env[k]
                else:
                    os.environ.pop(k, None)
            yield self
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def companion(self, *args: object, input: Optional[str] = None, timeout: float = 180, **extra: str):
        """The installed `companion` command on this agent's machine."""
        return subprocess.run([sys.executable, "-m", "ui", *map(str, args)], input=input, capture_output=True,
                              text=True, env=self.env(**extra), cwd=OUTSIDE, timeout=timeout)

    def popen(self, *args: object, **extra: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "ui", *map(str, args)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env(**extra), cwd=OUTSIDE)

    def connect(self) -> subprocess.CompletedProcess:
        run = self.companion("team", "connect", self.dsn, "--password-stdin", input=self.password + "\n")
        assert run.returncode == 0, run.stderr
        if self.team_settings:
            path = self.config / "team.toml"
            path.write_text(path.read_text() + "\n[team]\n" + self.team_settings + "\n")
        return run

    def sync(self) -> subprocess.CompletedProcess:
        return self.companion("team", "sync")

    def store(self):
        from companion.store.db import open_store

        with self.here():
            return open_store(self.store_path)

    def coaching(self, redact: bool = True, record_audio: bool = False, auto_pause: bool = True):
        from companion.config import load_config

        config = load_config(use_user_default=False)
        return dataclasses.replace(config, privacy=dataclasses.replace(config.privacy, redact=redact,
                                                                       record_audio=record_audio,
                                                                       auto_pause=auto_pause))

    def live_call(self, said: Iterable[tuple[str, str, float]] = (), redact: bool = True, record_audio: bool = False,
                  speed: float = 40.0, script: bool = True, auto_pause: bool = True) -> int:
        """A call through the real pipeline, kept as the window and `companion live` keep one ('live'):
        the bundled demo recording played `speed` times faster, its script as the recogniser's words,
        and `said` = (party, text, t) more recogniser segments published on the call's bus."""
        from companion.demo import demo_recording, demo_script
        from companion.session import CallSession

        with self.here():
            session = CallSession(self.coaching(redact, record_audio, auto_pause))
            recorder = session.keep("live", record_audio=record_audio)
            session.start_demo(demo_recording(), speed=speed, script=demo_script() if script else None)
            for party, text, t in said:
                session.bus.publish(segment(party, text, t))
            assert session.ended.wait(120), "the call did not end"
            assert recorder.complete and not recorder.failed, recorder.failed
            return recorder.call_id

    def quick_calls(self, n: int, said: str = "my parcel never came and i want a refund") -> list[int]:
        """`n` short calls written through the store's CallRecorder (as a live call's are), each closed
        with CallEnded: the fast way to fill the outbox."""
        from companion.events import CallEnded, Prompt, Turn
        from companion.store.recorder import CallRecorder

        ids = []
        with self.here():
            for i in range(n):
                recorder = CallRecorder("live", store=self.store_path)
                for event in (Turn("customer", 0.5, 4.0), segment("customer", f"{said} number {i}", 0.6),
                              Turn("agent", 4.5, 8.0), segment("agent", "let me check that for you", 4.6),
                              Prompt(6.0, "slow_down", "pace 190 wpm"), CallEnded(duration_s=9.0, dropped_blocks=0)):
                    recorder(event)
                recorder.close()
                assert recorder.complete, recorder.failed
                ids.append(recorder.call_id)
        return ids

    def local_uuids(self) -> list[str]:
        db = self.store()
        try:
            return sorted(r[0] for r in db.execute("SELECT uuid FROM calls WHERE source = 'live'"))
        finally:
            db.close()

    def pending(self) -> int:
        db = self.store()
        try:
            return db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        finally:
            db.close()


def segment(party: str, text: str, t: float):
    """A recogniser's final segment: the words of `text`, 0.35 s apart from `t` on."""
    from companion.events import FinalSegment, Word

    words = tuple(Word(w, t + i * 0.35, t + i * 0.35 + 0.3, 0.9) for i, w in enumerate(text.split()))
    return FinalSegment(party, words[0].start, words[-1].end, words)
