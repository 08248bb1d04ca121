"""The live transcript: a model/view list (fast for an hour-long call), partial text replaced by
the final words, auto-scroll that pauses when the user scrolls up, and a "jump to live" button.

What it shows is redacted as the store keeps it (companion/window_redaction.py): a line is shown
again when a later segment takes more out of it (the second half of a card number), and a number that
may still turn out to be personal shows as a label until that is decided. Settings → Privacy decides
(`redact`: the same switch as the store's; `show_digits`: numbers as said for a minute, to type them
into a payment screen)."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Optional

from PySide6.QtCore import QAbstractListModel, QModelIndex, Qt, QTimer
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QLabel, QListView, QPushButton, QVBoxLayout, QWidget

from companion.events import FinalSegment, PartialText
from companion.window_redaction import WindowTranscript
from ui.style import PARTY_COLOURS, PARTY_NAMES, clock

PENDING = "…"            # a final line not judged yet: for an instant, in a burst of lines
JUDGE_SLICE_S = 0.008    # the share of one turn of the event loop that judging lines may take


@dataclass
class Line:
    party: str
    t: float
    text: str
    final: bool
    key: Optional[int] = None   # the final segment's key in the redaction (WindowTranscript)


class TranscriptModel(QAbstractListModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.lines: list[Line] = []
        self._partial: dict[str, Optional[int]] = {"agent": None, "customer": None}
        self.shown = WindowTranscript()
        self._by_key: dict[int, Line] = {}   # lines a later segment may still change
        self._queue: deque = deque()         # (final segment, its line) or (another event, None), to judge in order
        self._turn_began: Optional[float] = None
        self._next_turn = QTimer(self)       # fires once the event loop comes round again
        self._next_turn.setSingleShot(True)
        self._next_turn.setInterval(0)
        self._next_turn.timeout.connect(self._new_turn)
        self._later = QTimer(self)           # the rest of a burst, a slice per turn
        self._later.setSingleShot(True)
        self._later.setInterval(0)
        self._later.timeout.connect(self._judge)
        self._italic = QFont()
        self._italic.setItalic(True)

    def rowCount(self, parent: Optional[QModelIndex] = None) -> int:  # noqa: N802 - Qt's name
        return 0 if parent is not None and parent.isValid() else len(self.lines)

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
        # judged with every final line before it: while some still wait to be judged, not shown yet
        text = ("" if not event.text else PENDING if self._queue else self.shown.partial(event))
        if not text:
            if row is not None:
                self._remove(event.party)
            return
        if row is None:
            self._append(Line(event.party, event.t, text, False))
            self._partial[event.party] = len(self.lines) - 1
        else:
            line = self.lines[row]
            line.text = text
            index = self.index(row)
            self.dataChanged.emit(index, index)

    def final(self, event: FinalSegment) -> None:
        row = self._partial[event.party]
        line = Line(event.party, event.start, PENDING, True)
        if row is not None:
            # the forming line becomes the final words in place: lines stay in the order they were begun,
            # so a customer's long sentence stays above the agent's "mm-hmm" said inside it
            self.lines[row] = line
            self._partial[event.party] = None
            index = self.index(row)
            self.dataChanged.emit(index, index)
        else:
            self._append(line)
        self._queue.append((event, line))
        self._judge_soon()

    def heard(self, event: object) -> None:
        """Any other event of the call: time passes (a number is decided, numbers shown as said go), the call ends."""
        if self._queue:
            self._queue.append((event, None))   # after the lines before it
        elif self._by_key:
            self._show(self.shown.heard(event))

    def configure(self, redaction: bool, show_digits: bool) -> None:
        """Settings → Privacy: from the next call on (a call's lines are judged with one setting)."""
        self._settings = (redaction, show_digits)

    _settings = (True, False)

    # --- judging lines without stalling the window ------------------------------------------------
    def _judge_soon(self) -> None:
        """Judge the waiting lines now, within this turn of the event loop's share of time; a burst of
        lines (a backlog after a stall) goes on in the next turns, each line shown as PENDING until then."""
        now = time.perf_counter()
        if self._turn_began is None:
            self._turn_began = now
            self._next_turn.start()
        if now - self._turn_began < JUDGE_SLICE_S:
            self._judge(self._turn_began + JUDGE_SLICE_S)
        elif not self._later.isActive():
            self._later.start()

    def _new_turn(self) -> None:
        self._turn_began = None

    def _judge(self, until: Optional[float] = None) -> None:
        until = time.perf_counter() + JUDGE_SLICE_S if until is None else until
        while self._queue and time.perf_counter() < until:
            event, line = self._queue.popleft()
            if line is None:
                self._show(self.shown.heard(event))
                continue
            key, updates = self.shown.final(event)
            line.key = key
            self._by_key[key] = line
            self._show(updates)
        if self._queue and not self._later.isActive():
            self._later.start()

    def _show(self, updates: list[tuple[int, str]]) -> None:
        """Lines shown again with their new text (searched from the newest: they are recent)."""
        for key, text in updates:
            line = self._by_key.get(key)
            if line is None or line.text == text:
                continue
            line.text = text
            for row in range(len(self.lines) - 1, -1, -1):
                if self.lines[row] is line:
                    index = self.index(row)
                    self.dataChanged.emit(index, index)
                    break
        settled = set(self._by_key) - self.shown.open_keys()
        for key in settled:
            del self._by_key[key]

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
        self.shown = WindowTranscript(*self._settings)
        self._by_key = {}
        self._queue.clear()
        self._later.stop()
        self.endResetModel()


class TranscriptView(QWidget):
    def set_placeholder(self, text: str) -> None:
        self.placeholder.setText(text)
        self._fit_placeholder()

    def _fit_placeholder(self) -> None:
        """The placeholder as wide as the list and as tall as its wrapped words need: never a line cut off."""
        width = max(120, self.width() - 2 * self.list.frameWidth() - 4)  # the list fills this view
        self.placeholder.resize(width, self.placeholder.heightForWidth(width))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit_placeholder()

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
        self.list.setAccessibleName("Transcript")
        self.list.setAccessibleDescription("What both sides said, newest at the bottom; each line says who spoke")
        self.jump = QPushButton("↓ Jump to live", self)
        self.jump.setObjectName("jumpToLive")
        self.jump.setAccessibleName("Jump to live")
        self.jump.setAccessibleDescription("Scroll the transcript back to the newest line")
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
