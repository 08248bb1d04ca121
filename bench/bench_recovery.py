"""What happens after something went wrong, at scale. Run by hand:  python bench/bench_recovery.py

- a call bundle of 20,000 segments opened (an ordinary transcript, and one where a number runs across
  every second pause, which once rewrote a row and merged the search index each time);
- an hour of recording cut off by SIGKILL, repaired at the next start;
- a store of 2,000 calls with one damaged page, salvaged into a fresh one at the next start.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ["COMPANION_DATA_DIR"] = tempfile.mkdtemp(prefix="bench-recovery-")

from bench.synthetic_calls import VOCAB  # noqa: E402
from companion.store.bundle import import_bundle  # noqa: E402
from companion.store.db import open_store, store_path  # noqa: E402
from companion.store.flac_repair import repair  # noqa: E402
from companion.store.rows import CallRows, insert_call  # noqa: E402


def bundle_of(segments: list[tuple[str, float, float, str]], path: Path) -> Path:
    doc = {"format": {"name": "call-companion-bundle", "version": 2}, "file": "long.wav", "duration_s": 86_000.0,
           "pace_source": "asr", "agent_wpm": 150, "agent_talk_ratio": 0.5, "longest_agent_monologue_s": 10,
           "turns": [{"party": p, "start": s, "end": e} for p, s, e, _ in segments], "prompts": [], "interruptions": [],
           "pace": [], "call": {"started_at": "2026-01-05T09:00:00+00:00", "status": "complete", "playbook": None,
                                "notes": None, "segments": [{"party": p, "start": s, "end": e, "text": t}
                                                            for p, s, e, t in segments]}}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("call.json", json.dumps(doc))
    return path


def bench_bundles(work: Path) -> None:
    rng = random.Random(1)
    ordinary = [("agent" if i % 2 else "customer", i * 4.0, i * 4.0 + 3.5, " ".join(rng.choices(VOCAB, k=8)))
                for i in range(20_000)]
    split = []
    for i in range(10_000):
        split += [("customer", i * 8.0, i * 8.0 + 2.0, f"reference {rng.choice(VOCAB)} four one one one one"),
                  ("customer", i * 8.0 + 3.0, i * 8.0 + 4.0, "one two thanks")]
    for name, segments in (("ordinary transcript", ordinary), ("a number across every second pause", split)):
        path = bundle_of(segments, work / f"{len(segments)}.ccall")
        db = open_store()
        start = time.perf_counter()
        import_bundle(db, path)
        took = time.perf_counter() - start
        db.close()
        print(f"bundle of 20,000 segments, {name} ({path.stat().st_size / 1e3:.0f} kB): opened in {took:.1f} s")


def bench_flac(work: Path) -> None:
    killed = work / "hour.flac"
    script = ("import os, sys, numpy as np, soundfile as sf\n"
              "f = sf.SoundFile(sys.argv[1], 'w', samplerate=16000, channels=2, format='FLAC', subtype='PCM_16')\n"
              "rng = np.random.default_rng(0)\n"
              "block = (rng.standard_normal((16000 * 10, 2)) * 0.05).clip(-1, 1)\n"
              "for _ in range(360):\n    f.write(block)\n"
              "os.kill(os.getpid(), 9)\n")
    run = subprocess.run([sys.executable, "-c", script, str(killed)])
    assert run.returncode == -signal.SIGKILL
    start = time.perf_counter()
    samples = repair(killed)
    took = time.perf_counter() - start
    print(f"an hour of two-channel recording cut off by SIGKILL ({killed.stat().st_size / 1e6:.0f} MB): "
          f"repaired in {took:.2f} s, {samples / 16000:.0f} s of audio readable")


def bench_salvage() -> None:
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
    page = db.execute("SELECT pageno FROM dbstat WHERE name = 'calls' AND pagetype = 'leaf' ORDER BY pageno "
                      "LIMIT 1 OFFSET 5").fetchone()[0]
    db.close()
    with open(store_path(), "r+b") as fh:
        fh.seek((page - 1) * 4096)
        fh.write(os.urandom(4096))
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "ui", "calls", "list"], capture_output=True, text=True,
                         env=dict(os.environ))
    took = time.perf_counter() - start
    kept = sqlite3.connect(store_path()).execute("SELECT COUNT(*) FROM calls").fetchone()[0]
    print(f"a store of 2,000 calls (80,000 segments, {Path(store_path()).stat().st_size / 1e6:.0f} MB) with a damaged "
          f"page: `calls list` salvaged {kept} calls and listed them in {took:.1f} s")
    print("  " + run.stderr.strip())


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-recovery-work-"))
    bench_bundles(work)
    bench_flac(work)
    os.environ["COMPANION_DATA_DIR"] = tempfile.mkdtemp(prefix="bench-recovery-salvage-")
    bench_salvage()


if __name__ == "__main__":
    main()
