"""History's Team source (supervisors): the calls on the team server that this login may see — the
server's row-level security decides whose — with filters (agent, team, dates, prompt kind, interrupted,
reviewed or not) and full-text search, 200 calls at a time. A call opens in the replay window from the
server (comments and "Reviewed" are saved there). Every query runs on the window's TeamClient thread;
a slow or unreachable server is one line under the list, never a frozen window."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from companion.prompt_kinds import PROMPT_KINDS, prompt_kind
from companion.timeline import MOOD_LABELS
from ui.accessibility import describe_all
from ui.style import PROMPT_STYLES, clock, local_time
from ui.team.team_client import TeamClient, people

PAGE = 200
SLOW_S = 3.0  # after this long a query's line says the server is slow
SEARCH_PAUSE_MS = 350  # typing: ask the server once the agent pauses
COLUMNS = ["Started", "Agent", "Team", "Length", "Prompts", "Interruptions", "Customer", "Status", "Reviewed",
           "Comments", "Audio", "Prompts by kind"]
CENTRED = {"Length", "Prompts", "Interruptions", "Reviewed", "Comments", "Audio"}


def _midnight(day: QDate) -> str:
    """The start of that local day, with its UTC offset (the server compares timestamptz)."""
    return datetime(day.year(), day.month(), day.day()).astimezone().isoformat()


def mood_cell(row: dict) -> str:
    mood = row.get("customer_mood")
    if not mood:
        return "—"
    label = MOOD_LABELS.get(mood, mood)
    return f"{label} {clock(row.get('upset_s') or 0.0)}" if mood == "upset" else label


class TeamHistoryPane(QWidget):
    """The Team page of the History window."""

    opened = Signal(object)  # a replay window, once it is open

    def __init__(self, dsn: str, password: Optional[str] = None, parent=None):
        super().__init__(parent)
        self.dsn, self.password = dsn, password
        self.client = TeamClient(dsn, password, self)
        self.rows: list[dict] = []
        self.replays: list = []
        self.message = ""
        self.error: Optional[str] = None
        self._generation = 0
        self._pending = 0
        self._more = False
        self._build()
        self._slow = QTimer(self)
        self._slow.setInterval(500)
        self._slow.timeout.connect(self._say_slow)
        self._typing = QTimer(self)
        self._typing.setSingleShot(True)
        self._typing.setInterval(SEARCH_PAUSE_MS)
        self._typing.timeout.connect(self.refresh)
        self._connect_signals()
        self._ask(people, self._got_people, "Connecting to the team server…")
        self.refresh()

    # --- the widgets ------------------------------------------------------------------------
    def _build(self) -> None:
        self.query = QLineEdit()
        self.query.setPlaceholderText("Search what was said (words, \"a phrase\", -not)…")
        self.agent = QComboBox()
        self.agent.addItem("All agents", None)
        self.team = QComboBox()
        self.team.addItem("All teams", None)
        self.kind = QComboBox()
        self.kind.addItem("Any prompt", None)
        for kind in PROMPT_KINDS:
            self.kind.addItem(PROMPT_STYLES[kind][0], kind)
        self.interrupted = QComboBox()
        for label, value in (("Complete or interrupted", None), ("Interrupted only", True), ("Complete only", False)):
            self.interrupted.addItem(label, value)
        self.reviewed = QComboBox()
        for label, value in (("Reviewed or not", None), ("Not reviewed", False), ("Reviewed", True)):
            self.reviewed.addItem(label, value)
        self.since = QDateEdit(QDate.currentDate().addYears(-1))
        self.until = QDateEdit(QDate.currentDate())
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.refresh_button = QPushButton("Refresh")
        self.dashboard_button = QPushButton("Team dashboard…")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)  # more of the team's calls at a glance
        self.table.horizontalHeader().setStretchLastSection(True)
        self.status = QLabel("")
        self.status.setTextFormat(Qt.PlainText)  # the server's words, shown as written
        self.more_button = QPushButton(f"Load {PAGE} more")
        self.more_button.setEnabled(False)
        self.open_button = QPushButton("Open replay")
        describe_all(
            (self.query, "Search", "Find the team's calls by what was said"),
            (self.agent, "Agent", "Only this agent's calls"),
            (self.team, "Team", "Only this team's calls"),
            (self.kind, "Prompt", "Only calls with this prompt"),
            (self.interrupted, "Complete or interrupted", "Only calls that ended normally, or were interrupted"),
            (self.reviewed, "Reviewed", "Only calls a supervisor has reviewed, or not"),
            (self.since, "From", "Calls started on or after this day"),
            (self.until, "To", "Calls started on or before this day"),
            (self.refresh_button, "Refresh", "Ask the team server again"),
            (self.dashboard_button, "Team dashboard", "The team's weekly figures"),
            (self.table, "Team calls", "The team's calls found, newest first"),
            (self.more_button, "Load more", "The next page of calls"),
            (self.open_button, "Open replay", "Replay the chosen call"))

        first = QHBoxLayout()
        first.addWidget(self.query, 3)
        for w in (self.agent, self.team, self.kind):
            first.addWidget(w, 1)
        second = QHBoxLayout()
        second.addWidget(QLabel("From"))
        second.addWidget(self.since)
        second.addWidget(QLabel("to"))
        second.addWidget(self.until)
        for w in (self.interrupted, self.reviewed):
            second.addWidget(w)
        second.addStretch(1)
        second.addWidget(self.refresh_button)
        second.addWidget(self.dashboard_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.more_button)
        bottom.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(first)
        layout.addLayout(second)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)

    def _connect_signals(self) -> None:
        self.query.textChanged.connect(lambda *_: self._typing.start())
        self.query.returnPressed.connect(self.refresh)
        for combo in (self.agent, self.team, self.kind, self.interrupted, self.reviewed):
            combo.currentIndexChanged.connect(lambda *_: self.refresh())
        for edit in (self.since, self.until):
            edit.dateChanged.connect(lambda *_: self.refresh())
        self.refresh_button.clicked.connect(self.refresh)
        self.more_button.clicked.connect(self.load_more)
        self.table.doubleClicked.connect(lambda *_: self.open_selected())
        self.open_button.clicked.connect(self.open_selected)
        self.dashboard_button.clicked.connect(self.open_dashboard)

    # --- asking the server ------------------------------------------------------------------
    def _ask(self, job, done, saying: str) -> None:
        self._pending += 1
        self._say(saying)
        self._slow.start()

        def answered(value, callback=done):
            self._answered()
            callback(value)

        def failed(message: str) -> None:
            self._answered()
            self.error = message
            self._say(message, problem=True)

        self.client.submit(job, answered, failed)

    def _answered(self) -> None:
        self._pending = max(0, self._pending - 1)
        if not self._pending:
            self._slow.stop()

    def _say(self, text: str, problem: bool = False) -> None:
        self.message = text
        self.status.setText(text)
        self.status.setToolTip(text)
        self.status.setStyleSheet("color: #b3261e;" if problem else "")

    def _say_slow(self) -> None:
        waited = self.client.busy_for()
        if waited >= SLOW_S:
            self._say(f"The team server is slow to answer — still waiting ({waited:.0f} s)…")

    def filters(self) -> dict:
        return {"agent": self.agent.currentData(), "team": self.team.currentData(),
                "since": _midnight(self.since.date()), "until": _midnight(self.until.date().addDays(1)),
                "prompt_kind": self.kind.currentData(), "interrupted": self.interrupted.currentData(),
                "reviewed": self.reviewed.currentData(), "text": self.query.text().strip() or None}

    def refresh(self) -> None:
        """Ask again from the first page (the filters changed, or Refresh)."""
        from companion.team.server_queries import list_calls

        self._typing.stop()
        self._generation += 1
        generation, filters = self._generation, self.filters()
        self.error = None
        self.more_button.setEnabled(False)
        self._ask(lambda conn: list_calls(conn, **filters, limit=PAGE, offset=0),
                  lambda rows: self._got_page(generation, 0, rows), "Asking the team server…")

    def load_more(self) -> None:
        from companion.team.server_queries import list_calls

        generation, filters, offset = self._generation, self.filters(), len(self.rows)
        self.more_button.setEnabled(False)
        self._ask(lambda conn: list_calls(conn, **filters, limit=PAGE, offset=offset),
                  lambda rows: self._got_page(generation, offset, rows), f"Asking for {PAGE} more…")

    def _got_people(self, found: dict) -> None:
        for combo, items in ((self.agent, found["agents"]), (self.team, [(t, t) for t in found["teams"]])):
            chosen = combo.currentData()
            combo.blockSignals(True)
            while combo.count() > 1:
                combo.removeItem(1)
            for value, label in items:
                combo.addItem(label, value)
            index = combo.findData(chosen) if chosen is not None else 0
            combo.setCurrentIndex(max(0, index))
            combo.blockSignals(False)
        if not self._pending and not self.error:
            self._say_count()

    def _got_page(self, generation: int, offset: int, rows: list[dict]) -> None:
        if generation != self._generation or offset != (len(self.rows) if offset else 0):
            return  # an answer to filters that have changed since
        if offset == 0:
            self.rows = []
            self.table.setRowCount(0)
        self.rows.extend(rows)
        self._more = len(rows) == PAGE
        self.more_button.setEnabled(self._more)
        self.table.setRowCount(len(self.rows))
        for n, row in enumerate(rows, start=offset):
            self._fill(n, row)
        if offset == 0:
            self.table.resizeColumnsToContents()
        self.error = None
        self._say_count()

    def _say_count(self) -> None:
        n = len(self.rows)
        if not n:
            self._say("No calls on the team server match." if self._generation else "")
            return
        order = "best matches first" if self.query.text().strip() else "newest first"
        more = f"; “Load {PAGE} more” for older ones" if self._more else ""
        self._say(f"{n} call{'s' if n != 1 else ''} shown, {order}{more}.")

    def _fill(self, n: int, row: dict) -> None:
        counts = row.get("prompt_counts") or {}
        interrupted = row.get("status") == "interrupted"
        by_kind = " · ".join(f"{prompt_kind(k).label} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
        values = (local_time(row.get("started_at")), row.get("agent") or "—", row.get("team") or "—",
                  clock(row.get("duration_s") or 0.0), str(row.get("prompts") or 0), str(row.get("interruptions") or 0),
                  mood_cell(row), "interrupted" if interrupted else "complete", "Yes" if row.get("reviewed") else "—",
                  str(row.get("comments") or 0), "Yes" if row.get("has_audio") else "—", by_kind)
        for col, value in enumerate(values):
            item = QTableWidgetItem(value)
            if col == 0:
                item.setData(Qt.UserRole, row["uuid"])
            if COLUMNS[col] in CENTRED:
                item.setTextAlignment(Qt.AlignCenter)
            self.table.setItem(n, col, item)
        if row.get("reviewed") and row.get("reviewed_by"):
            self.table.item(n, COLUMNS.index("Reviewed")).setToolTip(
                f"by {row['reviewed_by']}, {local_time(row.get('reviewed_at'))}")

    @property
    def shown_uuids(self) -> list[str]:
        return [self.table.item(r, 0).data(Qt.UserRole) for r in range(self.table.rowCount())]

    @property
    def busy(self) -> bool:
        return self._pending > 0

    # --- opening a call ---------------------------------------------------------------------
    def open_selected(self) -> None:
        """Load the selected call from the server; the replay window opens when it has arrived."""
        from companion.team.server_queries import load_call

        row = self.table.currentRow()
        if row < 0:
            return
        uuid = self.table.item(row, 0).data(Qt.UserRole)
        self._ask(lambda conn: load_call(conn, uuid), self._open, "Opening the call from the team server…")

    def _open(self, doc: dict) -> None:
        from ui.team.team_replay import TeamReplay

        replay = TeamReplay(doc, TeamClient(self.dsn, self.password))
        replay.changed.connect(self._changed)
        replay.show()
        self.replays.append(replay)
        self._say_count()
        self.opened.emit(replay)

    def _changed(self, uuid: str, reviewed: bool, comments: int) -> None:
        """A replay window saved a comment or "Reviewed": its row says so at once."""
        for n, row in enumerate(self.rows):
            if row["uuid"] == uuid:
                row["reviewed"], row["comments"] = reviewed, comments
                self.table.item(n, COLUMNS.index("Reviewed")).setText("Yes" if reviewed else "—")
                self.table.item(n, COLUMNS.index("Comments")).setText(str(comments))

    def open_dashboard(self):
        from ui.team.team_dashboard import TeamDashboard

        self.dashboard = TeamDashboard(self.dsn, self.password)
        self.dashboard.show()
        return self.dashboard

    def close_client(self) -> None:
        self._slow.stop()
        self._typing.stop()
        self.client.close()

