"""The main window's toolbar: Start/Stop call (Ctrl+Return), Pause for payment (Ctrl+P), the demo call,
Compact (Ctrl+M), History… (Ctrl+H), Team dashboard… (only on a supervisor's or admin's machine),
Setup… and Settings…; each action is an attribute of the window (`window.start_action`, …)."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence

from ui import window_dialogs


def add_toolbar(window) -> None:
    window.start_action = QAction("Start call", window, shortcut=QKeySequence("Ctrl+Return"),
                                  triggered=window.toggle_call)
    window.compact_action = QAction("Compact", window, shortcut=QKeySequence("Ctrl+M"), checkable=True,
                                    triggered=window.set_compact)
    window.setup_action = QAction("Setup…", window, triggered=window.open_setup)
    window.settings_action = QAction("Settings…", window, triggered=window.open_settings)
    window.demo_action = QAction("Play demo call", window, triggered=lambda: window.start_call(demo=True))
    window.pause_action = QAction("Pause for payment", window, shortcut=QKeySequence("Ctrl+P"), checkable=True,
                                  enabled=False, triggered=window.pause_storing,
                                  toolTip="While the customer reads out card details: nothing said is stored "
                                          "(text or audio); coaching goes on. Ctrl+P again resumes.")
    window.history_action = QAction("History…", window, shortcut=QKeySequence("Ctrl+H"),
                                    triggered=window.open_history)
    window.dashboard_action = QAction("Team dashboard…", window, toolTip="Per agent and per week, from the team "
                                      "server", triggered=lambda: window_dialogs.open_dashboard(window))
    toolbar = window.addToolBar("Call")
    toolbar.setObjectName("callToolbar")
    toolbar.setMovable(False)
    actions = [window.start_action, window.pause_action, window.demo_action, window.compact_action,
               window.history_action]
    if window_dialogs.team_dsn() is not None:  # a supervisor's (or admin's) machine
        actions.append(window.dashboard_action)
    for action in actions + [window.setup_action, window.settings_action]:
        toolbar.addAction(action)
