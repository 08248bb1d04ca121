"""`slow_down` replayed on the pace calls' own metrics: the coach's pace rule tried with other settings in seconds.

`record` analyses each call of bench/slow_down_latency.py's corpus once (calm -> fast at the given rates with
`--seeds` other renders, and calm -> an edge rate such as 160 in every passage of every voice) as
`companion analyze --model none` does, and keeps every metrics snapshot the coach was given, with the agent's
detection pace also read over other windows of speech (`WINDOWS_S`). `replay` runs a fresh `Coach` over those
snapshots with [coach.slow_down] overrides (`--set acoustic_margin=0.14`), or with another window's reading as the
detection pace (`--window 16`), and judges each call: a calm one (true pace <= 160 words/min in both passages) must
never be told; a fast one (aimed at >= 200) within 15 s of its first fast word, not before.

Run by hand:  python bench/slow_down_replay.py record [--rates 200 230 260] [--edge 160] [--seeds 2] [--workers 2]
              python bench/slow_down_replay.py replay [--set key=value ...] [--window S] [--misses]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import pickle
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import slow_down_latency as sdl  # noqa: E402

from tests.held_out_engines import ALL_VOICES, HELD_OUT, make_any  # noqa: E402
from tests.pace_calls import renders, stitched_call  # noqa: E402
from tests.pace_corpus import TEXTS, Clip, Job  # noqa: E402

OUT = HERE / "out" / "slow_down_replay.pkl"
WINDOWS_S = (8.0, 10.0, 12.0, 16.0, 20.0)   # the agent's detection pace also read over these stretches of speech


def _edge_jobs(engines: list[str], rate: int) -> tuple[list[Job], list[tuple[str, int, str, str]]]:
    """Every voice: its calm passage at ~140, then every other passage at `rate`."""
    ids = list(TEXTS)
    todo, calls = [], []
    for i, voice in enumerate(v for v in ALL_VOICES if v.engine in engines):
        calm_id = ids[(i + 1) % len(ids)]
        todo.append(Job(voice, calm_id, 140, sdl.LINES))
        for text_id in ids:
            if text_id != calm_id:
                todo.append(Job(voice, text_id, rate, sdl.LINES))
                calls.append((voice.name, rate, calm_id, text_id))
    return todo, calls


def _record_call(job: tuple[list[dict], str, Optional[int]]) -> dict:
    import companion.monitor.call_monitor as cm
    from companion.analysis import analyze_call
    from companion.audio.file_source import CallFileSpec
    from companion.config import load_config
    from companion.monitor.pace import rolling_wpm

    docs, label, seed = job
    parts = [Clip.from_json(d) for d in docs]
    snaps: list[tuple[Any, dict[float, Optional[float]]]] = []
    original = cm.CallMonitor.snapshot

    def recording(self):  # type: ignore[no-untyped-def]
        s = original(self)
        source, at, per_word, kind = self._reading(self.now)
        others = {}
        for w in WINDOWS_S:
            pace = dataclasses.replace(self.config.pace, window_speech_s=w, min_speech_s=w)
            others[w] = rolling_wpm(self.ledger["agent"], at, pace, per_word, kind, self.calibration)[0]
        snaps.append((s, others))
        return s

    cm.CallMonitor.snapshot = recording
    try:
        with tempfile.TemporaryDirectory(prefix="sd_replay_") as tmp:
            call, starts = stitched_call(parts, Path(tmp) / "call.wav")
            doc = analyze_call(CallFileSpec(call), load_config(use_user_default=False))
    finally:
        cm.CallMonitor.snapshot = original
    return {"label": label, "seed": seed, "engine": parts[0].engine, "voice": parts[0].voice,
            "line": sdl.LINE_NAMES[(parts[0].line, parts[0].noise)], "true_wpm": [p.true_wpm for p in parts],
            "aimed_wpm": [p.target_wpm for p in parts], "fast_from": starts[1], "snapshots": snaps,
            "prompts": [(p["t"], p["kind"]) for p in doc["prompts"]]}


def record(engines: list[str], rates: list[int], edges: list[int], seeds: int, workers: int, cache: Path) -> None:
    began = time.time()
    todo, calls = sdl.jobs(engines, rates)
    for edge in edges:
        more, edge_calls = _edge_jobs(engines, edge)
        todo += more
        calls += edge_calls
    clips = make_any(cache, todo, workers)
    by = {(c.voice, c.text_id, c.target_wpm, c.line, c.noise): c for c in clips}
    work = []
    seen = set()
    for voice, rate, calm_id, second_id in calls:
        for line, noise in sdl.LINES:
            key = (voice, calm_id, second_id, rate, line, noise)
            if key in seen:
                continue
            seen.add(key)
            first = by[(voice, calm_id, 140, line, noise)]
            second = by[(voice, second_id, rate or 140, line, noise)]
            label = f"{voice} {sdl.LINE_NAMES[(line, noise)]} 140->{rate or 140} {second_id}"
            work.append(([first.to_json(), second.to_json()], label, None))
            if seeds and rate in rates and first.engine not in HELD_OUT:  # other renders: tests/pace_calls.py (none held out)
                job = next(j for j in todo if j.voice.name == voice and (j.text_id, j.target_wpm) == (second_id, rate))
                for seed, other in zip(sdl.SEEDS, renders(cache, Job(job.voice, second_id, rate, ((line, noise),)),
                                                          sdl.SEEDS[:seeds])):
                    work.append(([first.to_json(), other.to_json()], f"{label} seed {seed}", seed))
    print(f"{len(clips)} clips ready in {time.time() - began:.0f} s; {len(work)} calls", flush=True)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        rows = list(pool.map(_record_call, work, chunksize=4))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(pickle.dumps(rows))
    print(f"{len(rows)} calls recorded in {time.time() - began:.0f} s -> {OUT}")


def replay_one(row: dict, overrides: dict[str, float], window: Optional[float], config: Any = None) -> dict:
    from companion.coach.rules import Coach
    from companion.config import load_config

    config = config or load_config(use_user_default=False)
    rule = dataclasses.replace(config.coach.slow_down, **overrides)
    if window is not None:
        rule = dataclasses.replace(rule, window_speech_s=window)
    coach = Coach(dataclasses.replace(config.coach, slow_down=rule))
    told = []
    for s, others in row["snapshots"]:
        if window is not None:
            short = others[window]
            s = dataclasses.replace(s, pace_short_wpm=None if short is None else round(short, 1))
        told += [p.t for p in coach.evaluate(s) if p.kind == "slow_down"]
    fast_from = row["fast_from"]
    return {"told": told, "early": [t for t in told if t <= fast_from],
            "latency": next((t - fast_from for t in told if t > fast_from), None)}


def judge(rows: list[dict], overrides: dict[str, float], window: Optional[float], misses: bool) -> None:
    from companion.config import load_config

    config = load_config(use_user_default=False)  # once: every call is replayed with the same settings
    calm_by, fast_by = defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0])
    bad = []
    for row in rows:
        out = replay_one(row, overrides, window, config)
        group = f"{row['engine']} {row['voice']}"
        if max(row["true_wpm"]) <= sdl.CALM_WPM:
            calm_by[group][1] += 1
            if out["told"]:
                calm_by[group][0] += 1
                bad.append(f"calm told: {row['label']} {[round(x) for x in row['true_wpm']]} at {out['told']}")
        elif row["aimed_wpm"][1] >= 200:
            fast_by[group][1] += 1
            ok = out["latency"] is not None and out["latency"] <= sdl.WITHIN_S and not out["early"]
            fast_by[group][0] += ok
            if not ok:
                bad.append(f"fast late: {row['label']} {[round(x) for x in row['true_wpm']]} latency {out['latency']} "
                           f"early {out['early']}")
    print(f"settings: {overrides or 'shipped'}{'' if window is None else f', window {window} s'}")
    print("| voice | calm calls told (true <= 160) | fast calls told within 15 s |")
    print("|---|---|---|")
    for group in sorted(set(calm_by) | set(fast_by)):
        c, f = calm_by.get(group, [0, 0]), fast_by.get(group, [0, 0])
        print(f"| {group} | {c[0]}/{c[1]} | {f[0]}/{f[1]} |")
    c = [sum(v[0] for v in calm_by.values()), sum(v[1] for v in calm_by.values())]
    f = [sum(v[0] for v in fast_by.values()), sum(v[1] for v in fast_by.values())]
    print(f"| all | {c[0]}/{c[1]} | {f[0]}/{f[1]} |")
    if misses:
        print("\n".join(bad))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("record", "replay"))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--engines", nargs="*", default=["espeak", "festival", "piper"])
    parser.add_argument("--rates", nargs="*", type=int, default=[200, 230, 260])
    parser.add_argument("--edge", nargs="*", type=int, default=[160], help="calm -> this rate in every passage")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=HERE / "out" / "pace_corpus")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="[coach.slow_down] overrides")
    parser.add_argument("--window", type=float, default=None, choices=WINDOWS_S,
                        help="the detection pace read over this much speech instead")
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    if args.what == "record":
        record(args.engines, args.rates, args.edge, args.seeds, args.workers, args.cache)
        return
    rows = pickle.loads(OUT.read_bytes())
    overrides = {k: float(v) for k, v in (item.split("=", 1) for item in args.set)}
    judge(rows, overrides, args.window, args.misses)


if __name__ == "__main__":
    main()
