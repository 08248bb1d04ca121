"""`companion import FOLDER` on one core and on every core, in the same run.

N recordings of about 60 s, each a different stretch of the bundled demo call (so each has its own
content hash and is imported, not skipped), made once into bench/out/import_corpus; `--seconds 60-600`
makes them of lengths spread evenly between the two, in no order of length (a day's calls: the folder is
not sorted by size), longer than the demo call by playing it round again. Each round imports
the folder into a fresh data folder with `--jobs 1` and then with `--jobs J` (interleaved, so a change in
the machine's load hits both); the figure is the median wall time of the rounds, process start
included, and the ratio of the two. The load average is printed beside it: on a shared machine the
ratio is only as good as the cores that were free. `--jobs 1` is not one core: the analysis reads the file
and saves the call on threads of its own (about 1.1 cores busy on average); `--one-core` runs it pinned to
one CPU, which is what "one core" means in the goal (each run prints the cores it kept busy, CPU / wall).

    python bench/bench_import.py [--files 16] [--seconds 60 | --seconds 60-600] [--rounds 3] [--jobs 2]
                                 [--command PATH]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from companion.resources import resource_path

OUT = Path(__file__).resolve().parent / "out" / "import_corpus"


def lengths(files: int, seconds: str) -> list[float]:
    """Each recording's length: `seconds` each ("60"), or spread evenly over a range ("60-600") in a fixed
    shuffled order."""
    low, _, high = seconds.partition("-")
    if not high:
        return [float(low)] * files
    spread = [float(low) + (float(high) - float(low)) * i / max(1, files - 1) for i in range(files)]
    random.Random(26).shuffle(spread)
    return spread


def corpus(files: int, seconds: str) -> Path:
    """`files` recordings, cut from the demo call at different starts (playing it round again where a
    recording is longer than it): each its own content."""
    folder = OUT / f"{files}x{seconds}s"
    if folder.is_dir() and len(list(folder.glob("*.flac"))) == files:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    data, rate = sf.read(str(resource_path("demo/demo_call.flac")), dtype="float32")
    wanted = lengths(files, seconds)
    longest = int(max(wanted) * rate)
    if len(data) >= longest + files:
        step = (len(data) - longest) // files  # (as before: 16 x 60 s is the same folder)
    else:
        step = int(7.3 * rate)  # round the call again: a start 7.3 s later for each file
    looped = np.concatenate([data] * (1 + (longest + files * step) // len(data)))
    for i, length_s in enumerate(wanted):
        sf.write(str(folder / f"call-{i:03d}.flac"), looped[i * step:i * step + int(length_s * rate)], rate)
    return folder


COMMAND = [sys.executable, "-m", "companion"]  # --command: an installed copy's `companion` instead


def run(folder: Path, jobs: int, expect: int = -1, one_core: bool = False) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the import and its workers); `one_core`: on the first CPU this process may use."""
    first = min(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        env = dict(os.environ, COMPANION_DATA_DIR=str(Path(tmp) / "data"), COMPANION_CONFIG_DIR=str(Path(tmp) / "config"))
        cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run([*COMMAND, "import", str(folder), "--jobs", str(jobs)], capture_output=True, text=True,
                              env=env, preexec_fn=(lambda: os.sched_setaffinity(0, {first})) if one_core else None)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        expect = len(list(folder.glob('*.flac'))) if expect < 0 else expect
        if done.returncode != 0 or f"{expect} imported" not in done.stderr:
            raise SystemExit(f"import --jobs {jobs} failed:\n{done.stderr}")
        return wall, (after.ru_utime + after.ru_stime) - (cpu.ru_utime + cpu.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--seconds", default="60", help="each recording's length, or a range of lengths (60-600)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--one-core", action="store_true", help="run --jobs 1 pinned to one CPU (one core, as the goal says)")
    parser.add_argument("--command", metavar="PATH",
                        help="the `companion` command to time (an installed copy's, whose modules are compiled once); "
                             "default: python -m companion")
    args = parser.parse_args()
    if args.command:
        COMMAND[:] = [args.command]
    folder = corpus(args.files, args.seconds)
    empty = OUT / "empty"
    empty.mkdir(parents=True, exist_ok=True)
    audio_s = sum(sf.info(str(f)).duration for f in folder.glob("*.flac"))
    print(f"{args.files} recordings ({args.seconds} s each, {audio_s / 60:.0f} min in all) in {folder}; "
          f"cores: {os.cpu_count()}")
    load_before = os.getloadavg()
    times: dict[int, list[float]] = {1: [], args.jobs: []}
    cpus: dict[int, list[float]] = {1: [], args.jobs: []}
    fixed: list[float] = []  # the import of an empty folder: the start no process pool can share
    for r in range(args.rounds):
        fixed.append(run(empty, 1, expect=0)[0])
        for jobs in (1, args.jobs):
            wall, cpu = run(folder, jobs, one_core=args.one_core and jobs == 1)
            times[jobs].append(wall)
            cpus[jobs].append(cpu)
            print(f"  round {r + 1}: --jobs {jobs}{' on one core' if args.one_core and jobs == 1 else ''}: {wall:.2f} s wall, "
                  f"{cpu:.2f} s CPU, {cpu / wall:.2f} cores busy   (load {os.getloadavg()[0]:.2f})", flush=True)
    load_after = os.getloadavg()
    one, many = statistics.median(times[1]), statistics.median(times[args.jobs])
    print(f"--jobs 1:  median {one:.2f} s -> {args.files / one:.2f} files/s ({audio_s / one:.0f}x real time)")
    print(f"--jobs {args.jobs}:  median {many:.2f} s -> {args.files / many:.2f} files/s ({audio_s / many:.0f}x real time)")
    print(f"speed-up: {one / many:.2f}x (median of the rounds' own ratios: "
          f"{statistics.median(a / b for a, b in zip(times[1], times[args.jobs])):.2f}x); "
          f"CPU per run: {statistics.median(cpus[1]):.2f} s vs {statistics.median(cpus[args.jobs]):.2f} s")
    start = statistics.median(fixed)
    best = one / (start + (one - start) / args.jobs)
    print(f"the start alone (an empty folder): median {start:.2f} s; with it, {args.jobs} perfect workers would give at "
          f"most {best:.2f}x")
    print("load average (1, 5, 15 min): before " + ", ".join(f"{x:.2f}" for x in load_before)
          + "; after " + ", ".join(f"{x:.2f}" for x in load_after))


if __name__ == "__main__":
    main()
