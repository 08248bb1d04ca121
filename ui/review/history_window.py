"""History: saved calls by date, with duration, playbook, prompt counts and the customer's mood; full-text
search over the transcripts and filters (dates, prompt kind, interrupted, upset customer); open a call in
the replay window. The searches and the opening of a call are the window's background tasks (ui/tasks.py),
on a connection of their own: a big history never holds the window. On a supervisor's machine a switch
shows the Team source instead: every agent's calls on the team server that the supervisor may see
(ui/team/team_history.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
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

from companion.errors import CompanionError
from companion.prompt_kinds import PROMPT_KINDS
from companion.store.calls import load_call, search
from companion.store.db import open_store
from companion.store.queries import HistoryRow, history_rows, history_ticks, prompt_ids, recording_of
from companion.timeline import MOOD_LABELS
from ui.style import PROMPT_STYLES, clock, date_format, local_datetime
from ui.tasks import Tasks

KINDS = ["", *PROMPT_KINDS]
COLUMNS = ["#", "Started", "Length", "Playbook", "Steps", "Prompts", "Customer", "Status"]


def adherence_texts(rows: dict[int, HistoryRow], ticks: dict[int, tuple[list[tuple[str, float, bool]], bool]]
                    ) -> dict[int, str]:
    """Each call's adherence to its playbook as History shows it ("71% (5/7)"; "—" when its playbook is not on
    this computer any more). Worker thread: no widgets."""
    from companion.checklist import adherence
    from companion.playbooks import all_playbooks

    playbooks = {p.id: p for p in all_playbooks()[0]}
    texts: dict[int, str] = {}
    for call_id, row in rows.items():
        playbook = playbooks.get(row["playbook"] or "")
        if playbook is None or not playbook.steps:
            continue
        done, notes = ticks.get(call_id, ([], False))
        result = adherence(playbook.steps, done, notes)
        texts[call_id] = f"{result.score:.0%} ({result.in_order}/{result.total})"
    return texts


class HistoryWindow(QWidget):
    searched = Signal()        # the table shows the latest search's calls (or the status line why not)
    opened = Signal(object)    # a ReplayWindow, opened from the table

    def __init__(self, store: Optional[Path] = None, parent=None, team_dsn: Optional[str] = None,
                 team_password: Optional[str] = None,
                 team_pane: Optional[Callable[[str, Optional[str]], QWidget]] = None):
        """`store`: the calls' store (None: the user's). `team_dsn`: the supervisor's team server address
        (ui.team.team_client.team_dsn()) and `team_pane(dsn, password)` the Team page for it (the team
        windows' TeamHistoryPane: they build on the review windows, not the other way round); None: no
        Team source."""
        super().__init__(parent)
        self.setWindowTitle("Call history")
        self.resize(760, 480)
        self.store = store
        self._reader: Optional[sqlite3.Connection] = None  # the tasks' connection: opened and used on their thread
        self._writer: Optional[sqlite3.Connection] = None  # the replays' comments, written on the GUI thread
        self.tasks = Tasks(self, serial=True, name="history", cleanup=self._close_reader)
        self._asked = 0          # the latest search asked for: an older one's answer is not shown
        self.searching = False
        self.team_dsn, self.team_password = (team_dsn, team_password) if team_pane is not None else (None, None)
        self._team_pane = team_pane
        self.team = None  # the Team page (ui.team.team_history.TeamHistoryPane), made when first chosen
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
            edit.setDisplayFormat(date_format())  # the user's own way (ISO under the C locale)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)  # the call's id is its own column: no row numbers beside it
        self.table.horizontalHeaderItem(COLUMNS.index("Steps")).setToolTip(
            "Adherence: the playbook's steps done in its order, of all its steps")
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.open_button = QPushButton("Open replay")
        self.status = QLabel("")  # why the calls cannot be shown, when they cannot
        self.status.setTextFormat(Qt.PlainText)
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #b3261e;")
        self.status.hide()
        for widget, name, what in (
                (self.query, "Search", "Find calls by what was said in them"),
                (self.kind, "Prompt", "Only calls with this prompt"),
                (self.since, "From", "Calls started on or after this day (local time)"),
                (self.until, "To", "Calls started before this day (local time)"),
                (self.interrupted, "Interrupted only", "Only calls where someone talked over the other"),
                (self.upset, "Upset customer", "Only calls where the customer was upset"),
                (self.table, "Calls", "The calls found, newest first; Enter or Open replay opens one"),
                (self.open_button, "Open replay", "Replay the chosen call")):
            widget.setAccessibleName(name)
            widget.setAccessibleDescription(what)
        self.query.setMinimumWidth(180)  # never squashed to "S…"
        self.kind.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)  # the search box gets the room
        self.kind.setMinimumContentsLength(16)  # a long prompt title is elided here, whole in the list
        filters = QHBoxLayout()
        filters.addWidget(self.query, 1)
        filters.addWidget(self.kind)
        for label, edit in (("From", self.since), ("To", self.until)):
            shown = QLabel(label)
            shown.setBuddy(edit)
            filters.addWidget(shown)
            filters.addWidget(edit)
        for w in (self.interrupted, self.upset):
            filters.addWidget(w)
        self.local = QWidget()
        local = QVBoxLayout(self.local)
        local.setContentsMargins(0, 0, 0, 0)
        local.addLayout(filters)
        local.addWidget(self.table)
        local.addWidget(self.status)
        local.addWidget(self.open_button)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.local)
        self.here_source = QRadioButton("This computer")
        self.team_source = QRadioButton("Team")
        self.team_source.setToolTip("Every agent's calls on the team server that you may see")
        self.here_source.setToolTip("The calls kept on this computer")
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

    # --- the store, on the tasks' thread ------------------------------------------------------
    def _read(self) -> sqlite3.Connection:
        if self._reader is None:
            self._reader = open_store(self.store)
        return self._reader

    def _close_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()

    # --- searching ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Search again with the filters as they are now; the table follows when the answer comes."""
        self._asked += 1
        asked = self._asked
        filters = (self.query.text().strip() or None, self.kind.currentData() or None,
                   self.since.date().toString(Qt.ISODate), self.until.date().toString(Qt.ISODate),
                   True if self.interrupted.isChecked() else None, True if self.upset.isChecked() else None)
        self.searching = True

        def work() -> tuple[list[int], dict[int, HistoryRow], dict[int, str]]:
            db = self._read()
            ids = search(db, *filters)
            rows = history_rows(db, ids)
            return ids, rows, adherence_texts(rows, history_ticks(db, ids))

        self.tasks.run(work, lambda found: self._show(asked, *found), lambda exc: self._failed(asked, exc))

    def _show(self, asked: int, ids: list[int], rows: dict[int, HistoryRow], steps: dict[int, str]) -> None:
        if asked != self._asked:
            return  # the filters changed meanwhile: the newer search's answer follows
        self.searching = False
        self.status.hide()
        shown = [i for i in ids if i in rows]
        self.table.setRowCount(len(shown))
        for n, call_id in enumerate(shown):
            r = rows[call_id]
            for col, value in enumerate((str(r["id"]), local_datetime(r["started_at"]), clock(r["duration_s"]),
                                          r["playbook"] or "—", steps.get(call_id, "—"), str(r["prompts"]),
                                          mood_text(r), r["status"])):
                self.table.setItem(n, col, QTableWidgetItem(value))
        self.table.resizeColumnsToContents()  # a start time on one line, never wrapped
        self.searched.emit()

    def _failed(self, asked: int, exc: Exception) -> None:
        if asked != self._asked:
            return
        self.searching = False
        self.table.setRowCount(0)
        self._say(exc)
        self.searched.emit()

    def _say(self, exc: Exception) -> None:
        self.status.setText(exc.message if isinstance(exc, CompanionError)
                            else f"The history cannot be read ({type(exc).__name__}: {exc}).")
        self.status.show()

    def show_team(self, team: bool = True) -> None:
        """The Team source (made, and connected to the server, the first time) or this computer's calls."""
        if team and self.team is None and self.team_dsn is not None and self._team_pane is not None:
            self.team = self._team_pane(self.team_dsn, self.team_password)
            self.pages.addWidget(self.team)
            self.resize(max(self.width(), 1100), max(self.height(), 600))
        if team != self.team_source.isChecked():
            self.team_source.setChecked(team)  # toggled again: comes back here once
            self.here_source.setChecked(not team)
            return
        self.pages.setCurrentWidget(self.team if team and self.team is not None else self.local)
        self.setWindowTitle("Call history — team server" if team else "Call history")

    def closeEvent(self, event) -> None:  # noqa: N802
        self.tasks.close()
        if self.team is not None:
            self.team.close_client()
        super().closeEvent(event)

    @property
    def shown_ids(self) -> list[int]:
        return [int(self.table.item(r, 0).text()) for r in range(self.table.rowCount())]

    def open_selected(self) -> None:
        """Open the selected call in a replay window once it is read (`opened` says so)."""
        row = self.table.currentRow()
        if row < 0:
            return
        call_id = int(self.table.item(row, 0).text())

        def work() -> tuple[dict, Optional[str], list[int]]:
            db = self._read()
            return load_call(db, call_id), recording_of(db, call_id), prompt_ids(db, call_id)

        self.tasks.run(work, lambda loaded: self._open(call_id, *loaded), self._say)

    def _open(self, call_id: int, doc: dict, recording: Optional[str], prompts: list[int]) -> None:
        from ui.review.replay_window import ReplayWindow

        try:
            if self._writer is None:
                self._writer = open_store(self.store)
        except CompanionError as exc:
            self._say(exc)
            return
        replay = ReplayWindow.saved(self._writer, call_id, doc, recording, prompts)
        replay.show()
        self.replays.append(replay)
        self.opened.emit(replay)


def mood_text(row: HistoryRow) -> str:
    """The worst the customer's mood reached: "Upset 00:42", "Tense", "Calm", or "—" when never read."""
    mood = row["customer_mood"]
    if not mood:
        return "—"
    label = MOOD_LABELS.get(mood, mood)
    return f"{label} {clock(row['upset_s'] or 0.0)}" if mood == "upset" else label
