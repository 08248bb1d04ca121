"""The call window's commands: its toolbar — Start/Stop call (Ctrl+Return), Pause for payment (Ctrl+P),
the demo call, Compact (Ctrl+M), History… (Ctrl+H), Team dashboard… (only on a supervisor's or admin's
machine), Setup… and Settings… — and the dialogs and windows they open: the devices, the calls' language,
the speech model and the playbook chosen in Setup applied to the window (a call in progress keeps its
checklist); the settings; the kept calls (with the team server's as a second source on a supervisor's
machine); the team's weekly figures. It knows the window only as a `CallWindow` (what it asks of it), and
changes it only through the window's public methods."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol, cast

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QMainWindow, QToolBar, QToolButton

from companion.asr.engine import LoadedModel
from companion.config import CoachingConfig, load_config
from companion.errors import CompanionError
from companion.playbooks import Playbook

if TYPE_CHECKING:
    from ui.review.history_window import HistoryWindow
    from ui.settings.setup_dialog import SetupDialog
    from ui.team.team_dashboard import TeamDashboard

PAUSE_TIP = ("While the customer reads out card details: nothing said is stored (text or audio); coaching goes "
             "on. It also starts by itself when a payment cue is said (“card number”, “expiry date”…) and resumes "
             "once no card details are said for a while. Ctrl+P pauses, or resumes at once.")


class CallWindow(Protocol):
    """What the controller asks of the call window (ui.call.main_window.MainWindow, a QMainWindow)."""

    config: CoachingConfig
    settings: QSettings
    playbooks: dict[str, Playbook]
    playbook: Playbook
    model: Optional[LoadedModel]

    def toggle_call(self) -> None: ...

    def start_call(self, demo: bool = False, recording: Optional[Path] = None) -> None: ...

    def pause_storing(self, paused: bool) -> None: ...

    def set_compact(self, compact: bool) -> None: ...

    def choose_playbook(self, playbook_id: str) -> None: ...

    def use_no_model(self) -> None: ...

    def load_model(self, path: Optional[Path] = None) -> None: ...

    def apply_config(self, config: CoachingConfig) -> None: ...

    def show_problem(self, kind: str, message: str) -> None: ...


class CallWindowController:
    def __init__(self, window: CallWindow):
        self.window = window
        widget = cast(QMainWindow, window)  # the actions' and dialogs' parent, and the toolbar's window
        self.setup_dialog: Optional["SetupDialog"] = None
        self.history: Optional["HistoryWindow"] = None
        self.dashboard: Optional["TeamDashboard"] = None
        def action(text: str, slot: Callable[..., None], **options: Any) -> QAction:
            made = QAction(text, widget, **options)
            made.triggered.connect(slot)
            return made

        self.start_action = action("Start call", window.toggle_call, shortcut=QKeySequence("Ctrl+Return"),
                                   toolTip="Start the call, or stop it (Ctrl+Return)")
        self.pause_action = action("Pause for payment", window.pause_storing, shortcut=QKeySequence("Ctrl+P"),
                                   checkable=True, enabled=False, toolTip=PAUSE_TIP)
        self.demo_action = action("Play demo call", lambda: window.start_call(demo=True),
                                  toolTip="Play a recorded call through the coach, to see what it does")
        self.compact_action = action("Compact", window.set_compact, shortcut=QKeySequence("Ctrl+M"), checkable=True,
                                     toolTip="A narrow strip that stays on top: the cue, the current step, the "
                                             "meters (Ctrl+M)")
        self.history_action = action("History…", self.open_history, shortcut=QKeySequence("Ctrl+H"),
                                     toolTip="The calls kept on this computer: search, replay, export (Ctrl+H)")
        self.dashboard_action = action("Team dashboard…", self.open_dashboard,
                                       toolTip="Per agent and per week, from the team server")
        self.setup_action = action("Setup…", self.open_setup,
                                   toolTip="Your microphone, the softphone's sound, the calls' language, the speech "
                                           "model and the playbook")
        self.settings_action = action("Settings…", self.open_settings,
                                      toolTip="When each cue comes, privacy and recording")
        self.shortcuts_action = action("Keyboard shortcuts…", self.show_shortcuts, shortcut=QKeySequence("F1"),
                                       toolTip="Every keyboard shortcut of this window (F1)")
        self.start_action.setWhatsThis("Start the call, or stop it")
        for made in (self.start_action, self.pause_action, self.demo_action, self.compact_action, self.history_action,
                     self.dashboard_action, self.setup_action, self.settings_action, self.shortcuts_action):
            made.setStatusTip(made.toolTip())
        help_menu = widget.menuBar().addMenu("&Help")
        help_menu.addAction(self.shortcuts_action)
        self.help_menu = help_menu
        toolbar: QToolBar = widget.addToolBar("Call")
        self.toolbar = toolbar
        toolbar.setObjectName("callToolbar")
        toolbar.setMovable(False)
        actions = [self.start_action, self.pause_action, self.demo_action, self.compact_action, self.history_action]
        if team_dsn() is not None:  # a supervisor's (or admin's) machine
            actions.append(self.dashboard_action)
        for shown in actions + [self.setup_action, self.settings_action]:
            toolbar.addAction(shown)
        for button in toolbar.findChildren(QToolButton):  # Qt's own "more buttons" arrow, when the window is narrow
            if button.objectName() == "qt_toolbar_ext_button":
                button.setAccessibleName("More toolbar buttons")
                button.setAccessibleDescription("The toolbar's buttons that do not fit the window's width")
        self.shortcuts: Optional[QDialog] = None

    # --- the actions through a call ----------------------------------------------------------
    def call_started(self) -> None:
        self.start_action.setText("Stop call")
        self.pause_action.setEnabled(True)
        self.demo_action.setEnabled(False)

    def call_stopping(self) -> None:
        self.start_action.setEnabled(False)
        self.start_action.setText("Stopping…")

    def call_ended(self, held: bool) -> None:
        """Start call again, and the demo unless `held` (the breather after a hard call holds them)."""
        self.start_action.setText("Start call")
        self.set_idle(held)
        self.pause_action.setChecked(False)
        self.pause_action.setEnabled(False)

    def set_idle(self, held: bool) -> None:
        self.start_action.setEnabled(not held)
        self.demo_action.setEnabled(not held)

    # --- dialogs and windows -----------------------------------------------------------------
    def show_shortcuts(self) -> None:
        """Help → Keyboard shortcuts: read from the window's actions and shortcuts as they are now."""
        from ui.call.shortcuts_dialog import ShortcutsDialog

        self.shortcuts = ShortcutsDialog(cast(QMainWindow, self.window))
        self.shortcuts.show()

    def open_setup(self) -> None:
        """The setup dialog; what the agent chose is applied to the window."""
        from companion.audio.device_choice import DeviceChoice, save_choice
        from ui.settings.setup_dialog import SetupDialog

        window = self.window
        dialog = SetupDialog(list(window.playbooks.values()), window.playbook.id, window.config.asr.language,
                             cast(QMainWindow, window))
        self.setup_dialog = dialog
        if not dialog.exec():
            return
        choice = dialog.choice()
        if choice.agent_device or choice.customer_device:
            save_choice(DeviceChoice(choice.agent_device, choice.customer_device))
        if choice.language != window.config.asr.language:
            self.set_language(choice.language)
        window.settings.setValue("setup_done", True)
        window.choose_playbook(choice.playbook_id)
        if choice.model_path is None:
            window.use_no_model()
        elif window.model is None or window.model.path != choice.model_path:
            window.load_model(choice.model_path)

    def set_language(self, language: str) -> None:
        """The calls' language, kept in the user's coaching.toml; the model follows it."""
        from companion.config import save_user_overrides

        try:
            save_user_overrides({"asr": {"language": language}})
            self.window.apply_config(load_config())
        except CompanionError as exc:
            self.window.show_problem("error", exc.message)

    def open_settings(self) -> None:
        from ui.settings.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.window.config, cast(QMainWindow, self.window), self.window.settings)
        if dialog.exec():
            self.window.apply_config(load_config())

    def open_history(self) -> None:
        """The kept calls (read in the background: a store that cannot be read is said in the window)."""
        from ui.review.history_window import HistoryWindow
        from ui.team.team_history import TeamHistoryPane

        self.history = HistoryWindow(team_dsn=team_dsn(), team_pane=TeamHistoryPane)
        self.history.show()

    def open_dashboard(self) -> None:
        """The team dashboard (pyqtgraph is imported only now: the window starts without it)."""
        dsn = team_dsn()
        if dsn is None:
            self.window.show_problem("error", "No team server connection for a supervisor on this machine — run "
                                              "`companion team connect DSN` with the supervisor's account.")
            return
        from ui.team.team_dashboard import TeamDashboard

        self.dashboard = TeamDashboard(dsn)
        self.dashboard.show()


def team_dsn() -> Optional[str]:
    """The team server address for History's Team source and the dashboard (None: not a supervisor's machine)."""
    from ui.team.team_client import team_dsn as find

    return find()
