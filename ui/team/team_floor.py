"""The supervisor's live floor: a tile per agent (name, team, state, call time, the customer's mood as a
colour with its word, the last prompt, alerts), agents with alerts first, filtered by team; fed by
companion.team.live_watch.LiveFloor on a thread of its own (`FloorFeed`), the same views `companion
team watch --json` prints.

    floor = TeamFloor()
    feed = FloorFeed(dsn, tuning)            # the supervisor's team.toml address and [live] thresholds
    feed.views.connect(floor.update_views)   # each batch of changed agents, on the GUI thread
    feed.start(); …; feed.stop()
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Optional

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QFrame, QGridLayout, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from companion.team.live_alerts import ACTIVE, ALERT_KINDS, ALERT_LABELS
from companion.team.live_timeline import fresh
from companion.timeline import MOOD_COLOURS, MOOD_LABELS, MOOD_UNKNOWN_COLOUR, clock
from ui.accessibility import describe
from ui.bridge import EventBridge

if TYPE_CHECKING:
    from ui.team.live_call_view import LiveCallView

ALL_TEAMS = "All teams"
MAX_NOTES = 50  # an agent's messages and hands kept for a call's timeline opened later
ALERT_COLOUR = "#b3261e"
FOCUS_COLOUR = "#1a73e8"
STATE_COLOURS = {"on_call": "#1f5fa8", "paused": "#6b4fa8", "wrapping_up": "#4a7a8c", "idle": "#7a7f85",
                 "offline": "#a3a8ad", "connection_lost": "#8c5a1f"}


def _mood_text_colour(mood: Optional[str]) -> str:
    return "#ffffff" if mood == "upset" else "#1b1b1b"


class AgentTile(QFrame):
    """One agent on the floor; `clicked` with the agent's login (a click, or Enter or Space on the focused tile)."""

    clicked = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("agentTile")
        self.setFixedSize(230, 128)
        self.name = QLabel()
        self.name.setObjectName("tileName")
        self.state = QLabel()
        self.mood = QLabel()
        self.mood.setObjectName("tileMood")
        self.mood.setAlignment(Qt.AlignCenter)
        self.prompt = QLabel()
        self.alert = QLabel()
        self.alert.setObjectName("tileAlert")
        for label in (self.name, self.state, self.mood, self.prompt, self.alert):  # names and prompts: never markup
            label.setTextFormat(Qt.PlainText)
        self.prompt.setWordWrap(True)
        self.state.setWordWrap(True)  # never off the tile
        self.alert.setWordWrap(True)  # two alerts never run off the tile
        top = QHBoxLayout()
        top.addWidget(self.name, 1)
        top.addWidget(self.mood)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.state)
        layout.addWidget(self.prompt, 1)
        layout.addWidget(self.alert)
        self.setFocusPolicy(Qt.StrongFocus)  # Tab reaches each tile; Enter opens the call's live timeline
        self.view: dict = {}
        self.received = time.monotonic()  # when its view came (the view's age_s was then)

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if self.view:
            self.clicked.emit(self.view["agent"])
        super().mousePressEvent(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if self.view and event.key() in (Qt.Key_Return, Qt.Key_Enter, Qt.Key_Space):
            self.clicked.emit(self.view["agent"])
            return
        super().keyPressEvent(event)

    def age_s(self) -> Optional[float]:
        """How long ago the agent's row was written, now (the server's clock when it was read, counted on since)."""
        age = self.view.get("age_s")
        return None if age is None else float(age) + time.monotonic() - self.received

    def state_text(self) -> str:
        view = self.view
        state = view["state_label"]
        if view["state"] in ACTIVE:
            state += f"  {clock(view.get('call_s') or 0.0)}"
        elif view["state"] == "connection_lost":
            state += f"\nlast heard {fresh(self.age_s())} ago"  # how stale, counting
        return state

    def show_view(self, view: dict) -> None:
        if view is not self.view:
            self.received = time.monotonic()
        self.view = view
        team = f" · {view['team']}" if view.get("team") else ""
        self.name.setText(f"{view['agent']}{team}")
        self.state.setText(self.state_text())
        mood = view.get("mood")
        self.mood.setText(MOOD_LABELS.get(mood, "—") if view["state"] in ACTIVE else "")
        colour = MOOD_COLOURS.get(mood, MOOD_UNKNOWN_COLOUR)
        self.mood.setStyleSheet(f"background: {colour}; color: {_mood_text_colour(mood)}; border-radius: 6px; "
                                "padding: 1px 8px;" if view["state"] in ACTIVE else "")
        self.prompt.setText(f"Last prompt: {view['last_prompt']}" if view.get("last_prompt") and view["state"] in ACTIVE
                            else "")
        alerts = view.get("alerts") or []
        self.alert.setText(" · ".join(ALERT_LABELS.get(a, a) for a in alerts).upper() if alerts else "")
        edge = ALERT_COLOUR if alerts else STATE_COLOURS.get(view["state"], "#7a7f85")
        self.setStyleSheet(f"#agentTile {{ border: {3 if alerts else 1}px solid {edge}; border-radius: 8px; "
                           "background: #ffffff; }"
                           f"#agentTile:focus {{ border: 3px solid {FOCUS_COLOUR}; background: #eef4fd; }}"
                           "#tileName { font-weight: 700; }"
                           f"#tileAlert {{ color: {ALERT_COLOUR}; font-weight: 700; font-size: 11px; }}")
        said = [view["agent"], self.state.text().replace("\n", ", "), f"customer {self.mood.text().lower()}" if self.mood.text() else "",
                self.prompt.text(), self.alert.text().lower()]
        describe(self, ", ".join(p for p in said if p), "Enter opens the call's live timeline")


def order(view: dict) -> tuple:
    """Alerts first (the most urgent alert first), then agents on a call, then by name."""
    alerts = view.get("alerts") or []
    urgency = min((ALERT_KINDS.index(a) for a in alerts if a in ALERT_KINDS), default=len(ALERT_KINDS))
    return (0 if alerts else 1, urgency, 0 if view.get("state") in ACTIVE else 1, view.get("agent") or "")


class TeamFloor(QWidget):
    """`agent_opened(login)` when a tile is clicked (or Enter pressed on it): the agent's call so far opens in a
    window of its own (`open_call`, ui/team/live_call_view.py), kept current from the same views."""

    agent_opened = Signal(str)
    closing = Signal()  # the window closes: whatever feeds it stops

    def __init__(self, parent=None, columns: int = 5):
        super().__init__(parent)
        self.setWindowTitle("Team floor — live")
        self.columns = columns
        self.views: dict[str, dict] = {}
        self.team = QComboBox()
        self.team.addItem(ALL_TEAMS)
        describe(self.team, "Team", "Show the live agents of one team, or of all your teams")
        self.team.currentTextChanged.connect(lambda _: self._relayout())
        self.summary = QLabel()
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Team:"))
        bar.addWidget(self.team)
        bar.addStretch(1)
        bar.addWidget(self.summary)
        self._grid_host = QWidget()
        self._grid = QGridLayout(self._grid_host)
        self._grid.setSpacing(8)
        self._grid.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._grid_host)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(scroll, 1)
        self.tiles: dict[str, AgentTile] = {}
        self.calls: dict[str, "LiveCallView"] = {}   # agent -> their call's live timeline, while open
        self._notes: dict[str, list[dict]] = {}      # agent -> the messages and hands seen (for a timeline opened later)
        self.problem: Optional[str] = None
        self.agent_opened.connect(self.open_call)
        self._stale = QTimer(self)  # a lost agent's "last heard 45 s ago" keeps counting between reads
        self._stale.setInterval(1000)
        self._stale.timeout.connect(self._count_stale)
        self._stale.start()
        self._relayout()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.closing.emit()
        for view in list(self.calls.values()):
            view.close()
        super().closeEvent(event)

    def open_call(self, agent: str) -> "LiveCallView":
        """`agent`'s call so far, in its window (raised when it is open already)."""
        from ui.team.live_call_view import LiveCallView

        view = self.calls.get(agent)
        if view is None:
            state = self.views.get(agent)
            view = LiveCallView(agent, (state or {}).get("team"))
            view.setAttribute(Qt.WA_DeleteOnClose)
            view.destroyed.connect(lambda *_: self.calls.pop(agent, None))
            self.calls[agent] = view
            view.update_views(([state] if state else []) + self._notes.get(agent, []))
            if self.problem:
                view.connection_problem(self.problem)
        view.show()
        view.raise_()
        view.activateWindow()
        return view

    def show_problem(self, text: str) -> None:
        """The floor's own connection to the team server is lost (said in the summary and on each open call)."""
        self.problem = text
        self.summary.setText(text)
        for view in self.calls.values():
            view.connection_problem(text)

    def _count_stale(self) -> None:
        for tile in self.tiles.values():
            if tile.isVisible() and tile.view.get("state") == "connection_lost":
                tile.state.setText(tile.state_text())

    def update_views(self, views: list) -> None:
        """Changed agents (views of companion.team.live_watch.agent_view); hands and messages are in the
        agents' own views (a raised hand is an alert there), and on their calls' timelines."""
        changed = False
        if views and self.problem:
            self.problem = None  # the feed is back
            for view in self.calls.values():
                view.connection_problem(None)
        for call in list(self.calls.values()):
            call.update_views(views)
        for view in views:
            if view.get("event") in ("message", "hand"):
                notes = self._notes.setdefault(view["agent"], [])
                notes[:] = notes[-(MAX_NOTES - 1):] + [view]
                continue
            if view.get("event") != "state":
                continue
            self.views[view["agent"]] = view
            changed = True
            for team in (view.get("team") or "").split(","):
                if team and self.team.findText(team) < 0:
                    self.team.addItem(team)
        if changed:
            self._relayout()

    def shown(self) -> list[dict]:
        """The views on screen, in their order."""
        team = self.team.currentText()
        views = [v for v in self.views.values()
                 if team == ALL_TEAMS or team in (v.get("team") or "").split(",")]
        return sorted(views, key=order)

    def _relayout(self) -> None:
        shown = self.shown()
        names = {v["agent"] for v in shown}
        for agent, tile in list(self.tiles.items()):
            if agent not in names:
                self._grid.removeWidget(tile)
                tile.hide()
        for i, view in enumerate(shown):
            tile = self.tiles.get(view["agent"])
            if tile is None:
                tile = self.tiles[view["agent"]] = AgentTile(self._grid_host)
                tile.clicked.connect(self.agent_opened)
            tile.show_view(view)
            self._grid.addWidget(tile, i // self.columns, i % self.columns)
            tile.show()
        alerts = sum(1 for v in shown if v.get("alerts"))
        on_call = sum(1 for v in shown if v.get("state") in ACTIVE)
        self.summary.setText(f"{len(shown)} agent{'' if len(shown) == 1 else 's'} · {on_call} on a call · "
                             f"{alerts} with alerts")


class FloorFeed(QObject):
    """LiveFloor on a daemon thread; `views` (on the GUI thread) with each batch of changed agents,
    `problem` with a line when the server cannot be reached or refuses (tried again)."""

    views = Signal(list)
    problem = Signal(str)

    def __init__(self, dsn: str, tuning, password: Optional[str] = None, parent=None):
        super().__init__(parent)
        self.dsn, self.tuning, self.password = dsn, tuning, password
        self._halt = threading.Event()
        self._bridge = EventBridge(self)
        self._bridge.event.connect(self._deliver)
        self._thread: Optional[threading.Thread] = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="team-floor", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _deliver(self, item) -> None:
        if isinstance(item, str):
            self.problem.emit(item)
        else:
            self.views.emit(item)

    def _run(self) -> None:
        from companion.team.errors import TeamError
        from companion.team.live_watch import LiveFloor

        floor = LiveFloor(self.dsn, self.tuning, self.password)
        wait = 1.0
        while not self._halt.is_set():
            try:
                if floor.conn is None:
                    self._bridge.post(floor.open())
                    wait = 1.0
                changed = floor.poll(0.5)
                if changed:
                    self._bridge.post(changed)
            except TeamError as exc:
                floor.close()
                self._bridge.post(exc.message)
                self._halt.wait(wait)
                wait = min(30.0, wait * 2)
        floor.close()
