"""The pitch tracker (`companion/monitor/pitch.py`) against Praat's, on the real customers' calm speech, per line.

The reference is Praat's autocorrelation tracker (praat-parselmouth's `to_pitch_ac`, 60-500 Hz), which chooses each
frame's candidate by a path through the whole recording (octave and voicing costs), read on the clean line's customer
channel at our frames' centres. Each line's reading of the same call is compared with it, frame by frame where both
call the frame voiced: within 1 semitone, more than 3 semitones up (an octave or twelfth error), more than 3 down.
Praat's own reading of the phone lines is compared with the same reference: what a tracker that sees the whole
recording makes of a line without the fundamental, so what part of our phone-line errors the line itself explains.

The calls are the real-voice bench's calm calls (`bench/real_voice_accuracy.py` and its `--held-out` render the four and
the six customers'; run them first), one agent
(the customer's channel is the same under every agent).

Needs `praat-parselmouth` (GPL-3.0; a measuring tool only, never a product dependency):
    pip install praat-parselmouth
Run by hand:  python bench/pitch_reference.py [--agent piper-joe] [--customers FEE078,MEE075]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from companion.config import load_config  # noqa: E402
from companion.monitor.pitch import PitchTracker  # noqa: E402
from companion.vad.voice_activity import frame_levels_db  # noqa: E402

CALLS = HERE / "out" / "real_voices"
LINES = ("clean", "mulaw", "noisy")
ASKED_DB = -50.0   # frames asked about: over this level (the tracker reads the speech frames the voice activity finds)
BLOCK = 25         # frames per block, as `analyze` reads them (0.5 s)


def ours(path: Path) -> np.ndarray:
    """Our tracker's f0 (Hz, 0 unvoiced) per 20 ms frame of the customer's channel."""
    config = load_config(use_user_default=False)
    audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    if rate != config.audio.sample_rate:
        raise SystemExit(f"{path.name}: {rate} Hz, the tracker reads {config.audio.sample_rate} Hz")
    width = config.audio.frame_len
    count = audio.shape[0] // width
    frames = audio[: count * width, 1].reshape(count, width)
    frames = frames - frames.mean(axis=1, keepdims=True)
    asked = frame_levels_db(frames) > ASKED_DB
    tracker = PitchTracker(config.pitch, config.audio)
    pcm = frames.astype(np.float64) * 32768.0
    return np.concatenate([tracker.process(pcm[i : i + BLOCK], asked[i : i + BLOCK]) for i in range(0, count, BLOCK)])


def praat(path: Path) -> np.ndarray:
    """Praat's f0 (Hz, 0 unvoiced) at each 20 ms frame's centre of the customer's channel."""
    import parselmouth

    audio, rate = sf.read(str(path), dtype="float64", always_2d=True)
    track = parselmouth.Sound(audio[:, 1], sampling_frequency=rate).to_pitch_ac(
        time_step=0.01, pitch_floor=60.0, pitch_ceiling=500.0)
    frame_s = 0.02
    count = audio.shape[0] // int(rate * frame_s)
    # our frame k's window is frames k-1 and k: its centre is k * 20 ms
    values = np.array([track.get_value_at_time(k * frame_s) for k in range(count)])
    return np.nan_to_num(values, nan=0.0)


def compare(reading: np.ndarray, reference: np.ndarray) -> tuple[int, float, float, float]:
    """(frames both voiced, share within 1 st, share > 3 st up, share > 3 st down)."""
    n = min(reading.size, reference.size)
    a, r = reading[:n], reference[:n]
    both = (a > 0) & (r > 0)
    st = 12.0 * np.log2(a[both] / r[both])
    if not st.size:
        return 0, float("nan"), float("nan"), float("nan")
    return int(both.sum()), float(np.mean(np.abs(st) < 1)), float(np.mean(st > 3)), float(np.mean(st < -3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agent", default="piper-joe")
    parser.add_argument("--customers", default="", help="comma-separated (default: every customer rendered)")
    args = parser.parse_args()
    try:
        import parselmouth  # noqa: F401
    except ImportError:
        raise SystemExit("needs praat-parselmouth: pip install praat-parselmouth") from None
    pattern = f"real_calm_c-*_a-{args.agent}_clean.wav"
    found = sorted(CALLS.glob(pattern))
    if not found:
        raise SystemExit(f"no {pattern} in {CALLS}: run bench/real_voice_accuracy.py first")
    customers = [p.name.split("_c-")[1].split("_a-")[0] for p in found]
    if args.customers:
        customers = [c for c in customers if c in args.customers.split(",")]
    totals: dict[tuple[str, str], np.ndarray] = {}
    print("| customer | reference median | " + " | ".join(f"ours {line}: ok / up / down" for line in LINES)
          + " | Praat mu-law: ok / up / down |")
    print("|---" * (3 + len(LINES)) + "|")
    for customer in customers:
        paths = {line: CALLS / f"real_calm_c-{customer}_a-{args.agent}_{line}.wav" for line in LINES}
        reference = praat(paths["clean"])
        cells = []
        for who, line in [("ours", line) for line in LINES] + [("praat", "mulaw")]:
            reading = ours(paths[line]) if who == "ours" else praat(paths[line])
            n, ok, up, down = compare(reading, reference)
            totals.setdefault((who, line), np.zeros(4))
            totals[(who, line)] += (n, n * ok, n * up, n * down)
            cells.append(f"{ok:.2f} / {up:.2f} / {down:.2f}")
        voiced = reference[reference > 0]
        print(f"| {customer} | {np.median(voiced):.0f} Hz | " + " | ".join(cells) + " |")
    cells = [f"{t[1] / t[0]:.3f} / {t[2] / t[0]:.3f} / {t[3] / t[0]:.3f}" for t in totals.values()]
    print("| all | | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
