"""The live floor's settings and alerts: what a supervisor is alerted to, computed the same way for
`companion team watch` and the floor view from the agent's live row (companion.team.server_schema_v3)
and the `[live]` table of team.toml (resources/team.toml, overridden by the user's own team.toml).

An alert is judged from the row alone, on the call's own clock (the agent's app sends the recent
prompts' and talk-overs' call times), so two supervisors watching the same agent always see the same
alerts, whenever they started watching. Staleness is the server's: `age_s` is how long ago the row
was written, by the server's clock (now() − updated_at in the query), so an agent's wrong clock never
makes them look connected or lost.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Optional

from companion.team.errors import TeamError

ALERT_KINDS = ("raise_hand", "customer_upset", "many_prompts", "talk_overs", "long_call", "connection_lost")
ALERT_LABELS = {"raise_hand": "raised a hand", "customer_upset": "customer upset", "many_prompts": "many prompts",
                "talk_overs": "talking over the customer", "long_call": "long call",
                "connection_lost": "connection lost"}
STATE_LABELS = {"on_call": "on call", "paused": "paused for payment", "wrapping_up": "wrapping up", "idle": "idle",
                "offline": "offline", "connection_lost": "connection lost"}
ACTIVE = ("on_call", "paused", "wrapping_up")


@dataclass(frozen=True)
class LiveTuning:
    """resources/team.toml's [live] table (and the user's overrides)."""

    publish: bool = True               # this agent's machine publishes its live state (when connected as an agent)
    publish_every_s: float = 1.0       # at most this often, and on every change
    heartbeat_s: float = 10.0          # written at least this often while nothing changes (idle)
    stale_after_s: float = 30.0        # a row not written for this long: "connection lost"
    reconnect_first_s: float = 1.0     # the publisher's first wait after a failure …
    reconnect_max_s: float = 30.0      # … doubling up to this
    upset_alert_s: float = 20.0        # the customer upset for this long
    prompts_alert: int = 3             # this many prompts …
    prompts_window_s: float = 120.0    # … within this much of the call
    talkovers_alert: int = 3           # the agent talking over the customer this many times …
    talkovers_window_s: float = 120.0  # … within this much of the call
    long_call_min: float = 20.0        # a call longer than this many minutes


_INTS = ("prompts_alert", "talkovers_alert")


def _layer(tuning: LiveTuning, path: Path, data: dict[str, Any]) -> LiveTuning:
    table = data.get("live", {})
    if not isinstance(table, dict):
        raise TeamError(f"{path}: [live] must be a table.")
    known = {f.name for f in fields(LiveTuning)}
    for key, value in table.items():
        if key not in known:
            raise TeamError(f"{path}: [live] {key} is not a setting (known: {', '.join(sorted(known))}).")
        if key == "publish":
            if not isinstance(value, bool):
                raise TeamError(f"{path}: [live] publish must be true or false, not {value!r}.")
            tuning = replace(tuning, publish=value)
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value \
                or value in (float("inf"), float("-inf")):
            raise TeamError(f"{path}: [live] {key} must be a number, not {value!r}.")
        if key in _INTS and value != int(value):
            raise TeamError(f"{path}: [live] {key} must be a whole number, not {value!r}.")
        if value <= 0:
            raise TeamError(f"{path}: [live] {key} must be more than 0, not {value!r}.")
        number: Any = int(value) if key in _INTS else float(value)
        tuning = replace(tuning, **{key: number})
    return tuning


def load_tuning(path: Optional[Path] = None) -> LiveTuning:
    """The bundled [live] numbers with the user's team.toml's [live] over them; TeamError naming the
    file and key for a value that cannot be used."""
    from companion.resources import resource_path
    from companion.team.settings import RESOURCE, _read_toml, settings_path

    tuning = LiveTuning()
    bundled = resource_path(RESOURCE)
    user = Path(path or settings_path())
    for p in (bundled, user):
        tuning = _layer(tuning, p, _read_toml(p))
    if tuning.publish_every_s > tuning.heartbeat_s or tuning.heartbeat_s * 2 > tuning.stale_after_s:
        raise TeamError(f"[live] publish_every_s ({tuning.publish_every_s:g}) must be at most heartbeat_s "
                        f"({tuning.heartbeat_s:g}), and heartbeat_s at most half of stale_after_s "
                        f"({tuning.stale_after_s:g}), or a connected agent would look lost.")
    if tuning.reconnect_first_s > tuning.reconnect_max_s:
        raise TeamError(f"[live] reconnect_first_s ({tuning.reconnect_first_s:g}) must be at most reconnect_max_s "
                        f"({tuning.reconnect_max_s:g}).")
    return tuning


def shown_state(row: dict[str, Any], tuning: LiveTuning) -> str:
    """The state a supervisor sees: the agent's own, except that a row not written for
    `stale_after_s` is "connection_lost" (an agent who closed the app cleanly is "offline")."""
    state = row.get("state") or "offline"
    age = row.get("age_s")
    if state != "offline" and age is not None and age > tuning.stale_after_s:
        return "connection_lost"
    return state


def _recent(times: Any, now_s: float, window_s: float) -> int:
    return sum(1 for t in (times or ()) if t is not None and now_s - window_s <= t <= now_s)


def alerts(row: dict[str, Any], tuning: LiveTuning) -> list[str]:
    """The alerts for one agent's live row, most urgent first (ALERT_KINDS' order)."""
    state = shown_state(row, tuning)
    found: list[str] = []
    if row.get("hand_up") and state != "offline":
        found.append("raise_hand")
    on_call = state in ("on_call", "paused")
    call_s = float(row.get("call_s") or 0.0)
    if on_call:
        since = row.get("mood_since_s")
        if row.get("customer_mood") == "upset" and since is not None and call_s - since >= tuning.upset_alert_s:
            found.append("customer_upset")
        if _recent(row.get("prompt_times"), call_s, tuning.prompts_window_s) >= tuning.prompts_alert:
            found.append("many_prompts")
        if _recent(row.get("talkover_times"), call_s, tuning.talkovers_window_s) >= tuning.talkovers_alert:
            found.append("talk_overs")
        if call_s >= tuning.long_call_min * 60.0:
            found.append("long_call")
    if state == "connection_lost":
        found.append("connection_lost")
    return found
