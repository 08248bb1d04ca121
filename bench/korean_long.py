"""Long Korean calls for the benches that need the real Vosk model (Korean: the one real model here).

    python bench/korean_long.py --minutes 10             # bench/out/korean_10min.wav
    python bench/korean_long.py --minutes 60 --varied    # bench/out/korean_varied_60min.wav

- `korean_<m>min.wav`: the test suite's Korean call (tests/scenarios.py korean_call, 27 s) repeated.
- `korean_varied_<m>min.wav`: for memory over a long call, where the same 27 s over and over would
  let the recogniser meet the same sounds again and again: 48 turns of the Korean lines in six
  espeak-ng voices at several speeds and pitches (about 4 minutes, rendered once), each copy of it
  played a little faster or slower (0.91-1.09: another pitch and tempo), so no minute repeats another.

Cheap to build at any length: the clips are synthesised once (cached by content), then copied.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

OUT = HERE / "out"


def korean_call() -> tuple[Path, float]:
    """The short Korean call (cached) and its length in seconds."""
    from tests import scenarios
    from tests.callgen import render

    wav, truth = render(scenarios.korean_call(), OUT, OUT / "cache")
    return wav, truth.duration_s


def long_korean_call(minutes: float) -> Path:
    """bench/out/korean_<minutes>min.wav: the Korean call repeated to `minutes` (made once)."""
    import numpy as np
    import soundfile as sf

    path = OUT / f"korean_{minutes:g}min.wav"
    if path.exists():
        return path
    wav, _ = korean_call()
    clip, rate = sf.read(str(wav), dtype="int16")
    frames = int(minutes * 60 * rate)
    tmp = path.with_suffix(".part.wav")
    with sf.SoundFile(str(tmp), "w", samplerate=rate, channels=clip.shape[1], subtype="PCM_16") as out:
        written = 0
        while written < frames:
            piece = clip[: frames - written]
            out.write(np.ascontiguousarray(piece))
            written += piece.shape[0]
    tmp.replace(path)
    return path


VOICES = (("ko", "ko+f3"), ("ko+m3", "ko+f2"), ("ko+m1", "ko+f4"), ("ko+m5", "ko+f1"), ("ko+m2", "ko+f5"), ("ko+m7", "ko+f3"))
SPEEDS = (1.0, 0.94, 1.06, 0.97, 1.03, 0.91, 1.09)


def _variety() -> Path:
    """About four minutes of both parties taking turns, every line in several voices, speeds and pitches."""
    from tests.callgen import Say, Script, render
    from tests.scenarios import KO_AGENT, KO_CUSTOMER

    lines: list[Say] = []
    for n in range(48):
        agent, customer = VOICES[(n // 2) % len(VOICES)]
        party = "agent" if n % 2 == 0 else "customer"
        pool = KO_AGENT if party == "agent" else KO_CUSTOMER
        text = pool[n % len(pool)] if n % 5 else pool[n % len(pool)] + " " + pool[(n + 1) % len(pool)]
        gap = (0.4, 0.9, 0.6, -0.8, 1.5, 0.5)[n % 6]   # some talk-over, some longer pauses
        lines.append(Say(party, text, at=0.5 if n == 0 else None, gap=gap, wpm=(95, 110, 125, 140)[n % 4],
                         pitch=(50, 35, 65)[n % 3], voice=agent if party == "agent" else customer))
    wav, _ = render(Script("korean_variety", lines, agent_voice="ko", customer_voice="ko+f3"), OUT, OUT / "cache")
    return wav


def varied_korean_call(minutes: float) -> Path:
    """bench/out/korean_varied_<minutes>min.wav (made once)."""
    import numpy as np
    import soundfile as sf

    path = OUT / f"korean_varied_{minutes:g}min.wav"
    if path.exists():
        return path
    base, rate = sf.read(str(_variety()), dtype="float32")
    frames = int(minutes * 60 * rate)
    tmp = path.with_suffix(".part.wav")
    with sf.SoundFile(str(tmp), "w", samplerate=rate, channels=base.shape[1], subtype="PCM_16") as out:
        written, copy = 0, 0
        while written < frames:
            speed = SPEEDS[copy % len(SPEEDS)]
            at = np.arange(0.0, base.shape[0] - 1, speed)
            piece = np.stack([np.interp(at, np.arange(base.shape[0]), base[:, c]) for c in range(base.shape[1])], axis=1)
            piece = piece[: frames - written]
            out.write(piece.astype(np.float32))
            written += piece.shape[0]
            copy += 1
    tmp.replace(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--varied", action="store_true", help="the varied call (for memory), not the test call repeated")
    args = parser.parse_args()
    print((varied_korean_call if args.varied else long_korean_call)(args.minutes))


if __name__ == "__main__":
    main()
