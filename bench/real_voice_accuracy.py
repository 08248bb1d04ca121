"""The per-cue table on calls whose customers are real people (tests/real_voices.py).

Every scenario of tests/real_voices.py (a calm customer; one who grows upset and calms down; an agent
who raises their voice; talk-overs both ways, with a customer who carries on after being cut in on and
one who resumes just before the agent starts; a line whose level jumps) for every real customer
(`CUSTOMERS`: two women, two men), every agent (Piper's neural voice, espeak-ng, festival, a real
speaker) and every line (clean, 8 kHz mu-law, noisy), through `companion.analysis.analyze_call` with
the default coaching config and no transcriber, as `companion analyze CALL.wav --json --model none`.

Judged as tests/real_voices.py `judge` does: customer_upset within 6 s of the first raised word and
none on a call whose customer never gets upset; customer_calmer within 30 s of the calm return;
lower_tone within 4 s of the agent's raised voice and none elsewhere; talk-overs matched to the
script's (onset within 1 s, the right party) and keep_listening within 3 s of each of the agent's.

Leave-one-speaker-out (`--fit`): for each customer in turn, the [customer] constants named in `GRID`
are chosen on the other customers' calls (every goal met, then the widest margins) and the held-out
customer's calls are judged with them; the table shows the held-out results.

Held-out people (`--held-out`): the other speakers of the recordings (`tests.real_voices.other_speakers`,
every one with at least `HELD_OUT_MIN_S` of solo speech; the lower_tone tests use a few of them as agents)
as customers, judged with the shipped constants, which were never fitted on them: a calm customer, one who
grows upset and calms down, the talk-overs and the line jump, on every line and agent (a real agent who is
the customer too is swapped for another real agent). They have 4-10 s of solo speech each, so their calls
repeat their phrases: their calm turns after the baseline are sentences the baseline has heard, and the
figure says how the lines hold on new voices more than on new sentences.

Run by hand:  python bench/real_voice_accuracy.py [--quick] [--fit] [--misses] [--raised 6,3,1.15]
              python bench/real_voice_accuracy.py --held-out [--with-customers] [--misses]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from companion.config import load_config  # noqa: E402
from tests import real_voices as rv  # noqa: E402

OUT = HERE / "out" / "real_voices"
HELD_OUT_MIN_S = 4.0      # a held-out customer has at least this much solo speech in the recordings
HELD_OUT_KINDS = ("calm", "grows_upset", "talkovers", "line_jump")
SPARE_REAL_AGENT = "real:MEE012"  # the real agent when the customer is the usual real agent


def held_out_calls(customers: list[str], agents: list[str], lines: list[str], kinds: list[str],
                   cache: Path) -> list[rv.Call]:
    """Every kind for every held-out customer, agent and line; a real agent who is the customer is swapped."""
    calls = []
    for kind in kinds:
        for customer in customers:
            for agent in agents:
                if agent == f"real:{customer}":
                    agent = SPARE_REAL_AGENT
                calls += [rv.SCENARIOS[kind](customer, agent, line, cache) for line in lines]
    return calls


def render_all(calls: list[rv.Call], out: Path, cache: Path) -> list[tuple[Path, rv.Truth]]:
    """Every call rendered; a line jump whose call (a held-out customer's few phrases with a real agent's short
    lines) ends before the second step keeps only its first (the 10 dB jump)."""
    made = []
    for call in calls:
        try:
            made.append(rv.render(call, out, cache))
        except ValueError:
            if call.kind != "line_jump" or len(call.line_steps) < 2:
                raise
            made.append(rv.render(dataclasses.replace(call, line_steps=call.line_steps[:1]), out, cache))
    return made


def _analyze(job: tuple[str, dict]) -> dict:
    from companion.analysis import analyze_call
    from companion.audio.file_source import CallFileSpec

    wav, overrides = job
    config = load_config(use_user_default=False)
    if overrides:
        config = dataclasses.replace(config, customer=dataclasses.replace(config.customer, **overrides))
    return analyze_call(CallFileSpec(Path(wav)), config)


def rendered(calls: list[rv.Call]) -> list[tuple[Path, rv.Truth]]:
    cache = OUT / "cache"
    return [rv.render(call, OUT, cache) for call in calls]


def run(made: list[tuple[Path, rv.Truth]], overrides: dict, workers: int) -> list[dict]:
    with ProcessPoolExecutor(max_workers=workers) as pool:
        docs = list(pool.map(_analyze, [(str(wav), overrides) for wav, _ in made]))
    return [rv.judge(truth, doc) for (_, truth), doc in zip(made, docs)]


def _pct(ok: int, n: int) -> str:
    return f"{ok}/{n}" if n else "–"


def table(rows: list[dict], by: str) -> list[str]:
    """One line per value of `by` (customer, agent, line): each cue's results."""
    out = [f"| {by} | no customer_upset on a call whose customer never gets upset | upset within 6 s (latency) | calmer within 30 s "
           f"(latency) | lower_tone ok | talk-overs P / R | right party | keep_listening ≤ 3 s |",
           "|---|---|---|---|---|---|---|---|"]
    groups = defaultdict(list)
    for r in rows:
        groups[r[by]].append(r)
    for key in sorted(groups) + ["all"]:
        rs = rows if key == "all" else groups[key]
        # a line whose level jumps is a harder case than the calls: shown in its own row only
        never = [r for r in rs if r["kind"] != "grows_upset" and (r["kind"] != "line_jump" or key == "line_jump")]
        c = cue_cells(rs)
        out.append(f"| {key} | {_pct(sum(not r['false_upset'] for r in never), len(never))} | {c['upset']} | {c['calmer']} "
                   f"| {_pct(sum(r['lower_tone_ok'] for r in rs), len(rs))} | {c['talkovers']} | {c['party']} | {c['keep']} |")
    return out


def _span(v: list[float]) -> str:
    return f"{v[0]:.1f}–{v[-1]:.1f} s" if v else "–"


def cue_cells(rs: list[dict]) -> dict[str, str]:
    """A table row's cells for a group of judged calls: upset and calmer in time (with their latencies), talk-overs'
    precision / recall, the right party, keep_listening in time."""
    upset = [r for r in rs if r["kind"] == "grows_upset"]
    lat = sorted(r["upset_after_s"] for r in upset if r["upset_after_s"] is not None)
    calm = sorted(r["calmer_after_s"] for r in upset if r["calmer_after_s"] is not None)
    found = sum(r["talkovers_found"] for r in rs)
    true = sum(r["talkovers_true"] for r in rs)
    matched = sum(r["talkovers_matched"] for r in rs)
    wrong = sum(len(r["talkovers_wrong_party"]) for r in rs)
    missed_keep = sum(len(r["keep_listening_missed"]) for r in rs)
    agent_true = sum(1 for r in rs if r["kind"] == "talkovers") * 3
    return {"upset": f"{_pct(sum(r['upset_ok'] for r in upset), len(upset))} ({_span(lat)})",
            "calmer": f"{_pct(sum(r['calmer_ok'] for r in upset), len(upset))} ({_span(calm)})",
            "talkovers": f"{matched / found if found else 1:.2f} / {matched / true if true else 1:.2f}",
            "party": _pct(matched, matched + wrong),
            "keep": _pct(agent_true - missed_keep, agent_true)}


def report(rows: list[dict], title: str) -> str:
    lines = [f"### {title}", ""]
    for by in ("kind", "customer", "agent", "line"):
        lines += table(rows, by) + [""]
    bad = [r for r in rows if not (r["upset_ok"] and r["calmer_ok"] and r["lower_tone_ok"] and r["talkovers_ok"])]
    lines.append(f"{len(rows) - len(bad)}/{len(rows)} calls with every cue right.")
    return "\n".join(lines)


def misses(rows: list[dict]) -> None:
    for r in rows:
        problems = []
        if not r["upset_ok"]:
            problems.append(f"upset after {r.get('upset_after_s')} false {r['false_upset']}")
        if not r["calmer_ok"]:
            problems.append(f"calmer after {r.get('calmer_after_s')} false {r['false_calmer']}")
        if not r["lower_tone_ok"]:
            problems.append(f"lower_tone after {r.get('lower_tone_after_s')} false {r['false_lower_tone']}")
        if not r["talkovers_ok"]:
            problems.append(f"talk-overs {r['talkovers_matched']}/{r['talkovers_true']} found {r['talkovers_found']} "
                            f"wrong {r['talkovers_wrong_party']} extra {r['talkovers_extra']} "
                            f"keep_listening missed {r['keep_listening_missed']}")
        if problems:
            print(f"BAD {r['name']}: {'; '.join(problems)}  states {r['states']}")


# ---------------------------------------------------------------- leave one speaker out

# [customer] overrides tried when fitting: the level spread's ceiling (how high a varied voice's loudness line
# may go) and how many pitch spreads make "higher"
GRID: list[dict] = [dict(loudness_spread_most_db=most, pitch_z=z) for most in (2.5, 3.0, 3.5) for z in (1.5, 2.0)]


def _score(rows: list[dict]) -> tuple:
    """False upsets on calls whose customer never gets upset first (the cue that gets a coach switched off),
    then late or missed cues, then total latency (lower is better)."""
    false = sum(bool(r["false_upset"]) for r in rows if r["kind"] not in ("grows_upset", "line_jump"))
    bad = sum(not r["upset_ok"] for r in rows if r["kind"] == "grows_upset") + sum(not r["calmer_ok"] for r in rows)
    lat = sum((r.get("upset_after_s") or 99) + (r.get("calmer_after_s") or 99) / 5 for r in rows if r["kind"] == "grows_upset")
    return false, bad, lat


def fit(made: list[tuple[Path, rv.Truth]], workers: int) -> list[dict]:
    """Leave one customer out: the GRID point best on the others, judged on the held-out customer."""
    mood = [m for m in made if m[1].kind in ("grows_upset", "calm", "agent_raised", "talkovers")]
    per_point = {i: run(mood, point, workers) for i, point in enumerate(GRID)}
    held_out = []
    for customer in sorted({t.customer for _, t in mood}):
        scores = {i: _score([r for r in rows if r["customer"] != customer]) for i, rows in per_point.items()}
        best = min(scores, key=lambda i: scores[i])
        print(f"held out {customer}: fitted {GRID[best]} on the others (false upsets, misses, latency) {scores[best]}")
        held_out += [r for r in per_point[best] if r["customer"] == customer]
    return held_out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="one agent per engine family, two lines")
    parser.add_argument("--customers", nargs="*", default=list(rv.CUSTOMERS))
    parser.add_argument("--agents", nargs="*", default=list(rv.AGENTS))
    parser.add_argument("--lines", nargs="*", default=list(rv.LINES))
    parser.add_argument("--kinds", nargs="*", default=None)
    parser.add_argument("--held-out", action="store_true",
                        help="the recordings' other speakers as customers (kinds: calm, grows_upset, talkovers, "
                             "line_jump unless --kinds says)")
    parser.add_argument("--with-customers", action="store_true",
                        help="with --held-out: the usual customers' calls too (for --fit over everyone)")
    parser.add_argument("--fit", action="store_true", help="leave one customer out over GRID")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--misses", action="store_true", help="print every call with a cue wrong")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="[customer] overrides, e.g. pitch_z=2")
    parser.add_argument("--raised", metavar="DB,SEMITONES,TEMPO",
                        help="another raised voice than the corpus's (8,4,1.25), e.g. 6,3,1.15: the cues must not "
                             "hold only for one recipe (rendered into its own folder)")
    args = parser.parse_args()
    overrides = {k: float(v) for k, v in (item.split("=", 1) for item in args.set)}
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("REAL_VOICES_CACHE", str(OUT / "cache"))
    out = OUT
    if args.raised:
        gain, semitones, tempo = (float(x) for x in args.raised.split(","))
        rv.RAISED = dict(gain_db=gain, semitones=semitones, tempo=tempo)  # read by the scenarios as they build calls
        out = OUT / f"raised_{gain:g}dB_{semitones:g}st_{tempo:g}x"
    began = time.time()
    if args.held_out:
        others = rv.other_speakers(OUT / "cache", HELD_OUT_MIN_S)
        kinds = args.kinds or list(HELD_OUT_KINDS)
        calls = held_out_calls(others, args.agents, args.lines, kinds, OUT / "cache")
        if args.with_customers:
            calls = rv.corpus(args.customers, args.agents, args.lines, kinds, cache=OUT / "cache") + calls
        print(f"held-out customers: {', '.join(others)}", flush=True)
    else:
        calls = rv.corpus(args.customers, args.agents, args.lines, args.kinds or list(rv.SCENARIOS), cache=OUT / "cache")
    made = render_all(calls, out, OUT / "cache")
    print(f"{len(made)} calls rendered in {time.time() - began:.0f} s", flush=True)
    rows = run(made, overrides, args.workers)
    if args.misses:
        misses(rows)
    print(report(rows, f"{'Default constants' if not overrides else overrides}, every call"))
    if args.fit and GRID:
        print(report(fit(made, args.workers), "Leave one customer out: each customer judged with constants fitted "
                                              "on the other three"))
    hours = sum(t.duration_s for _, t in made) / 3600
    print(f"\n{len(made)} calls, {hours:.1f} h of audio, {time.time() - began:.0f} s on {platform.node()} "
          f"({platform.machine()}, {os.cpu_count()} cores), {datetime.date.today()}")
    (out / ("real_voice_accuracy_held_out.json" if args.held_out else "real_voice_accuracy.json")).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
