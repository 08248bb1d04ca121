"""The team live at scale: N simulated agents publishing their live state once a second to one
PostgreSQL server, M supervisors watching. Run by hand:

    python bench/bench_team_live.py [--agents 500] [--supervisors 20] [--seconds 60]

It starts its own PostgreSQL server (tests/pg_server.py: Debian's `postgresql`, a temporary directory,
fsync off like the tests' server, max_connections raised for the run) and a team database made with
the app's own `init_server` / `add_member`: the agents in teams of 10, each supervisor in every team
(the worst case: every supervisor reads every row).

- Each agent is the app's own `LivePublisher` (its own thread, its own connection as its own login,
  row-level security on), fed the call's tick every second (a MetricsSnapshot: the call's time moves, so
  the state is written every second) and a prompt every `--prompt-every` seconds on average (at random).
- Each supervisor is the app's own `LiveFloor` (what `companion team watch` and the floor view run),
  on a thread of its own.

Measured, over `--seconds` after a warm-up:
- **coach to screen**: from a prompt on the agent's bus to the supervisor's view of it (the publisher's
  once-a-second pacing included); p50, p95, max over every prompt every supervisor saw;
- **commit to screen**: from the row's `updated_at` (the server's clock, the same machine) to the view;
- the server's CPU (every PostgreSQL process's user + system time, from /proc), its connections
  (pg_stat_activity), and the bench process's own CPU (the simulated agents and supervisors).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def server_cpu_s(server) -> float:
    """User + system CPU seconds of the postmaster and every process it started."""
    pid = int((server.data / "postmaster.pid").read_text().split()[0])
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:  # fields[1]: ppid
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agents", type=int, default=500)
    ap.add_argument("--supervisors", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--warmup", type=float, default=15.0)
    ap.add_argument("--prompt-every", type=float, default=30.0, help="seconds between an agent's prompts, on average")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()

    import psycopg

    import random

    from companion.events import CallStarted, MetricsSnapshot, Prompt
    from companion.team import server_admin as admin
    from companion.team.live_alerts import LiveTuning
    from companion.team.live_publisher import LivePublisher
    from companion.team.live_watch import LiveFloor
    from tests.pg_server import PgServer

    conns = args.agents + args.supervisors + 20
    server = PgServer(settings={"max_connections": str(max(120, conns)), "shared_buffers": "'256MB'"}).init()
    server.start()
    try:
        dsn = server.create_database("cclive")
        su = psycopg.connect(dsn, autocommit=True)
        admin.init_server(su, share_text=False, share_audio=False)
        teams = max(1, (args.agents + 9) // 10)
        t0 = time.monotonic()
        password = "bench-password-0123"
        agents = [f"a{i:04d}" for i in range(args.agents)]
        sups = [f"s{i:03d}" for i in range(args.supervisors)]
        for i, name in enumerate(agents):
            admin.add_member(su, name, f"team{i // 10:03d}", "agent", password=password)
        for name in sups:
            for t in range(teams):
                admin.add_member(su, name, f"team{t:03d}", "supervisor", password=password)
        print(f"set up {args.agents} agents in {teams} teams and {args.supervisors} supervisors in "
              f"{time.monotonic() - t0:.0f} s", file=sys.stderr)
        tuning = LiveTuning(publish_every_s=1.0, heartbeat_s=10.0, stale_after_s=30.0)

        fed: dict[tuple[str, int], float] = {}      # (agent, prompt number) -> when the prompt was on the bus
        seen: list[float] = []                      # coach to screen, every (agent, prompt, supervisor)
        commit: list[float] = []                    # commit to screen
        measuring = threading.Event()
        halt = threading.Event()
        lock = threading.Lock()

        def watch(name: str) -> None:
            floor = LiveFloor(server.dsn(name, dbname="cclive"), tuning, password=password)
            floor.open()
            while not halt.is_set():
                views = floor.poll(0.5)
                now, wall = time.monotonic(), time.time()
                if not measuring.is_set():  # seen before the measurement: not measured later either
                    got[name].update((v["agent"], v.get("prompts") or 0) for v in views)
                    continue
                mine, mine_c = [], []
                for v in views:
                    key = (v["agent"], v.get("prompts") or 0)
                    at = fed.get(key)
                    if at is not None and key not in got[name]:
                        got[name].add(key)
                        mine.append(now - at)
                        if os.environ.get("BENCH_DEBUG") and now - at > 2:
                            print("slow", name, key, round(now - at, 2), v["call_s"], v.get("updated_at"), floor.batching, file=sys.stderr)
                    if v.get("updated_at"):
                        mine_c.append(wall - datetime.datetime.fromisoformat(v["updated_at"]).timestamp())
                with lock:
                    seen.extend(mine)
                    commit.extend(mine_c)
            floor.close()

        got: dict[str, set] = {s: set() for s in sups}
        watchers = [threading.Thread(target=watch, args=(s,), daemon=True) for s in sups]
        for w in watchers:
            w.start()
        pubs = []
        for name in agents:  # a room of agents coming in over a few seconds
            pub = LivePublisher(server.dsn(name, dbname="cclive"), tuning, password=password)
            pub.start()
            pub.tracker(CallStarted(wall=time.time()))
            pubs.append((name, pub))
            time.sleep(min(0.02, 10.0 / max(1, args.agents)))

        rng = random.Random(1)
        prompts = {name: 0 for name, _ in pubs}

        def tick(t: float) -> MetricsSnapshot:
            return MetricsSnapshot(t, True, False, -20.0, -60.0, 150.0, "acoustic", 10.0, -20.0, -21.0, None, None,
                                   t * 0.5, t * 0.5, 0.5, 10.0, round(0.4 + rng.random() * 0.2, 2), 2.0, 10.0, 0.0,
                                   0, 0, None, 0.0, 0)

        def feed() -> None:
            second = 0
            start = time.monotonic()
            while not halt.is_set():
                second += 1
                for name, pub in pubs:
                    pub.tracker(tick(float(second)))
                    if rng.random() < 1.0 / args.prompt_every:
                        prompts[name] += 1
                        fed[(name, prompts[name])] = time.monotonic()
                        pub.tracker(Prompt(float(second), "slow_down", "pace 190 wpm"))
                time.sleep(max(0.0, start + second - time.monotonic()))

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        time.sleep(args.warmup)
        cpu0, self0, wall0 = server_cpu_s(server), resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
        sent0 = sum(p.sent for _, p in pubs)
        measuring.set()
        time.sleep(args.seconds)
        measuring.clear()
        wall = time.monotonic() - wall0
        cpu = server_cpu_s(server) - cpu0
        self1 = resource.getrusage(resource.RUSAGE_SELF)
        sent = sum(p.sent for _, p in pubs) - sent0
        conns_now = su.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = 'cclive'").fetchone()[0]
        failures = sum(p.failures for _, p in pubs)
        halt.set()
        for _, pub in pubs:
            pub.stop(0.5)
        result = {
            "when": datetime.date.today().isoformat(), "machine": platform.platform(), "cpus": os.cpu_count(),
            "agents": args.agents, "supervisors": args.supervisors, "seconds": round(wall, 1),
            "states_written_per_s": round(sent / wall, 1), "publisher_failures": failures,
            "prompts_seen": len(seen),
            "prompts_expected": int(args.agents * args.supervisors * args.seconds / args.prompt_every),
            "coach_to_screen_s": {"p50": round(pct(seen, 50), 3), "p95": round(pct(seen, 95), 3),
                                  "max": round(max(seen), 3) if seen else None},
            "commit_to_screen_s": {"p50": round(pct(commit, 50), 3), "p95": round(pct(commit, 95), 3),
                                   "max": round(max(commit), 3) if commit else None},
            "server_cpu_cores": round(cpu / wall, 2),
            "bench_process_cpu_cores": round((self1.ru_utime + self1.ru_stime - self0.ru_utime - self0.ru_stime)
                                             / wall, 2),
            "server_connections": conns_now,
        }
        print(json.dumps(result, indent=2))
        if args.json:
            args.json.write_text(json.dumps(result, indent=2) + "\n")
        su.close()
    finally:
        server.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
