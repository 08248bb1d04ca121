"""`calls list` at 100,000 saved calls: the store's `list_calls` for page 1, a page deep in, and a search,
median of N runs each, then the whole command as a process next to bare Python. Run by hand:  python bench/bench_calls_list.py [--calls 100000] [--runs 9]

The store is built directly through the store's own writers (`insert_call`, `CallRows`) in one
transaction: a row per call, two transcript segments and a prompt for one call in three (no analysis).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ["COMPANION_DATA_DIR"] = tempfile.mkdtemp(prefix="bench-calls-list-")

from bench.synthetic_calls import VOCAB  # noqa: E402
from companion.store.calls import list_calls  # noqa: E402
from companion.store.db import open_store, write  # noqa: E402
from companion.store.rows import CallRows, insert_call  # noqa: E402

GOAL_LIST_S = 0.1    # issue 26: at 100,000 calls
GOAL_SEARCH_S = 0.15


def build(db: sqlite3.Connection, calls: int) -> None:
    rng = random.Random(26)
    words = [w for w in VOCAB if w != "refund"]  # "refund" said in one call in 200

    def fill(db: sqlite3.Connection) -> None:
        for n in range(calls):
            day, second = divmod(n * 37, 86400)
            started = f"20{20 + day // 365:02d}-{1 + day % 365 // 31:02d}-{1 + day % 31 % 28:02d}T" \
                      f"{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}+00:00"
            cid = insert_call(db, started, "live", None, status="complete", duration_s=rng.uniform(60, 900),
                              customer_mood=rng.choice(("calm", "tense", "upset", None)))
            rows = CallRows(db, cid, redaction=False)
            said = " ".join(rng.choice(words) for _ in range(12))
            rows.segment("customer", 1.0, 5.0, said + (" refund" if n % 200 == 0 else ""))
            rows.segment("agent", 6.0, 9.0, " ".join(rng.choice(words) for _ in range(8)))
            if n % 3 == 0:
                rows.prompt(7.0, "slow_down", "180 words/min")

    write(db, fill)


def record_some(db: sqlite3.Connection, calls: list[int]) -> None:
    """A second of audio for a few calls, through the recorder's own writer (as a call recorded with
    recording on): the recordings folder then holds finished recordings, as a user's does."""
    import numpy as np

    from companion.events import FrameBlock
    from companion.store.recording import CallAudioWriter, recordings_dir

    for cid in calls:
        path = recordings_dir() / f"call-{cid}.flac"
        writer = CallAudioWriter(path, 16000)
        tone = np.full((100, 160), 0.05, dtype=np.float32)
        writer(FrameBlock(0, tone, tone))
        writer.close()
        write(db, lambda db, noted=(str(path), cid): db.execute("UPDATE calls SET recording = ? WHERE id = ?", noted))


_cpu: list[float] = []  # each process's CPU time (user + system), in run order


def _run(command: list[str]) -> None:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=tempfile.gettempdir())
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    _cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)


def _cpu_median(runs: int) -> float:
    taken = _cpu[-runs:]
    return statistics.median(taken) if taken else float("nan")


def median_s(work: Callable[[], object], runs: int) -> float:
    work()  # warm the page cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--command", metavar="PATH",
                        help="the `companion` command to time (e.g. an installed copy's); default: python -m ui")
    args = parser.parse_args()
    db = open_store()
    started = time.perf_counter()
    build(db, args.calls)
    record_some(db, [1, args.calls // 2, args.calls])
    print(f"store of {args.calls:,} calls built in {time.perf_counter() - started:.1f} s (three with a recording)")
    deep = args.calls // 2
    cpu: list[float] = []
    figures: list[tuple[str, float, Optional[float]]] = [
        ("list, page 1 (50 calls)", median_s(lambda: list_calls(db, 50), args.runs), GOAL_LIST_S),
        (f"list, page at offset {deep:,}", median_s(lambda: list_calls(db, 50, deep), args.runs), GOAL_LIST_S),
        ("list --search refund, page 1", median_s(lambda: list_calls(db, 50, text="refund"), args.runs), GOAL_SEARCH_S),
        ("list --kind slow_down --upset, page 1",
         median_s(lambda: list_calls(db, 50, kind="slow_down", upset=True), args.runs), GOAL_LIST_S),
    ]
    command = [args.command, "calls", "list"] if args.command else [sys.executable, "-m", "ui", "calls", "list"]
    processes: list[tuple[str, float, Optional[float]]] = []
    for name, cmd, goal in (("`companion calls list` (process)", command, GOAL_LIST_S),
                            ("`companion calls list --search refund`", command + ["--search", "refund"], GOAL_SEARCH_S),
                            ("bare `python -c pass` (floor)", [sys.executable, "-c", "pass"], None)):
        processes.append((name, median_s(lambda cmd=cmd: _run(cmd), args.runs), goal))
        cpu.append(_cpu_median(args.runs))
    figures += processes
    assert len(list_calls(db, 50, text="refund")) == min(50, -(-args.calls // 200))  # the search finds its calls
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} cores, "
          f"median of {args.runs}")
    print(f"{'':<40} {'wall':>8}      {'CPU':>8}")
    in_process = len(figures) - len(cpu)
    for n, (name, seconds, goal) in enumerate(figures):
        verdict = "" if goal is None else f"goal ≤ {goal * 1000:.0f} ms  {'met' if seconds <= goal else 'NOT met'}"
        used = f"{cpu[n - in_process] * 1000:8.1f} ms" if n >= in_process else f"{'':>11}"
        print(f"{name:<40} {seconds * 1000:8.1f} ms {used}   {verdict}")
    db.close()


if __name__ == "__main__":
    main()
