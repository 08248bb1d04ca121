"""A breather after a hard call: when the customer was upset, the summary suggests a short pause, and
(when Settings give it a length; off by default) the window holds "Ready for the next call in 0:45"
with a Skip button, Start call and the demo held until it runs out or is skipped. A QTimer: never blocking."""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton

from companion.report import state_spans

BREATHER_KEY = "breather_s"  # the window's settings: seconds of pause after a hard call, 0 = off
BREATHER_MAX_S = 600


def breather_seconds(settings: QSettings) -> int:
    try:
        seconds = int(settings.value(BREATHER_KEY, 0))
    except (TypeError, ValueError):
        return 0
    return max(0, min(BREATHER_MAX_S, seconds))


def upset_seconds(states: list[dict], duration_s: float):
    """How long the customer was upset in the call ([{t, state}, ...]); None when they never were."""
    spans = [b - a for a, b, state in state_spans(states, duration_s) if state == "upset"]
    return sum(spans) if spans else None


def countdown(seconds: int) -> str:
    """'0:45', '1:30'."""
    minutes, secs = divmod(max(0, int(seconds)), 60)
    return f"{minutes}:{secs:02d}"


def length(seconds: float) -> str:
    """'45 s', '1 min 10 s'."""
    minutes, secs = divmod(int(round(max(0.0, seconds))), 60)
    return f"{secs} s" if not minutes else f"{minutes} min {secs} s" if secs else f"{minutes} min"


def breather_text(upset_s: float, hold_s: int) -> str:
    """The summary's suggestion after a call with an upset customer."""
    text = (f"The customer was upset for {length(upset_s)}. Take a short pause before the next call: "
            "breathe out slowly, sit back, have some water.")
    if hold_s:
        text += f" The next call waits {length(hold_s)} (Skip in the window)."
    return text


class BreatherBar(QFrame):
    """'Ready for the next call in 0:45' [Skip]; `finished` when it runs out or is skipped."""

    finished = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("breather")
        self.setStyleSheet("#breather { background: #e8f3ec; border-radius: 8px; }")
        self.label = QLabel()
        self.label.setObjectName("breatherCountdown")
        self.label.setStyleSheet("color: #1d7a46; font-weight: 600; font-size: 14px;")
        self.label.setTextFormat(Qt.PlainText)
        self.skip = QPushButton("Skip")
        self.skip.setObjectName("skipBreather")
        self.skip.setAutoDefault(False)
        self.skip.setAccessibleName("Skip the pause")
        self.skip.setAccessibleDescription("End the pause after a hard call and allow the next call now")
        self.skip.clicked.connect(self.stop)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 8, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.skip)
        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._tick)
        self._until = 0.0
        self.hide()

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def left_s(self) -> int:
        return max(0, math.ceil(self._until - time.monotonic()))

    def start(self, seconds: int) -> None:
        self._until = time.monotonic() + seconds
        self._timer.start()
        self.show()
        self._tick()

    def stop(self) -> None:
        """Skip (or the countdown ran out): the next call may start."""
        was = self.running
        self._timer.stop()
        self.hide()
        if was:
            self.finished.emit()

    def _tick(self) -> None:
        left = self.left_s()
        if left <= 0:
            self.stop()
            return
        text = f"Ready for the next call in {countdown(left)}"
        if text != self.label.text():
            self.label.setText(text)
