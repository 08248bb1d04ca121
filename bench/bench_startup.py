"""How fast the command line starts, against bare Python in the same run: `companion --version`, `companion
--help`, `companion calls list` where no call was ever saved (no store) and on a store with no calls in it,
each as a fresh process, CPU time (user + system) and wall time, median of N runs.
Run by hand:  python bench/bench_startup.py [--runs 15] [--command PATH]

The `companion` command of the environment is used, or `--command` (an installed copy's; an editable install
adds its import hook, ~30 ms of CPU, that an installed app does not have; `--module` runs `python -m ui`).
The floor is the Python that runs the command (the interpreter its first line names)."""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def _one(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def measure(cmd: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    _one(cmd, env)  # warm the page cache
    cpu, wall = zip(*(_one(cmd, env) for _ in range(runs)))
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--module", action="store_true", help="python -m ui instead of the companion command")
    parser.add_argument("--command", metavar="PATH", help="the `companion` command to time (e.g. an installed copy's)")
    args = parser.parse_args()
    beside = os.path.join(os.path.dirname(sys.executable), "companion")  # this environment's own command
    command = args.command or (beside if os.path.exists(beside) else (shutil.which("companion") or "companion"))
    companion = [sys.executable, "-m", "ui"] if args.module else [command]
    python = sys.executable if args.module else _interpreter(command)
    folder = tempfile.mkdtemp()
    env = {k: v for k, v in os.environ.items() if k not in ("COMPANION_DATA_DIR", "COMPANION_CONFIG_DIR")}
    # the user's own folders found as an installed app finds them (platformdirs), in a folder of the bench's own
    env.update(XDG_DATA_HOME=os.path.join(folder, "data"), XDG_CONFIG_HOME=os.path.join(folder, "config"))
    store = os.path.join(folder, "data", "call-companion", "calls.sqlite3")
    floor_cpu, floor_wall = measure([python, "-c", "pass"], env, args.runs)
    print(f"{' '.join(companion)}; load average {os.getloadavg()[0]:.2f}; {args.runs} runs each, medians")
    print(f"{'command':<40} {'CPU ms':>8} {'x floor':>8} {'wall ms':>8}")
    print(f"{'python -c pass (the floor)':<40} {floor_cpu * 1000:8.1f} {1:8.1f} {floor_wall * 1000:8.1f}")
    for label, extra in (("companion --version", ["--version"]), ("companion --help", ["--help"]),
                         ("companion calls list (no store yet)", ["calls", "list"]),
                         ("companion calls list (empty store)", ["calls", "list"])):
        if label.endswith("(empty store)") and not os.path.exists(store):
            empty = os.path.join(folder, "nothing")
            os.makedirs(empty, exist_ok=True)
            subprocess.run(companion + ["import", empty], env=env, capture_output=True, check=True)  # makes the store
        cpu, wall = measure(companion + extra, env, args.runs)
        print(f"{label:<40} {cpu * 1000:8.1f} {cpu / floor_cpu:8.1f} {wall * 1000:8.1f}")
        if label.endswith("(no store yet)") and os.path.exists(store):
            print("  (this companion made a store to list none: the first run made it, the others read it)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    shutil.rmtree(folder, ignore_errors=True)


def _interpreter(command: str) -> str:
    """The Python a console script runs with (its #! line), so the floor is the same interpreter's start."""
    try:
        with open(command, "rb") as fh:
            first = fh.readline().decode().strip()
    except OSError:
        return sys.executable
    return first[2:].split()[0] if first.startswith("#!") and "python" in first else sys.executable


if __name__ == "__main__":
    main()
