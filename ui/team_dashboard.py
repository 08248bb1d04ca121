"""The team dashboard (supervisors): per agent and per week, from the team server's weekly rollup
(`companion.team.queries.weekly`) — prompts per call (all, or one kind), interruptions per call, average
pace, talk share, calls reviewed and calls with an upset customer — as six pyqtgraph charts.

Two views: "Trend" draws a line per agent across the weeks; "Latest week" a bar per agent for the newest
week, which stays readable with 50 agents. The agent list on the left is the legend: tick who is drawn,
click a name to bring that agent's line forward. "Export CSV…" writes the figures of the agents shown
(`weekly_csv`, owner-only). Queries run on the window's TeamClient thread; pyqtgraph is imported only
when a dashboard opens."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from companion.prompt_kinds import PROMPT_KINDS
from ui.team_client import TeamClient
from ui.team_history import local_time

WEEKS = (4, 8, 12, 26, 52)
TREND, LATEST = "trend", "latest"
BAR_ROW_PX = 18  # the bar view's height per agent: 50 agents scroll rather than squeeze their names
TEAM_PEN = {"color": "#202124", "width": 2}


def _rate(key: str) -> Callable[[dict], Optional[float]]:
    return lambda row: row.get(key)


# (id, title, value of one rollup row, how rows of one agent's week in several teams combine)
MEASURES: tuple[tuple[str, str, Callable[[dict], Optional[float]], str], ...] = (
    ("prompts", "Prompts per call", _rate("prompts_per_call"), "mean"),
    ("interruptions", "Interruptions per call (by the agent)", _rate("interruptions_per_call"), "mean"),
    ("pace", "Average pace (words/min)", _rate("avg_wpm"), "mean"),
    ("talk", "Talk share (% of the call)", lambda r: None if r.get("avg_talk_share") is None
     else round(100.0 * r["avg_talk_share"], 1), "mean"),
    ("reviewed", "Calls reviewed", _rate("calls_reviewed"), "sum"),
    ("upset", "Calls with an upset customer", _rate("upset_calls"), "sum"),
)


def series(rows: list[dict], measure: str, kind: Optional[str] = None) -> dict[str, dict[str, float]]:
    """{agent: {week: value}} for one measure (`kind`: prompts per call of that kind only). An agent in
    two teams the same week: per-call figures are averaged over both teams' calls, counts added."""
    _, _, value, combine = next(m for m in MEASURES if m[0] == measure)
    if measure == "prompts" and kind:
        value = lambda r: (r.get("prompts_per_call_by_kind") or {}).get(kind, 0.0)  # noqa: E731
    acc: dict[str, dict[str, list[float]]] = {}
    for row in rows:
        v = value(row)
        if v is None:
            continue
        cell = acc.setdefault(row["agent"], {}).setdefault(row["week"], [0.0, 0.0])
        calls = float(row.get("calls") or 0)
        if combine == "sum":
            cell[0] += float(v)
        else:
            cell[0] += float(v) * calls
            cell[1] += calls
    out: dict[str, dict[str, float]] = {}
    for agent, weeks in acc.items():
        out[agent] = {w: (s if combine == "sum" else (s / n if n else 0.0)) for w, (s, n) in weeks.items()}
    return out


def team_series(rows: list[dict], measure: str, kind: Optional[str], agents: list[str]) -> dict[str, float]:
    """{week: the team's figure} over `agents`: per-call figures over all their calls that week, counts
    as the mean per agent who had calls that week."""
    combine = next(m[3] for m in MEASURES if m[0] == measure)
    per_agent = series([r for r in rows if r["agent"] in agents], measure, kind)
    calls: dict[tuple[str, str], float] = {}
    for r in rows:
        if r["agent"] in agents:
            calls[(r["agent"], r["week"])] = calls.get((r["agent"], r["week"]), 0.0) + float(r.get("calls") or 0)
    weeks = sorted({w for values in per_agent.values() for w in values})
    out = {}
    for week in weeks:
        cells = [(values[week], calls.get((agent, week), 0.0)) for agent, values in per_agent.items() if week in values]
        if combine == "sum":
            out[week] = sum(v for v, _ in cells) / len(cells)
        else:
            n = sum(c for _, c in cells)
            out[week] = sum(v * c for v, c in cells) / n if n else 0.0
    return out


def week_label(iso: str) -> str:
    try:
        return date.fromisoformat(iso).strftime("%d %b")
    except ValueError:
        return iso


def agent_colour(n: int, count: int) -> QColor:
    """Distinct hues, alternating lightness so neighbours differ even with 50 agents."""
    hue = (n * 0.618033988749895) % 1.0
    return QColor.fromHsvF(hue, 0.75 if n % 2 else 0.95, 0.80 if n % 3 else 0.62)


def _swatch(colour: QColor) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(colour)
    return QIcon(pixmap)


class TeamDashboard(QWidget):
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
        self._build()
        self._ask(self._load_people, self._got_people, "Connecting to the team server…")
        self.reload()

    # --- the widgets ------------------------------------------------------------------------
    def _build(self) -> None:
        pg = self.pg
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

        self.headline = QLabel("")
        self.headline.setTextFormat(Qt.PlainText)
        self.plots = {}  # view → measure → PlotWidget: the two views never share an axis's state
        self.stack = QStackedWidget()
        for view in (TREND, LATEST):
            page = QWidget()
            grid = QGridLayout(page)
            grid.setContentsMargins(0, 0, 0, 0)
            self.plots[view] = {}
            for n, (measure, title, _, _) in enumerate(MEASURES):
                plot = pg.PlotWidget()
                plot.setTitle(title, size="10pt")
                plot.showGrid(x=view == LATEST, y=view == TREND, alpha=0.25)
                plot.setMenuEnabled(False)
                plot.setMouseEnabled(x=False, y=False)
                plot.hideButtons()
                plot.setMinimumWidth(200)
                self.plots[view][measure] = plot
                grid.addWidget(plot, n // 3, n % 3)
            if view == LATEST:  # a bar per agent: tall enough for every name, scrolled when it must be
                self.bar_page = page
                scroll = QScrollArea()
                scroll.setWidgetResizable(True)
                scroll.setFrameShape(QScrollArea.NoFrame)
                scroll.setWidget(page)
                page = scroll
            self.stack.addWidget(page)
        charts = QWidget()
        chart_column = QVBoxLayout(charts)
        chart_column.setContentsMargins(0, 0, 0, 0)
        chart_column.addWidget(self.headline)
        chart_column.addWidget(self.stack, 1)

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
        from ui.team_history import people

        return people(conn)

    def _got_people(self, found: dict) -> None:
        self.team.blockSignals(True)
        for team in found["teams"]:
            if self.team.findData(team) < 0:
                self.team.addItem(team, team)
        self.team.blockSignals(False)

    def _weekly_job(self, recompute: bool = False):
        from companion.team.queries import refresh_rollup, rollup_refreshed_at, weekly

        weeks, team = self.span.currentData(), self.team.currentData()

        def job(conn):
            if recompute:
                refresh_rollup(conn)
            return weekly(conn, weeks=weeks, team=team), rollup_refreshed_at(conn), weeks

        return job

    def reload(self) -> None:
        self._ask(self._weekly_job(), self._got_weekly, "Reading the weekly figures…")

    def recompute_now(self) -> None:
        self.recompute.setEnabled(False)
        self._ask(self._weekly_job(recompute=True), self._got_weekly, "Recomputing the weekly figures on the server…")

    def _got_weekly(self, answer) -> None:
        rows, refreshed_at, weeks = answer
        self.recompute.setEnabled(True)
        self.rows, self.refreshed_at = rows, refreshed_at
        self.weeks = _week_range(weeks, rows)
        agents = sorted({r["agent"] for r in rows})
        self._fill_agents(agents)
        self.draw()
        calls = sum(r["calls"] for r in rows)
        self._say(f"{len(agents)} agent{'s' if len(agents) != 1 else ''}, {calls} call{'s' if calls != 1 else ''} "
                  f"over {len(self.weeks)} weeks (Monday to Sunday, UTC) — figures as of {local_time(refreshed_at)}; "
                  "“Recompute now” brings in the newest calls.")

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

    # --- drawing ----------------------------------------------------------------------------
    def draw(self) -> None:
        """Draw the chosen view for the ticked agents (the other view is drawn when it is chosen)."""
        shown, view, kind = self.shown_agents, self.view.currentData(), self.kind.currentData()
        self.curves, self.team_curves, self.bars, self.bar_values, self.team_values = {}, {}, {}, {}, {}
        latest = self.weeks[-1] if self.weeks else None
        self.stack.setCurrentIndex(0 if view == TREND else 1)
        if view == TREND:
            self.headline.setText(f"Each week (Monday to Sunday, UTC), a line per agent; {len(shown)} of "
                                  f"{len(self.agents)} agents shown.")
        else:
            when = f"the week of {week_label(latest)} (Monday to Sunday, UTC)" if latest else "no week"
            self.headline.setText(f"Latest week: {when}, a bar per agent; the team's figure dashed.")
            self.bar_page.setMinimumHeight(2 * (BAR_ROW_PX * max(1, len(shown)) + 90))
        for measure, title, _, combine in MEASURES:
            plot = self.plots[view][measure]
            plot.clear()
            data = series(self.rows, measure, kind)
            team = team_series(self.rows, measure, kind, shown)
            if measure == "prompts":
                plot.setTitle(f"{PROMPT_KINDS[kind].label} prompts per call" if kind else title, size="10pt")
            if view == TREND:
                self._draw_trend(plot, measure, data, team, shown)
            else:
                self._draw_latest(plot, measure, data, team, shown, latest)
            values = [v for a in shown for v in data.get(a, {}).values()]
            _integer_ticks(plot.getAxis("left" if view == TREND else "bottom"), combine == "sum", max(values or [0]))
        self.highlight(self.highlighted)

    def _draw_trend(self, plot, measure: str, data: dict, team: dict, shown: list[str]) -> None:
        pg = self.pg
        plot.getAxis("bottom").setTicks([_sparse([(i, week_label(w)) for i, w in enumerate(self.weeks)], 7)])
        self.curves[measure] = {}
        xs = list(range(len(self.weeks)))
        for agent in shown:
            values = data.get(agent, {})
            ys = [values.get(w, math.nan) for w in self.weeks]
            colour = self.colours[agent]
            curve = pg.PlotDataItem(xs, ys, pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=5,
                                    symbolBrush=colour, symbolPen=colour, connect="finite", name=agent)
            plot.addItem(curve)
            self.curves[measure][agent] = curve
        if shown:
            ys = [team.get(w, math.nan) for w in self.weeks]
            line = pg.PlotDataItem(xs, ys, pen=pg.mkPen(style=Qt.DashLine, **TEAM_PEN), connect="finite", name="team")
            line.setZValue(5)
            plot.addItem(line)
            self.team_curves[measure] = line
        plot.setXRange(-0.8, max(0.8, len(self.weeks) - 0.2), padding=0)  # room for the newest week's label
        plot.enableAutoRange(axis="y")

    def _draw_latest(self, plot, measure: str, data: dict, team: dict, shown: list[str], latest: Optional[str]) -> None:
        """Horizontal bars, the first agent at the top, every ticked agent on its own row in every chart
        (an agent without calls that week says so); each bar's value at its end."""
        pg = self.pg
        values = {a: data.get(a, {}).get(latest) for a in shown} if latest else {}
        ys = {a: len(shown) - 1 - i for i, a in enumerate(shown)}
        drawn = [a for a in shown if values.get(a) is not None]
        self.bar_values[measure] = {a: values[a] for a in drawn}
        top = max([values[a] for a in drawn] or [1.0]) or 1.0
        if drawn:
            bars = pg.BarGraphItem(x0=0, y=[ys[a] for a in drawn], width=[values[a] for a in drawn], height=0.7,
                                   brushes=[self.colours[a] for a in drawn], pens=[pg.mkPen(None)] * len(drawn))
            plot.addItem(bars)
            self.bars[measure] = bars
        for agent in shown:
            value = values.get(agent)
            label = pg.TextItem("no calls" if value is None else _number(value), anchor=(0, 0.5),
                                color="#9aa0a6" if value is None else "#202124")
            label.setPos((value or 0.0) + top * 0.015, ys[agent])
            plot.addItem(label)
        if latest in team:
            self.team_values[measure] = team[latest]
            plot.addItem(pg.InfiniteLine(team[latest], angle=90, pen=pg.mkPen(style=Qt.DashLine, **TEAM_PEN)))
        plot.getAxis("left").setTicks([[(ys[a], a) for a in shown]])
        plot.getAxis("bottom").setTicks(None)
        plot.setYRange(-0.6, max(0.6, len(shown) - 0.4), padding=0)
        plot.setXRange(0, top * 1.18, padding=0)  # room for the value after the longest bar

    def highlight(self, agent: Optional[str]) -> None:
        """That agent's lines drawn thick and on top, the others faded (None: all alike)."""
        self.highlighted = agent
        pg = self.pg
        for curves in self.curves.values():
            for name, curve in curves.items():
                colour = QColor(self.colours[name])
                if agent is not None and name != agent:
                    colour.setAlpha(55)
                width = 4 if name == agent else 2
                curve.setPen(pg.mkPen(colour, width=width))
                curve.setSymbolBrush(colour)
                curve.setSymbolPen(colour)
                curve.setZValue(10 if name == agent else 0)

    # --- CSV ----------------------------------------------------------------------------------
    def csv_rows(self) -> list[dict]:
        shown = set(self.shown_agents)
        return [r for r in self.rows if r["agent"] in shown]

    def export_csv(self, path: Path) -> Path:
        """The shown agents' weekly figures as CSV (`weekly_csv`), written owner-only."""
        from companion.store.calls_cli import write_private
        from companion.team.queries import weekly_csv

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


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:.2f}".rstrip("0").rstrip(".")


def _integer_ticks(axis, counts: bool, top: float) -> None:
    """Counts (calls reviewed, upset) get whole-number ticks; the rest pyqtgraph's own."""
    if counts:
        step = max(1, math.ceil(top / 5))
        axis.setTickSpacing(major=step, minor=step)
    else:
        axis.setTickSpacing()


def _sparse(ticks: list[tuple[float, str]], most: int) -> list[tuple[float, str]]:
    """At most `most` of them, evenly, always with the last (the newest week)."""
    step = max(1, math.ceil(len(ticks) / most))
    return ticks[::-1][::step][::-1] if step > 1 else ticks
