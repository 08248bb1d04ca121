"""The one row of a team-server query that always returns one (an aggregate, a function call, RETURNING)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psycopg import Cursor


def one(cur: Cursor[Any]) -> tuple[Any, ...]:
    """The row `cur` returned; a query that returned none is the server breaking its own promise."""
    row = cur.fetchone()
    if row is None:
        raise RuntimeError("the team server returned no row for a query that always returns one")
    return tuple(row)
