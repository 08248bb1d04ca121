"""The team dashboard's charts: the series of each measure from the team server's weekly rollup
(`companion.team.server_queries.weekly`) — per agent and for the team — and the six pyqtgraph charts drawn from
them, "Trend" (a line per agent across the weeks) or "Latest week" (a bar per agent for the newest week).

`TeamCharts` is mixed into `ui.team.team_dashboard.TeamDashboard`, which holds the rows, weeks, agents, their
colours, the selectors and `pg` (pyqtgraph, imported only when a dashboard opens, so this module never
imports it)."""

from __future__ import annotations

import math
from datetime import date
from typing import Callable, Optional

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QStackedWidget, QVBoxLayout, QWidget

from companion.prompt_kinds import PROMPT_KINDS

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


class TeamCharts:
    """The charts half of the dashboard: builds the two views' plots and draws the ticked agents."""

    # --- the widgets ------------------------------------------------------------------------
    def _build_charts(self) -> QWidget:
        pg = self.pg
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
        return charts

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
