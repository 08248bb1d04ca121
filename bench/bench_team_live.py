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
- The agents run in `--procs` processes (one Python process cannot simulate 500 agents' machines: its
  one interpreter lock would be the bottleneck), each supervisor in a process of their own (their own
  machine); times cross processes as wall-clock times of this one machine.

Measured, over `--seconds` after a warm-up:
- **coach to screen**: from a prompt on the agent's bus to the supervisor's view of it (the publisher's
  once-a-second pacing included); p50, p95, max over every prompt every supervisor saw;
- **commit to screen**: for the same prompts, from the row's `updated_at` (the server's clock, the same
  machine) to the view;
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


TUNING = dict(publish_every_s=1.0, heartbeat_s=10.0, stale_after_s=30.0)
PASSWORD = "bench-password-0123"


def run_agents(dsns: dict, start_measure: float, end: float, prompt_every: float, seed: int, out) -> None:
    """Agents' machines, in one process: their publishers, fed a tick a second and prompts at random.
    Puts (fed, sent, failures): fed = {(agent, prompt number): wall time}, for the measured window."""
    import random

    from companion.events import CallStarted, MetricsSnapshot, Prompt
    from companion.team.live_alerts import LiveTuning
    from companion.team.live_publisher import LivePublisher

    rng = random.Random(seed)
    pubs = []
    for name, dsn in dsns.items():  # a room of agents coming in over a few seconds
        pub = LivePublisher(dsn, LiveTuning(**TUNING), password=PASSWORD)
        pub.start()
        pub.tracker(CallStarted(wall=time.time()))
        pubs.append((name, pub))
        time.sleep(0.02)
    prompts = {name: 0 for name, _ in pubs}
    fed: dict = {}
    sent0 = None
    second, start = 0, time.monotonic()
    while time.time() < end:
        second += 1
        if sent0 is None and time.time() >= start_measure:
            sent0 = sum(p.sent for _, p in pubs)
        for name, pub in pubs:
            pub.tracker(MetricsSnapshot(float(second), True, False, -20.0, -60.0, 150.0, "acoustic", 10.0, -20.0, -21.0,
                                        None, None, second * 0.5, second * 0.5, 0.5, 10.0,
                                        round(0.4 + rng.random() * 0.2, 2), 2.0, 10.0, 0.0, 0, 0, None, 0.0, 0))
            if rng.random() < 1.0 / prompt_every:
                prompts[name] += 1
                now = time.time()
                if start_measure <= now < end - 3:  # the last seconds' prompts may not reach the screen in time
                    fed[(name, prompts[name])] = now
                pub.tracker(Prompt(float(second), "slow_down", "pace 190 wpm"))
        time.sleep(max(0.0, start + second - time.monotonic()))
    sent = sum(p.sent for _, p in pubs) - (sent0 or 0)
    failures = sum(p.failures for _, p in pubs)
    for _, pub in pubs:
        pub.stop(0.2)
    out.put(("agents", fed, sent, failures))


def run_supervisors(dsns: dict, start_measure: float, end: float, out) -> None:
    """Supervisors' floors, in one process: (agent, prompts) first seen, with the wall time; commit to screen."""
    import datetime

    from companion.team.live_alerts import LiveTuning
    from companion.team.live_watch import LiveFloor

    seen: list = []
    commit: list = []
    lock = threading.Lock()

    def watch(dsn: str) -> None:
        floor = LiveFloor(dsn, LiveTuning(**TUNING), password=PASSWORD)
        got = {(v["agent"], v.get("prompts") or 0) for v in floor.open()}
        while time.time() < end:
            views = floor.poll(0.5)
            wall = time.time()
            mine, mine_c = [], []
            for v in views:
                key = (v["agent"], v.get("prompts") or 0)
                if key not in got:  # a prompt (pushed): the call's tick rides on the floor's 2-second read
                    got.add(key)
                    mine.append((key, wall))
                    if wall >= start_measure and v.get("updated_at"):
                        mine_c.append(wall - datetime.datetime.fromisoformat(v["updated_at"]).timestamp())
            with lock:
                seen.extend(mine)
                commit.extend(mine_c)
        floor.close()

    threads = [threading.Thread(target=watch, args=(d,), daemon=True) for d in dsns.values()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put(("supervisors", seen, commit))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agents", type=int, default=500)
    ap.add_argument("--supervisors", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--warmup", type=float, default=20.0)
    ap.add_argument("--prompt-every", type=float, default=30.0, help="seconds between an agent's prompts, on average")
    ap.add_argument("--procs", type=int, default=4, help="processes the agents run in")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()

    import multiprocessing

    import psycopg

    from companion.team import server_admin as admin
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
        agents = [f"a{i:04d}" for i in range(args.agents)]
        sups = [f"s{i:03d}" for i in range(args.supervisors)]
        for i, name in enumerate(agents):
            admin.add_member(su, name, f"team{i // 10:03d}", "agent", password=PASSWORD)
        for name in sups:
            for t in range(teams):
                admin.add_member(su, name, f"team{t:03d}", "supervisor", password=PASSWORD)
        print(f"set up {args.agents} agents in {teams} teams and {args.supervisors} supervisors in "
              f"{time.monotonic() - t0:.0f} s", file=sys.stderr)
        dsn_of = {n: server.dsn(n, dbname="cclive") for n in agents + sups}
        start_measure = time.time() + args.warmup
        end = start_measure + args.seconds
        ctx = multiprocessing.get_context("fork")
        out = ctx.Queue()
        procs = [ctx.Process(target=run_supervisors, args=({n: dsn_of[n]}, start_measure, end, out)) for n in sups]
        per = (len(agents) + args.procs - 1) // args.procs
        procs += [ctx.Process(target=run_agents, args=({n: dsn_of[n] for n in agents[i:i + per]}, start_measure, end,
                                                       args.prompt_every, i, out))
                  for i in range(0, len(agents), per)]
        for p in procs:
            p.start()
        time.sleep(max(0.0, start_measure - time.time()))
        cpu0, wall0 = server_cpu_s(server), time.monotonic()
        time.sleep(max(0.0, end - 1 - time.time()))
        conns_now = su.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = 'cclive'").fetchone()[0]
        time.sleep(max(0.0, end - time.time()))
        cpu, wall = server_cpu_s(server) - cpu0, time.monotonic() - wall0
        fed, seen, commit, sent, failures = {}, [], [], 0, 0
        for _ in procs:
            item = out.get(timeout=120)
            if item[0] == "agents":
                fed.update(item[1])
                sent += item[2]
                failures += item[3]
            else:
                seen += item[1]
                commit += item[2]
        for p in procs:
            p.join(30)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        latency = [wall_seen - fed[key] for key, wall_seen in seen if key in fed]
        result = {
            "when": datetime.date.today().isoformat(), "machine": platform.platform(), "cpus": os.cpu_count(),
            "load_average_1min": round(os.getloadavg()[0], 1),
            "agents": args.agents, "supervisors": args.supervisors, "seconds": round(wall, 1),
            "states_written_per_s": round(sent / wall, 1), "publisher_failures": failures,
            "prompts_fed": len(fed), "prompt_views_seen": len(latency),
            "prompt_views_expected": len(fed) * args.supervisors,
            "coach_to_screen_s": {"p50": round(pct(latency, 50), 3), "p95": round(pct(latency, 95), 3),
                                  "max": round(max(latency), 3) if latency else None},
            "commit_to_screen_s": {"p50": round(pct(commit, 50), 3), "p95": round(pct(commit, 95), 3),
                                   "max": round(max(commit), 3) if commit else None},
            "server_cpu_cores": round(cpu / wall, 2),
            "simulators_cpu_s": round(children.ru_utime + children.ru_stime, 1),
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
