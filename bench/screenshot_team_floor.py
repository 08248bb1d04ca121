"""The supervisor's live floor (ui/team/team_floor.py) with 50 simulated agents, saved as a PNG for docs/:

    xvfb-run -a python bench/screenshot_team_floor.py docs/team_floor.png     # or QT_QPA_PLATFORM=offscreen

The agents' rows are made up (five teams of ten; some on a call with a calm, tense or upset customer,
some with alerts, some idle, offline or lost) and turned into views by the same code as `companion
team watch` (companion.team.live_watch.agent_view), with the default [live] thresholds.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def rows(n: int = 50, seed: int = 7) -> list[dict]:
    from companion.prompt_kinds import PROMPT_KINDS

    rng = random.Random(seed)
    kinds = sorted(PROMPT_KINDS)
    names = ["ann", "bob", "cat", "dan", "eve", "fay", "gus", "hal", "ivy", "jon", "kim", "lee", "max", "ned", "oli",
             "pam", "quin", "rob", "sam", "tia", "uma", "vic", "wes", "xia", "yan", "zoe"]
    out = []
    for i in range(n):
        state = rng.choices(["on_call", "paused", "wrapping_up", "idle", "offline", "lost"], [60, 4, 8, 14, 8, 3])[0]
        call_s = rng.uniform(20, 1500) if state in ("on_call", "paused", "wrapping_up") else 0.0
        mood = rng.choices(["calm", "tense", "upset", None], [55, 25, 12, 8])[0] if call_s else None
        kind = rng.choice(kinds) if call_s and rng.random() < 0.8 else None
        prompts = sorted(rng.uniform(max(0, call_s - 200), call_s) for _ in range(rng.choice([0, 1, 1, 2, 3, 4])))
        out.append({
            "agent_role": f"{names[i % len(names)]}{'' if i < len(names) else i // len(names) + 1}",
            "team": ["billing", "delivery", "returns", "sales", "tech"][i // 10],
            "state": "on_call" if state == "lost" else state, "age_s": 45.0 if state == "lost" else 0.4,
            "call_s": call_s, "customer_mood": mood, "mood_since_s": max(0.0, call_s - rng.uniform(5, 60)),
            "last_prompt": PROMPT_KINDS[kind].label if kind else None, "last_prompt_kind": kind,
            "prompt_times": prompts, "talkover_times": [], "hand_up": rng.random() < 0.05,
        })
    return out


def main() -> int:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/team_floor.png")
    from PySide6.QtWidgets import QApplication

    from companion.team.live_alerts import LiveTuning
    from companion.team.live_watch import agent_view
    from ui.team.team_floor import TeamFloor

    app = QApplication.instance() or QApplication([])
    floor = TeamFloor()
    floor.update_views([agent_view(r, LiveTuning()) for r in rows()])
    floor.resize(1260, 1500)
    floor.show()
    for _ in range(5):
        app.processEvents()
    floor.grab().save(str(target))
    print(target, floor.summary.text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
