"""What can go wrong with the team server, each as one sentence the user can act on."""

from __future__ import annotations

from companion.errors import CompanionError


class TeamError(CompanionError):
    """A team server problem: unreachable, refused, revoked, wrong schema, not allowed.

    `retry` says whether trying again later can help (the server was unreachable or the
    connection dropped); a sync worker backs off and retries those, and stops on the others
    (a wrong password, a revoked account, a schema this app does not know)."""

    retry = False


class TeamUnreachable(TeamError):
    """The server could not be reached, or the connection dropped: try again later."""

    retry = True
