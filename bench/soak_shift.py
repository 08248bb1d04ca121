"""A full eight-hour shift of back-to-back demo calls through the real window, pipeline and store
(offscreen, faster than real time), with memory, open files, threads and the store's size printed
after call 1, 2, 5, 10, 25, 50, 100, 150, … and the last. Run by hand:

    python bench/soak_shift.py [--hours 8] [--speed 200]

The harness is the soak test's (tests/test_soak.py); the test runs a shorter shift.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--speed", type=float, default=None, help="the demo feeder's pace (default: the test's)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="soak-"))
    os.environ["COMPANION_CONFIG_DIR"] = str(tmp / "config")
    os.environ["COMPANION_DATA_DIR"] = str(tmp / "data")

    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    from tests.test_soak import DEMO_S, SOAK_SPEED, make_window, run_shift, stored_whole

    speed = args.speed or SOAK_SPEED
    calls = round(args.hours * 3600 / DEMO_S)
    app = QApplication.instance() or QApplication([])
    qInstallMessageHandler(lambda kind, context, message: None if "propagateSizeHints" in message
                           else print(message, file=sys.stderr))  # the offscreen platform says it per dialog
    window = make_window(tmp / "window.ini")
    print(f"{calls} demo calls of {DEMO_S} s ({calls * DEMO_S / 3600:.2f} h of calls) at {speed:g}x, "
          f"{os.cpu_count()} cores, store in {tmp / 'data'}")
    print(f"{'call':>5} {'RSS MB':>8} {'fds':>4} {'py thr':>6} {'os thr':>6} {'store MB':>9} {'dialogs':>7} {'sessions':>8} {'wall s':>7}")

    def show(r) -> None:
        print(f"{r.call:>5} {r.rss_mb:>8.1f} {r.fds:>4} {r.py_threads:>6} {r.os_threads:>6} {r.store_mb:>9.3f} "
              f"{r.dialogs:>7} {r.sessions:>8} {r.wall_s:>7.1f}", flush=True)

    shift = run_shift(window, app, calls, speed=speed, report=show)
    checked = time.monotonic()
    problems = stored_whole(shift.call_ids)
    checked = time.monotonic() - checked

    first, last = shift.readings[0], shift.readings[-1]
    per_call = (last.store_mb - first.store_mb) / max(1, last.call - first.call)
    print()
    for name, (start, top) in shift.drift().items():
        print(f"{name:>10}: {start:g} after call 1, highest after that {top:g} ({(top - start) / start * 100 if start else 0:+.1f} %)")
    print(f"store: {last.store_mb:.2f} MB for {calls} calls: {per_call * 1000:.1f} kB per call, "
          f"{per_call * 3600 / DEMO_S:.2f} MB per call-hour")
    print(f"calls stored whole: {calls - len(problems)} of {calls}" + ("" if not problems else "; " + "; ".join(problems[:5])))
    print(f"per-call threads left running: {len(shift.left_threads)}" + ("" if not shift.left_threads else f" {shift.left_threads[:5]}"))
    print(f"wall time: {shift.wall_s:.1f} s for the shift ({shift.wall_s / calls:.2f} s per call), "
          f"{checked:.1f} s to check the store")
    flat = shift.not_flat()
    print("flat: yes" if not flat else "NOT FLAT: " + "; ".join(flat))
    window.close()
    return 0 if not flat and not problems and not shift.left_threads else 1


if __name__ == "__main__":
    sys.exit(main())
