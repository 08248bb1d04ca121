"""Paused for payment, unmistakably: a banner of its own across the window while nothing said is stored
(paused by the agent's key or by itself on a payment cue), with the words of
`companion.payment_cues.pause_notice` — why it paused and how it resumes — and a "Resume storing" button
doing what the pause key does. It is announced to screen readers when it appears."""

from __future__ import annotations

from typing import Callable, Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ui.accessibility import announce

BACKGROUND = "#7a4a00"   # amber-brown: not a prompt kind's colour, and the title says what it is in words
TEXT = "#ffffff"
TITLE = "PAUSED FOR PAYMENT — nothing is being stored"


class PauseBanner(QFrame):
    def __init__(self, resume: Callable[[], None], key: str, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("pauseBanner")
        self.title = QLabel(TITLE)
        self.title.setObjectName("pauseBannerTitle")
        self.text = QLabel()
        for label in (self.title, self.text):
            label.setTextFormat(Qt.TextFormat.PlainText)  # a cue as the recogniser heard it: never markup
            label.setWordWrap(True)
        self.resume = QPushButton(f"Resume storing ({key})")
        self.resume.setAccessibleName("Resume storing")
        self.resume.setAccessibleDescription(f"Store what is said again; the same as {key}")
        self.resume.clicked.connect(resume)
        words = QVBoxLayout()
        words.addWidget(self.title)
        words.addWidget(self.text)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 8, 14, 8)
        layout.addLayout(words, 1)
        layout.addWidget(self.resume, 0, Qt.AlignmentFlag.AlignVCenter)
        self.setStyleSheet(f"#pauseBanner {{ background: {BACKGROUND}; border-radius: 10px; "
                           "border: 3px dashed #ffd27a; }"
                           f"#pauseBanner QLabel {{ color: {TEXT}; }}"
                           "#pauseBannerTitle { font-size: 17px; font-weight: 700; }")
        self.setAccessibleName("Paused for payment")
        self.hide()

    def show_notice(self, notice: str) -> None:
        """Paused: `notice` says why and how it resumes."""
        self.text.setText(notice)
        self.setAccessibleDescription(notice)
        self.show()
        announce(self, f"Paused for payment. {notice}")

    def clear(self) -> None:
        self.hide()
        self.text.setText("")
