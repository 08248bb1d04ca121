"""A call's live timeline (ui/team/live_call_view.py, opened from a tile of the live floor), saved as a PNG for docs/:

    xvfb-run -a python bench/screenshot_live_timeline.py docs/team_live_timeline.png   # or QT_QPA_PLATFORM=offscreen

The agent's live rows are made up: a call of 6:40 seen by the floor as it went, a view every 5 s, the way the
floor's feed hands them over (companion.team.live_watch.agent_view over each row) — the customer calm, then tense,
then upset; prompts; the agent talking over them; a pause for payment; a raised hand and the supervisor's answer.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

START = datetime(2026, 12, 6, 9, 30, tzinfo=timezone.utc)
PROMPTS = [(48.0, "slow_down", "188 words/min over the last 20 s"), (131.0, "keep_listening", "You talked over them twice"),
           (205.0, "customer_upset", "Louder and faster than at the start"), (262.0, "stop_apologizing", "Four apologies in a minute"),
           (318.0, "lower_tone", "Louder than your usual level")]
MOODS = [(9.0, "calm"), (120.0, "tense"), (196.0, "upset"), (350.0, "tense")]
TALKOVERS = [125.0, 129.0, 214.0, 240.0]
PAUSE = (150.0, 178.0)


def rows(until: float = 400.0, every: float = 5.0) -> list[dict]:
    from companion.prompt_kinds import prompt_kind

    out, t = [], 5.0
    while t <= until:
        seen = [p for p in PROMPTS if p[0] <= t]
        mood = [m for m in MOODS if m[0] <= t]
        last = seen[-1] if seen else None
        out.append({
            "agent_role": "ann", "team": "billing", "state": "paused" if PAUSE[0] <= t < PAUSE[1] else "on_call",
            "call_started_at": START, "call_s": t, "talk_share": 0.58, "age_s": 0.4,
            "customer_mood": mood[-1][1] if mood else None, "mood_since_s": mood[-1][0] if mood else None,
            "last_prompt": prompt_kind(last[1]).label if last else None, "last_prompt_kind": last[1] if last else None,
            "last_prompt_reason": last[2] if last else None, "last_prompt_s": last[0] if last else None,
            "prompts": len(seen), "prompt_times": [p[0] for p in seen], "talkover_times": [x for x in TALKOVERS if x <= t],
            "interruptions": 0, "hand_up": 228.0 <= t < 236.0,
        })
        t += every
    return out


def notes() -> list[dict]:
    at = START + timedelta(seconds=228.0)
    return [{"event": "hand", "agent": "ann", "text": "They want a refund over my limit", "at": at.isoformat(),
             "call_started_at": START.isoformat()},
            {"event": "message", "agent": "ann", "from": "sue", "text": "I'm listening in — offer the refund",
             "at": (at + timedelta(seconds=8)).isoformat(), "call_started_at": START.isoformat()}]


def main() -> int:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/team_live_timeline.png")
    from PySide6.QtWidgets import QApplication

    from companion.team.live_alerts import LiveTuning
    from companion.team.live_watch import agent_view
    from ui.team.live_call_view import LiveCallView

    app = QApplication.instance() or QApplication([])
    view = LiveCallView("ann", "billing")
    views = [agent_view(r, LiveTuning()) for r in rows()]
    for v in views[:46]:
        view.update_views([v])
    view.update_views(notes())
    for v in views[46:]:
        view.update_views([v])
    view.resize(1100, 640)
    view.show()
    for _ in range(5):
        app.processEvents()
    view.grab().save(str(target))
    print(target, view.status.text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
