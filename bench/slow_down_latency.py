"""How soon `slow_down` comes after sustained fast speech, on every voice of the labelled pace corpus
(tests/pace_corpus.py: seven espeak-ng voices, three festival voices, Piper's neural voice; with `--engines flite kokoro`
the held-out flite and Kokoro voices, never fitted on: tests/held_out_engines.py), on a clean
headset, an 8 kHz mu-law phone line and a noisy phone line; and that a calm agent is never told.

Each call is two clips of one voice on one line in a row (the agent channel; the customer silent but for a
low noise floor), analysed as `companion analyze --model none` does:
- `calm -> fast`: a passage at ~140 words/min, then one aimed at 200, 230 or 260 (true pace in the table: Piper's
  aimed 200 lands at 196-200, counted with the fast ones);
  the latency is the first `slow_down` after the fast clip's first word (none before it, none at all = a miss);
- `calm -> calm`: two passages at ~140 (or ~110 then ~140): no `slow_down` at all.
Piper is heard in every passage at ~200 and ~210 (where it reads furthest low); the others in one passage per rate.
With `--seeds N` every fast and second calm clip is heard again on N other renders of its line (the same speech,
other office noise, line floor and dither: tests/pace_calls.py `renders`), so the table shows how much a latency
depends on one rendering.

The goal (issue 21): `slow_down` within 15 s of sustained speech >= 200 words/min on every voice and line,
none at <= 160 words/min.

Run by hand:  python bench/slow_down_latency.py [--workers 2] [--engines piper ...] [--rates 200 230 260] [--seeds 2]
(clips are made once into bench/out/pace_corpus, shared with bench/pace_accuracy.py and bench/pace_fit.py)

`--calm-pairs DIR...` hears instead every ordered pair of two different calm passages (true pace <= 160) of one
voice on one line among the clips already made in these corpus caches (no synthesis): none may be told.
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from tests.held_out_engines import ALL_VOICES, HELD_OUT, make_any  # noqa: E402
from tests.pace_calls import renders, stitched_call  # noqa: E402
from tests.pace_corpus import TEXTS, Clip, Job  # noqa: E402

WITHIN_S = 15.0     # the promise for sustained fast speech
CALM_WPM = 160.0    # never told at or below this
SEEDS = tuple(range(1, 21))  # the other renders' noise seeds
LINES = (("headset", False), ("phone", False), ("phone", True))
LINE_NAMES = {("headset", False): "clean", ("phone", False): "mu-law", ("phone", True): "noisy"}
PIPER_FAST_PASSAGES = 5  # the neural voice at ~200 and ~210 in every passage it has there
PIPER_NEAR_LINE = (200, 210)  # the rates where the neural voice reads furthest low (its 210 is a true 205-210)


def jobs(engines: list[str], rates: list[int]) -> tuple[list[Job], list[tuple[str, int, str, str]]]:
    """The syntheses, and the calls as (voice, fast rate or 0 for calm, calm passage, fast passage)."""
    ids = list(TEXTS)
    out, calls = [], []
    for i, voice in enumerate(v for v in ALL_VOICES if v.engine in engines):
        calm_id = ids[(i + 1) % len(ids)]
        out.append(Job(voice, calm_id, 140, LINES))
        other = ids[(i + 6) % len(ids)]
        out.append(Job(voice, other, 140, LINES))
        calls.append((voice.name, 0, calm_id, other))
        piper = voice.engine == "piper"
        near = [(0, rate) for rate in PIPER_NEAR_LINE if piper and rate not in rates]  # the passages of its ~200
        for j, rate in list(enumerate(rates)) + near:
            n = PIPER_FAST_PASSAGES if piper and rate in PIPER_NEAR_LINE else 1
            for k in range(n):
                fast_id = ids[(i + 3 + j + 2 * k) % len(ids)]
                out.append(Job(voice, fast_id, rate, LINES))
                calls.append((voice.name, rate, calm_id, fast_id))
    return out, calls


def run_call(job: tuple[list[dict], str, "int | None"]) -> dict:
    from companion.analysis import analyze_call
    from companion.audio.file_source import CallFileSpec
    from companion.config import load_config

    docs, label, seed = job
    parts = [Clip.from_json(d) for d in docs]
    with tempfile.TemporaryDirectory(prefix="slow_down_") as tmp:
        call, starts = stitched_call(parts, Path(tmp) / "call.wav")
        doc = analyze_call(CallFileSpec(call), load_config(use_user_default=False))
    told = [p for p in doc["prompts"] if p["kind"] == "slow_down"]
    fast_from = starts[1]
    return {"label": label, "seed": seed, "engine": parts[0].engine, "voice": parts[0].voice, "line": LINE_NAMES[(parts[0].line, parts[0].noise)],
            "true_wpm": [round(p.true_wpm, 1) for p in parts], "aimed_wpm": [p.target_wpm for p in parts],
            "fast_from": round(fast_from, 2),
            "slow_down": [(p["t"], p["reason"]) for p in told],
            "early": [p["t"] for p in told if p["t"] <= fast_from],
            "latency_s": next((round(p["t"] - fast_from, 2) for p in told if p["t"] > fast_from), None)}


def _span(values: list[float]) -> str:
    return f"{min(values):.1f}–{max(values):.1f} s" if values else "–"


def table(rows: list[dict], key) -> list[str]:
    out = ["| group | true pace (words/min) | calls | told within 15 s | latency (median; range) | late or missed | "
           "told while calm |", "|---|---|---|---|---|---|---|"]
    groups = defaultdict(list)
    for r in rows:
        groups[key(r)].append(r)
    for name in sorted(groups) + ["all"]:
        rs = rows if name == "all" else groups[name]
        fast = [r for r in rs if r["aimed_wpm"][1] >= 200]  # Piper's ~200 lands at 196-200 true: counted here
        calm = [r for r in rs if max(r["true_wpm"]) <= CALM_WPM]
        lat = [r["latency_s"] for r in fast if r["latency_s"] is not None]
        ok = sum(1 for r in fast if r["latency_s"] is not None and r["latency_s"] <= WITHIN_S and not r["early"])
        late = [f"{r['voice']} {r['line']}{' seed ' + str(r['seed']) if r.get('seed') else ''} {r['true_wpm'][1]:.0f}: {r['latency_s'] if r['latency_s'] is not None else 'none'}"
                for r in fast if r["latency_s"] is None or r["latency_s"] > WITHIN_S]
        calm_told = sum(1 for r in calm if r["slow_down"])
        paces = [r["true_wpm"][1] for r in fast]
        out.append(f"| {name} | {min(paces):.0f}–{max(paces):.0f} | {len(fast)} | {ok}/{len(fast)} | "
                   f"{statistics.median(lat) if lat else float('nan'):.1f} s; {_span(lat)} | {'; '.join(late) or '–'} | "
                   f"{calm_told}/{len(calm)} |" if fast else f"| {name} | – | 0 | – | – | – | {calm_told}/{len(calm)} |")
    return out


def calm_pairs(folders: list[Path], workers: int, engines: tuple[str, ...]) -> None:
    """Every ordered pair of two calm passages of one voice on one line, made already: how many are told."""
    from pace_fit import made_clips

    began = time.time()
    groups = defaultdict(list)
    for clip in made_clips(folders, engines):
        if clip.true_wpm <= CALM_WPM and (clip.line, clip.noise) in LINE_NAMES:
            groups[(clip.voice, clip.line, clip.noise)].append(clip)
    work = [([a.to_json(), b.to_json()], f"{a.voice} {LINE_NAMES[(a.line, a.noise)]} {a.text_id}+{b.text_id}", None)
            for clips in groups.values() for a in clips for b in clips if a.text_id != b.text_id]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        rows = list(pool.map(run_call, work))
    told = [r for r in rows if r["slow_down"]]
    per_engine = defaultdict(lambda: [0, 0])
    for r in rows:
        per_engine[r["engine"]][0] += bool(r["slow_down"])
        per_engine[r["engine"]][1] += 1
    print(f"calm pairs (two calm passages of one voice on one line, true pace <= {CALM_WPM:.0f}): "
          f"{len(told)}/{len(rows)} told; " + ", ".join(f"{e} {n}/{m}" for e, (n, m) in per_engine.items()))
    for r in told:
        print(f"  told: {r['label']} {r['true_wpm']} at {[t for t, _ in r['slow_down']]}")
    load = os.getloadavg()
    print(f"{len(rows)} calls, {time.time() - began:.0f} s on {platform.node()} ({os.cpu_count()} cores, load "
          f"{load[0]:.1f}), {datetime.date.today()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--engines", nargs="*", default=["espeak", "festival", "piper"],
                        help="flite, kokoro: the held-out voices (never fitted on)")
    parser.add_argument("--rates", nargs="*", type=int, default=[200, 230, 260])
    parser.add_argument("--seeds", type=int, default=0, help="other renders of each second clip's line")
    parser.add_argument("--cache", type=Path, default=HERE / "out" / "pace_corpus")
    parser.add_argument("--out", type=Path, default=HERE / "out" / "slow_down_latency.json")
    parser.add_argument("--calm-pairs", type=Path, nargs="+", metavar="DIR",
                        help="hear every pair of calm passages already made in these corpus caches instead")
    args = parser.parse_args()
    if args.calm_pairs:
        calm_pairs(args.calm_pairs, args.workers, tuple(args.engines))
        return
    began = time.time()
    todo, calls = jobs(args.engines, args.rates)
    clips = make_any(args.cache, todo, args.workers)
    by = {(c.voice, c.text_id, c.target_wpm, c.line, c.noise): c for c in clips}
    work = []
    for voice, rate, calm_id, second_id in calls:
        for line, noise in LINES:
            first = by[(voice, calm_id, 140, line, noise)]
            second = by[(voice, second_id, rate or 140, line, noise)]
            label = f"{voice} {LINE_NAMES[(line, noise)]} 140->{rate or 140}"
            work.append(([first.to_json(), second.to_json()], label, None))
            if args.seeds and first.engine not in HELD_OUT:  # other renders: tests/pace_calls.py (none held out)
                job = next(j for j in todo if j.voice.name == voice and (j.text_id, j.target_wpm) == (second_id, rate or 140))
                for seed, other in zip(SEEDS, renders(args.cache, Job(job.voice, second_id, rate or 140, ((line, noise),)),
                                                      SEEDS[: args.seeds])):
                    work.append(([first.to_json(), other.to_json()], f"{label} seed {seed}", seed))
    print(f"{len(clips)} clips ready in {time.time() - began:.0f} s; {len(work)} calls", flush=True)
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        rows = list(pool.map(run_call, work))
    print("\n".join(["### per engine", *table(rows, lambda r: r["engine"]), "", "### per voice",
                     *table(rows, lambda r: f"{r['engine']} {r['voice']}"), "", "### per line",
                     *table(rows, lambda r: r["line"]), "", "### per true pace",
                     *table(rows, lambda r: f"{int(r['true_wpm'][1] // 10 * 10)}s" if r["aimed_wpm"][1] >= 200
                            else "calm")]))
    load = os.getloadavg()
    print(f"\n{len(rows)} calls, {time.time() - began:.0f} s on {platform.node()} ({os.cpu_count()} cores, load "
          f"{load[0]:.1f}), {datetime.date.today()}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
