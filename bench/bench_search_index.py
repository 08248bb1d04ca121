"""The store's search index and opening a long call. Run by hand:  python bench/bench_search_index.py

- what the first opening in a process adds to check the search index (FTS5's integrity check), next
  to SQLite's own quick_check, on a store of 2,000 calls;
- rebuilding a broken index at the next start (`companion calls list`, process start included);
- live calls where a card number is read in four groups (4 rewrites a call), written into that store:
  time per segment, with no index merge;
- `load_call` of one call of 20,000 turns x 20,000 segments.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ["COMPANION_DATA_DIR"] = tempfile.mkdtemp(prefix="bench-search-index-")

from bench.synthetic_calls import VOCAB  # noqa: E402
from companion.store.calls import load_call  # noqa: E402
from companion.store.db import open_store, write  # noqa: E402
from companion.store.rows import CallRows, insert_call  # noqa: E402
from companion.store.search_index import problem  # noqa: E402

CARD_IN_FOUR = ("four one one one", "one one one one", "one one one one", "one one one one")


def words(text: str, t: float) -> list[tuple[str, float, float, float]]:
    return [(w, t + i * 0.3, t + i * 0.3 + 0.25, 0.9) for i, w in enumerate(text.split())]


def store_of_2000_calls() -> None:
    db = open_store()
    rng = random.Random(2)
    with db:
        for _ in range(2000):
            cid = insert_call(db, "2026-01-05T09:00:00+00:00", "live", None, status="complete", duration_s=300.0)
            rows = CallRows(db, cid, redaction=False)
            for k in range(40):
                rows.turn("agent" if k % 2 else "customer", k * 7.0, k * 7.0 + 6.0)
                rows.segment("agent" if k % 2 else "customer", k * 7.0, k * 7.0 + 6.0, " ".join(rng.choices(VOCAB, k=12)))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def bench_check() -> None:
    db = open_store()
    quick, index = [], []
    for _ in range(5):
        start = time.perf_counter()
        db.execute("PRAGMA quick_check(3)").fetchall()
        quick.append(time.perf_counter() - start)
        start = time.perf_counter()
        assert problem(db) is None
        index.append(time.perf_counter() - start)
    size = Path(db.execute("PRAGMA database_list").fetchone()[2]).stat().st_size
    db.close()
    print(f"first opening's checks, 2,000 calls (80,000 segments, {size / 1e6:.0f} MB), median of 5: "
          f"quick_check {statistics.median(quick) * 1000:.0f} ms, search index integrity check "
          f"{statistics.median(index) * 1000:.0f} ms")


def bench_rebuild() -> None:
    db = open_store()
    db.execute("UPDATE segments_fts_data SET block = X'000000000A' WHERE id = 10")  # its structure unreadable
    db.commit()
    db.close()
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "ui", "calls", "list", "--search", "thanks"], capture_output=True,
                         text=True, env=dict(os.environ))
    took = time.perf_counter() - start
    print(f"a broken index rebuilt at the next start: `calls list --search` in {took:.1f} s (process start included)")
    print("  " + run.stderr.strip())


def bench_live_rewrites(calls: int = 300) -> None:
    db = open_store()
    per_segment = []
    for n in range(calls):
        def one(db):
            cid = insert_call(db, "2026-01-05T09:00:00+00:00", "live", None, status="active")
            rows = CallRows(db, cid)
            for k, group in enumerate(CARD_IN_FOUR):
                rows.segment("customer", 3.0 + 2 * k, 4.2 + 2 * k, group, words(group, 3.0 + 2 * k))
            rows.segment("agent", 12.0, 14.0, f"thanks call{n}", words(f"thanks call{n}", 12.0))  # noqa: B023 - run now
            db.execute("UPDATE calls SET status = 'complete' WHERE id = ?", (cid,))
        start = time.perf_counter()
        write(db, one)
        per_segment.append((time.perf_counter() - start) / 5)
    assert problem(db) is None
    db.close()
    print(f"{calls} live calls with a card read in four groups ({calls * 4} rewrites) into that store: "
          f"{statistics.median(per_segment) * 1000:.1f} ms per segment (median; redaction included), index sound")


def bench_load_call(n: int = 20_000) -> None:
    db = open_store()

    def save(db):
        cid = insert_call(db, "2026-01-05T09:00:00+00:00", "live", None, status="complete")
        db.executemany('INSERT INTO turns(call_id, party, start, "end") VALUES (?, ?, ?, ?)',
                       [(cid, "agent" if i % 2 else "customer", i * 4.0, i * 4.0 + 3.5) for i in range(n)])
        db.executemany('INSERT INTO segments(call_id, party, start, "end", text) VALUES (?, ?, ?, ?, ?)',
                       [(cid, "agent" if i % 2 else "customer", i * 4.0 + 0.2, i * 4.0 + 3.3, "hello there")
                        for i in range(n)])
        return cid

    cid = write(db, save)
    start = time.perf_counter()
    doc = load_call(db, cid)
    took = time.perf_counter() - start
    assert all(t["text"] == "hello there" for t in doc["turns"])
    db.close()
    print(f"load_call of one call of {n:,} turns x {n:,} segments: {took:.2f} s")


def main() -> None:
    store_of_2000_calls()
    bench_check()
    bench_live_rewrites()
    bench_rebuild()
    bench_load_call()


if __name__ == "__main__":
    main()
