"""Fit and judge the acoustic pace's one constant, `[pace] syllables_per_word`, leave-one-engine-out.

Every clip of the labelled multi-voice corpus (tests/pace_corpus.py: espeak-ng and festival voices and
Piper's neural voice, 110-260 words/min, headset and phone lines, with and without office noise) goes
through the real pipeline as a two-channel call; what the monitor counts is kept: syllable nuclei and
the agent's speaking time. Words per minute = nuclei / syllables_per_word / speaking time.

The constant is fitted per engine (median nuclei per true word) and each engine is measured with the
constant fitted on the OTHER engines (the mean of their fits), so no voice is judged with a number its
own engine helped make. The value shipped is the mean of all the engines' fits, so no engine's voices
outweigh another's. Prints a Markdown table per voice (for docs/coaching.md), each held-out engine's
median absolute error and its worst voice against the goals (10 %, 15 %), and the fitted value.

A held-out engine (`--held-out flite,kokoro`: tests/held_out_engines.py) is measured only, never fitted
on: with the shipped constant (`[pace] syllables_per_word`) and, where the fitted engines were measured too, the
mean of their fits; per voice its error, and what it is made of (nuclei per true word, the pipeline's speaking
time against the truth's, the nuclei per word under each smoothing), overall and by true pace.

Run by hand:  python bench/pace_fit.py [--engines espeak,festival,piper] [--held-out flite,kokoro]
(about 5 minutes on 2 cores once the corpus is cached in bench/out/pace_corpus; making it takes about an
hour, mostly Piper and festival), or on the clips already made, e.g. the tests' own:
              python bench/pace_fit.py --made ~/.cache/call-companion-tests/pace_corpus bench/out/pace_corpus
or a held-out engine alone (made where missing; about 8 minutes for flite's 240 clips on one core):
              python bench/pace_fit.py --engines "" --held-out flite --workers 1
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import platform
import statistics
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests import held_out_engines  # noqa: E402
from tests.pace_corpus import ENGINES, Clip, as_call, corpus  # noqa: E402

BANDS = ((100, 125), (125, 155), (155, 185), (185, 215), (215, 245), (245, 280))  # true words/min

GOAL_MEDIAN, GOAL_WORST_VOICE = 10.0, 15.0  # per cent, on each held-out engine


def agent_ledger(clip: Clip) -> tuple[Any, Any]:
    """(the default coaching config, the agent's speech ledger) after the monitor has heard the clip as a call's agent
    (no transcriber), as `companion analyze --model none` does."""
    from companion.audio.file_source import CallFileSpec, FileCallSource
    from companion.config import load_config
    from companion.monitor.call_monitor import CallMonitor

    config = load_config(use_user_default=False)
    monitor = CallMonitor(config)
    with tempfile.TemporaryDirectory() as tmp:
        for block in FileCallSource(CallFileSpec(as_call(clip, Path(tmp) / "call.wav")), config.audio).blocks():
            monitor.process(block)
        monitor.finish()
    return config, monitor.ledger["agent"]


def count(clip: Clip) -> dict:
    """Nuclei and speaking time the monitor finds in one clip (no transcriber), and each detector's count."""
    config, ledger = agent_ledger(clip)
    speech = ledger.total_speech_s
    try:  # as the monitor reads it: under the smoothing matched to the clip's rate, interpolated
        from companion.monitor.pace import matched_units
        nuclei = matched_units(ledger.total_units, speech, config.pace, config.pace.syllables_per_word)[0]
    except ImportError:  # an estimator from before 2026-12 (one detector, the nearest), to compare with
        from companion.monitor.pace import BASE_KIND, matched_kind
        nuclei = ledger.total_units(matched_kind(ledger.total_units(BASE_KIND) / speech, config.pace))
    try:
        from companion.monitor.pace import smoothings, unit_kind
        by_kind = {f"{taps * 10}ms": ledger.total_units(unit_kind(taps, config.pace)) for taps in smoothings(config.pace)}
    except ImportError:
        by_kind = {}
    return {"engine": clip.engine, "voice": clip.voice, "line": clip.line, "noise": clip.noise, "words": clip.words,
            "true_wpm": clip.true_wpm, "nuclei": nuclei, "speech_s": speech, "text_id": clip.text_id,
            "target_wpm": clip.target_wpm, "true_speech_s": clip.speaking_s, "by_kind": by_kind}


def made_clips(folders: list[Path], engines: tuple[str, ...]) -> list[Clip]:
    """Every clip of these engines whose audio and truth are in one of these corpus caches, each sound once
    (a clip kept under two keys — the same voice, passage, aim and line — counts once)."""
    found: dict[tuple, Clip] = {}
    for folder in folders:
        for meta in sorted(Path(folder).glob("*.json")):
            try:
                clip = Clip.from_json(json.loads(meta.read_text()))
            except (ValueError, KeyError, TypeError):
                continue
            clip = dataclasses.replace(clip, path=meta.with_suffix(".wav"))
            if clip.engine in engines and clip.path.exists():
                found.setdefault((clip.engine, clip.voice, clip.text_id, clip.target_wpm, clip.line, clip.noise), clip)
    return list(found.values())


def errors(rows: list[dict], spw: float) -> list[float]:
    return [100.0 * (r["nuclei"] / spw / r["speech_s"] * 60.0 - r["true_wpm"]) / r["true_wpm"] for r in rows]


def fit(rows: list[dict]) -> float:
    return statistics.median(r["nuclei"] / r["words"] for r in rows)


def held_out(fits: dict[str, float], engine: str) -> float:
    """The constant `engine` is judged with: the mean of the other engines' fits."""
    return statistics.mean(v for e, v in fits.items() if e != engine)


def voice_errors(rows: list[dict], fits: dict[str, float]) -> dict[tuple[str, str], list[float]]:
    """Per (engine, voice): each clip's error with the constant fitted on the other engines."""
    out: dict[tuple[str, str], list[float]] = {}
    for engine in sorted(fits):
        for voice in sorted({r["voice"] for r in rows if r["engine"] == engine}):
            out[(engine, voice)] = errors([r for r in rows if r["engine"] == engine and r["voice"] == voice],
                                          held_out(fits, engine))
    return out


def table(rows: list[dict], fits: dict[str, float]) -> list[str]:
    """Per voice, measured with the constant fitted on the OTHER engines."""
    out = ["| engine | voice | clips | median error | median abs. error | worst abs. error |", "|---|---|---|---|---|---|"]
    for (engine, voice), err in voice_errors(rows, fits).items():
        out.append(f"| {engine} | {voice} | {len(err)} | {statistics.median(err):+.1f} % | "
                   f"{statistics.median(abs(e) for e in err):.1f} % | {max(abs(e) for e in err):.1f} % |")
    return out


def shipped_spw() -> float:
    from companion.config import load_config

    return float(load_config(use_user_default=False).pace.syllables_per_word)


def held_out_report(rows: list[dict], fits: dict[str, float]) -> None:
    """The held-out engines' clips: measured with the shipped constant (and the fitted engines' mean), never fitted."""
    spw = shipped_spw()
    consts = [("shipped", spw)] + ([("fitted engines' mean", statistics.mean(fits.values()))] if fits else [])
    for engine in sorted({r["engine"] for r in rows}):
        mine = [r for r in rows if r["engine"] == engine]
        print(f"\nHeld out, never fitted on: {engine}, {len(mine)} clips; "
              + "; ".join(f"{name} {value:.3f}" for name, value in consts) + "\n")
        print("| voice | clips | true pace | " + " | ".join(f"{n}: median error | median abs. error | worst clip"
                                                             for n, _ in consts) + " |")
        print("|---|---|---|" + "---|---|---|" * len(consts))
        groups = {v: [r for r in mine if r["voice"] == v] for v in sorted({r["voice"] for r in mine})} | {"all": mine}
        for voice, sel in groups.items():
            cells = []
            for _, value in consts:
                err = errors(sel, value)
                worst = max(range(len(err)), key=lambda i: abs(err[i]))
                w = sel[worst]
                cells.append(f"{statistics.median(err):+.1f} % | {statistics.median(abs(e) for e in err):.1f} % | "
                             f"{err[worst]:+.1f} % ({w['text_id']} {w['true_wpm']:.0f} {w['line']}"
                             f"{' +noise' if w['noise'] else ''})")
            paces = [r["true_wpm"] for r in sel]
            print(f"| {voice} | {len(sel)} | {min(paces):.0f}–{max(paces):.0f} | " + " | ".join(cells) + " |")
        print(f"\nWhat the error is made of (median per voice): nuclei per true word (shipped {spw}), the pipeline's "
              "speaking time against the truth's, and nuclei per true word under each smoothing:\n")
        kinds = list(mine[0].get("by_kind", {}))
        print("| voice | nuclei/word | speaking time | " + " | ".join(kinds) + " |")
        print("|---|---|---|" + "---|" * len(kinds))
        for voice, sel in groups.items():
            npw = statistics.median(r["nuclei"] / r["words"] for r in sel)
            sp = statistics.median(100.0 * (r["speech_s"] - r["true_speech_s"]) / r["true_speech_s"] for r in sel)
            per_kind = [f"{statistics.median(r['by_kind'][k] / r['words'] for r in sel):.2f}" for k in kinds]
            print(f"| {voice} | {npw:.3f} | {sp:+.1f} % | " + " | ".join(per_kind) + " |")
        print(f"\nMedian error by true pace, shipped {spw} (" + " / ".join(f"{a}–{b}" for a, b in BANDS) + "):\n")
        for voice, sel in groups.items():
            cells = []
            for a, b in BANDS:
                band = [r for r in sel if a <= r["true_wpm"] < b]
                cells.append(f"{statistics.median(errors(band, spw)):+.0f}" if band else "–")
            print(f"- {voice}: " + "/".join(cells) + " %")
        for line in ("headset", "phone"):
            for noise in (False, True):
                sel = [r for r in mine if r["line"] == line and r["noise"] == noise]
                if sel:
                    err = errors(sel, spw)
                    print(f"- {line}{' +noise' if noise else ''}: median {statistics.median(err):+.1f} %, "
                          f"median abs. {statistics.median(abs(e) for e in err):.1f} %, worst {max(err, key=abs):+.1f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default=",".join(ENGINES),
                        help="comma-separated, at least two (or none: \"\", with --held-out)")
    parser.add_argument("--held-out", default="", help="comma-separated engines measured only, never fitted on (flite, kokoro)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "pace_fit.json", help="per-clip counts")
    parser.add_argument("--made", type=Path, nargs="+", metavar="DIR",
                        help="measure the clips already made in these corpus caches (e.g. the tests' cache, "
                             "~/.cache/call-companion-tests/pace_corpus) instead of making the full corpus")
    args = parser.parse_args()
    engines = tuple(e for e in args.engines.split(",") if e)
    held = tuple(e for e in args.held_out.split(",") if e)
    if set(engines) & set(held):
        parser.error("an engine is either fitted on or held out")
    if args.made:
        clips = made_clips(args.made, engines + held)
        print(f"measuring the {len(clips)} clips already made in {', '.join(map(str, args.made))}")
    else:
        cache = HERE / "out" / "pace_corpus"
        fitted = tuple(e for e in engines + held if e not in held_out_engines.HELD_OUT)
        clips = ((corpus(cache, engines=fitted, workers=args.workers) if fitted else [])
                 + held_out_engines.corpus(engines + held, cache, workers=args.workers))
    with ProcessPoolExecutor(args.workers) as pool:
        every = list(pool.map(count, clips, chunksize=4))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(every))
    rows = [r for r in every if r["engine"] not in held]
    fits = {engine: fit([r for r in rows if r["engine"] == engine]) for engine in sorted({r["engine"] for r in rows})}
    if held:
        held_out_report([r for r in every if r["engine"] in held], fits)
    if len(fits) < 2:
        return
    shipped = round(statistics.mean(fits.values()), 2)
    print(f"# pace fit, {datetime.date.today()}, {platform.node()} ({platform.processor() or platform.machine()})")
    print(f"{len(rows)} clips; nuclei per word fitted per engine: "
          + ", ".join(f"{e} {v:.3f}" for e, v in fits.items()) + f"; shipped value {shipped}\n")
    print("Leave one engine out (each voice measured with the mean of the constants fitted on the other engines):\n")
    print("\n".join(table(rows, fits)))
    per_voice = voice_errors(rows, fits)
    met = True
    for engine in fits:
        err = errors([r for r in rows if r["engine"] == engine], held_out(fits, engine))
        median = statistics.median(abs(e) for e in err)
        worst_voice, worst = max(((v, statistics.median(abs(e) for e in x)) for (g, v), x in per_voice.items()
                                  if g == engine), key=lambda vx: vx[1])
        met = met and median <= GOAL_MEDIAN and worst <= GOAL_WORST_VOICE
        others = "+".join(e for e in fits if e != engine)
        print(f"\n{engine}, fitted on {others} ({held_out(fits, engine):.3f}): median abs. error {median:.1f} %, "
              f"worst voice {worst_voice} {worst:.1f} %")
    print(f"\nGoals (median abs. error <= {GOAL_MEDIAN:.0f} %, worst voice <= {GOAL_WORST_VOICE:.0f} % on every "
          f"held-out engine): {'met' if met else 'NOT met'}")
    everything = errors(rows, shipped)
    print(f"\nAll clips with the shipped value {shipped}: median abs. error "
          f"{statistics.median(abs(e) for e in everything):.1f} %, worst {max(abs(e) for e in everything):.1f} %")
    bands = BANDS
    print("\nMedian error by true pace, shipped value:\n\n| engine | " + " | ".join(f"{a}-{b}" for a, b in bands) + " |")
    print("|---|" + "---|" * len(bands))
    for engine in fits:
        cells = []
        for a, b in bands:
            sel = [r for r in rows if r["engine"] == engine and a <= r["true_wpm"] < b]
            cells.append(f"{statistics.median(errors(sel, shipped)):+.0f} %" if sel else "–")
        print(f"| {engine} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
