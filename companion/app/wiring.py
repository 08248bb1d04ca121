"""What the layers below do for one another, wired once per process by the entry point
(`companion.cli.main`, which the window runs through too).

The store closes calls without knowing who else cares (companion.store.hooks); the team package
queues a team call for its server when one is closed (companion.team.queueing). The team package is
imported when a call is first closed, not when the process starts: `calls list` never closes one.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3


def _queue_team_call(db: sqlite3.Connection, call_id: int) -> bool:
    from companion.team.queueing import queue_team_call

    return queue_team_call(db, call_id)


def install() -> None:
    """Subscribe the team package to the store's call-closed hook (once, however often it is called)."""
    from companion.store.hooks import on_call_closed

    on_call_closed(_queue_team_call)
