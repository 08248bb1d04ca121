"""`companion analyze` on a long call: real-time factor (process start included) and peak memory.

Run by hand:  python bench/bench_analyze.py [--minutes 10]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    out = HERE / "out"
    wav = out / f"long_{args.minutes:g}min.wav"
    if not wav.exists():
        subprocess.run([sys.executable, str(HERE / "make_long_call.py"), "--minutes", str(args.minutes)], check=True)
    import soundfile as sf

    duration = sf.info(str(wav)).duration
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        # taskset pins the whole process (monitor thread included) to one core
        run = subprocess.run(["taskset", "-c", "0", sys.executable, "-m", "ui", "analyze", str(wav), "--json"],
                             capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    doc = json.loads(run.stdout)
    best, median = min(times), sorted(times)[len(times) // 2]
    print(f"machine: {platform.machine()} {platform.processor() or ''} python {platform.python_version()}")
    print(f"call: {duration:.0f} s stereo, {len(doc['turns'])} turns, {len(doc['prompts'])} prompts")
    print(f"wall time (process start included, one core): best {best:.2f} s, median {median:.2f} s")
    print(f"real-time factor: best {duration / best:.0f}x, median {duration / median:.0f}x")
    print(f"peak memory (max RSS): {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
