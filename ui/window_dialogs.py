"""The window's Setup…, History… and Team dashboard…: the devices, the calls' language, the speech model
and the playbook the agent chose, applied to the window (a call in progress keeps its checklist); the kept
calls (with the team server's as a second source on a supervisor's machine); the team's weekly figures."""

from __future__ import annotations

from companion.config import load_config
from companion.errors import CompanionError


def run_setup(window) -> None:
    """Open the setup dialog for `window` (a MainWindow) and apply what the agent chose."""
    from companion.audio.device_choice import DeviceChoice, save_choice
    from companion.playbooks import all_playbooks
    from ui.setup_dialog import SetupDialog

    dialog = SetupDialog(list(window.playbooks.values()), window.playbook.id, window.config.asr.language, window)
    window.setup_dialog = dialog
    if not dialog.exec():
        return
    choice = dialog.choice()
    if choice.agent_device or choice.customer_device:
        save_choice(DeviceChoice(choice.agent_device, choice.customer_device))
    if choice.language != window.config.asr.language:
        set_language(window, choice.language)
    window.settings.setValue("setup_done", True)
    playbooks, _ = all_playbooks()
    window.playbooks = {p.id: p for p in playbooks}
    window.playbook = window.playbooks.get(choice.playbook_id, window.playbook)
    window.settings.setValue("playbook", window.playbook.id)
    if not window.in_call:
        window.checklist.set_playbook(window.playbook)
    if choice.model_path is None:
        window._model_loaded(None, "none (acoustic coaching)")
    elif window.model is None or window.model.path != choice.model_path:
        window.load_model(choice.model_path)


def set_language(window, language: str) -> None:
    """The calls' language, kept in the user's coaching.toml; the model follows it."""
    from companion.config import save_user_overrides

    try:
        save_user_overrides({"asr": {"language": language}})
        window.apply_config(load_config())
    except CompanionError as exc:
        window.show_problem("error", exc.message)


def team_dsn():
    """The team server address for History's Team source and the dashboard (None: not a supervisor's machine)."""
    from ui.team_client import team_dsn as find

    return find()


def open_history(window) -> None:
    from companion.store.db import open_store
    from ui.history_window import HistoryWindow

    try:
        window.history = HistoryWindow(open_store(), team_dsn=team_dsn())
    except CompanionError as exc:
        window.show_problem("error", exc.message)
        return
    window.history.show()


def open_dashboard(window) -> None:
    """The team dashboard (pyqtgraph is imported only now: the window starts without it)."""
    dsn = team_dsn()
    if dsn is None:
        window.show_problem("error", "No team server connection for a supervisor on this machine — run "
                                     "`companion team connect DSN` with the supervisor's account.")
        return
    from ui.team_dashboard import TeamDashboard

    window.dashboard = TeamDashboard(dsn)
    window.dashboard.show()
