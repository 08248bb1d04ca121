"""`companion analyze` with the real Vosk model against its floor, measured in the same run.

    python bench/bench_analyze_model.py --minutes 1 --runs 5
    python bench/bench_analyze_model.py --minutes 10 --runs 3

The floor: Vosk's KaldiRecognizer alone on both channels at once, one thread per party (as many
cores as there are parties), fed the same 0.5 s pieces the app feeds it (Result at each endpoint,
PartialResult otherwise, FinalResult at the end), the audio already in memory. Against it: the
call analysed as `analyze` does it (`companion.analysis.analyze_call`: the file read and resampled,
voice activity, the monitor and coach, both recognisers, the report), the model loaded once
beforehand for both. The two alternate, `--runs` times each; medians of wall time and CPU time.
The call is the Korean test call repeated (bench/korean_long.py): Korean is the one real model here.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))


def floor_run(model, channels, rate: int, step: int) -> None:
    """Both channels through a KaldiRecognizer each, on two threads; nothing else."""
    from companion.asr.engine import recognizer

    def one(pcm: bytes) -> None:
        rec = recognizer(model, rate)
        size = step * 2
        for i in range(0, len(pcm), size):
            if rec.AcceptWaveform(pcm[i : i + size]):
                rec.Result()
            else:
                rec.PartialResult()
        rec.FinalResult()

    failed: list[BaseException] = []

    def guarded(pcm: bytes) -> None:
        try:
            one(pcm)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
            failed.append(exc)

    threads = [threading.Thread(target=guarded, args=(pcm,)) for pcm in channels]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failed:
        raise failed[0]


def timed(work) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import numpy as np
    import soundfile as sf

    from bench.korean_long import long_korean_call
    from companion.analysis import analyze_call
    from companion.asr.discovery import find_model
    from companion.asr.engine import load_model
    from companion.audio.file_source import CallFileSpec
    from companion.config import load_config

    wav = long_korean_call(args.minutes)
    config = load_config(use_user_default=False)
    model = load_model(find_model(None, "ko").path)
    data, rate = sf.read(str(wav), dtype="int16")
    assert rate == config.audio.sample_rate, "the Korean call is made at the app's rate"
    channels = [np.ascontiguousarray(data[:, c]).tobytes() for c in range(data.shape[1])]
    step = config.audio.file_block_frames * config.audio.frame_len
    duration = data.shape[0] / rate
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, python {platform.python_version()}; "
          f"load average before {os.getloadavg()[0]:.1f}")
    print(f"call: {wav.name}, {duration:.0f} s stereo; model {model.path.parent.name}/{model.path.name}")

    floors, analyses, docs = [], [], []
    for run in range(args.runs):
        floors.append(timed(lambda: floor_run(model, channels, rate, step)))
        analyses.append(timed(lambda: docs.append(analyze_call(CallFileSpec(wav), config, model=model))))
        print(f"  run {run + 1}: floor {floors[-1][0]:.2f} s wall ({floors[-1][1]:.1f} s CPU), "
              f"analyze {analyses[-1][0]:.2f} s wall ({analyses[-1][1]:.1f} s CPU), "
              f"ratio {analyses[-1][0] / floors[-1][0]:.3f}", flush=True)
    floor_wall = statistics.median(w for w, _ in floors)
    analyze_wall = statistics.median(w for w, _ in analyses)
    same = all(doc == docs[0] for doc in docs[1:])
    differ = sorted({key for doc in docs[1:] for key in doc if doc[key] != docs[0][key]})
    untexted = [{**doc, "turns": [{k: v for k, v in t.items() if k != "text"} for t in doc["turns"]]} for doc in docs]
    print(f"floor (KaldiRecognizer alone, both channels, two threads): median {floor_wall:.2f} s wall, "
          f"{statistics.median(c for _, c in floors):.1f} s CPU")
    print(f"analyze: median {analyze_wall:.2f} s wall, {statistics.median(c for _, c in analyses):.1f} s CPU "
          f"({duration / analyze_wall:.1f}x real time)")
    print(f"ratio of medians: {analyze_wall / floor_wall:.3f} (goal <= 1.05); "
          f"median of per-run ratios {statistics.median(a[0] / f[0] for a, f in zip(analyses, floors)):.3f}")
    print(f"analysis documents identical on every run: {same}"
          + ("" if same else f" (differing: {', '.join(differ)}; identical without the turns' recognised text: "
                                f"{all(doc == untexted[0] for doc in untexted[1:])} - Vosk's words vary a little run to run)")
          + f"; load average after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
