"""Fit and judge the acoustic pace's one constant, `[pace] syllables_per_word`, leave-one-engine-out.

Every clip of the labelled multi-voice corpus (tests/pace_corpus.py: espeak-ng and festival voices,
110-260 words/min, headset and phone lines, with and without office noise) goes through the real
pipeline as a two-channel call; what the monitor counts is kept: syllable nuclei and the agent's
speaking time. Words per minute = nuclei / syllables_per_word / speaking time.

The constant is fitted on one engine (median nuclei per true word) and the error measured on the
other, both ways; the value shipped is the mean of the two engines' fits, so neither engine's voices
outweigh the other's. Prints a Markdown table per voice (for docs/coaching.md) and the fitted value.

Run by hand:  python bench/pace_fit.py   (about 2 minutes on 2 cores once the corpus is cached)
"""

from __future__ import annotations

import datetime
import json
import platform
import statistics
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.pace_corpus import Clip, as_call, corpus  # noqa: E402


def count(clip: Clip) -> dict:
    """Nuclei and speaking time the monitor finds in one clip (no transcriber)."""
    from companion.audio.file_source import CallFileSpec, FileCallSource
    from companion.config import load_config
    from companion.monitor.call_monitor import CallMonitor

    config = load_config(use_user_default=False)
    monitor = CallMonitor(config)
    with tempfile.TemporaryDirectory() as tmp:
        for block in FileCallSource(CallFileSpec(as_call(clip, Path(tmp) / "call.wav")), config.audio).blocks():
            monitor.process(block)
        monitor.finish()
    from companion.monitor.pace import BASE_KIND, matched_kind

    ledger = monitor.ledger["agent"]
    speech = ledger.total_speech_s
    matched = matched_kind(ledger.total_units(BASE_KIND) / speech, config.pace)  # as the monitor reads it
    return {"engine": clip.engine, "voice": clip.voice, "line": clip.line, "noise": clip.noise, "words": clip.words,
            "true_wpm": clip.true_wpm, "nuclei": ledger.total_units(matched), "speech_s": speech}


def errors(rows: list[dict], spw: float) -> list[float]:
    return [100.0 * (r["nuclei"] / spw / r["speech_s"] * 60.0 - r["true_wpm"]) / r["true_wpm"] for r in rows]


def fit(rows: list[dict]) -> float:
    return statistics.median(r["nuclei"] / r["words"] for r in rows)


def table(rows: list[dict], fits: dict[str, float]) -> list[str]:
    """Per voice, measured with the constant fitted on the OTHER engine."""
    out = ["| engine | voice | clips | median error | median abs. error | worst abs. error |", "|---|---|---|---|---|---|"]
    for engine in sorted(fits):
        other = next(e for e in fits if e != engine)
        for voice in sorted({r["voice"] for r in rows if r["engine"] == engine}):
            err = errors([r for r in rows if r["engine"] == engine and r["voice"] == voice], fits[other])
            out.append(f"| {engine} | {voice} | {len(err)} | {statistics.median(err):+.1f} % | "
                       f"{statistics.median(abs(e) for e in err):.1f} % | {max(abs(e) for e in err):.1f} % |")
    return out


def main() -> None:
    clips = corpus(HERE / "out" / "pace_corpus")
    with ProcessPoolExecutor(2) as pool:
        rows = list(pool.map(count, clips, chunksize=4))
    (HERE / "out" / "pace_fit.json").write_text(json.dumps(rows))
    fits = {engine: fit([r for r in rows if r["engine"] == engine]) for engine in sorted({r["engine"] for r in rows})}
    shipped = round(statistics.mean(fits.values()), 2)
    print(f"# pace fit, {datetime.date.today()}, {platform.node()} ({platform.processor() or platform.machine()})")
    print(f"{len(rows)} clips; nuclei per word fitted per engine: "
          + ", ".join(f"{e} {v:.3f}" for e, v in fits.items()) + f"; shipped value {shipped}\n")
    print("Leave one engine out (each voice measured with the constant fitted on the other engine):\n")
    print("\n".join(table(rows, fits)))
    for engine in fits:
        other = next(e for e in fits if e != engine)
        err = errors([r for r in rows if r["engine"] == engine], fits[other])
        print(f"\n{engine}, fitted on {other}: median abs. error {statistics.median(abs(e) for e in err):.1f} %")
    everything = errors(rows, shipped)
    print(f"\nAll clips with the shipped value {shipped}: median abs. error "
          f"{statistics.median(abs(e) for e in everything):.1f} %, worst {max(abs(e) for e in everything):.1f} %")
    bands = ((100, 125), (125, 155), (155, 185), (185, 215), (215, 245), (245, 280))
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
