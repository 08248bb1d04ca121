"""Which closed calls go to the team server: the team package's call-closed hook (companion.store.hooks).

A team call is one with source 'live' — taken on this machine while it is connected to a team server
as an agent (companion.store.outbox says why the other sources are not). The hook runs inside the
transaction that closes the call, so it reads only the settings file (no psycopg, no network).
"""

from __future__ import annotations

import sqlite3

from companion.store import outbox

TEAM_SOURCES = ("live",)


def queue_team_call(db: sqlite3.Connection, call_id: int) -> bool:
    """In the transaction that closes `call_id` (complete or interrupted): queue it for the team server
    when it is a team call and this machine uploads. True when queued."""
    from companion.team.settings import uploads_here

    if outbox.source_of(db, call_id) not in TEAM_SOURCES or not uploads_here():
        return False
    outbox.enqueue(db, call_id)
    outbox.notify_enqueued()
    return True
