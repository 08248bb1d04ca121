"""The per-cue table on calls whose customers are real people from OTHER sources than the meeting
recordings (tests/other_voices.py: a man speaking freely into a desk microphone, a LibriVox reader, a
Swedish read-speech speaker, and three professional IVR voices in US English, Russian and Italian),
judged with the SHIPPED constants: none of them was fitted on these people.

The calls are tests/real_voices.py's (a calm customer; one who grows upset — their own speech, +8 dB,
+4 semitones, 1.25x faster — and calms down; talk-overs both ways; a line whose level jumps 10 dB under a
calm customer) for every customer, agent and line, through `companion.analysis.analyze_call` with the
default coaching config and no transcriber, as `companion analyze CALL.wav --json --model none`; judged
exactly as bench/real_voice_accuracy.py judges (its `run`, tests/real_voices.py `judge`).

Speakers with little speech (M_nst_sv 18 s, M_librivox_en 24 s) repeat their sentences within a call, as
bench/real_voice_accuracy.py --held-out's customers do.

Run by hand:  python bench/other_voices_accuracy.py [--quick] [--customers ...] [--agents ...] [--lines ...]
              [--kinds ...] [--misses] [--workers N]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import real_voice_accuracy as rva  # noqa: E402

from tests import other_voices as ov  # noqa: E402
from tests import real_voices as rv  # noqa: E402

OUT = HERE / "out" / "other_voices"
QUICK_AGENTS = ["piper:joe", "espeak:en-us"]


def calls(voices: ov.OtherVoices, customers, agents, lines, kinds) -> list[rv.Call]:
    out = []
    for kind in kinds:
        for customer in customers:
            for agent in agents:
                out += [voices.call(kind, customer, agent, line) for line in lines]
    return out


def render_all(voices: ov.OtherVoices, made_calls: list[rv.Call]) -> list[tuple[Path, rv.Truth]]:
    """As bench/real_voice_accuracy.py renders (a line jump too short for its second step keeps the first),
    each customer's calls into their own folder."""
    made = []
    for customer in dict.fromkeys(c.customer for c in made_calls):
        work = voices.work(customer)
        with voices.added((customer,)):
            made += rva.render_all([c for c in made_calls if c.customer == customer], work, work / "cache")
    return made


def table(rows: list[dict], by) -> list[str]:
    """One line per group: the cues a new customer is judged on, each in its own column."""
    out = [f"| {by if isinstance(by, str) else ' / '.join(by)} | no customer_upset: calm, talk-over calls "
           "| line jump not called upset | upset within 6 s (latency) | calmer within 30 s (latency) "
           "| talk-overs P / R | right party | keep_listening ≤ 3 s | no lower_tone |",
           "|---|---|---|---|---|---|---|---|---|"]
    key = (lambda r: r[by]) if isinstance(by, str) else (lambda r: " ".join(r[b] for b in by))
    groups = defaultdict(list)
    for r in rows:
        groups[key(r)].append(r)
    for name in sorted(groups) + ["all"]:
        rs = rows if name == "all" else groups[name]
        never = [r for r in rs if r["kind"] in ("calm", "talkovers")]
        jump = [r for r in rs if r["kind"] == "line_jump"]
        c = rva.cue_cells(rs)
        out.append(
            f"| {name} | {rva._pct(sum(not r['false_upset'] for r in never), len(never))} "
            f"| {rva._pct(sum(not r['false_upset'] for r in jump), len(jump))} "
            f"| {c['upset']} | {c['calmer']} | {c['talkovers']} | {c['party']} | {c['keep']} "
            f"| {rva._pct(sum(not r['false_lower_tone'] for r in rs), len(rs))} |")
    return out


def _tree() -> str:
    """The commit the analysis runs on, and whether the app's code had uncommitted edits then."""
    git = lambda *a: subprocess.run(["git", *a], cwd=HERE.parent, capture_output=True, text=True).stdout.strip()  # noqa: E731
    edited = git("status", "--porcelain", "--", "companion", "resources")
    return git("rev-parse", "--short", "HEAD") + (" with uncommitted edits to companion/ or resources/" if edited else "")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help=f"agents {', '.join(QUICK_AGENTS)} only")
    parser.add_argument("--customers", nargs="*", default=list(ov.CUSTOMERS))
    parser.add_argument("--agents", nargs="*", default=list(rv.AGENTS))
    parser.add_argument("--lines", nargs="*", default=list(rv.LINES))
    parser.add_argument("--kinds", nargs="*", default=list(ov.KINDS))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--misses", action="store_true", help="print every call with a cue wrong")
    args = parser.parse_args()
    agents = QUICK_AGENTS if args.quick else args.agents
    OUT.mkdir(parents=True, exist_ok=True)
    began = time.time()
    voices = ov.OtherVoices(OUT / "cache", rv_cache=rva.OUT / "cache")
    for customer in args.customers:
        print(f"{customer}: {ov.SPEAKERS[customer].speech}; {voices.speech_s(customer):.0f} s of speech "
              f"({ov.SOURCES[ov.SPEAKERS[customer].source].spec})", flush=True)
    made = render_all(voices, calls(voices, args.customers, agents, args.lines, args.kinds))
    print(f"{len(made)} calls rendered in {time.time() - began:.0f} s", flush=True)
    head = _tree()   # what the analysis runs on (the shared tree may move while calls render)
    rows = rva.run(made, {}, args.workers)
    if args.misses:
        rva.misses(rows)
    print(f"\n### New customers (tests/other_voices.py), shipped constants, main {head}\n")
    for by in ("customer", "line", ("customer", "line"), "agent"):
        print("\n".join(table(rows, by)) + "\n")
    bad = [r for r in rows if not (r["upset_ok"] and r["calmer_ok"] and r["lower_tone_ok"] and r["talkovers_ok"])]
    print(f"{len(rows) - len(bad)}/{len(rows)} calls with every cue right.")
    hours = sum(t.duration_s for _, t in made) / 3600
    load = os.getloadavg()
    print(f"\n{len(made)} calls, {hours:.1f} h of audio, {time.time() - began:.0f} s on {platform.node()} "
          f"({platform.machine()}, {os.cpu_count()} cores, load {load[0]:.1f}), {datetime.date.today()}")
    (OUT / "other_voices_accuracy.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
