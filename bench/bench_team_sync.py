"""The agent side of the team server: how soon a finished call is on the server, and how many
calls a minute one server takes from many agents syncing at once. Run by hand:

    python bench/bench_team_sync.py [--agents 50] [--calls-per-agent 20] [--lag-calls 10]

It starts its own PostgreSQL server (tests/pg_server.py: Debian's `postgresql` package, a temporary
directory, fsync off like the tests' server — so the numbers are the app's and the server's CPU,
not a disk's) and a team database made with the app's own `init_server` / `add_member`.

(a) sync lag: calls made through the real pipeline (CallSession on the bundled demo recording, kept
    as 'live') on one agent's machine with the SyncWorker running (started with `start_sync`, as
    `companion live` and the window start it); the time from CallEnded on the call's bus to the
    call's row on the server (goal < 2 s).
(b) ingest: N agents, each their own machine (data and config folders, their own PostgreSQL role,
    their own ~/.pgpass line) with M five-minute calls queued (written through the store's
    CallRecorder, closed with CallEnded: queued in the outbox as a live call is), all running
    `companion team sync` at the same moment, each in its own process. Calls per minute the server
    took, end to end (process start to last exit) and on the server's clock (first to last call
    received).
(c) the server alone: the same documents built once, then upserted by N threads, each logged in as
    its own agent: what the server takes when the agents' machines are not the limit.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")

from bench.synthetic_calls import hour_of_events  # noqa: E402


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    return f"{platform.node()}: {cpu}, {os.cpu_count()} CPUs{mem}; {platform.system()} {platform.release()}; " \
           f"Python {platform.python_version()}"


def prefill(n: int, seed: int) -> None:
    """In an agent's own process (its COMPANION_* environment): `n` calls closed into the outbox."""
    from companion.store.recorder import CallRecorder

    rng = random.Random(seed)
    for _ in range(n):
        recorder = CallRecorder("live")
        for event in hour_of_events(300, rng):  # the store bench's call, five minutes of it
            recorder(event)
        recorder.close()
        assert recorder.complete, recorder.failed


# --- the bench --------------------------------------------------------------------------------
def lag(team, root: Path, calls: int) -> list[float]:
    from companion.events import CallEnded
    from companion.team.sync_worker import start_sync
    from tests.team_calls import Agent

    agent = Agent(team, "lagagent", root, team_settings="")
    agent.connect()
    times = []
    probe = team.su
    with agent.here():
        worker = start_sync()
        try:
            from companion.demo import demo_recording, demo_script
            from companion.session import CallSession

            for _ in range(calls):
                session = CallSession(agent.coaching())
                recorder = session.keep("live")
                ended = {}
                session.bus.subscribe(lambda e: ended.setdefault("t", time.monotonic()) if isinstance(e, CallEnded) else None)  # noqa: B023
                session.start_demo(demo_recording(), speed=40.0, script=demo_script())
                assert session.ended.wait(120)
                db = agent.store()
                uuid = db.execute("SELECT uuid FROM calls WHERE id = ?", (recorder.call_id,)).fetchone()[0]
                db.close()
                while not probe.execute("SELECT 1 FROM cc.calls WHERE uuid = %s", (uuid,)).fetchone():
                    if time.monotonic() - ended["t"] > 60:
                        raise SystemExit("a call did not reach the server within 60 s")
                    time.sleep(0.005)
                times.append(time.monotonic() - ended["t"])
        finally:
            worker.stop()
    return times


def ingest(server, root: Path, agents: int, per_agent: int) -> dict:
    from tests.team_calls import Agent, TeamDb

    members = [(f"a{i:03d}", f"team{i % 5}", "agent") for i in range(agents)]
    team = TeamDb(server, share_text=True, share_audio=False, members=members)
    try:
        crew = [Agent(team, base, root / "ingest") for base, _, _ in members]
        joining = [threading.Thread(target=a.connect) for a in crew]
        for t in joining:
            t.start()
        for t in joining:
            t.join()
        t0 = time.monotonic()
        fills = [subprocess.Popen([sys.executable, __file__, "--prefill", str(per_agent), str(i)], env=a.env())
                 for i, a in enumerate(crew)]
        for p in fills:
            assert p.wait() == 0
        fill_s = time.monotonic() - t0
        assert sum(a.pending() for a in crew) == agents * per_agent
        start = time.monotonic()
        procs = [a.popen("team", "sync") for a in crew]
        outs = [p.communicate() for p in procs]
        wall = time.monotonic() - start
        bad = [err for p, (_, err) in zip(procs, outs) if p.returncode != 0]
        assert not bad, bad[:3]
        total = team.count()
        assert total == agents * per_agent and len(set(team.uuids())) == total
        first, last = team.su.execute("SELECT min(received_at), max(received_at) FROM cc.calls").fetchone()
        server_s = (last - first).total_seconds()
        size = team.su.execute("SELECT avg(pg_column_size(doc)) FROM cc.calls").fetchone()[0]
        docs = _documents(crew[0], per_agent)
        alone = _server_alone(team, docs, agents)
        return {"calls": total, "fill_s": fill_s, "wall_s": wall, "server_s": server_s, "doc_bytes": float(size),
                "alone": alone}
    finally:
        team.close()


def _documents(agent, n: int) -> list[dict]:
    from companion.team.call_document import build_document

    db = agent.store()
    try:
        ids = [r[0] for r in db.execute("SELECT id FROM calls ORDER BY id LIMIT ?", (n,))]
        with agent.here():
            return [build_document(db, i, {"share_text": True, "share_audio": False}) for i in ids]
    finally:
        db.close()


def _server_alone(team, docs: list[dict], agents: int, seconds: float = 20.0) -> dict:
    """N threads, each its own agent's role, upserting fresh copies of `docs` for `seconds`."""
    import uuid

    from companion.team.connection import connect
    from companion.team.server_calls import upsert_call

    counts = [0] * agents
    stop = time.monotonic() + seconds
    errors = []

    def agent(i: int) -> None:
        try:
            conn = connect(team.dsn(f"a{i:03d}"), password=team.passwords[team.name(f"a{i:03d}")])
            try:
                n = 0
                while time.monotonic() < stop:
                    doc = dict(docs[n % len(docs)], uuid=str(uuid.uuid4()))
                    upsert_call(conn, doc)
                    n += 1
                counts[i] = n
            finally:
                conn.close()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=agent, args=(i,)) for i in range(agents)]
    begun = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - begun
    if errors:
        raise SystemExit(f"server-alone upserts failed: {errors[0]}")
    return {"calls": sum(counts), "s": took}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--calls-per-agent", type=int, default=20)
    parser.add_argument("--lag-calls", type=int, default=10)
    parser.add_argument("--prefill", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prefill:
        prefill(*args.prefill)
        return
    from tests.pg_server import PgServer
    from tests.team_calls import TeamDb

    root = Path(tempfile.mkdtemp(prefix="bench-team-sync-"))
    os.environ["COMPANION_DATA_DIR"] = str(root / "bench-data")
    os.environ["COMPANION_CONFIG_DIR"] = str(root / "bench-config")
    server = PgServer(settings={"max_connections": str(max(120, args.agents * 2 + 20))}).init()
    server.start()
    try:
        version = subprocess.run([str(server.bindir / "postgres"), "--version"], capture_output=True, text=True).stdout.strip()
        print(f"bench_team_sync — {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
        print(f"machine: {machine()}")
        print(f"server: {version}, local TCP (127.0.0.1), fsync off, synchronous_commit off")
        team = TeamDb(server, share_text=True, share_audio=False, members=(("lagagent", "north", "agent"),))
        try:
            times = lag(team, root, args.lag_calls)
        finally:
            team.close()
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        print(f"(a) sync lag, CallEnded → row on the server, {len(times)} live calls (real pipeline, SyncWorker): "
              f"median {statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms "
              f"(goal < 2000 ms) — {'OK' if times[-1] < 2.0 else 'OVER'}")
        r = ingest(server, root, args.agents, args.calls_per_agent)
        print(f"(b) {args.agents} agents × {args.calls_per_agent} five-minute calls (each agent its own process, store "
              f"and role; doc ≈ {r['doc_bytes'] / 1024:.0f} kB with its transcript), all `companion team sync` at once: "
              f"{r['calls']} calls in {r['wall_s']:.1f} s = {r['calls'] / r['wall_s'] * 60:.0f} calls/min end to end "
              f"(processes' start-up included); {r['calls'] / max(r['server_s'], 1e-6) * 60:.0f} calls/min on the "
              f"server's clock (first to last received, {r['server_s']:.1f} s). Filling the outboxes took "
              f"{r['fill_s']:.0f} s.")
        a = r["alone"]
        print(f"(c) the server alone: {args.agents} connections (one role each) upserting ready documents: "
              f"{a['calls']} calls in {a['s']:.1f} s = {a['calls'] / a['s'] * 60:.0f} calls/min.")
        print(f"    this machine has {os.cpu_count()} CPUs shared by the server, the {args.agents} agents' processes and "
              "this script: (b) is bound by the agents' own CPU (building and redacting each document), (c) by the "
              "server's.")
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
