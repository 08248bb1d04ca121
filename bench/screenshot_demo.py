"""Take docs/screenshot.png: the real window (xcb under Xvfb, or any desktop) mid-demo, once the banner
shows a prompt, the customer has turned upset and a checklist step has ticked itself. Run by hand:

    xvfb-run -a -s "-screen 0 1280x800x24" python bench/screenshot_demo.py [OUT.png]
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("COMPANION_CONFIG_DIR", tempfile.mkdtemp(prefix="cc-config-"))
os.environ.setdefault("COMPANION_DATA_DIR", tempfile.mkdtemp(prefix="cc-data-"))

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from ui.app import build_window, set_icon  # noqa: E402


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "docs" / "screenshot.png"
    out.unlink(missing_ok=True)  # so that a failed run leaves no stale picture behind
    app = QApplication(sys.argv[:1])
    set_icon(app)
    window = build_window(demo=True)
    window.demo_speed = 2.0
    window.resize(980, 660)
    window.show()
    QTimer.singleShot(0, lambda: window.start_call(demo=True))

    def ready() -> bool:
        ticked = any(window.checklist.is_done(s.id) for s in window.playbook.steps)
        mood_read = window.mood.state == "upset"  # the mood strip shows the demo's customer upset
        return window.banner.visible_prompt and mood_read and ticked and len(window.transcript.model.lines) >= 4

    def poll() -> None:
        if ready():
            QTimer.singleShot(300, shoot)  # let the banner finish painting
        else:
            QTimer.singleShot(100, poll)

    def shoot() -> None:
        screen = QGuiApplication.primaryScreen()
        screen.grabWindow(window.winId()).save(str(out))
        print(f"{out}: {QGuiApplication.platformName()}, banner {window.banner.kind!r}", file=sys.stderr)
        window.close()
        app.quit()

    QTimer.singleShot(500, poll)
    QTimer.singleShot(120000, app.quit)
    app.exec()
    if not out.exists():
        print(f"{out}: not taken: the demo never showed a prompt, an upset customer and a ticked step at once", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
