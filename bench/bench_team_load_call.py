"""One very large call on the team server: what the server's checks of a call document cost on
upload (cc.calls' trigger: keys stripped, every value checked, counts and transcript made), and how
long a supervisor's `load_call` takes to shape it for the replay (turns matched to segments in
O(n log n), not n x m). Run by hand:

    python bench/bench_team_load_call.py [--turns 20000] [--segments 20000] [--overlapping]

It starts its own PostgreSQL server (tests/pg_server.py) and a team database made with the app's own
`init_server` / `add_member`. With --overlapping every turn spans the whole call (the worst case for
matching: each segment could belong to every turn).
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import psycopg  # noqa: E402

from companion.team import server_admin as admin  # noqa: E402
from companion.team import server_calls  # noqa: E402
from companion.team import server_queries as queries  # noqa: E402
from companion.team.connection import connect  # noqa: E402
from tests.pg_server import PgServer  # noqa: E402


def document(turns: int, segments: int, overlapping: bool) -> dict:
    length = 86_000.0
    step = length / max(turns, segments)
    return {
        "uuid": str(uuid.uuid4()), "started_at": "2026-11-30T10:00:00+00:00", "duration_s": length,
        "status": "complete", "source": "live", "playbook": "delivery", "pace_source": "asr", "agent_wpm": 150.0,
        "agent_talk_ratio": 0.5, "longest_agent_monologue_s": 30.0, "customer_mood": "calm", "upset_s": 0.0,
        "turns": [{"party": ("agent", "customer")[n % 2], "start": 0.0 if overlapping else n * step,
                   "end": length if overlapping else n * step + step * 0.9} for n in range(turns)],
        "segments": [{"party": ("agent", "customer")[n % 2], "start": n * step, "end": n * step + step * 0.8,
                      "text": f"words said in segment {n}"} for n in range(segments)],
        "prompts": [], "interruptions": [], "pace": [], "checklist": [], "root_cause": None,
        "customer_states": [], "pauses": [],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20_000)
    parser.add_argument("--segments", type=int, default=20_000)
    parser.add_argument("--overlapping", action="store_true")
    args = parser.parse_args()
    server = PgServer().init()
    server.start()
    try:
        dsn = server.create_database("cc_bench_load")
        with psycopg.connect(dsn, autocommit=True) as su:
            admin.init_server(su, share_text=True, share_audio=False)
            agent = admin.add_member(su, "agent_b", "north", "agent")
            boss = admin.add_member(su, "boss_b", "north", "supervisor")
        doc = document(args.turns, args.segments, args.overlapping)
        with connect(server.dsn("agent_b", dbname="cc_bench_load"), agent) as ann:
            t0 = time.perf_counter()
            server_calls.upsert_call(ann, doc)
            upload = time.perf_counter() - t0
        with connect(server.dsn("boss_b", dbname="cc_bench_load"), boss) as sue:
            t0 = time.perf_counter()
            call = queries.load_call(sue, doc["uuid"])
            load = time.perf_counter() - t0
        said = sum(1 for t in call["turns"] if t["text"])
        print(f"{args.turns} turns x {args.segments} segments{' (every turn the whole call)' * args.overlapping}: "
              f"upload with the server's checks {upload:.2f} s, load_call {load:.2f} s ({said} turns with text)")
    finally:
        server.cleanup()  # the server, its roles and its folder


if __name__ == "__main__":
    main()
