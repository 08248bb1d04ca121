"""Monitor cost per 20 ms frame pair (voice activity both sides, pitch, nuclei, tone, coach)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from companion.audio.file_source import CallFileSpec, FileCallSource  # noqa: E402
from companion.coach.rules import Coach  # noqa: E402
from companion.config import load_config  # noqa: E402
from companion.events import MetricsSnapshot  # noqa: E402
from companion.monitor.call_monitor import CallMonitor  # noqa: E402


def main() -> None:
    wav = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "out" / "long_10min.wav"
    config = load_config(use_user_default=False)
    blocks = list(FileCallSource(CallFileSpec(wav), config.audio).blocks())
    frames = sum(b.frames for b in blocks)
    best = float("inf")
    for _ in range(3):
        monitor, coach = CallMonitor(config), Coach(config.coach)
        start = time.perf_counter()
        for block in blocks:
            for event in monitor.process(block):
                if isinstance(event, MetricsSnapshot):
                    coach.evaluate(event)
        monitor.finish()
        best = min(best, time.perf_counter() - start)
    print(f"{frames} frame pairs in {best:.2f} s: {best / frames * 1e6:.1f} us per 20 ms frame pair "
          f"({best / frames / 0.02 * 100:.2f}% of real time)")


if __name__ == "__main__":
    main()
