"""The team server tests' shared set-up (tests/test_team_server.py, tests/test_team_server_search.py):
a fresh database with two teams (`Team`, the `team` fixture) on the session's PostgreSQL server
(tests/pg_server.py), and a call document as the agent's app sends it (`call_doc`)."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from companion.team import server_admin as admin
from companion.team.connection import connect

CARD_WORDS = "four one one one one one one one one one one one one one one one"


class Team:
    """A fresh database set up with `init`, two teams: north (agents ann, bob; supervisor sue) and
    south (agent cat; supervisor sam). Role names get a suffix: roles are server-wide."""

    def __init__(self, server, share_text=True, share_audio=True):
        self.server, self.sfx = server, uuid.uuid4().hex[:6]
        self.dbname = f"cc_{self.sfx}"
        self.su = psycopg.connect(server.create_database(self.dbname), autocommit=True)
        admin.init_server(self.su, share_text=share_text, share_audio=share_audio)
        self.passwords: dict[str, str] = {}
        self.conns: list = []
        for base, team, kind in (("ann", "north", "agent"), ("bob", "north", "agent"), ("sue", "north", "supervisor"),
                                 ("cat", "south", "agent"), ("sam", "south", "supervisor")):
            self.passwords[self.name(base)] = admin.add_member(self.su, self.name(base), team, kind)

    def name(self, base: str) -> str:
        return f"{base}{self.sfx}"

    def dsn(self, base: str, **params) -> str:
        return self.server.dsn(self.name(base), dbname=self.dbname, **params)

    def connect(self, base: str, **kw):
        conn = connect(self.dsn(base), password=self.passwords[self.name(base)], **kw)
        self.conns.append(conn)
        return conn

    def raw(self, base: str):
        """A plain psycopg connection as that person: for the statements the app would never send."""
        conn = psycopg.connect(self.dsn(base, password=self.passwords[self.name(base)]), autocommit=True)
        self.conns.append(conn)
        return conn

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
        self.su.close()
        with psycopg.connect(self.server.superuser_dsn, autocommit=True) as su:
            su.execute(f'DROP DATABASE "{self.dbname}" WITH (FORCE)')
            for name in self.passwords:
                su.execute(f'DROP ROLE IF EXISTS "{name}"')


@pytest.fixture
def team(pg_server):  # noqa: F811
    t = Team(pg_server)
    yield t
    t.close()


def call_doc(said="the parcel never arrived and nobody called me back", **over) -> dict:
    doc = {
        "uuid": str(uuid.uuid4()), "started_at": "2026-11-30T10:00:00+00:00", "duration_s": 184.5,
        "status": "complete", "source": "live", "playbook": "delivery", "pace_source": "asr", "agent_wpm": 152.0,
        "agent_talk_ratio": 0.46, "longest_agent_monologue_s": 21.0, "customer_mood": "tense", "upset_s": 0.0,
        "turns": [{"party": "customer", "start": 0.0, "end": 4.0}, {"party": "agent", "start": 4.5, "end": 9.0}],
        "segments": [{"party": "customer", "start": 0.2, "end": 3.8, "text": said},
                     {"party": "agent", "start": 4.6, "end": 8.8, "text": "i am sorry to hear that let me check"}],
        "prompts": [{"t": 5.0, "kind": "slow_down", "reason": "pace 190 wpm"},
                    {"t": 7.0, "kind": "keep_listening", "reason": "customer still talking"}],
        "interruptions": [{"t": 4.4, "by": "agent", "overlap_s": 0.6}, {"t": 8.0, "by": "customer", "overlap_s": 0.3}],
        "pace": [{"t": 5.0, "wpm": 150.0}, {"t": 6.0, "wpm": 190.0}],
        "checklist": [{"step_id": "greet", "title": "Greet", "t": 1.0, "source": "asr", "done": True}],
        "root_cause": "the courier lost it",
        "customer_states": [{"t": 2.0, "state": "calm"}, {"t": 3.0, "state": "tense"}],
        "pauses": [], "audio_flac": None,
    }
    doc.update(over)
    return doc


def count(conn, sql: str, *args) -> int:
    return conn.execute(sql, args).fetchone()[0]
