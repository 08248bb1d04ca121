"""Accuracy of the acoustic speaking pace on the labelled multi-voice corpus (tests/pace_corpus.py:
espeak-ng, festival and Piper voices; with `--engines flite kokoro`, the held-out flite and Kokoro voices, never
fitted on: tests/held_out_engines.py).

Every clip becomes a two-channel call (agent on channel 0, a silent customer on
channel 1) and goes through `companion.analysis.analyze_call` with the default
coaching config and no transcriber, as `companion analyze CALL.wav --json
--model none` would. The call's `agent_wpm` (whole-call acoustic pace) is
compared with the clip's true pace; `slow_down` prompts on clips whose true pace
is at most `CALM_WPM` are false alarms.

Printed: the error per engine and voice, per line, per engine and line, and per
engine and aimed rate: median signed error %, median absolute error %, worst
absolute error %, and slow_down false alarms. Per-clip results, with the
pipeline's own speaking time and the nuclei per word it implies (to fit a better
estimator), go to bench/out/pace_accuracy.json.

Run by hand:  python bench/pace_accuracy.py [--quick] [--workers 2] [--engines espeak festival piper flite kokoro]
(generating the full corpus the first time takes a few minutes; it is cached in bench/out/pace_corpus)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Iterable, Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests import held_out_engines  # noqa: E402
from tests.held_out_engines import ALL_ENGINES  # noqa: E402
from tests.pace_corpus import ENGINES, Clip, as_call, corpus  # noqa: E402

CALM_WPM = 160.0  # a clip at or below this pace should never be told to slow down

_config = None


def _config_spw() -> float:
    from companion.config import load_config

    return load_config(use_user_default=False).pace.syllables_per_word


def _init_worker() -> None:
    global _config
    from companion.config import load_config

    _config = load_config(use_user_default=False)


def measure(clip: Clip) -> dict:
    """Run the current pipeline on one clip; returns the clip's truth and what the pipeline made of it."""
    from companion.analysis import analyze_call
    from companion.audio.file_source import CallFileSpec

    with tempfile.TemporaryDirectory(prefix="pace_call_") as tmp:
        call = as_call(clip, Path(tmp) / "call.wav")
        doc = analyze_call(CallFileSpec(call), _config, model=None)
    agent_turns = [t for t in doc["turns"] if t["party"] == "agent"]
    speaking = sum(t["end"] - t["start"] for t in agent_turns)
    wpm = doc["agent_wpm"]
    spw = _config.pace.syllables_per_word
    return clip.to_json() | {
        "agent_wpm": wpm,
        "pace_source": doc["pace_source"],
        "error_pct": None if wpm is None else round((wpm - clip.true_wpm) / clip.true_wpm * 100.0, 2),
        "pipeline_speaking_s": round(speaking, 3),
        "pipeline_turns": len(agent_turns),
        "speaking_error_pct": round((speaking - clip.speaking_s) / clip.speaking_s * 100.0, 2),
        # nuclei the pipeline counted, per true word (its speaking time taken as the sum of its agent turns)
        "nuclei_per_word": None if wpm is None else round(wpm * spw * speaking / 60.0 / clip.words, 4),
        "slow_down_t": [p["t"] for p in doc["prompts"] if p["kind"] == "slow_down"],
        "prompts": [p["kind"] for p in doc["prompts"]],
    }


def _row(label: str, rows: list[dict]) -> str:
    errors = [r["error_pct"] for r in rows if r["error_pct"] is not None]
    calm = [r for r in rows if r["true_wpm"] <= CALM_WPM]
    alarms = sum(1 for r in calm if r["slow_down_t"])
    missing = len(rows) - len(errors)
    if not errors:
        return f"{label:<34} {len(rows):>4}   no pace measured"
    true = [r["true_wpm"] for r in rows]
    return (f"{label:<34} {len(rows):>4} {min(true):>4.0f}-{max(true):<4.0f}"
            f" {statistics.median(errors):>+8.1f} {statistics.median(abs(e) for e in errors):>8.1f}"
            f" {max(abs(e) for e in errors):>8.1f} {alarms:>5}/{len(calm):<4}"
            + (f"  ({missing} without a pace)" if missing else ""))


def table(title: str, results: list[dict], key: Callable[[dict], str], order: Optional[Iterable[str]] = None) -> None:
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in results:
        groups[key(r)].append(r)
    print(f"\n{title}")
    print(f"{'':<34} {'n':>4} {'true wpm':<9} {'med err%':>8} {'med |e|%':>8} {'max |e|%':>8} {'slow_down<=160':>14}")
    for label in (order or sorted(groups)):
        if label in groups:
            print(_row(label, groups[label]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the test suite's small subset (40 clips)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--engines", nargs="+", choices=ALL_ENGINES, default=list(ENGINES),
                        help="the fitted engines by default; flite and kokoro are held out (never fitted on)")
    parser.add_argument("--cache", type=Path, default=HERE / "out" / "pace_corpus")
    parser.add_argument("--out", type=Path, default=HERE / "out" / "pace_accuracy.json")
    args = parser.parse_args()

    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores, "
          f"python {platform.python_version()}, {platform.platform()}")
    print(f"date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")

    start = time.perf_counter()
    fitted = [e for e in args.engines if e in ENGINES]
    clips = ((corpus(args.cache, engines=fitted, quick=args.quick, workers=args.workers) if fitted else [])
             + held_out_engines.corpus(args.engines, args.cache, workers=args.workers))
    made = time.perf_counter() - start
    print(f"corpus: {len(clips)} clips ({'quick' if args.quick else 'full'}), ready in {made:.0f} s "
          f"(cache {args.cache})")

    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers, initializer=_init_worker) as pool:
        results = list(pool.map(measure, clips, chunksize=4))
    audio_s = sum(c.duration_s for c in clips)
    print(f"analysis: {time.perf_counter() - start:.0f} s for {audio_s / 60:.0f} min of audio, {args.workers} workers")

    voices = list(dict.fromkeys(f"{r['engine']} {r['voice']}" for r in results))
    lines = [f"{line}{' +noise' if noise else ''}" for line in ("headset", "phone") for noise in (False, True)]
    print("\nerror = (pipeline agent_wpm - true wpm) / true wpm; slow_down<=160: clips with a true pace "
          f"<= {CALM_WPM:.0f} wpm that got a slow_down prompt")
    table("per engine and voice", results, lambda r: f"{r['engine']} {r['voice']}", voices)
    table("per line", results, lambda r: f"{r['line']}{' +noise' if r['noise'] else ''}", lines)
    table("per engine and line", results, lambda r: f"{r['engine']} {r['line']}{' +noise' if r['noise'] else ''}",
          [f"{e} {line}" for e in ALL_ENGINES for line in lines])
    rates = sorted({r["target_wpm"] for r in results})
    table("per engine and aimed rate", results, lambda r: f"{r['engine']} ~{r['target_wpm']} wpm",
          [f"{e} ~{rate} wpm" for e in ALL_ENGINES for rate in rates])
    table("all", results, lambda r: "all clips")

    speaking = [r["speaking_error_pct"] for r in results]
    npw = defaultdict(list)
    for r in results:
        if r["nuclei_per_word"] is not None:
            npw[f"{r['engine']} {r['voice']}"].append(r["nuclei_per_word"])
    print(f"\npipeline speaking time vs truth: median {statistics.median(speaking):+.1f} %, "
          f"range {min(speaking):+.1f} .. {max(speaking):+.1f} %")
    print(f"nuclei counted per true word (median; the config divides by {_config_spw()}): "
          + ", ".join(f"{v} {statistics.median(x):.2f}" for v, x in npw.items()))

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"clips": results}, indent=1))
    print(f"\nper-clip results: {args.out}")


if __name__ == "__main__":
    main()
