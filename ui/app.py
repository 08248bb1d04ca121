"""Start the window: `companion` (no command) or `companion --demo`."""

from __future__ import annotations

import sys
from functools import partial
from typing import Optional

from companion.config import load_config
from companion.playbooks import all_playbooks
from companion.settings_files import window_path


def set_icon(app) -> None:
    from PySide6.QtGui import QIcon

    from companion.resources import resource_path

    icon = QIcon()
    for size in (16, 32, 48, 64, 128, 256):
        icon.addFile(str(resource_path(f"icons/hicolor/{size}x{size}/apps/call-companion.png")))
    app.setWindowIcon(icon)


def window_settings():
    from PySide6.QtCore import QSettings

    return QSettings(str(window_path()), QSettings.IniFormat)  # where: the settings store


def build_window(demo: bool = False, model: Optional[str] = None):
    from ui.call.main_window import MainWindow

    config = load_config()
    playbooks, problems = all_playbooks()
    use_model = not (model is not None and model.lower() == "none")
    window = MainWindow(config, playbooks, window_settings(), model_path=model if use_model else None, use_model=use_model)
    for problem in problems:
        window.statusBar().showMessage(problem, 15000)
    return window


def open_supervisor_start():
    """On a supervisor's (or admin's) machine: History on its Team source, the dashboard and the live floor,
    shown; None on any other machine (the call window opens instead)."""
    from ui.team.supervisor_start import SupervisorStart, supervisor_dsn

    dsn = supervisor_dsn()
    if dsn is None:
        return None
    start = SupervisorStart(dsn)
    start.show()
    return start


def _no_display() -> bool:
    import os

    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _platform_cannot_load() -> bool:
    """True, once the user is told what to install, when Qt's platform plugin lacks a system library.

    Qt aborts the process in that case (no exception to catch), so this looks before any Qt GUI import."""
    from companion.display_check import display_problem

    problem = display_problem()
    if problem:
        print(f"companion: {problem}", file=sys.stderr)
    return bool(problem)


def _close_on_terminate(app) -> None:
    """SIGTERM (a logout, `kill`) closes the windows as their close buttons do: a call in progress ends and is kept."""
    import signal

    from PySide6.QtCore import QTimer

    def terminate(*_):
        app.closeAllWindows()
        app.quit()

    try:
        signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread (an embedding host): its own signal handling stays
        return
    wake = QTimer(app)  # Python runs a signal handler only between bytecodes: give it some while Qt waits
    wake.timeout.connect(lambda: None)
    wake.start(200)


def _show_store_notices(app, window) -> None:
    """A damaged store set aside (by whichever thread opened it) is said in the window's banner and status bar."""
    from PySide6.QtCore import QTimer

    from companion.store.db import take_notices

    timer = QTimer(app)
    timer.timeout.connect(lambda: [window.show_problem("error", message) for message in take_notices()])
    timer.start(1000)


def run(demo: bool = False, model: Optional[str] = None) -> int:
    if _no_display():
        print("companion: no display found: the window needs a desktop session. Use 'companion live' to coach "
              "headless, or 'companion analyze CALL.wav' for a recording.", file=sys.stderr)
        return 2
    if _platform_cannot_load():
        return 2
    try:
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
    except ImportError:
        print("companion: the window needs PySide6: run 'pip install PySide6-Essentials'. "
              "'companion analyze' and 'companion live' work without it.", file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Call Companion")
    set_icon(app)
    _close_on_terminate(app)
    supervisor = None if demo else open_supervisor_start()
    if supervisor is not None:  # a supervisor's machine: the team's windows, not the agent's call setup
        code = app.exec()
        supervisor.close()
        app.processEvents()
        return code
    window = build_window(demo, model)
    window.show()
    _show_store_notices(app, window)
    if demo:
        QTimer.singleShot(0, partial(window.start_call, demo=True))
    elif not window.settings.value("setup_done", False, type=bool):
        QTimer.singleShot(0, window.controller.open_setup)
    code = app.exec()
    window.deleteLater()  # Qt objects go before the interpreter does
    del window
    app.processEvents()
    return code


def run_replay(db, call_id: int) -> int:
    if _no_display():
        print("companion: no display found: the replay window needs a desktop session; "
              "'companion calls export ID --format html' makes a report to open in a browser.", file=sys.stderr)
        return 2
    if _platform_cannot_load():
        return 2
    from PySide6.QtWidgets import QApplication

    from companion.store.calls import load_call
    from ui.review.replay_window import ReplayWindow

    load_call(db, call_id)  # a clear error before any window
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = ReplayWindow.from_store(db, call_id)
    window.show()
    _close_on_terminate(app)
    code = app.exec()
    window.deleteLater()
    del window
    app.processEvents()
    return code
