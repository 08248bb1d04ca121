"""What the layers below do for one another, wired once per process by the entry point
(`companion.cli.main`, which the window runs through too).

The store closes calls without knowing who else cares (companion.store.hooks); the team package
queues a team call for its server when one is closed (companion.team.queueing).
"""

from __future__ import annotations


def install() -> None:
    """Subscribe the team package to the store's call-closed hook (once, however often it is called)."""
    from companion.store.hooks import on_call_closed
    from companion.team.queueing import queue_team_call

    on_call_closed(queue_team_call)
