"""History: saved calls by date, with duration, playbook, prompt counts and the customer's mood; full-text
search over the transcripts and filters (dates, prompt kind, interrupted, upset customer); open a call in
the replay window. On a supervisor's machine a switch shows the Team source instead: every agent's calls on
the team server that the supervisor may see (ui/team_history.py)."""

from __future__ import annotations

import sqlite3
from typing import Optional

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from companion.store.calls import search
from companion.store.queries import history_rows
from companion.prompt_kinds import PROMPT_KINDS
from companion.timeline import MOOD_LABELS
from ui.style import PROMPT_STYLES, clock

KINDS = ["", *PROMPT_KINDS]


class HistoryWindow(QWidget):
    def __init__(self, db: sqlite3.Connection, parent=None, team_dsn: Optional[str] = None,
                 team_password: Optional[str] = None):
        """`team_dsn`: the supervisor's team server address (ui.team_client.team_dsn()); None: no Team source."""
        super().__init__(parent)
        self.setWindowTitle("Call history")
        self.resize(760, 480)
        self.db = db
        self.team_dsn, self.team_password = team_dsn, team_password
        self.team = None  # the Team page (ui.team_history.TeamHistoryPane), made when first chosen
        self.query = QLineEdit()
        self.query.setPlaceholderText("Search what was said…")
        self.kind = QComboBox()
        for kind in KINDS:
            self.kind.addItem(PROMPT_STYLES[kind][0] if kind else "Any prompt", kind)
        self.interrupted = QCheckBox("Interrupted only")
        self.upset = QCheckBox("Upset customer")
        self.since = QDateEdit(QDate.currentDate().addYears(-1))
        self.until = QDateEdit(QDate.currentDate().addDays(1))
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
        self.table = QTableWidget(0, 7)
        self.table.setHorizontalHeaderLabels(["#", "Started", "Length", "Playbook", "Prompts", "Customer", "Status"])
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.open_button = QPushButton("Open replay")
        filters = QHBoxLayout()
        for w in (self.query, self.kind, self.since, self.until, self.interrupted, self.upset):
            filters.addWidget(w)
        self.local = QWidget()
        local = QVBoxLayout(self.local)
        local.setContentsMargins(0, 0, 0, 0)
        local.addLayout(filters)
        local.addWidget(self.table)
        local.addWidget(self.open_button)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.local)
        self.here_source = QRadioButton("This computer")
        self.team_source = QRadioButton("Team")
        self.team_source.setToolTip("Every agent's calls on the team server that you may see")
        self.here_source.setChecked(True)
        sources = QButtonGroup(self)
        sources.addButton(self.here_source)
        sources.addButton(self.team_source)
        switch = QHBoxLayout()
        switch.addWidget(QLabel("Calls on:"))
        switch.addWidget(self.here_source)
        switch.addWidget(self.team_source)
        switch.addStretch(1)
        self.switch = QWidget()
        self.switch.setLayout(switch)
        switch.setContentsMargins(0, 0, 0, 0)
        self.switch.setVisible(team_dsn is not None)
        layout = QVBoxLayout(self)
        layout.addWidget(self.switch)
        layout.addWidget(self.pages, 1)
        self.team_source.toggled.connect(self.show_team)
        self.query.returnPressed.connect(self.refresh)
        self.query.textChanged.connect(lambda *_: self.refresh())
        self.kind.currentIndexChanged.connect(lambda *_: self.refresh())
        self.interrupted.toggled.connect(lambda *_: self.refresh())
        self.upset.toggled.connect(lambda *_: self.refresh())
        self.since.dateChanged.connect(lambda *_: self.refresh())
        self.until.dateChanged.connect(lambda *_: self.refresh())
        self.table.doubleClicked.connect(lambda *_: self.open_selected())
        self.open_button.clicked.connect(self.open_selected)
        self.replays = []
        self.refresh()

    def refresh(self) -> None:
        ids = search(self.db, self.query.text().strip() or None, self.kind.currentData() or None,
                     self.since.date().toString(Qt.ISODate), self.until.date().toString(Qt.ISODate),
                     True if self.interrupted.isChecked() else None, True if self.upset.isChecked() else None)
        self.table.setRowCount(0)
        if not ids:
            return
        rows = history_rows(self.db, ids)
        self.table.setRowCount(len(rows))
        for n, call_id in enumerate(i for i in ids[:2000] if i in rows):
            r = rows[call_id]
            for col, value in enumerate((str(r["id"]), r["started_at"].replace("T", " ")[:16], clock(r["duration_s"]),
                                          r["playbook"] or "—", str(r["prompts"]), mood_text(r), r["status"])):
                self.table.setItem(n, col, QTableWidgetItem(value))

    def show_team(self, team: bool = True) -> None:
        """The Team source (made, and connected to the server, the first time) or this computer's calls."""
        if team and self.team is None and self.team_dsn is not None:
            from ui.team_history import TeamHistoryPane

            self.team = TeamHistoryPane(self.team_dsn, self.team_password)
            self.pages.addWidget(self.team)
            self.resize(max(self.width(), 1100), max(self.height(), 600))
        if team != self.team_source.isChecked():
            self.team_source.setChecked(team)  # toggled again: comes back here once
            self.here_source.setChecked(not team)
            return
        self.pages.setCurrentWidget(self.team if team and self.team is not None else self.local)
        self.setWindowTitle("Call history — team server" if team else "Call history")

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.team is not None:
            self.team.close_client()
        super().closeEvent(event)

    @property
    def shown_ids(self) -> list[int]:
        return [int(self.table.item(r, 0).text()) for r in range(self.table.rowCount())]

    def open_selected(self) -> Optional[QWidget]:
        row = self.table.currentRow()
        if row < 0:
            return None
        from ui.replay_window import ReplayWindow

        replay = ReplayWindow.from_store(self.db, int(self.table.item(row, 0).text()))
        replay.show()
        self.replays.append(replay)
        return replay


def mood_text(row) -> str:
    """The worst the customer's mood reached: "Upset 00:42", "Tense", "Calm", or "—" when never read."""
    mood = row["customer_mood"]
    if not mood:
        return "—"
    label = MOOD_LABELS.get(mood, mood)
    return f"{label} {clock(row['upset_s'] or 0.0)}" if mood == "upset" else label
