"""Monitor cost per 20 ms frame pair (voice activity both sides, pitch, nuclei, tone, mood, coach), and where it goes.

Run by hand:  python bench/bench_monitor.py [CALL.wav]

The call is read into memory first, so only the monitor and the coach are timed (CPU time of this
process, best of 3). One more run times each stage by wrapping its method (CPU time, callees left out
of their callers), for the "where the time goes" table in docs/benchmarks.md.
"""

from __future__ import annotations

import functools
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from companion.audio.file_source import CallFileSpec, FileCallSource  # noqa: E402
from companion.coach.rules import Coach  # noqa: E402
from companion.config import load_config  # noqa: E402
from companion.events import FrameBlock, MetricsSnapshot  # noqa: E402
from companion.monitor import call_monitor, customer, pace, pitch, tone  # noqa: E402
from companion.monitor.call_monitor import CallMonitor  # noqa: E402
from companion.vad import voice_activity  # noqa: E402


def run(config: Any, blocks: list[FrameBlock]) -> float:
    start = time.process_time()
    monitor, coach = CallMonitor(config), Coach(config.coach)
    for block in blocks:
        for event in monitor.process(block):
            if isinstance(event, MetricsSnapshot):
                coach.evaluate(event)
    monitor.finish()
    return time.process_time() - start


STAGES: list[tuple[Any, str, str]] = [
    (call_monitor, "f0_together", "pitch (pitch.py, both parties)"),
    (pitch.PitchTracker, "process", "pitch (pitch.py, both parties)"),
    (pace.SyllableNuclei, "process", "syllable nuclei (pace.py, both parties)"),
    (customer.CustomerMood, "evaluate", "customer mood, each evaluation (customer.py)"),
    (customer.CustomerMood, "add", "customer mood, taking frames (customer.py)"),
    (tone.ToneTracker, "loudness", "agent tone readings (tone.py)"),
    (tone.ToneTracker, "pitch", "agent tone readings (tone.py)"),
    (tone.ToneTracker, "add", "agent tone, taking frames (tone.py)"),
    (CallMonitor, "_pace", "agent pace readings (pace.py rolling_wpm, ledger.py)"),
    (CallMonitor, "snapshot", "metrics snapshot, the rest (call_monitor.py)"),
    (voice_activity.VoiceActivity, "process", "voice activity (vad/, webrtcvad included)"),
    (call_monitor, "frame_levels_db", "frame levels and 16-bit frames (vad/)"),
    (call_monitor, "to_pcm16", "frame levels and 16-bit frames (vad/)"),
    (Coach, "evaluate", "coach rules (coach/rules.py)"),
    (CallMonitor, "process", "frame loop, turns, floor, talk (call_monitor.py, interruptions.py, talk.py)"),
]


def split(config: Any, blocks: list[FrameBlock]) -> tuple[float, dict[str, float]]:
    """CPU time per stage, each stage's own (the stages it calls are counted in theirs)."""
    spent: dict[str, float] = {}
    inner: list[float] = []
    originals = []

    def wrap(owner: Any, name: str, label: str) -> None:
        original: Callable[..., Any] = getattr(owner, name)
        originals.append((owner, name, original))

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            inner.append(0.0)
            try:
                return original(*args, **kwargs)
            finally:
                nested = inner.pop()
                took = time.process_time() - start
                spent[label] = spent.get(label, 0.0) + took - nested
                if inner:
                    inner[-1] += took

        setattr(owner, name, timed)

    for owner, name, label in STAGES:
        wrap(owner, name, label)
    try:
        total = run(config, blocks)
    finally:
        for owner, name, original in reversed(originals):
            setattr(owner, name, original)
    return total, spent


def main() -> None:
    from companion.heap import reuse_freed_memory

    reuse_freed_memory()  # as `companion analyze` runs it
    wav = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "out" / "long_10min.wav"
    config = load_config(use_user_default=False)
    blocks = list(FileCallSource(CallFileSpec(wav), config.audio).blocks())
    frames = sum(b.frames for b in blocks)
    best = min(run(config, blocks) for _ in range(3))
    print(f"{frames} frame pairs in {best:.2f} s CPU: {best / frames * 1e6:.1f} us per 20 ms frame pair "
          f"({best / frames / 0.02 * 100:.2f}% of real time)")
    total, spent = split(config, blocks)
    print(f"where it goes (one instrumented run, {total:.2f} s CPU):")
    for label, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"  {seconds / total * 100:5.1f} %  {seconds:6.3f} s  {label}")


if __name__ == "__main__":
    main()
