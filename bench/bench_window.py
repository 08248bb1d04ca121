"""The window: launch to visible, prompt to banner painted, event-loop stalls during the demo,
memory with an hour of call in it. Run by hand:  python bench/bench_window.py [--demo-speed 1]"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

LAUNCH = """
import time, sys
from PySide6.QtWidgets import QApplication
from PySide6.QtCore import QTimer
app = QApplication([])
from ui.app import build_window
w = build_window()
w.show()
def shown():
    print("shown", time.time(), flush=True)
    app.quit()
QTimer.singleShot(0, shown)
app.exec()
"""


def launch_times(runs: int = 5) -> list[float]:
    out = []
    env = dict(os.environ, COMPANION_CONFIG_DIR=tempfile.mkdtemp())
    for _ in range(runs):
        start = time.time()
        run = subprocess.run([sys.executable, "-c", LAUNCH], capture_output=True, text=True, env=env, cwd=HERE.parent, timeout=60)
        line = next(l for l in run.stdout.splitlines() if l.startswith("shown"))
        out.append(float(line.split()[1]) - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--demo-speed", type=float, default=1.0)
    args = parser.parse_args()
    from companion.display_check import check_platform

    started = time.perf_counter()
    check_platform({"DISPLAY": ":0"})  # the real xcb plugin's libraries, read before every window
    print(f"display check (xcb plugin libraries): {(time.perf_counter() - started) * 1000:.0f} ms (aim: well under 2 s)")
    launches = launch_times()
    print(f"launch to window shown (process start included, model loading in the background): "
          f"median {statistics.median(launches):.2f} s, max {max(launches):.2f} s")

    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from companion.bus import EventBus
    from companion.config import load_config
    from companion.events import FinalSegment, Prompt, Word
    from companion.playbooks import all_playbooks
    from ui.call.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    tmp = tempfile.mkdtemp()
    os.environ["COMPANION_CONFIG_DIR"] = tmp
    window = MainWindow(load_config(), all_playbooks()[0], QSettings(f"{tmp}/w.ini", QSettings.IniFormat), use_model=False)
    window.show()
    app.processEvents()

    # prompt event -> banner painted
    painted = []
    original = window.banner.paintEvent

    def paint(event):
        painted.append(time.perf_counter())
        original(event)

    window.banner.paintEvent = paint
    bus = EventBus()
    window.bridge.attach(bus)
    delays = []
    for i in range(30):
        painted.clear()
        sent = time.perf_counter()
        threading.Thread(target=bus.publish, args=(Prompt(float(i), "slow_down" if i % 2 else "lower_tone", f"reason {i}"),)).start()
        while not painted and time.perf_counter() - sent < 2:
            app.processEvents()
        delays.append(painted[0] - sent)
        time.sleep(0.05)
    print(f"prompt event -> banner painted: median {statistics.median(delays) * 1000:.1f} ms, max {max(delays) * 1000:.1f} ms")
    window.bridge.detach()

    # longest event-loop stall during the demo
    gaps, last = [], [time.perf_counter()]

    def beat():
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(beat)
    window.demo_speed = args.demo_speed
    window.start_call(demo=True)
    last[0] = time.perf_counter()
    timer.start(5)
    while window.summary is None:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    extra = [g - 0.005 for g in gaps]
    print(f"demo at {args.demo_speed}x: longest event-loop stall {max(extra) * 1000:.1f} ms "
          f"(p99 {sorted(extra)[int(len(extra) * 0.99)] * 1000:.1f} ms over {len(gaps)} beats)")
    window.summary.close()

    # longest event-loop stall while an hour of transcript arrives in bursts (was a test's assertion:
    # tests/test_window.py checks the lines all arrive while the loop turns; the time is measured here)
    bus = EventBus()
    window.bridge.attach(bus)
    segments = [FinalSegment("agent" if i % 2 else "customer", i * 1.0, i * 1.0 + 3.0,
                             tuple(Word(w, i + k * 0.3, i + k * 0.3 + 0.25, 1.0) for k, w in enumerate(
                                 f"segment number {i} with a few more words to wrap the line nicely".split())))
                for i in range(3600)]
    gaps, last = [], [time.perf_counter()]
    timer = QTimer()
    timer.timeout.connect(beat)
    start_rows = window.transcript.model.rowCount()

    def publish():
        for first in range(0, len(segments), 100):
            for seg in segments[first : first + 100]:
                bus.publish(seg)
            time.sleep(0.01)

    last[0] = time.perf_counter()
    timer.start(5)
    threading.Thread(target=publish, daemon=True).start()
    while window.transcript.model.rowCount() < start_rows + 3600:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    window.bridge.detach()
    extra = [g - 0.005 for g in gaps]
    print(f"an hour of transcript in bursts of 100 lines: longest event-loop stall {max(extra) * 1000:.1f} ms "
          f"(aim: under 50 ms; p99 {sorted(extra)[int(len(extra) * 0.99)] * 1000:.1f} ms over {len(gaps)} beats)")

    # memory with an hour of call in the window
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    bus = EventBus()
    window.bridge.attach(bus)
    snapshot = window.last_metrics
    for second in range(3600):
        party = "agent" if second % 2 else "customer"
        words = tuple(Word(w, second + i * 0.3, second + i * 0.3 + 0.25, 1.0)
                      for i, w in enumerate("a typical line of a call with about a dozen words in it".split()))
        bus.publish(FinalSegment(party, words[0].start, words[-1].end, words))
        if snapshot is not None:
            bus.publish(dataclasses.replace(snapshot, t=float(second)))
        if second % 20 == 0:
            bus.publish(Prompt(float(second), "keep_listening", "You talked over the customer — let them finish"))
    while window.transcript.model.rowCount() < 3600:
        app.processEvents()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"memory: max RSS {before:.0f} MB before, {after:.0f} MB with an hour of call (3600 lines, 3600 snapshots)")


if __name__ == "__main__":
    main()
