"""Live mode on the virtual softphone: CPU per party, overflows, and prompt latency.

Run by hand (needs pulseaudio, pulseaudio-utils, libportaudio2):
    python bench/bench_live.py latency            # 3 live calls: interruption onset -> keep_listening prompt
    python bench/bench_live.py cpu [--model]       # CPU of capture + monitor while a 60 s call plays
    python bench/bench_live.py soak --minutes 10   # overflows and CPU over a long live run
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import soundfile as sf  # noqa: E402

from companion.asr.discovery import find_model  # noqa: E402
from companion.asr.engine import load_model  # noqa: E402
from companion.config import load_config  # noqa: E402
from companion.events import Prompt  # noqa: E402
from companion.live import LiveDevices, run_live  # noqa: E402
from tests import scenarios  # noqa: E402
from tests.callgen import render  # noqa: E402
from tests.softphone import start_pulse, stop_pulse  # noqa: E402


def devices(env):
    import os

    os.environ.update(XDG_RUNTIME_DIR=env["XDG_RUNTIME_DIR"], HOME=env["HOME"])
    from companion.audio.devices import inventory, resolve

    inv = inventory()
    return LiveDevices(resolve("agent_mic.monitor", inv), 0, resolve("softphone.monitor", inv), 0)


def play_call(env, wav: Path, tmp: Path) -> tuple[float, list]:
    data, rate = sf.read(str(wav), dtype="float32")
    files = []
    for i, sink in enumerate(("agent_mic", "softphone")):
        f = tmp / f"{wav.stem}.{sink}.wav"
        sf.write(str(f), data[:, i], rate)
        files.append((sink, f))
    started = time.time()
    procs = [subprocess.Popen(["paplay", "-d", sink, str(f)], env=env) for sink, f in files]
    return started, procs


def live_once(env, wav, seconds, model=None):
    config = load_config(use_user_default=False)
    prompts = []
    stop = threading.Event()
    tally = {}

    class Recorder:
        def __call__(self, event):
            if isinstance(event, Prompt):
                prompts.append((time.time(), event))

    import companion.live as live

    original = live.ConsolePrinter
    live.ConsolePrinter = lambda out=None, err=None: Recorder()  # record instead of printing
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    wall0 = time.time()
    runner = threading.Thread(target=lambda: tally.update(run_live(config, devices(env), model, None, seconds, stop)))
    runner.start()
    time.sleep(1.5)
    with tempfile.TemporaryDirectory() as tmp:
        started, procs = play_call(env, wav, Path(tmp))
        for p in procs:
            p.wait()
    runner.join()
    live.ConsolePrinter = original
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.time() - wall0
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return started, prompts, cpu / wall, tally


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["latency", "cpu", "soak"])
    parser.add_argument("--model", action="store_true")
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    env = start_pulse(Path(tempfile.mkdtemp(prefix="bench-pulse-")))
    try:
        out = HERE / "out"
        if args.what == "latency":
            wav, truth = render(scenarios.live_call(), out, out / "cache")
            delays = []
            for _ in range(3):
                started, prompts, _, _ = live_once(env, wav, truth.duration_s + 3)
                for interruption in truth.interruptions:
                    onset_wall = started + interruption["t"]
                    after = [w for w, p in prompts if p.kind == "keep_listening" and onset_wall < w < onset_wall + 5]
                    if after:
                        delays.append(after[0] - onset_wall)
            print(f"interruption onset -> keep_listening prompt: median {statistics.median(delays):.2f} s, "
                  f"max {max(delays):.2f} s over {len(delays)} interruptions (rule: 1.5 s of overlap)")
        elif args.what == "cpu":
            wav, truth = render(scenarios.live_call(), out, out / "cache")
            model = load_model(find_model(None, "ko").path) if args.model else None
            _, _, share, tally = live_once(env, wav, truth.duration_s + 3, model)
            label = "with the Korean model" if model else "without a model"
            print(f"live mode {label}: {share * 100:.1f}% of one core for both parties "
                  f"({share * 50:.1f}% per party); overflows {tally['overflows']}, dropped blocks {tally['dropped_blocks']}")
        else:
            from bench.make_long_call import long_call

            wav, truth = render(dataclasses.replace(long_call(args.minutes)), out, out / "cache")
            _, _, share, tally = live_once(env, wav, truth.duration_s + 3)
            print(f"soak {truth.duration_s / 60:.1f} min live: {share * 100:.1f}% of one core; "
                  f"overflows {tally['overflows']}, dropped blocks {tally['dropped_blocks']}")
    finally:
        stop_pulse(env)


if __name__ == "__main__":
    main()
