"""The team dashboard (supervisors): per agent and per week, from the team server's weekly rollup
(`companion.team.server_queries.weekly`) — prompts per call (all, or one kind), interruptions per call, average
pace, talk share, calls reviewed and calls with an upset customer — as six pyqtgraph charts
(`ui.team.team_charts`).

Two views: "Trend" draws a line per agent across the weeks; "Latest week" a bar per agent for the newest
week, which stays readable with 50 agents. The agent list on the left is the legend: tick who is drawn,
click a name to bring that agent's line forward. "Export CSV…" writes the figures of the agents shown
(`weekly_csv`, owner-only). Queries run on the window's TeamClient thread; pyqtgraph is imported only
when a dashboard opens."""

from __future__ import annotations

import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Optional

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from companion.prompt_kinds import PROMPT_KINDS
from ui.accessibility import describe_all
from ui.style import local_time
from ui.team.team_charts import LATEST, TREND, TeamCharts, agent_colour
from ui.team.team_client import TeamClient, people

WEEKS = (4, 8, 12, 26, 52)
STALE_AFTER_S = 10 * 60   # figures older than this are recomputed by the dashboard itself
CHECK_EVERY_MS = 60_000   # how often the dashboard looks at the figures' age (and says it)


def age_text(seconds: Optional[float]) -> str:
    """How old the figures are, in words: "just now", "4 min ago", "2 h ago", "3 days ago"."""
    if seconds is None:
        return "never computed"
    if seconds < 90:
        return "just now"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"


def age_of(refreshed_at: Optional[str], now: Optional[datetime] = None) -> Optional[float]:
    """Seconds since the server last computed the figures (None: never)."""
    if not refreshed_at:
        return None
    then = datetime.fromisoformat(refreshed_at)
    return max(0.0, ((now or datetime.now(timezone.utc)) - then).total_seconds())


def _swatch(colour: QColor) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(colour)
    return QIcon(pixmap)


class TeamDashboard(TeamCharts, QWidget):
    def __init__(self, dsn: str, password: Optional[str] = None, parent=None):
        super().__init__(parent)
        import pyqtgraph as pg

        self.pg = pg
        pg.setConfigOptions(antialias=True, background="w", foreground="#202124")
        self.setWindowTitle("Team dashboard — per agent, per week")
        self.resize(1300, 820)
        self.client = TeamClient(dsn, password, self)
        self.rows: list[dict] = []
        self.weeks: list[str] = []
        self.agents: list[str] = []
        self.colours: dict[str, QColor] = {}
        self.curves: dict[str, dict[str, object]] = {}   # measure → agent → PlotDataItem (trend)
        self.bars: dict[str, object] = {}                # measure → BarGraphItem (latest week)
        self.bar_values: dict[str, dict[str, float]] = {}
        self.team_curves: dict[str, object] = {}          # measure → the team's dashed line (trend)
        self.team_values: dict[str, float] = {}           # measure → the team's figure (latest week)
        self.highlighted: Optional[str] = None
        self.message = ""
        self.error: Optional[str] = None
        self.refreshed_at: Optional[str] = None
        self._pending = 0
        self.stale_after_s = STALE_AFTER_S
        self._recomputed_at: Optional[float] = None  # monotonic: when this dashboard last recomputed by itself
        self.summary_text = ""
        self._fresh = QTimer(self)  # the figures' age said, and stale figures recomputed, while the window is open
        self._fresh.timeout.connect(self.check_freshness)
        self._fresh.start(CHECK_EVERY_MS)
        self._build()
        self._ask(self._load_people, self._got_people, "Connecting to the team server…")
        self.reload()

    # --- the widgets ------------------------------------------------------------------------
    def _build(self) -> None:
        self.team = QComboBox()
        self.team.addItem("All my teams", None)
        self.span = QComboBox()
        for n in WEEKS:
            self.span.addItem(f"Last {n} weeks", n)
        self.span.setCurrentIndex(WEEKS.index(12))
        self.view = QComboBox()
        self.view.addItem("Trend: a line per agent", TREND)
        self.view.addItem("Latest week: a bar per agent", LATEST)
        self.kind = QComboBox()
        self.kind.addItem("All prompts", None)
        for kind, k in PROMPT_KINDS.items():
            self.kind.addItem(k.label, kind)
        self.recompute = QPushButton("Recompute now")
        self.recompute.setToolTip("The weekly figures are recomputed on the server every few minutes; "
                                  "this does it now.")
        self.export = QPushButton("Export CSV…")
        self.export.setToolTip("The weekly figures of the agents ticked on the left, one line per agent per week")
        self.agent_list = QListWidget()
        self.all_agents = QPushButton("All")
        self.no_agents = QPushButton("None")
        self.status = QLabel("")
        self.status.setTextFormat(Qt.PlainText)
        describe_all(
            (self.team, "Team", "Whose figures are shown: one of your teams, or all of them"),
            (self.span, "Weeks", "How many weeks back the figures reach"),
            (self.view, "View", "A line per agent over the weeks, or a bar per agent for the latest week"),
            (self.kind, "Prompt", "Which prompt's count is drawn"),
            (self.recompute, "Recompute now", self.recompute.toolTip()),
            (self.export, "Export CSV", self.export.toolTip()),
            (self.agent_list, "Agents", "Tick the agents whose figures are drawn"),
            (self.all_agents, "All agents", "Tick every agent"),
            (self.no_agents, "No agents", "Untick every agent"))

        top = QHBoxLayout()
        for label, w in (("Team", self.team), ("Show", self.span), ("", self.view), ("Prompts", self.kind)):
            if label:
                top.addWidget(QLabel(label))
            top.addWidget(w)
        top.addStretch(1)
        top.addWidget(self.recompute)
        top.addWidget(self.export)

        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(QLabel("Agents (click one to bring it forward)"))
        column.addWidget(self.agent_list, 1)
        key = QLabel("Black dashes: the team (the agents ticked)")
        key.setWordWrap(True)
        key.setStyleSheet("color: #5b6270;")
        column.addWidget(key)
        buttons = QHBoxLayout()
        buttons.addWidget(self.all_agents)
        buttons.addWidget(self.no_agents)
        column.addLayout(buttons)

        charts = self._build_charts()

        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(charts)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([220, 1080])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)

        self.team.currentIndexChanged.connect(lambda *_: self.reload())
        self.span.currentIndexChanged.connect(lambda *_: self.reload())
        self.view.currentIndexChanged.connect(lambda *_: self.draw())
        self.kind.currentIndexChanged.connect(lambda *_: self.draw())
        self.agent_list.itemChanged.connect(lambda *_: self.draw())
        self.agent_list.currentItemChanged.connect(self._highlight_item)
        self.all_agents.clicked.connect(lambda: self._tick_all(True))
        self.no_agents.clicked.connect(lambda: self._tick_all(False))
        self.recompute.clicked.connect(self.recompute_now)
        self.export.clicked.connect(self.export_dialog)

    # --- asking the server ------------------------------------------------------------------
    def _ask(self, job, done, saying: str) -> None:
        self._pending += 1
        self._say(saying)

        def answered(value) -> None:
            self._pending -= 1
            self.error = None
            done(value)

        def failed(message: str) -> None:
            self._pending -= 1
            self.error = message
            self._say(message, problem=True)
            self.recompute.setEnabled(True)

        self.client.submit(job, answered, failed)

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def _say(self, text: str, problem: bool = False) -> None:
        self.message = text
        self.status.setText(text)
        self.status.setToolTip(text)
        self.status.setStyleSheet("color: #b3261e;" if problem else "color: #5b6270;")

    @staticmethod
    def _load_people(conn) -> dict:
        return people(conn)

    def _got_people(self, found: dict) -> None:
        self.team.blockSignals(True)
        for team in found["teams"]:
            if self.team.findData(team) < 0:
                self.team.addItem(team, team)
        self.team.blockSignals(False)

    def _weekly_job(self, recompute: bool = False):
        from companion.team.server_queries import refresh_rollup, rollup_refreshed_at, weekly

        weeks, team = self.span.currentData(), self.team.currentData()

        def job(conn):
            if recompute:
                refresh_rollup(conn)
            return weekly(conn, weeks=weeks, team=team), rollup_refreshed_at(conn), weeks

        return job

    def reload(self) -> None:
        self._ask(self._weekly_job(), self._got_weekly, "Reading the weekly figures…")

    def check_freshness(self) -> None:
        """Say how old the figures are; recompute them when older than `stale_after_s` (at most once per that
        time, so a server that cannot recompute is not asked again and again)."""
        if self.busy or self.error is not None and self.refreshed_at is None:
            return
        age = age_of(self.refreshed_at)
        if age is not None and age < self.stale_after_s:
            self._show_summary()
            return
        if self._recomputed_at is not None and time.monotonic() - self._recomputed_at < self.stale_after_s:
            self._show_summary()
            return
        self._recomputed_at = time.monotonic()
        self._recompute(f"The figures are from {age_text(age)}: recomputing them on the server…")

    def recompute_now(self) -> None:
        self._recompute("Recomputing the weekly figures on the server…")

    def _recompute(self, saying: str) -> None:
        self.recompute.setEnabled(False)
        self._ask(self._weekly_job(recompute=True), self._got_weekly, saying)

    def _got_weekly(self, answer) -> None:
        rows, refreshed_at, weeks = answer
        self.recompute.setEnabled(True)
        self.rows, self.refreshed_at = rows, refreshed_at
        self.weeks = _week_range(weeks, rows)
        agents = sorted({r["agent"] for r in rows})
        self._fill_agents(agents)
        self.draw()
        calls = sum(r["calls"] for r in rows)
        self.summary_text = (f"{len(agents)} agent{'s' if len(agents) != 1 else ''}, "
                             f"{calls} call{'s' if calls != 1 else ''} over {len(self.weeks)} weeks (Monday to Sunday, "
                             "UTC)")
        self._show_summary()
        age = age_of(refreshed_at)
        if age is None or age >= self.stale_after_s:
            QTimer.singleShot(0, self, self.check_freshness)  # stale on arrival: recomputed now, not in a minute

    def _show_summary(self) -> None:
        if not self.summary_text or self.busy:
            return
        self._say(f"{self.summary_text} — figures as of {local_time(self.refreshed_at)} "
                  f"({age_text(age_of(self.refreshed_at))}); they are recomputed by themselves when older than "
                  f"{self.stale_after_s / 60:.0f} min, or now with “Recompute now”.")

    def _fill_agents(self, agents: list[str]) -> None:
        unticked = {self.agent_list.item(i).data(Qt.UserRole) for i in range(self.agent_list.count())
                    if self.agent_list.item(i).checkState() != Qt.Checked}
        self.agents = agents
        self.colours = {a: agent_colour(n, len(agents)) for n, a in enumerate(agents)}
        self.agent_list.blockSignals(True)
        self.agent_list.clear()
        for agent in agents:
            item = QListWidgetItem(_swatch(self.colours[agent]), agent)
            item.setData(Qt.UserRole, agent)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Unchecked if agent in unticked else Qt.Checked)
            self.agent_list.addItem(item)
        self.agent_list.blockSignals(False)
        if self.highlighted not in agents:
            self.highlighted = None

    def _tick_all(self, on: bool) -> None:
        self.agent_list.blockSignals(True)
        for i in range(self.agent_list.count()):
            self.agent_list.item(i).setCheckState(Qt.Checked if on else Qt.Unchecked)
        self.agent_list.blockSignals(False)
        self.draw()

    def _highlight_item(self, item: Optional[QListWidgetItem], _previous=None) -> None:
        self.highlight(item.data(Qt.UserRole) if item is not None else None)

    @property
    def shown_agents(self) -> list[str]:
        return [self.agent_list.item(i).data(Qt.UserRole) for i in range(self.agent_list.count())
                if self.agent_list.item(i).checkState() == Qt.Checked]

    # --- CSV ----------------------------------------------------------------------------------
    def csv_rows(self) -> list[dict]:
        shown = set(self.shown_agents)
        return [r for r in self.rows if r["agent"] in shown]

    def export_csv(self, path: Path) -> Path:
        """The shown agents' weekly figures as CSV (`weekly_csv`), written owner-only."""
        from companion.app.calls_cli import write_private
        from companion.team.server_queries import weekly_csv

        path = Path(path)
        write_private(path, weekly_csv(self.csv_rows()).encode("utf-8"))
        return path

    def export_dialog(self) -> Optional[Path]:
        from companion.errors import CompanionError

        default = f"team-weekly-{date.today().isoformat()}.csv"
        name, _ = QFileDialog.getSaveFileName(self, "Export the weekly figures", default, "CSV (*.csv)")
        if not name:
            return None
        try:
            path = self.export_csv(Path(name))
        except CompanionError as exc:
            self._say(exc.message, problem=True)
            return None
        self._say(f"Exported {len(self.csv_rows())} rows to {path}.")
        return path

    def closeEvent(self, event) -> None:  # noqa: N802
        self._fresh.stop()
        self.client.close()
        super().closeEvent(event)


def _week_range(weeks: int, rows: list[dict]) -> list[str]:
    """Every Monday of the last `weeks` weeks (UTC), so a week without calls is a gap, not skipped."""
    from datetime import datetime, timedelta, timezone

    today = datetime.now(timezone.utc).date()
    monday = today - timedelta(days=today.weekday())
    span = [(monday - timedelta(weeks=n)).isoformat() for n in range(weeks - 1, -1, -1)]
    extra = sorted({r["week"] for r in rows} - set(span))  # the server's clock may be a week ahead of ours
    return sorted(span + extra)
