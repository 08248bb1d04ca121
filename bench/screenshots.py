"""Every screenshot in docs/, made again in one command, from the real windows and the real report:

    Xvfb :97 -screen 0 1366x768x24 &
    DISPLAY=:97 QT_QPA_PLATFORM=xcb python bench/screenshots.py [OUT_DIR]      # default: docs/

- screenshot.png: the call window mid-demo (bench/screenshot_demo.py: banner with a cue, meters, checklist,
  transcript, mood strip);
- history.png: History listing the saved calls: up to three from the test suite's cache of synthesized
  calls (tests/synth_cache.py; else the demo's recording) saved with `companion analyze --save`, and the
  demo call played through the live pipeline and kept as the window keeps it (transcript, playbook, a note
  and a supervisor's comment);
- replay.png: that demo call in the replay window, the playhead on its first prompt;
- settings.png: the Settings dialog;
- report.png: that demo call's HTML report (`companion calls export --format html`) in headless Chromium.

Calls and settings go to fresh temporary COMPANION_DATA_DIR and COMPANION_CONFIG_DIR (the user's own are
never read). Each PNG is written at most MAX_BYTES (scaled down with ImageMagick's convert if larger).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEMO_CALL = ROOT / "resources" / "demo" / "demo_call.flac"
MAX_BYTES = 300_000
REPORT_WINDOW = (1200, 2400)
REPLAY_FROM_S = 47.0  # just before the demo customer turns upset
# A few calls from the tests' cache (tests/synth_cache.py), when they have been rendered there.
CACHED_CALLS = ("mood_grows_upset_8db_4st_200wpm_c-festival*", "customer_interrupts-*", "steady_190*")


def companion(*args: str) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", "ui", *args], capture_output=True, text=True, cwd=ROOT,
                         env=dict(os.environ), timeout=600)
    if run.returncode != 0:
        raise SystemExit(f"companion {' '.join(args)}: {run.stderr.strip()[-2000:]}")
    return run


def cached_calls() -> list[Path]:
    from tests.synth_cache import cache_root

    found: list[Path] = []
    for pattern in CACHED_CALLS:
        for folder in sorted(cache_root().glob(f"calls-*/{pattern}")):
            wavs = sorted(folder.glob("*.wav"))
            if wavs:
                found.append(wavs[0])
                break
    return found


def save_demo_call() -> int:
    """The bundled demo through the live pipeline, its script as the transcript, kept with its playbook (as
    the window keeps a call), with a root-cause note and a supervisor's comment; its id."""
    from companion.config import load_config
    from companion.demo import demo_recording, demo_script
    from companion.playbooks import find_playbook
    from companion.session import CallSession
    from companion.store.db import open_store
    from companion.store.rows import CallRows

    playbook = find_playbook(None)
    session = CallSession(load_config(use_user_default=False), playbook)
    recorder = session.keep("demo", playbook=playbook.id, file=DEMO_CALL.name)
    session.start_demo(demo_recording(), speed=10.0, script=demo_script())
    if not session.ended.wait(120):
        raise SystemExit("the demo call did not end")
    db = open_store()
    with db:
        rows = CallRows(db, recorder.call_id)
        rows.note("The parcel was left at the front desk; the courier's photo was not checked before the call.")
        rows.comment(54.0, "Dana", "Let the customer finish here: you cut in while they explained.",
                     "2026-12-05T10:12:00+00:00")
    db.close()
    return recorder.call_id


def save_calls() -> int:
    """A few calls saved with `companion analyze --save` (cached test calls, else the demo's recording),
    then the demo call as the window keeps it (the newest, so History lists it first); the demo call's id."""
    for wav in cached_calls() or [DEMO_CALL]:
        companion("analyze", "--model", "none", "--save", str(wav))
    return save_demo_call()


def shrink(png: Path) -> None:
    """At most MAX_BYTES: first as a 256-colour PNG (sharp text, same size), then scaled down if still larger."""
    if png.stat().st_size <= MAX_BYTES:
        return
    original = png.read_bytes()
    for scale in (100, 90, 80, 70, 60, 50):
        png.write_bytes(original)
        subprocess.run(["convert", str(png), "-resize", f"{scale}%", "-colors", "256", f"PNG8:{png}"], check=True)
        if png.stat().st_size <= MAX_BYTES:
            return


def shoot_windows(out: Path, call_id: int) -> None:
    """History, the replay window and Settings: each a real top-level window, shown, then grabbed."""
    from PySide6.QtWidgets import QApplication

    from companion.config import load_config
    from companion.store.db import open_store
    from ui.app import set_icon, window_settings
    from ui.review.history_window import HistoryWindow
    from ui.review.replay_window import ReplayWindow
    from ui.settings.settings_dialog import SettingsDialog

    app = QApplication.instance() or QApplication(sys.argv[:1])
    set_icon(app)

    def settle(widget, rounds: int = 20) -> None:
        widget.show()
        widget.raise_()
        for _ in range(rounds):
            app.processEvents()
            QApplication.instance().thread().msleep(25)

    history = HistoryWindow()
    history.resize(1000, 460)
    done: list[bool] = []
    history.searched.connect(lambda: done.append(True))
    settle(history)
    while not done:
        app.processEvents()
    settle(history, 10)
    history.grab().save(str(out / "history.png"))
    history.close()

    db = open_store()
    replay = ReplayWindow.from_store(db, call_id)
    replay.resize(1300, 740)
    settle(replay)
    replay.seek(REPLAY_FROM_S)  # played over the customer turning upset, so that its cue is in the banner
    replay.toggle()
    settle(replay, 60)
    replay.toggle()
    settle(replay, 10)
    replay.grab().save(str(out / "replay.png"))
    replay.close()
    db.close()

    dialog = SettingsDialog(load_config(), None, window_settings())
    dialog.resize(720, 760)
    settle(dialog)
    dialog.grab().save(str(out / "settings.png"))
    dialog.close()
    app.processEvents()


def shoot_report(out: Path, call_id: int) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("report.png needs headless Chromium (the Debian package chromium)")
    with tempfile.TemporaryDirectory(prefix="cc-report-") as tmp:
        page = Path(tmp) / "report.html"
        companion("calls", "export", str(call_id), "--format", "html", "--output", str(page))
        profile = Path(tmp) / "profile"
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={profile}", f"--screenshot={out / 'report.png'}",
                        f"--window-size={REPORT_WINDOW[0]},{REPORT_WINDOW[1]}", "--hide-scrollbars",
                        page.as_uri()], capture_output=True, text=True, check=True, timeout=120)


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs"
    out.mkdir(parents=True, exist_ok=True)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        raise SystemExit("no display: run under Xvfb (see the top of this file)")
    os.environ["COMPANION_DATA_DIR"] = tempfile.mkdtemp(prefix="cc-shots-data-")
    os.environ["COMPANION_CONFIG_DIR"] = tempfile.mkdtemp(prefix="cc-shots-config-")
    subprocess.run([sys.executable, str(ROOT / "bench" / "screenshot_demo.py"), str(out / "screenshot.png")],
                   check=True, env=dict(os.environ), timeout=300)
    call_id = save_calls()
    shoot_windows(out, call_id)
    shoot_report(out, call_id)
    for name in ("screenshot.png", "history.png", "replay.png", "settings.png", "report.png"):
        shrink(out / name)
        print(f"{out / name}: {(out / name).stat().st_size // 1024} KB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
