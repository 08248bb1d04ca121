"""Do a split vowel's two envelope peaks have the same spectrum, where two real syllables' peaks differ? (issue 21,
tenth session: flite's diphone voices `kal`/`kal16` told to slow down while calm on a phone line.)

Every clip of the pace-corpus caches goes through the real pipeline as `companion analyze --model none` hears it
(bench/pace_fit.py's `agent_ledger`); the agent's per-hop spectrum and nucleus eligibility are kept as the monitor
computes them (companion/monitor/pace.py `SyllableNuclei.process`), and every detector's peaks (20-80 ms) are found
again from them with, for each peak, the dip before it and its coarse spectral shape: log energy in 10 log-spaced
bands over 300-3000 Hz, summed over the smoothing window ending at the peak, its mean taken off (level-normalised).
The spectral distance of two peaks is the RMS difference of their shapes (dB).

Prints, per group of clips (flite's kal/kal16 calm on a headset and on a phone line, fitted engines calm and fast,
Piper fast, flite's other voices), the distance between consecutive eligible peaks: all, those under 200 ms apart,
and those also with a dip under 6 dB between them. Then the phone line's own peaks: each calm flite phone clip
against the same synthesis on a clean headset, a phone peak further than 40 ms from every headset peak is one the
line added ("extra"); the others "kept": their distance to the peak before them (under 250 ms).

Run by hand:  python bench/pace_split_probe.py ~/.cache/call-companion-tests/pace_corpus bench/out/pace_corpus
(about 5 minutes on one core for ~580 clips)
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Optional

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.pace_fit import agent_ledger, made_clips  # noqa: E402
from tests.pace_corpus import Clip  # noqa: E402

ENGINES = ("espeak", "festival", "piper", "flite")
SHAPE_BANDS = 10
CLOSE_S, SHALLOW_DB, EXTRA_S = 0.2, 6.0, 0.04


def recorded(clip: Clip) -> tuple[Any, np.ndarray, np.ndarray]:
    """(the pace config, the agent's per-hop power spectra, eligibility per hop) as the monitor computed them."""
    from companion.monitor import pace

    kept: dict[int, list] = defaultdict(list)
    original = pace.SyllableNuclei.process

    def spy(self, frames, eligible):  # type: ignore[no-untyped-def]
        if frames.shape[0]:
            hops = frames.reshape(frames.shape[0] * self.hops_per_frame, self.hop).astype(np.float64)
            hops = hops - hops.mean(axis=1, keepdims=True)
            kept[id(self)].append((np.abs(np.fft.rfft(hops, self.nfft, axis=1)) ** 2,
                                   np.repeat(eligible, self.hops_per_frame)))
        return original(self, frames, eligible)

    pace.SyllableNuclei.process = spy  # type: ignore[method-assign]
    try:
        config, _ = agent_ledger(clip)
    finally:
        pace.SyllableNuclei.process = original  # type: ignore[method-assign]
    agent = max(kept.values(), key=lambda parts: sum(int(ok.sum()) for _, ok in parts))  # the customer is silent
    return config, np.concatenate([s for s, _ in agent]), np.concatenate([o for _, o in agent])


def peaks(config: Any, spec: np.ndarray, ok: np.ndarray, taps: int) -> list[dict]:
    """One detector's peaks (`taps` hops of smoothing) as `_EnvelopePeaks` finds them without the close-peak rule,
    with their features."""
    rate, nfft = config.audio.sample_rate, (spec.shape[1] - 1) * 2
    freqs = np.fft.rfftfreq(nfft, 1.0 / rate)
    low, high = config.pace.envelope_band_hz
    energy = spec[:, (freqs >= low) & (freqs <= high)].sum(axis=1) / nfft
    db = 10.0 * np.log10(np.maximum((energy + np.concatenate(([0.0], energy[:-1]))) / 2.0, 1e-12))
    edges = np.geomspace(low, high, SHAPE_BANDS + 1)
    bands = np.stack([spec[:, (freqs >= a) & (freqs < b)].sum(axis=1) for a, b in zip(edges[:-1], edges[1:])], axis=1)
    csum = np.cumsum(np.concatenate(([0.0], np.concatenate((np.zeros(taps), db)))))
    smooth = ((csum[taps:] - csum[:-taps])[1:] / taps).tolist()
    found, rising, lo, hi, hi_at, hi_ok = [], False, np.inf, -np.inf, 0, False
    for j, value in enumerate(smooth):
        if rising:
            if value > hi:
                hi, hi_at, hi_ok = value, j, bool(ok[j])
            elif value < hi - config.pace.min_dip_db:
                shape = 10.0 * np.log10(bands[max(0, hi_at - taps): hi_at + 1].sum(axis=0) + 1e-9)
                found.append({"t": (hi_at - (taps - 1) / 2) * 0.01, "hi": hi, "lo": lo, "ok": hi_ok,
                              "shape": shape - shape.mean()})
                rising, lo = False, value
        elif value < lo:
            lo = value
        elif value > lo + config.pace.min_dip_db:
            rising, hi, hi_at, hi_ok = True, value, j, bool(ok[j])
    return found


def distance(a: dict, b: dict) -> float:
    return float(np.sqrt(np.mean((a["shape"] - b["shape"]) ** 2)))


def group(clip: Clip) -> Optional[str]:
    calm, fast = clip.target_wpm <= 140, clip.target_wpm >= 200
    if clip.engine == "flite":
        name = "flite kal/kal16" if clip.voice in ("kal", "kal16") else "flite awb/rms/slt"
        return f"{name} calm {'phone' if clip.line == 'phone' else 'headset'}" if calm else (f"{name} fast" if fast else None)
    if fast:
        return "Piper fast" if clip.engine == "piper" else "espeak+festival fast"
    return "fitted calm" if calm else None


def pct(values: list[float]) -> str:
    return " / ".join(f"{v:.1f}" for v in np.percentile(values, [10, 25, 50, 75])) if values else "–"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dirs", nargs="+", type=Path)
    parser.add_argument("--taps", type=int, default=4, help="the detector (10 ms hops of smoothing) reported")
    args = parser.parse_args()
    clips = made_clips(args.dirs, ENGINES)
    heard: dict[tuple, tuple[Clip, list[dict]]] = {}
    pairs: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for clip in clips:
        name = group(clip)
        if name is None:
            continue
        config, spec, ok = recorded(clip)
        found = [p for p in peaks(config, spec, ok, args.taps) if p["ok"]]
        heard[(clip.engine, clip.voice, clip.text_id, clip.target_wpm, clip.line, clip.noise)] = (clip, found)
        for a, b in zip(found, found[1:]):
            close = b["t"] - a["t"] < CLOSE_S
            pairs[name]["all"].append(distance(a, b))
            if close:
                pairs[name]["close"].append(distance(a, b))
                if min(a["hi"], b["hi"]) - b["lo"] < SHALLOW_DB:
                    pairs[name]["close, shallow"].append(distance(a, b))
    print(f"spectral distance (dB) of consecutive eligible peaks under {args.taps * 10} ms, p10 / p25 / p50 / p75\n")
    print("| clips | all pairs | under 200 ms apart | ... and a dip under 6 dB |\n|---|---|---|---|")
    for name, by in sorted(pairs.items()):
        print(f"| {name} | " + " | ".join(f"{pct(by[k])} (n {len(by[k])})" for k in ("all", "close", "close, shallow")) + " |")
    extra: dict[str, dict[str, list[tuple[float, float]]]] = defaultdict(lambda: defaultdict(list))
    for (engine, voice, text_id, wpm, line, _noise), (_clip, found) in heard.items():
        clean = heard.get((engine, voice, text_id, wpm, "headset", False))
        if engine != "flite" or line != "phone" or wpm > 140 or clean is None:
            continue
        times = np.array([p["t"] for p in clean[1]])
        family = "kal/kal16" if voice in ("kal", "kal16") else "awb/rms/slt"
        for a, b in zip(found, found[1:]):
            if b["t"] - a["t"] < 0.25:
                kind = "extra" if np.min(np.abs(times - b["t"])) > EXTRA_S else "kept"
                extra[family][kind].append((distance(a, b), min(a["hi"], b["hi"]) - b["lo"]))
    print("\nthe phone line's own peaks (calm flite clips; a peak under 250 ms after the one before it): distance, dip")
    print("| voices | peaks | distance p10 / p25 / p50 / p75 | dip p25 / p50 / p75 |\n|---|---|---|---|")
    for family, by in sorted(extra.items()):
        for kind in ("extra", "kept"):
            rows = by[kind]
            dips = " / ".join(f"{v:.1f}" for v in np.percentile([d for _, d in rows], [25, 50, 75])) if rows else "–"
            print(f"| {family} {kind} | {len(rows)} | {pct([d for d, _ in rows])} | {dips} |")


if __name__ == "__main__":
    main()
