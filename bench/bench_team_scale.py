"""The team server at scale. Run by hand:  python bench/bench_team_scale.py [--calls 1000000]

Generates calls over 500 agents in 50 teams (10 agents and a supervisor each) on a PostgreSQL server
of its own (tests/pg_server.py, in a temporary folder) or on `--dsn` (a superuser's; a database
`cc_bench` is made there), server-side with generate_series, then ANALYZE and time, as supervisor
logins with row-level security on, through companion.team.server_queries as the app calls it:
- the supervisor's team list: newest page, and filtered (agent, dates, prompt kind, reviewed);
- full-text search: a common word, a rare word, a phrase within dates;
- the dashboard's weekly figures (from the rollup), 12 and 52 weeks.
p50 / p95 / max over `--runs` runs each, spread over 10 supervisors (goal: p95 < 200 ms).

Transcripts are drawn from a pool of generated texts of `--words` words (Zipf-like over a
4,000-word vocabulary), with rare words sprinkled in; the document column holds a small stand-in
(real documents are TOASTed out of line, so the rows the list reads are about this size).
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import random
import statistics
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import psycopg  # noqa: E402

from companion.team import server_admin as admin  # noqa: E402
from companion.team import server_queries as queries  # noqa: E402
from companion.team.connection import connect  # noqa: E402

AGENTS, TEAMS, POOL = 500, 50, 4000
PASSWORD = "bench-password-not-secret"
KINDS = ("slow_down", "slow_down", "slow_down", "keep_listening", "keep_listening", "lower_tone", "speeding_up",
         "stop_apologizing", "dead_air", "customer_upset", "customer_calmer")
STOP = ("i you the to a and it that is of in we for my on be this have can just so what your do not with me are "
        "was but if all will there at get they like know as an about one out up no yes okay right").split()
TOPICS = {  # each call is about one topic (sometimes two): its words are common in it, absent elsewhere
    "delivery": "parcel delivery courier tracking address late missing neighbour driver depot signature".split(),
    "returns": "return refund label damaged replacement collect broken warranty exchange receipt parcel".split(),
    "billing": "invoice charge payment refund account debit statement overcharged balance card".split(),
    "cancel": "cancel subscription contract renewal notice fee termination discount offer account".split(),
    "tech": "router internet connection restart password login email app update error".split(),
}
SERVER_SETTINGS = {"shared_buffers": "'4GB'", "work_mem": "'32MB'", "maintenance_work_mem": "'1GB'",
                   "max_wal_size": "'16GB'", "checkpoint_timeout": "'30min'", "effective_cache_size": "'16GB'",
                   "random_page_cost": "1.1", "max_parallel_maintenance_workers": "2", "jit": "off"}

INSERT = """
INSERT INTO cc.calls (uuid, agent_role, team, started_at, duration_s, status, source, playbook, pace_source, agent_wpm,
  agent_talk_ratio, longest_agent_monologue_s, prompts, prompt_counts, interruptions, interruptions_by_agent,
  customer_mood, upset_s, doc, transcript, reviewed, reviewed_by, reviewed_at)
SELECT gen_random_uuid(), a.role, a.team, r.started, r.dur, r.status, 'live', 'delivery', 'asr', r.wpm, r.ratio,
  r.mono, k.n, k.counts, r.ni, r.nia, r.mood, CASE WHEN r.mood = 'upset' THEN r.dur * 0.2 END,
  jsonb_build_object('bench', true, 'prompt_counts', k.counts, 'turns', '[]'::jsonb, 'segments', '[]'::jsonb),
  p.transcript || r.extra, r.reviewed, CASE WHEN r.reviewed THEN a.supervisor END,
  CASE WHEN r.reviewed THEN r.started + interval '2 days' END
FROM generate_series(%(lo)s::int, %(hi)s::int) AS g(i)
JOIN bench_agents a ON a.n = g.i %% {agents}
JOIN bench_pool p ON p.id = (hashint4(g.i)::bigint & 2147483647) %% {pool}  -- every agent gets all of the pool
CROSS JOIN LATERAL (
  SELECT now() - (random() * 365 * 86400 + 0 * g.i) * interval '1 second' AS started,
         60 + random() * 540 AS dur, CASE WHEN random() < 0.02 THEN 'interrupted' ELSE 'complete' END AS status,
         120 + random() * 80 AS wpm, 0.3 + random() * 0.4 AS ratio, random() * 90 AS mono,
         floor(random() * 4)::int AS ni, floor(random() * 3)::int AS nia,
         (ARRAY['calm', 'calm', 'calm', 'tense', 'upset', NULL])[1 + floor(random() * 6)::int] AS mood,
         random() < 0.3 AS reviewed,
         CASE WHEN random() < 0.0005 THEN ' chargeback' ELSE '' END
           || CASE WHEN random() < 0.02 THEN ' escalation' ELSE '' END AS extra
) r
CROSS JOIN LATERAL (
  SELECT coalesce(sum(c), 0)::int AS n, coalesce(jsonb_object_agg(kind, c), '{{}}'::jsonb) AS counts
  FROM (SELECT kind, count(*) AS c FROM (
          SELECT (%(kinds)s::text[])[1 + floor(random() * {nkinds})::int] AS kind
          FROM generate_series(1, floor(random() * 6)::int + 0 * g.i)) x GROUP BY kind) y
) k
"""


def text_pool(words: int, rng: random.Random) -> list[str]:
    """Transcripts like a contact centre's: over half function words (not indexed), a topic's words,
    and a long tail of other words (Zipf-like over 4,000)."""
    letters = "abcdefghiklmnoprstuvwy"
    tail = ["".join(rng.choice(letters) for _ in range(rng.randint(4, 9))) for _ in range(4000)]
    cumulative = list(itertools.accumulate(1.0 / (n + 20) for n in range(len(tail))))
    pool = []
    for _ in range(POOL):
        topics = rng.sample(sorted(TOPICS), 2 if rng.random() < 0.3 else 1)
        topic_words = [w for t in topics for w in TOPICS[t]]
        rare = iter(rng.choices(tail, cum_weights=cumulative, k=words))
        said = [rng.choice(STOP) if r < 0.55 else rng.choice(topic_words) if r < 0.65 else next(rare)
                for r in (rng.random() for _ in range(words))]
        pool.append(" ".join(said))
    return pool


def setup(su, calls: int, words: int, workers: int) -> None:
    t0 = time.monotonic()
    admin.init_server(su, share_text=True, share_audio=False)
    for t in range(TEAMS):
        admin.add_member(su, f"sup{t:02d}", f"team{t:02d}", "supervisor", PASSWORD)
    for n in range(AGENTS):
        admin.add_member(su, f"agent{n:03d}", f"team{n % TEAMS:02d}", "agent", PASSWORD)
    su.execute("CREATE TABLE bench_agents AS SELECT row_number() OVER (ORDER BY m.role) - 1 AS n, m.role, m.team, "
               "'sup' || substr(m.team, 5) AS supervisor FROM cc.team_members m WHERE m.role LIKE 'agent%'")
    su.execute("CREATE TABLE bench_pool (id int PRIMARY KEY, transcript text)")
    with su.cursor().copy("COPY bench_pool (id, transcript) FROM STDIN") as copy:
        for n, text in enumerate(text_pool(words, random.Random(1))):
            copy.write_row((n, text))
    print(f"  members and text pool: {time.monotonic() - t0:.1f} s", flush=True)

    # bulk load: secondary indexes and the per-row trigger off, built once at the end
    indexes = su.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'cc' AND tablename = 'calls' "
                         "AND indexname <> 'calls_pkey'").fetchall()
    for name, _ in indexes:
        su.execute(f"DROP INDEX cc.{name}")
    su.execute("ALTER TABLE cc.calls DISABLE TRIGGER calls_before_write")
    t1 = time.monotonic()
    sql = INSERT.format(agents=AGENTS, pool=POOL, nkinds=len(KINDS))
    chunks = [(lo, min(lo + 25_000, calls) - 1) for lo in range(0, calls, 25_000)]
    lock, errors = threading.Lock(), []

    def work() -> None:
        with psycopg.connect(su.info.dsn, password=su.info.password, autocommit=True) as conn:
            conn.execute("SET synchronous_commit = off")
            while True:
                with lock:
                    if not chunks or errors:
                        return
                    lo, hi = chunks.pop(0)
                try:
                    conn.execute(sql, {"lo": lo, "hi": hi, "kinds": list(KINDS)})
                except Exception as exc:  # noqa: BLE001
                    errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
    print(f"  {calls:,} calls inserted: {time.monotonic() - t1:.1f} s", flush=True)
    su.execute("ALTER TABLE cc.calls ENABLE TRIGGER calls_before_write")
    t2 = time.monotonic()
    pending = list(indexes)

    def build() -> None:
        with psycopg.connect(su.info.dsn, password=su.info.password, autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '1GB'")
            while True:
                with lock:
                    if not pending:
                        return
                    _, ddl = pending.pop(0)
                conn.execute(ddl)

    threads = [threading.Thread(target=build) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    print(f"  indexes built: {time.monotonic() - t2:.1f} s", flush=True)
    t3 = time.monotonic()
    su.execute("VACUUM (ANALYZE) cc.calls")
    su.execute("SELECT cc.refresh_rollup()")
    su.execute("ANALYZE cc.weekly_rollup")
    size = su.execute("SELECT pg_size_pretty(pg_total_relation_size('cc.calls'))").fetchone()[0]
    print(f"  vacuum, analyze, rollup: {time.monotonic() - t3:.1f} s; calls with indexes and TOAST: {size}", flush=True)


def measure(dsn_for, runs: int) -> list[tuple[str, list[float], int]]:
    sups = [connect(dsn_for(f"sup{t:02d}"), PASSWORD) for t in range(0, TEAMS, TEAMS // 10)]
    now = datetime.now(timezone.utc)
    month, quarter = (now - timedelta(days=30)).isoformat(), (now - timedelta(days=90)).isoformat()

    def agent_of(conn):
        team = conn.info.user.replace("sup", "team")
        return f"agent{int(team[4:]):03d}", team

    cases = [
        ("team list, newest 200", lambda c: queries.list_calls(c)),
        ("team list: agent, 30 days, prompt kind, not reviewed",
         lambda c: queries.list_calls(c, agent=agent_of(c)[0], since=month, prompt_kind="slow_down", reviewed=False)),
        ("team list: team, 90 days, interrupted",
         lambda c: queries.list_calls(c, team=agent_of(c)[1], since=quarter, interrupted=True)),
        ("team list: 90 days, rare prompt kind, reviewed",
         lambda c: queries.list_calls(c, since=quarter, prompt_kind="customer_calmer", reviewed=True)),
        ("search: a common word (refund)", lambda c: queries.list_calls(c, text="refund")),
        ("search: a rare word (chargeback)", lambda c: queries.list_calls(c, text="chargeback")),
        ("search: a word on 2% of calls, 90 days", lambda c: queries.list_calls(c, text="escalation", since=quarter)),
        ('search: a phrase ("damaged parcel")', lambda c: queries.list_calls(c, text='"damaged parcel"')),
        ("dashboard: weekly, 12 weeks", lambda c: queries.weekly(c, weeks=12)),
        ("dashboard: weekly, 52 weeks", lambda c: queries.weekly(c, weeks=52)),
    ]
    results = []
    for name, run in cases:
        for conn in sups:  # warm-up: one run per supervisor
            run(conn)
        times, rows = [], 0
        for n in range(runs):
            conn = sups[n % len(sups)]
            t = time.perf_counter()
            rows = len(run(conn))
            times.append((time.perf_counter() - t) * 1000)
        results.append((name, times, rows))
        print(f"  {name}: p95 {percentile(times, 95):.1f} ms", flush=True)
    for conn in sups:
        conn.close()
    return results


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--words", type=int, default=300, help="words per transcript (default 300)")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="parallel loaders")
    parser.add_argument("--dsn", help="a superuser's DSN of an existing server (default: start one)")
    parser.add_argument("--keep", action="store_true", help="leave the server it started running (prints its DSN)")
    parser.add_argument("--no-load", action="store_true", help="with --dsn: time the cc_bench database already there")
    args = parser.parse_args()

    started = time.monotonic()
    server = None
    if args.dsn:
        base = args.dsn
    else:
        from tests.pg_server import PgServer

        server = PgServer(settings=SERVER_SETTINGS).init()
        server.start()
        base = server.superuser_dsn
    try:
        with psycopg.connect(base, autocommit=True) as su0:
            if not args.no_load:
                su0.execute("DROP DATABASE IF EXISTS cc_bench WITH (FORCE)")
                su0.execute("CREATE DATABASE cc_bench")
            version = su0.execute("SHOW server_version").fetchone()[0]
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        params = conninfo_to_dict(base)
        su = psycopg.connect(make_conninfo(base, dbname="cc_bench"), autocommit=True)
        print(f"Call Companion team server bench — {datetime.now().strftime('%Y-%m-%d %H:%M')}")
        print(f"machine: {platform.machine()} {_cpu()} ({os.cpu_count()} cores, {_memory()}), "
              f"{platform.platform()}, PostgreSQL {version}, psycopg {psycopg.__version__}")
        print(f"server settings: {', '.join(f'{k}={v}' for k, v in SERVER_SETTINGS.items()) if server else 'as found'}")
        print(f"data: {args.calls:,} calls, {AGENTS} agents in {TEAMS} teams, {args.words}-word transcripts")
        if args.no_load:
            args.calls = su.execute("SELECT count(*) FROM cc.calls").fetchone()[0]
            print(f"  (already loaded: {args.calls:,} calls)")
        else:
            setup(su, args.calls, args.words, args.workers)
        su.close()

        def dsn_for(user: str) -> str:
            fields = {k: v for k, v in params.items() if k not in ("user", "password", "dbname")}
            return make_conninfo("", **fields, user=user, dbname="cc_bench")

        results = measure(dsn_for, args.runs)
        print("\n| query (as a supervisor, row-level security on) | p50 ms | p95 ms | max ms | rows |")
        print("|---|---:|---:|---:|---:|")
        for name, times, rows in results:
            p50, p95 = statistics.median(times), percentile(times, 95)
            print(f"| {name} | {p50:.1f} | {p95:.1f} | {max(times):.1f} | {rows} |")
        worst = max(percentile(t, 95) for _, t, _ in results)
        print(f"\nworst p95 {worst:.1f} ms (goal < 200 ms): {'met' if worst < 200 else 'NOT met'}; "
              f"total run {time.monotonic() - started:.0f} s")
    finally:
        if server is not None and args.keep:
            print(f"server left running: --dsn \"{server.superuser_dsn}\" (folder {server.root})")
        elif server is not None:
            server.cleanup()


def _cpu() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory() -> str:
    try:
        return f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2 ** 30:.0f} GiB"
    except (ValueError, OSError):
        return "memory unknown"


if __name__ == "__main__":
    main()
