"""A one-line label that never widens its window and never cuts a word silently: when its text does not
fit, it shows as much as fits followed by "…", and the whole text is its tooltip (and stays its accessible
name). `text()` is always the whole text. For the status bar, where several labels share one line."""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

MIN_CHARS = 8  # the least it shrinks to, in average characters


class ElidedLabel(QLabel):
    def __init__(self, text: str = "", parent: Optional[QWidget] = None):
        super().__init__(text, parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self._own_tip = ""
        self._update_tip()

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        super().setText(text)
        self.setAccessibleName(text)
        self._update_tip()

    def setToolTip(self, tip: str) -> None:  # noqa: N802 - Qt's name
        """A tooltip of the caller's own (shown under the whole text when that is cut)."""
        self._own_tip = tip
        self._update_tip()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), self.fontMetrics().averageCharWidth() * MIN_CHARS), hint.height())

    def shown(self) -> str:
        """The text as drawn at the label's width."""
        margins = self.contentsMargins()
        width = self.width() - margins.left() - margins.right()
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, max(0, width))

    def elided(self) -> bool:
        return self.shown() != self.text()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._update_tip()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(self.contentsRect(), int(self.alignment()), self.shown())
        painter.end()

    def _update_tip(self) -> None:
        whole = self.text() if self.elided() else ""
        tip = "\n".join(t for t in (whole, self._own_tip) if t)
        super().setToolTip(tip)
