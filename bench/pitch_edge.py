"""The customer's mood near the edges of the speaking range: real customers' calm and upset calls with their voice
moved into the band where the spectrum stands in beside the pitch (`SPECTRUM_NEAR_EDGE_ST` in
companion/monitor/customer.py), analysed with the band and without it.

Each call of bench/out/real_voices (rendered by bench/real_voice_accuracy.py) of the customer named has its
customer's channel pitch-shifted by sox (`pitch CENTS`: the pitch moves, the tempo stays) and is analysed as
`companion analyze --json --model none` does, once with the shipped band and once with none. Printed per scenario:
on how many calls `customer_upset` fires, and the range of the baselines' pitch.

Run by hand:  python bench/pitch_edge.py FEO070 100      (her ~256 Hz moved up a semitone, into 267-300 Hz)
              python bench/pitch_edge.py MEE012 -200     (his ~101 Hz moved down two, into 85-95 Hz)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Optional

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

CALLS = HERE / "out" / "real_voices"
KINDS = ("calm", "grows_upset")


def shifted(wav: str, cents: int, out: Path) -> Path:
    """`wav` with its customer's channel (the right one) moved by `cents`, written to `out`."""
    stereo, rate = sf.read(wav, dtype="float64", always_2d=True)
    src, dst = out.with_suffix(".in.wav"), out.with_suffix(".shifted.wav")
    sf.write(str(src), stereo[:, 1].astype(np.float32), rate, subtype="FLOAT")
    subprocess.run(["sox", str(src), "-e", "floating-point", "-b", "32", str(dst), "pitch", str(cents)],
                   check=True, capture_output=True)
    moved = sf.read(str(dst), dtype="float64")[0]
    stereo[:, 1] = np.pad(moved, (0, max(0, stereo.shape[0] - moved.size)))[: stereo.shape[0]]
    sf.write(str(out), stereo.astype(np.float32), rate, subtype="FLOAT")
    return out


def one(job: tuple[str, int, float]) -> tuple[str, float, bool, Optional[float]]:
    """One call moved by `cents` and analysed with the band `edge` (semitones): (its name, the band, whether
    customer_upset fired, the baseline's pitch in Hz)."""
    wav, cents, edge = job
    from companion.analysis import analyze_call
    from companion.audio.file_source import CallFileSpec
    from companion.config import load_config
    from companion.monitor import customer

    customer.SPECTRUM_NEAR_EDGE_ST = edge
    baselines: list[Optional[float]] = []
    form = customer.CustomerMood._form_baseline

    def kept(mood: customer.CustomerMood) -> customer.Baseline:
        base = form(mood)
        baselines.append(None if base.pitch is None else customer.A4_HZ * 2.0 ** (base.pitch / 12.0))
        return base

    customer.CustomerMood._form_baseline = kept  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp:
        doc = analyze_call(CallFileSpec(shifted(wav, cents, Path(tmp) / "call.wav")), load_config(use_user_default=False))
    upset = any(p["kind"] == "customer_upset" for p in doc["prompts"])
    return Path(wav).name, edge, upset, baselines[0] if baselines else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("customer", help="a customer of bench/out/real_voices (FEO070, MEE012, ...)")
    parser.add_argument("cents", type=int, help="how far to move their voice (sox pitch, cents)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    from companion.monitor.customer import SPECTRUM_NEAR_EDGE_ST

    wavs = [str(p) for kind in KINDS for p in sorted(CALLS.glob(f"real_{kind}_c-{args.customer}_a-*.wav"))]
    if not wavs:
        raise SystemExit(f"no rendered calls of {args.customer}: run bench/real_voice_accuracy.py first")
    bands = (0.0, SPECTRUM_NEAR_EDGE_ST)
    with ProcessPoolExecutor(args.workers) as pool:
        rows = list(pool.map(one, [(w, args.cents, band) for w in wavs for band in bands]))
    print(f"{args.customer} moved {args.cents:+d} cents")
    print("| scenario | band (semitones) | calls | with customer_upset | baselines' pitch |")
    print("|---|---|---|---|---|")
    for kind in KINDS:
        for band in bands:
            sel = [r for r in rows if r[0].startswith(f"real_{kind}_") and r[1] == band]
            hz = [r[3] for r in sel if r[3] is not None]
            span = f"{min(hz):.0f}-{max(hz):.0f} Hz" if hz else "none read"
            print(f"| {kind} | {band:g} | {len(sel)} | {sum(r[2] for r in sel)} | {span} |")


if __name__ == "__main__":
    main()
