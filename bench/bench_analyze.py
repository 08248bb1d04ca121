"""`companion analyze --model none` on a long call against its floor, both measured in the same run.

The floor is what no analysis can skip: reading the file with soundfile and running webrtcvad over
every 20 ms frame of both channels (mode 2, as the app's voice activity uses it), in 0.5 s pieces as
the app reads; webrtcvad through its C module, as the app calls it (until 2026-12-06 16:00 UTC the floor
imported `webrtcvad`, which reads the installed packages' metadata for its version: 0.05 s more). Both are timed as whole processes, start-up included (Python, imports), each pinned
to one core with `taskset -c 0`, alternating run by run so a busy machine weighs on both alike.
Wall time and CPU time (user + sys, which other work on the machine changes far less) are reported
for each, with their ratios. Python's compiled bytecode is kept between runs (in a folder of its own for each
checkout, made by one untimed run), as `pip install .` compiles it on installing: a checkout run where
PYTHONDONTWRITEBYTECODE is set would otherwise compile the app's modules again at every start.

Run by hand:  python bench/bench_analyze.py [--minutes 10] [--runs 5]
              python bench/bench_analyze.py --tree /tmp/before --tree .   (several checkouts of the app, each
                  run from its own folder, interleaved with the floor: a before/after in one run)
              python bench/bench_analyze.py --floor FILE     (the floor alone, one run, in this process)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple, Optional

HERE = Path(__file__).resolve().parent
VAD_MODE = 2    # [vad] aggressiveness in resources/coaching.toml
FRAME_MS = 20   # [audio] frame_ms
READ_S = 0.5    # companion.audio.file_source.READ_SECONDS


def floor(path: str) -> int:
    """Read the call and run webrtcvad over every frame of both channels; returns the speech frames found."""
    import _webrtcvad  # webrtcvad's C module, as the app calls it (`import webrtcvad` reads package metadata: 50 ms)
    import numpy as np
    import soundfile as sf

    found = 0
    with sf.SoundFile(path) as handle:
        rate = handle.samplerate
        frame = rate * FRAME_MS // 1000
        vads = []
        for _ in range(handle.channels):
            vads.append(_webrtcvad.create())
            _webrtcvad.init(vads[-1])
            _webrtcvad.set_mode(vads[-1], VAD_MODE)
        pending = [b""] * handle.channels
        while True:
            block = handle.read(int(rate * READ_S), dtype="int16", always_2d=True)
            if block.shape[0] == 0:
                break
            for channel, vad in enumerate(vads):
                data = pending[channel] + np.ascontiguousarray(block[:, channel]).tobytes()
                whole = len(data) // (2 * frame)
                for k in range(whole):
                    found += _webrtcvad.process(vad, rate, data[k * 2 * frame: (k + 1) * 2 * frame], frame)
                pending[channel] = data[whole * 2 * frame:]
    return found


class Run(NamedTuple):
    wall: float
    cpu: float      # user + sys of the process
    rss_mb: float   # its peak resident memory
    stdout: str


def timed(command: list[str], cwd: Optional[Path] = None, env: Optional[dict[str, str]] = None) -> Run:
    """One process, start to exit: wall time, its own CPU time and peak memory (from wait4)."""
    with tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, cwd=None if cwd is None else str(cwd),
                                   env=env)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed with exit code {process.returncode}")
        out.seek(0)
        return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read())


def _with_bytecode(folder: Path) -> dict[str, str]:
    """This environment, with Python's compiled modules kept in (and read from) `folder`."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(folder)
    return env


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--floor", metavar="FILE", help="run the floor once over FILE, in this process")
    parser.add_argument("--tree", action="append", metavar="DIR",
                        help="a checkout whose `companion` to run (from DIR); repeat to compare several")
    args = parser.parse_args()
    if args.floor:
        print(floor(args.floor))
        return
    out = HERE / "out"
    wav = out / f"long_{args.minutes:g}min.wav"
    if not wav.exists():
        subprocess.run([sys.executable, str(HERE / "make_long_call.py"), "--minutes", str(args.minutes)], check=True)
    import soundfile as sf

    duration = sf.info(str(wav)).duration
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    analyze_cmd = pin + [sys.executable, "-m", "companion", "analyze", str(wav), "--model", "none", "--json"]
    floor_cmd = pin + [sys.executable, str(Path(__file__).resolve()), "--floor", str(wav)]
    trees = [Path(t).resolve() for t in args.tree] if args.tree else [None]
    for tree in trees:  # each runs its own copy of the app
        if tree is not None:
            found = subprocess.run([sys.executable, "-c", "import companion; print(companion.__file__)"], cwd=str(tree),
                                   capture_output=True, text=True, check=True).stdout.strip()
            if not Path(found).resolve().is_relative_to(tree):
                raise SystemExit(f"{tree}: python -m companion there runs {found}, not that checkout")
    bytecode = Path(tempfile.mkdtemp(prefix="bench-bytecode-"))
    envs = {tree: _with_bytecode(bytecode / str(k)) for k, tree in enumerate(trees)}
    floor_env = _with_bytecode(bytecode / "floor")
    timed(floor_cmd, env=floor_env)
    for tree in trees:  # compiles each checkout's modules once, as installing does
        timed(analyze_cmd, tree, envs[tree])
    load_before = os.getloadavg()
    analyses: dict[Optional[Path], list[Run]] = {tree: [] for tree in trees}
    floors: list[Run] = []
    for _ in range(args.runs):  # alternating, so all see the same machine
        floors.append(timed(floor_cmd, env=floor_env))
        for tree in trees:
            analyses[tree].append(timed(analyze_cmd, tree, envs[tree]))
    shutil.rmtree(bytecode, ignore_errors=True)
    load_after = os.getloadavg()
    doc = json.loads(analyses[trees[-1]][-1].stdout)

    def med(runs: list[Run], field: str) -> float:
        return statistics.median(getattr(r, field) for r in runs)

    def best(runs: list[Run], field: str) -> float:
        return min(getattr(r, field) for r in runs)

    print(f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores, python {platform.python_version()}")
    print(f"load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    print(f"call: {duration:.0f} s stereo, {len(doc['turns'])} turns, {len(doc['prompts'])} prompts; "
          f"{args.runs} runs each, process start included (compiled bytecode kept), pinned to one core" + ("" if pin else " (taskset missing: not pinned)"))
    print(f"{'':36s}{'wall median':>12s}{'wall best':>11s}{'CPU median':>12s}{'CPU best':>10s}{'max RSS':>9s}")
    rows = [(f"analyze --model none{'' if tree is None else ' (' + tree.name + ')'}", runs) for tree, runs in analyses.items()]
    for name, runs in rows + [("floor (soundfile + webrtcvad)", floors)]:
        print(f"{name:36s}{med(runs, 'wall'):11.2f}s{best(runs, 'wall'):10.2f}s{med(runs, 'cpu'):11.2f}s"
              f"{best(runs, 'cpu'):9.2f}s{max(r.rss_mb for r in runs):7.0f}MB")
    for name, runs in rows:
        print(f"{name}: ratio to the floor: wall {med(runs, 'wall') / med(floors, 'wall'):.2f}x (median), "
              f"{best(runs, 'wall') / best(floors, 'wall'):.2f}x (best); "
              f"CPU {med(runs, 'cpu') / med(floors, 'cpu'):.2f}x (median), {best(runs, 'cpu') / best(floors, 'cpu'):.2f}x (best)")
    analyses_last = analyses[trees[-1]]
    print(f"real-time factor of analyze: {duration / med(analyses_last, 'wall'):.0f}x (median wall)")


if __name__ == "__main__":
    main()
