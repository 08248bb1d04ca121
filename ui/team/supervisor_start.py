"""A supervisor's start: on a machine whose team settings say it logs in as a supervisor or an admin
(`companion team connect` as one), the app opens on what a supervisor does all day — History on its Team
source, the team dashboard and the live floor — instead of the agent's call setup and coaching window.

    dsn = supervisor_dsn()             # None: an agent's machine (or none connected): the call window as ever
    start = SupervisorStart(dsn)       # the three windows, shown; the floor follows the server live
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from companion.team.live_alerts import LiveTuning

SUPERVISOR_ROLES = ("supervisor", "admin")


def supervisor_dsn() -> Optional[str]:
    """This machine's team server address when it logs in as a supervisor or admin; None otherwise (a team.toml
    that cannot be read is not a supervisor's: the call window opens and its status bar says why)."""
    from companion.team.errors import TeamError
    from companion.team.settings import load

    try:
        settings = load()
    except TeamError:
        return None
    return settings.dsn if settings.connected and settings.role in SUPERVISOR_ROLES else None


class SupervisorStart(QObject):
    """History (Team source), the dashboard and the live floor, each its own top-level window."""

    def __init__(self, dsn: str, password: Optional[str] = None, tuning: Optional["LiveTuning"] = None):
        super().__init__()
        from companion.team.errors import TeamError
        from companion.team.live_alerts import LiveTuning, load_tuning
        from ui.review.history_window import HistoryWindow
        from ui.team.team_dashboard import TeamDashboard
        from ui.team.team_floor import FloorFeed, TeamFloor
        from ui.team.team_history import TeamHistoryPane

        self.history = HistoryWindow(team_dsn=dsn, team_password=password, team_pane=TeamHistoryPane)
        self.history.show_team(True)
        self.dashboard = TeamDashboard(dsn, password)
        self.floor = TeamFloor()
        if tuning is None:
            try:
                tuning = load_tuning()
            except TeamError as exc:
                self.floor.summary.setText(exc.message)
                tuning = LiveTuning()
        self.feed = FloorFeed(dsn, tuning, password, self.floor)
        self.feed.views.connect(self.floor.update_views)
        self.feed.problem.connect(self.floor.show_problem)  # said on the floor and on each call's live timeline
        self.floor.closing.connect(self.feed.stop)
        self.feed.start()

    @property
    def windows(self) -> list[QWidget]:
        return [self.history, self.dashboard, self.floor]

    def show(self) -> None:
        """History and the dashboard from the left, the live floor on top of them at the right."""
        screen = self.history.screen().availableGeometry() if self.history.screen() is not None else None
        if screen is not None:
            self.history.move(screen.topLeft())
            self.dashboard.move(screen.x() + 40, screen.y() + 40)
            self.floor.resize(min(900, screen.width() // 2), min(700, screen.height() - 80))
            self.floor.move(screen.x() + screen.width() - self.floor.width(), screen.y() + 60)
        self.history.show()
        self.dashboard.show()
        self.floor.show()

    def close(self) -> None:
        for window in self.windows:
            window.close()
        self.feed.stop()
