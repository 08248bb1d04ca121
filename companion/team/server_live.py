"""The team live's SQL on the team server (schema v3: cc.live_state, cc.live_messages): an agent's state
upserted with a raised hand and the messages waiting for them, in one transaction; a floor's rows, teams and
messages; LISTEN/UNLISTEN; a supervisor's message. Row-level security on the server decides who sees and
writes what: these statements never filter by person themselves, except "to me" (session_user)."""

from __future__ import annotations

from typing import Any, Optional, Sequence

from companion.team.server_schema_v3 import CHANNEL, MESSAGE_CHANNEL

COLUMNS = ("state", "call_started_at", "call_s", "talk_share", "last_prompt", "last_prompt_kind", "last_prompt_reason",
           "last_prompt_s", "customer_mood", "mood_since_s", "prompts", "interruptions", "interruptions_by_agent",
           "prompt_times", "talkover_times", "checklist_step", "hand_up", "live_text", "seq")
UPSERT = ("INSERT INTO cc.live_state (" + ", ".join(COLUMNS) + ") VALUES ("
          + ", ".join(f"%({c})s" for c in COLUMNS) + ") ON CONFLICT (agent_role) DO UPDATE SET "
          + ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS))
_MY_MESSAGES = ("SELECT id, from_role, text, at, call_started_at FROM cc.live_messages "
                "WHERE kind = 'message' AND to_role = session_user AND id > %s ORDER BY id")
_ROW = ("SELECT l.id, l.agent_role, l.state, l.call_started_at, l.call_s, l.talk_share, l.last_prompt, "
        "l.last_prompt_kind, l.last_prompt_reason, l.last_prompt_s, l.customer_mood, l.mood_since_s, l.prompts, "
        "l.interruptions, l.interruptions_by_agent, l.prompt_times, l.talkover_times, l.checklist_step, l.hand_up, "
        "l.live_text, l.updated_at, extract(epoch FROM clock_timestamp() - l.updated_at)::float8 AS age_s "
        "FROM cc.live_state l")
_TEAMS = "SELECT role, string_agg(team, ',' ORDER BY team) FROM cc.team_members GROUP BY role"
_MESSAGES = "SELECT m.id, m.kind, m.from_role, m.to_role, m.text, m.at, m.call_started_at FROM cc.live_messages m"


# --- the agent's side ------------------------------------------------------------------------------------------
def my_newest_message_id(conn: Any) -> int:
    """The newest message to this login so far (what was said to an earlier session is not news)."""
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM cc.live_messages WHERE to_role = session_user")
               .fetchone()[0])


def my_messages(conn: Any, after_id: int) -> list[tuple[Any, ...]]:
    """Messages to this login newer than `after_id`: (id, from_role, text, at, call_started_at)."""
    return list(conn.execute(_MY_MESSAGES, (after_id,)).fetchall())


def publish(conn: Any, row: dict[str, Any], hand: Optional[str], after_id: int) -> list[tuple[Any, ...]]:
    """This agent's state (and a raised hand, `hand` its note or ""), in one transaction, with the messages
    to them newer than `after_id`."""
    with conn.transaction():
        conn.execute(UPSERT, row)
        if hand is not None:
            conn.execute("INSERT INTO cc.live_messages (kind, text) VALUES ('hand', %s)", (hand or None,))
        return my_messages(conn, after_id)


# --- a supervisor's floor --------------------------------------------------------------------------------------
def listen(conn: Any, rows: bool = True, messages: bool = True) -> None:
    if rows:
        conn.execute(f"LISTEN {CHANNEL}")
    if messages:
        conn.execute(f"LISTEN {MESSAGE_CHANNEL}")


def unlisten_rows(conn: Any) -> None:
    conn.execute(f"UNLISTEN {CHANNEL}")


def newest_message_id(conn: Any) -> int:
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM cc.live_messages").fetchone()[0])


def _dicts(conn: Any, sql: str, args: Any = None) -> list[dict[str, Any]]:
    cur = conn.execute(sql, args)
    names = [d.name for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def floor_rows(conn: Any, ids: Optional[Sequence[int]] = None, since: Any = None,
               margin_s: float = 0.0) -> list[dict[str, Any]]:
    """The live rows this login may see: all of them, those with `ids`, or those written since `since`
    (less `margin_s`, for a write committed late)."""
    if ids is not None:
        return _dicts(conn, _ROW + " WHERE l.id = ANY(%s)", (list(ids),))
    if since is not None:
        return _dicts(conn, _ROW + " WHERE l.updated_at > %s::timestamptz - make_interval(secs => %s)",
                      (since, margin_s))
    return _dicts(conn, _ROW)


def team_names(conn: Any) -> dict[str, str]:
    """login -> its teams, comma-separated."""
    return {r[0]: r[1] for r in conn.execute(_TEAMS).fetchall()}


def messages_after(conn: Any, after_id: int) -> list[dict[str, Any]]:
    return _dicts(conn, _MESSAGES + " WHERE m.id > %s ORDER BY m.id", (after_id,))


def send_message(conn: Any, agent: str, text: str) -> int:
    """A supervisor's message to `agent` (row-level security refuses an agent outside their teams)."""
    with conn.transaction():
        return int(conn.execute("INSERT INTO cc.live_messages (kind, to_role, text) VALUES ('message', %s, %s) "
                                "RETURNING id", (agent, text)).fetchone()[0])
