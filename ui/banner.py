"""The coaching banner: one prompt at a time, large, coloured by kind, fading after a few seconds."""

from __future__ import annotations

import time
from typing import Optional

from PySide6.QtCore import QEasingCurve, QPropertyAnimation, Qt, QTimer
from PySide6.QtWidgets import QFrame, QGraphicsOpacityEffect, QLabel, QVBoxLayout

from ui.accessibility import announce
from ui.style import PROMPT_STYLES

HOLD_MS = 6000
FADE_MS = 800
IDLE_TEXT = "Coaching cues appear here"


class CoachingBanner(QFrame):
    def __init__(self, parent=None, hold_ms: int = HOLD_MS):
        super().__init__(parent)
        self.setObjectName("banner")
        self.hold_ms = hold_ms
        self.title = QLabel()
        self.title.setObjectName("bannerTitle")
        self.reason = QLabel()
        self.reason.setWordWrap(True)
        self.title.setWordWrap(True)  # a long title ("Customer is upset — let them finish, …") never widens the window
        for label in (self.title, self.reason):  # prompt reasons and error messages carry data: never markup
            label.setTextFormat(Qt.PlainText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.addWidget(self.title)
        layout.addWidget(self.reason)
        self.setMinimumHeight(84)
        self._effect = QGraphicsOpacityEffect(self)
        self.setGraphicsEffect(self._effect)
        self._fade = QPropertyAnimation(self._effect, b"opacity", self)
        self._fade.setDuration(FADE_MS)
        self._fade.setStartValue(1.0)
        self._fade.setEndValue(0.0)
        self._fade.setEasingCurve(QEasingCurve.InQuad)
        self._fade.finished.connect(self._faded)
        self._hold = QTimer(self)
        self._hold.setSingleShot(True)
        self._hold.timeout.connect(self._fade.start)
        self.kind: Optional[str] = None
        self.shown_at: Optional[float] = None
        self.idle_text = IDLE_TEXT
        self.setAccessibleName("Coaching cue")
        self._idle()

    def set_idle_text(self, text: str) -> None:
        """What the empty banner says (while paused for payment: that coaching goes on, never the usual hint)."""
        self.idle_text = text
        if self.kind is None:
            self._idle()

    def show_prompt(self, kind: str, reason: str) -> None:
        """Replace whatever is shown (never a stack of alerts) and start the fade clock."""
        title, background, text = PROMPT_STYLES.get(kind, (kind.replace("_", " ").capitalize(), "#444", "#fff"))
        self.kind = kind
        self.reason.setStyleSheet("")
        self.reason.setAlignment(Qt.AlignLeft | Qt.AlignVCenter)
        self.title.setText(title)
        self.reason.setText(reason)
        self.setStyleSheet(
            f"#banner {{ background: {background}; border-radius: 10px; }}"
            f"#banner QLabel {{ color: {text}; }}"
            "#bannerTitle { font-size: 22px; font-weight: 700; }"
        )
        self._fade.stop()
        self._effect.setOpacity(1.0)
        self.shown_at = time.monotonic()
        self._hold.start(self.hold_ms)
        announce(self, f"{title}. {reason}")  # a screen reader says the cue as it appears

    def clear(self) -> None:
        """Nothing shown: the empty banner at once, no fade."""
        self._hold.stop()
        self._fade.stop()
        self._idle()

    @property
    def visible_prompt(self) -> bool:
        return self.kind is not None

    def _faded(self) -> None:
        self._idle()

    def _idle(self) -> None:
        self.kind = None
        self.title.setText("")
        self.reason.setText("")
        self.setStyleSheet("#banner { background: transparent; border: 1px dashed #c8ccd2; border-radius: 10px; }")
        self._effect.setOpacity(1.0)
        self.reason.setText(self.idle_text)
        self.reason.setAlignment(Qt.AlignCenter)
        self.reason.setStyleSheet("color: #8a9099;")
