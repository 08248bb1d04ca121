"""The call store at scale. Run by hand:  python bench/bench_store.py

- write cost per second of live call (the recorder on a demo call's events);
- search over 10,000 stored calls; the history list opening at that size;
- database size per hour of call;
- import throughput of a folder of recordings, no model (x real time).
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["COMPANION_DATA_DIR"] = tempfile.mkdtemp(prefix="bench-store-")

from bench.synthetic_calls import VOCAB, hour_of_events  # noqa: E402
from companion.store.calls import search  # noqa: E402
from companion.store.db import open_store, store_path  # noqa: E402
from companion.store.recorder import CallRecorder  # noqa: E402


def main() -> None:
    rng = random.Random(1)
    # write cost and size: one hour of a busy call
    t0 = time.process_time()
    recorder = CallRecorder("live")
    events = list(hour_of_events(3600, rng))
    for e in events:
        recorder(e)
    recorder.close()
    cpu = time.process_time() - t0
    db = open_store()
    print(f"write: {cpu / 3600 * 1000:.2f} ms of CPU per second of call ({len(events)} events for an hour)")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(f"size: {os.path.getsize(store_path()) / 1e6:.2f} MB for one hour of call (900 segments, 3600 snapshots)")

    # 10,000 calls of about 5 minutes
    start = time.perf_counter()
    with db:
        for n in range(10000):
            cid = db.execute("INSERT INTO calls(started_at, source, duration_s, status, playbook) VALUES (?, 'live', 300, ?, ?)",
                             (f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:00:00+00:00",
                              "interrupted" if n % 50 == 0 else "complete", "unhappy-customer")).lastrowid
            for k in range(20):
                db.execute('INSERT INTO segments(call_id, party, start, "end", text) VALUES (?, ?, ?, ?, ?)',
                           (cid, "agent" if k % 2 else "customer", k * 15.0, k * 15.0 + 6,
                            " ".join(rng.choice(VOCAB) for _ in range(12)) + (" zebra" if n == 7777 and k == 3 else "")))
            for k in range(n % 4):
                db.execute("INSERT INTO prompts(call_id, t, kind, reason) VALUES (?, ?, ?, 'r')",
                           (cid, k * 60.0, ["slow_down", "keep_listening", "lower_tone"][k % 3]))
    print(f"built 10,000 calls (200,000 segments) in {time.perf_counter() - start:.1f} s; "
          f"store {os.path.getsize(store_path()) / 1e6:.0f} MB")
    timings = {}
    for label, kwargs in (("rare word", {"text": "zebra"}), ("common words", {"text": "refund courier"}),
                          ("prompt kind", {"kind": "lower_tone"}), ("interrupted", {"interrupted": True}),
                          ("words + kind + dates", {"text": "refund", "kind": "slow_down", "since": "2026-03-01", "until": "2026-06-01"})):
        runs = []
        for _ in range(5):
            t = time.perf_counter()
            found = search(db, **kwargs)
            runs.append(time.perf_counter() - t)
        timings[label] = (statistics.median(runs), len(found))
    for label, (seconds, n) in timings.items():
        print(f"search {label}: {seconds * 1000:.1f} ms ({n} calls)")

    from PySide6.QtWidgets import QApplication

    from ui.review.history_window import HistoryWindow

    app = QApplication.instance() or QApplication([])
    t = time.perf_counter()
    history = HistoryWindow()  # the store above; it searches as a background task
    history.show()
    app.processEvents()
    opened = time.perf_counter() - t
    while history.searching:
        app.processEvents()
        time.sleep(0.001)
    print(f"history window open at 10,000 calls: {opened * 1000:.0f} ms; its calls shown after "
          f"{(time.perf_counter() - t) * 1000:.0f} ms (the newest 2,000)")

    # import throughput
    folder = Path(tempfile.mkdtemp())
    long_call = HERE / "out" / "long_10min.wav"
    if long_call.exists():
        data = long_call.read_bytes()
        for n in range(3):
            (folder / f"rec{n}.wav").write_bytes(data[:-2 * (n + 1)] if n else data)
        import soundfile as sf

        total = sum(sf.info(str(p)).duration for p in folder.glob("*.wav"))
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ui", "import", str(folder)], check=False, capture_output=True, env=dict(os.environ))
        print(f"import without a model: {total:.0f} s of recordings in {time.perf_counter() - t:.1f} s "
              f"({total / (time.perf_counter() - t):.0f}x real time)")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
