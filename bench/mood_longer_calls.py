"""The customer's cues on longer calls than the main corpus's, with real people as customers.

Two scenarios of tests/real_voices.py (`LONGER_SCENARIOS`), for every fitted customer (`CUSTOMERS`) and every held-out
one (`other_speakers`, as bench/real_voice_accuracy.py --held-out), every agent and every line:
- `upset_twice`: upset, calm for 40 s of their speech, upset again, calm again (4-5 minutes): both episodes told
  upset within 6 s and calmer within 30 s, and neither cue anywhere else (`judge_episodes`);
- `long_calm`: a customer calm through 300 s of their speech (11-14 minutes): no customer_upset, no customer_calmer,
  and how much of the call the mood strip showed them "tense".

Each call is rendered and analysed in a worker (`analyze_call`, as `companion analyze --json --model none`, the
shipped constants). The main corpus's calls are 2-4 minutes with one episode: these ask whether a second episode is
told as the first was, and how often a calm person is called upset per hour of their talk.

Run by hand:  python bench/mood_longer_calls.py [--kinds upset_twice long_calm] [--agents ...] [--workers 2]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.real_voice_accuracy import HELD_OUT_MIN_S, SPARE_REAL_AGENT  # noqa: E402  (the held-out customers, as there)
from tests import real_voices as rv  # noqa: E402

CACHE = HERE / "out" / "real_voices" / "cache"
OUT = HERE / "out" / "real_voices" / "longer"


def _job(job: tuple[str, str, str, str]) -> dict:
    from companion.analysis import analyze_call
    from companion.audio.file_source import CallFileSpec
    from companion.config import load_config

    kind, customer, agent, line = job
    wav, truth = rv.render(rv.LONGER_SCENARIOS[kind](customer, agent, line, CACHE), OUT, CACHE)
    doc = analyze_call(CallFileSpec(wav), load_config(use_user_default=False))
    row = rv.judge_episodes(truth, doc)
    row["duration_s"] = truth.duration_s
    row["customer_speech_s"] = round(sum(e - s for u in truth.of("customer") for s, e in u.turns), 1)
    row["tense_share"] = tense_share(doc["customer_states"], truth.duration_s)
    return row


def tense_share(states: list[dict], duration_s: float) -> float:
    """The share of the call the mood strip showed "tense"."""
    from companion.timeline import state_spans

    return round(sum(end - start for start, end, state in state_spans(states, duration_s) if state == "tense")
                 / duration_s, 3)


def _cell(ok: int, n: int) -> str:
    return f"{ok}/{n}" if n else "–"


def _lat(values: list[float]) -> str:
    v = sorted(values)
    return f" ({v[0]:.1f}–{v[-1]:.1f} s)" if v else ""


def report(rows: list[dict], fitted: set[str]) -> list[str]:
    out = ["| customers | line | upset, 1st episode ≤ 6 s | upset, 2nd episode ≤ 6 s | calmer, 1st ≤ 30 s "
           "| calmer, 2nd ≤ 30 s | false upset / calmer, upset twice | long calm calls with a false upset / calmer "
           "| their talk on long calm calls | shown tense on long calm calls: calls, share of the time (mean; most) |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for who in ("fitted", "held-out"):
        for line in list(rv.LINES) + ["all"]:
            rs = [r for r in rows if (r["customer"] in fitted) == (who == "fitted") and line in ("all", r["line"])]
            twice = [r for r in rs if r["kind"] == "upset_twice"]
            calm = [r for r in rs if r["kind"] == "long_calm"]
            cells = []
            for what in ("upset", "calmer"):
                for k in (0, 1):
                    eps = [r["episodes"][k] for r in twice if len(r["episodes"]) > k]
                    lat = [e[f"{what}_after_s"] for e in eps if e[f"{what}_after_s"] is not None]
                    cells.append(_cell(sum(e[f"{what}_ok"] for e in eps), len(eps)) + _lat(lat))
            false_twice = f"{sum(len(r['false_upset']) for r in twice)} / {sum(len(r['false_calmer']) for r in twice)}"
            false_calm = f"{sum(bool(r['false_upset']) for r in calm)} / {sum(bool(r['false_calmer']) for r in calm)} " \
                         f"of {len(calm)}"
            talk_h = sum(r["customer_speech_s"] for r in calm) / 3600
            shares = [r["tense_share"] for r in calm]
            tense = f"{sum(x > 0 for x in shares)}/{len(shares)}, {sum(shares) / len(shares):.1%}; {max(shares):.0%}" \
                if shares else "–"
            out.append(f"| {who} | {line} | {' | '.join(cells)} | {false_twice} | {false_calm} | {talk_h:.1f} h | {tense} |")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kinds", nargs="*", default=list(rv.LONGER_SCENARIOS), choices=list(rv.LONGER_SCENARIOS))
    parser.add_argument("--customers", nargs="*", default=None, help="default: the fitted four and every held-out one")
    parser.add_argument("--agents", nargs="*", default=list(rv.AGENTS))
    parser.add_argument("--lines", nargs="*", default=list(rv.LINES))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--misses", action="store_true", help="print every call with a cue wrong")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("REAL_VOICES_CACHE", str(CACHE))
    began = time.time()
    customers = args.customers or list(rv.CUSTOMERS) + rv.other_speakers(CACHE, HELD_OUT_MIN_S)
    jobs = [(kind, c, SPARE_REAL_AGENT if a == f"real:{c}" else a, line)
            for kind in args.kinds for c in customers for a in args.agents for line in args.lines]
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        rows = list(pool.map(_job, jobs))
    if args.misses:
        for r in rows:
            bad = [e for e in r["episodes"] if not (e["upset_ok"] and e["calmer_ok"])]
            if bad or r["false_upset"] or r["false_calmer"]:
                print("MISS", r["name"], r["episodes"], "false upset", r["false_upset"], "false calmer", r["false_calmer"])
    print("\n".join(report(rows, set(rv.CUSTOMERS))))
    hours = sum(r["duration_s"] for r in rows) / 3600
    print(f"\n{len(rows)} calls, {hours:.1f} h of audio, {time.time() - began:.0f} s on {platform.node()} "
          f"({platform.machine()}, {os.cpu_count()} cores), {datetime.date.today()}")
    (OUT / "mood_longer_calls.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
