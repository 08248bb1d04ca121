"""The live transcript: a model/view list (fast for an hour-long call), partial text replaced by
the final words, auto-scroll that pauses when the user scrolls up, and a "jump to live" button."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from PySide6.QtCore import QAbstractListModel, QModelIndex, Qt, QTimer
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QLabel, QListView, QPushButton, QVBoxLayout, QWidget

from companion.events import FinalSegment, PartialText
from ui.style import PARTY_COLOURS, PARTY_NAMES, clock


@dataclass
class Line:
    party: str
    t: float
    text: str
    final: bool


class TranscriptModel(QAbstractListModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.lines: list[Line] = []
        self._partial: dict[str, Optional[int]] = {"agent": None, "customer": None}
        self._italic = QFont()
        self._italic.setItalic(True)

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt's name
        return 0 if parent.isValid() else len(self.lines)

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid():
            return None
        line = self.lines[index.row()]
        if role == Qt.DisplayRole:
            return f"{PARTY_NAMES.get(line.party, line.party)}  {clock(line.t)}   {line.text}"
        if role == Qt.ForegroundRole:
            colour = QColor(PARTY_COLOURS.get(line.party, "#333"))
            if not line.final:
                colour.setAlpha(150)
            return colour
        if role == Qt.FontRole and not line.final:
            return self._italic
        if role == Qt.TextAlignmentRole:
            return int(Qt.AlignLeft | Qt.AlignVCenter)
        if role == Qt.UserRole:
            return line
        return None

    def partial(self, event: PartialText) -> None:
        row = self._partial[event.party]
        if not event.text:
            if row is not None:
                self._remove(event.party)
            return
        if row is None:
            self._append(Line(event.party, event.t, event.text, False))
            self._partial[event.party] = len(self.lines) - 1
        else:
            line = self.lines[row]
            line.text = event.text
            index = self.index(row)
            self.dataChanged.emit(index, index)

    def final(self, event: FinalSegment) -> None:
        row = self._partial[event.party]
        line = Line(event.party, event.start, event.text, True)
        if row is not None:
            # the forming line becomes the final words in place: lines stay in the order they were begun,
            # so a customer's long sentence stays above the agent's "mm-hmm" said inside it
            self.lines[row] = line
            self._partial[event.party] = None
            index = self.index(row)
            self.dataChanged.emit(index, index)
            return
        self._append(line)

    def _append(self, line: Line) -> None:
        n = len(self.lines)
        self.beginInsertRows(QModelIndex(), n, n)
        self.lines.append(line)
        self.endInsertRows()

    def _remove(self, party: str) -> None:
        row = self._partial[party]
        self.beginRemoveRows(QModelIndex(), row, row)
        del self.lines[row]
        self.endRemoveRows()
        self._partial[party] = None
        for other, r in self._partial.items():
            if r is not None and r > row:
                self._partial[other] = r - 1

    def clear(self) -> None:
        self.beginResetModel()
        self.lines.clear()
        self._partial = {"agent": None, "customer": None}
        self.endResetModel()


class TranscriptView(QWidget):
    def set_placeholder(self, text: str) -> None:
        self.placeholder.setText(text)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = TranscriptModel(self)
        self.list = QListView(self)
        self.list.setModel(self.model)
        self.list.setWordWrap(True)
        self.list.setLayoutMode(QListView.Batched)
        self.list.setBatchSize(40)  # a batch of wrapped lines lays out in a few ms
        self.list.setVerticalScrollMode(QListView.ScrollPerPixel)
        self.list.setSelectionMode(QListView.NoSelection)
        self.list.setSpacing(2)
        self.jump = QPushButton("↓ Jump to live", self)
        self.jump.setObjectName("jumpToLive")
        self.jump.hide()
        self.jump.clicked.connect(self.jump_to_live)
        self.placeholder = QLabel("The transcript appears here as both sides speak.", self.list.viewport())
        self.placeholder.setStyleSheet("color: #8a9099; padding: 12px;")
        self.placeholder.setWordWrap(True)
        self.placeholder.resize(420, 60)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        layout.addWidget(self.jump)
        self.model.rowsInserted.connect(lambda *a: self.placeholder.hide())
        self.model.modelReset.connect(lambda: self.placeholder.setVisible(not self.model.lines))
        self.following = True
        self._scroll_later = QTimer(self)  # one scroll for a burst of lines, not one per line
        self._scroll_later.setSingleShot(True)
        self._scroll_later.setInterval(30)
        self._scroll_later.timeout.connect(self._to_bottom)
        bar = self.list.verticalScrollBar()
        bar.valueChanged.connect(self._scrolled)
        bar.rangeChanged.connect(self._range_changed)
        self.model.rowsInserted.connect(self._follow)
        self.model.dataChanged.connect(self._follow)

    def _at_bottom(self) -> bool:
        bar = self.list.verticalScrollBar()
        return bar.value() >= bar.maximum() - 4

    def _scrolled(self, _value: int) -> None:
        if self._programmatic:
            return
        self.following = self._at_bottom()
        self.jump.setVisible(not self.following)

    _programmatic = False

    def _range_changed(self, _min: int, _max: int) -> None:
        if self.following and not self._scroll_later.isActive():
            self._scroll_later.start()

    def _follow(self, *args) -> None:
        if self.following and not self._scroll_later.isActive():
            self._scroll_later.start()

    def _to_bottom(self) -> None:
        self._programmatic = True
        try:
            self.list.scrollToBottom()
        finally:
            self._programmatic = False

    def jump_to_live(self) -> None:
        self.following = True
        self.jump.hide()
        self._to_bottom()
