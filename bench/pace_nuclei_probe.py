"""Where a voice's fast passages lose syllable nuclei: in the detector (fast syllables merged under the envelope's
smoothing) or in the voice itself (a fast voice says fewer, shorter, run-together syllables)?

For every voice of the labelled pace corpus (tests/pace_corpus.py) that has a passage on a clean headset both at
~140 words/min and at a fast aim (200, 210 or 230), three clips go through the real pipeline as
`companion analyze --model none` hears them (bench/pace_fit.py's `count`):

- `calm`: the ~140 render;
- `tempo`: that calm render sped up by sox `tempo` (WSOLA: every syllable kept, each one shortened) to the fast
  render's pace; its truth is measured again on the sped-up audio (the corpus's speaking time, words unchanged);
- `fast`: the voice's own fast render of the same passage.

Each is counted as nuclei per dictionary syllable of the passage (vowel groups of espeak-ng's IPA for the text: a
rough count, the same for every voice, so voices compare on one passage) under each detector the monitor runs
(20-80 ms of smoothing), and as the pace the monitor reads (the matched detector, `[pace] syllables_per_word`).
If the detector merged fast syllables, `tempo` would lose as many nuclei as `fast`; where `fast` holds fewer
nuclei than `tempo` under the same smoothing, the voice itself said fewer.

Run by hand:  python bench/pace_nuclei_probe.py [--engines piper espeak festival] [--workers 2]
(the clips already made in bench/out/pace_corpus and the tests' cache; `--synthesize` makes the ~140 render
of one passage for each voice that lacks a pair: about 10 syntheses, a few minutes)
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.pace_fit import agent_ledger, made_clips  # noqa: E402
from tests.pace_corpus import ENGINES, TEXTS, VOICES, Clip, Job, make, speaking_time  # noqa: E402

FAST_AIMS = (210, 200, 230)  # the fast render compared, first one found
IPA_VOWELS = re.compile(r"[aeiouæɑɒɔəɛɜɪʊʌɐᵻɚɝ]+[ːˑ]?")


def dictionary_syllables(text_id: str) -> int:
    """Vowel groups in espeak-ng's IPA for the passage: a rough syllable count, the same for every voice."""
    ipa = subprocess.run(["espeak-ng", "-q", "--ipa", TEXTS[text_id]], capture_output=True, text=True,
                         check=True).stdout
    return len(IPA_VOWELS.findall(ipa))


def sped_up(calm: Clip, true_wpm: float, folder: Path) -> Clip:
    """The calm clip sped up by sox tempo to about `true_wpm`, with its truth measured again."""
    import soundfile as sf

    out = folder / f"{calm.path.stem}.tempo.wav"
    factor = true_wpm / calm.true_wpm
    for _ in range(4):  # the truth bridges pauses under 0.5 s, so the pace reached is measured and the factor corrected
        subprocess.run(["sox", str(calm.path), str(out), "tempo", "-s", f"{factor:.4f}"], check=True)
        audio, rate = sf.read(str(out), dtype="float32")
        speaking = speaking_time(audio, rate)
        reached = calm.words / speaking * 60.0
        if abs(reached / true_wpm - 1.0) <= 0.015:
            break
        factor *= true_wpm / reached
    return dataclasses.replace(calm, path=out, speaking_s=round(speaking, 2), true_wpm=round(reached, 2),
                               duration_s=len(audio) / rate, setting=f"{calm.setting}, sox tempo {factor:.3f}")


def counts(clip: Clip) -> dict:
    """Nuclei per detector, the matched count and the speaking time the monitor finds in one clip."""
    from companion.monitor.pace import matched_units, smoothings, unit_kind

    config, ledger = agent_ledger(clip)
    speech = ledger.total_speech_s
    per_kind = {taps * 10: ledger.total_units(unit_kind(taps, config.pace)) for taps in smoothings(config.pace)}
    matched = matched_units(ledger.total_units, speech, config.pace, config.pace.syllables_per_word)[0]
    wpm = matched / config.pace.syllables_per_word / speech * 60.0
    return {"per_kind": per_kind, "matched": matched, "speech_s": speech, "wpm": wpm, "true_wpm": clip.true_wpm}


CACHES = (HERE / "out" / "pace_corpus", Path.home() / ".cache/call-companion-tests/pace_corpus")
CLEAN = (("headset", False),)


def pairs(engines: tuple[str, ...], synthesize: bool = False, workers: int = 2) -> list[tuple[Clip, Clip]]:
    """(calm ~140, fast) clean headset renders of one voice and passage, from the clips already made; with
    `synthesize`, each voice that has none gets the ~140 render of one passage it has a fast render of (made into
    bench/out/pace_corpus, as the other benches make theirs)."""
    clips = [c for c in made_clips(list(CACHES), engines) if c.line == "headset" and not c.noise]
    by = {(c.engine, c.voice, c.text_id, c.target_wpm): c for c in clips}
    if synthesize:
        jobs = []
        for voice in (v for v in VOICES if v.engine in engines):
            have = {t for (e, v, t, a) in by if (e, v) == (voice.engine, voice.name) and a in FAST_AIMS}
            if have and not any((voice.engine, voice.name, t, 140) in by for t in have):
                jobs.append(Job(voice, sorted(have)[0], 140, CLEAN))
        for c in make(CACHES[0], jobs, workers):
            by[(c.engine, c.voice, c.text_id, c.target_wpm)] = c
    out = []
    for (engine, voice, text_id, aim), calm in sorted(by.items()):
        if aim != 140:
            continue
        fast = next((by[(engine, voice, text_id, a)] for a in FAST_AIMS if (engine, voice, text_id, a) in by), None)
        if fast is not None:
            out.append((calm, fast))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", nargs="*", default=list(ENGINES))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--synthesize", action="store_true",
                        help="make a ~140 render for each voice that has no calm and fast render of one passage")
    args = parser.parse_args()
    todo = pairs(tuple(args.engines), args.synthesize, args.workers)
    syllables = {text_id: dictionary_syllables(text_id) for text_id in {c.text_id for c, _ in todo}}
    with tempfile.TemporaryDirectory(prefix="nuclei_probe_") as tmp:
        tempo = [sped_up(calm, fast.true_wpm, Path(tmp)) for calm, fast in todo]
        clips = [clip for (calm, fast), t in zip(todo, tempo) for clip in (calm, t, fast)]
        with ProcessPoolExecutor(args.workers) as pool:
            found = list(pool.map(counts, clips))
    kinds = sorted(found[0]["per_kind"]) if found else []
    print(f"# where fast nuclei go, {datetime.date.today()}, {platform.node()} ({os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}); {len(todo)} passages\n")
    print("Nuclei per dictionary syllable under each smoothing; the pace read (matched detector) against the truth.\n")
    print("| engine | voice | passage | clip | true pace | " + " | ".join(f"{k} ms" for k in kinds)
          + " | read | error |")
    print("|---|---|---|---|---|" + "---|" * len(kinds) + "---|---|")
    ratio = defaultdict(list)  # (engine, smoothing) -> fast / tempo nuclei
    for i, (calm, _fast) in enumerate(todo):
        syl = syllables[calm.text_id]
        for name, doc in zip(("calm", "tempo", "fast"), found[3 * i: 3 * i + 3]):
            cells = " | ".join(f"{doc['per_kind'][k] / syl:.2f}" for k in kinds)
            print(f"| {calm.engine} | {calm.voice} | {calm.text_id} | {name} | {doc['true_wpm']:.0f} | {cells} | "
                  f"{doc['wpm']:.0f} | {100.0 * (doc['wpm'] / doc['true_wpm'] - 1.0):+.0f} % |")
        tempo_doc, fast_doc = found[3 * i + 1], found[3 * i + 2]
        for k in kinds:
            if tempo_doc["per_kind"][k]:
                ratio[(calm.engine, k)].append(fast_doc["per_kind"][k] / tempo_doc["per_kind"][k])
    print("\nThe voice's own fast render against its calm render sped up to the same pace (median ratio of nuclei; "
          "below 1: the fast voice says fewer than the detector finds in the same syllables shortened):\n")
    print("| engine | passages | " + " | ".join(f"{k} ms" for k in kinds) + " |")
    print("|---|---|" + "---|" * len(kinds))
    for engine in sorted({e for e, _ in ratio}):
        n = len(ratio[(engine, kinds[0])])
        print(f"| {engine} | {n} | " + " | ".join(f"{statistics.median(ratio[(engine, k)]):.2f}" for k in kinds) + " |")


if __name__ == "__main__":
    main()
