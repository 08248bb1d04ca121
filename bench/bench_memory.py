"""Memory through a long analysed call with the real Vosk model: RSS at 5, 15, 30 and 60 minutes of call.

    python bench/bench_memory.py --minutes 60
    python bench/bench_memory.py --minutes 30 --renew-after 0    # recognisers never renewed: Vosk's own growth

The call is bench/korean_long.py's varied Korean call (no minute repeats another). It goes through
`companion.analysis.analyze_call` (file, voice activity, monitor, coach, both recognisers, the report
collector keeping the call) in this process; the RSS (/proc/self/status VmRSS) is read on the monitor's
thread as the call's metrics reach each mark, and the peak (max RSS) at the end.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

MARKS_MIN = (1, 5, 10, 15, 20, 30, 45, 60)


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--renew-after", type=float, default=None,
                        help="seconds of audio before a recogniser is renewed at an endpoint (0: never); default: the app's")
    parser.add_argument("--model", choices=("ko", "none"), default="ko")
    args = parser.parse_args()

    from bench.korean_long import varied_korean_call
    from companion.analysis import analyze_call
    from companion.asr.discovery import find_model
    from companion.asr.engine import load_model
    from companion.asr.transcriber import PartyTranscriber
    from companion.audio.file_source import CallFileSpec
    from companion.config import load_config
    from companion.events import MetricsSnapshot

    if args.renew_after is not None:
        PartyTranscriber.renew_after_s = args.renew_after if args.renew_after > 0 else float("inf")
    wav = varied_korean_call(args.minutes)
    config = load_config(use_user_default=False)
    start_rss = rss_mb()
    model = load_model(find_model(None, "ko").path) if args.model == "ko" else None
    loaded_rss = rss_mb()
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, python {platform.python_version()}; "
          f"load average before {os.getloadavg()[0]:.1f}", flush=True)
    print(f"call: {wav.name}; renew the recognisers after {PartyTranscriber.renew_after_s:g} s of audio; "
          f"RSS {start_rss:.0f} MB before the model, {loaded_rss:.0f} MB with it", flush=True)

    marks = [m for m in MARKS_MIN if m <= args.minutes]
    seen: dict[int, tuple[float, float]] = {}
    started = time.perf_counter()

    def at_marks(event: object) -> None:
        if isinstance(event, MetricsSnapshot):
            for m in marks:
                if m not in seen and event.t >= m * 60:
                    seen[m] = (rss_mb(), time.perf_counter() - started)
                    print(f"  {m:>3} min of call: RSS {seen[m][0]:.0f} MB ({seen[m][1]:.0f} s in; "
                          f"load {os.getloadavg()[0]:.1f}; {time.strftime('%H:%M:%S', time.gmtime())} UTC)", flush=True)

    doc = analyze_call(CallFileSpec(wav), config, model=model, subscribers=(at_marks,))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    words = sum(len((t["text"] or "").split()) for t in doc["turns"])
    print(f"done in {time.perf_counter() - started:.0f} s: {len(doc['turns'])} turns, {words} words; "
          f"RSS at the end {rss_mb():.0f} MB, peak {peak:.0f} MB; load average after {os.getloadavg()[0]:.1f}", flush=True)
    if 5 in seen:
        for m in marks:
            if m in seen and m > 5:
                print(f"RSS at {m} min / RSS at 5 min: {seen[m][0] / seen[5][0]:.3f}", flush=True)


if __name__ == "__main__":
    main()
