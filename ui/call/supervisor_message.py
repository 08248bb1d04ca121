"""A supervisor's message in the agent's window: a banner of its own (not a coaching cue: another
colour, the sender named, it stays until the agent dismisses it), fed from the team live publisher
(companion.team.live_publisher.SupervisorMessage) through an EventBridge, or during a call from the call's bus
(companion.events.MessageFromSupervisor, which the store keeps with the call)."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from ui.accessibility import announce

BACKGROUND = "#2d2a6e"   # none of the prompt kinds' colours: never read as a cue
TEXT = "#ffffff"


class SupervisorMessageBanner(QFrame):
    """Hidden until a message comes; shows the newest one until "Got it" (the count of earlier ones
    unread is in the title)."""

    dismissed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("supervisorMessage")
        self.title = QLabel()
        self.title.setObjectName("supervisorMessageTitle")
        self.text = QLabel()
        for label in (self.title, self.text):  # what a person typed: never markup
            label.setTextFormat(Qt.PlainText)
            label.setWordWrap(True)
        self.ok = QPushButton("Got it")
        self.ok.clicked.connect(self.dismiss)
        self.ok.setAccessibleName("Got it: dismiss the supervisor's message")
        self.setAccessibleName("Message from your supervisor")
        words = QVBoxLayout()
        words.addWidget(self.title)
        words.addWidget(self.text)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 8, 14, 8)
        layout.addLayout(words, 1)
        layout.addWidget(self.ok, 0, Qt.AlignVCenter)
        self.setStyleSheet(f"#supervisorMessage {{ background: {BACKGROUND}; border-radius: 10px; }}"
                           f"#supervisorMessage QLabel {{ color: {TEXT}; }}"
                           "#supervisorMessageTitle { font-weight: 700; }")
        self.messages: list = []     # every message of this run, oldest first
        self.unread = 0
        self.shown_at: Optional[float] = None
        self.hide()

    def show_message(self, message) -> None:
        """`message`: a SupervisorMessage (sender, text, at) from the publisher, or, during a call, the call's
        MessageFromSupervisor event (sender, text; it arrived now)."""
        self.messages.append(message)
        self.unread += 1
        more = f" (+{self.unread - 1} earlier)" if self.unread > 1 else ""
        at = getattr(message, "at", None) or datetime.now(timezone.utc)
        when = at.astimezone().strftime("%H:%M") if hasattr(at, "astimezone") else ""
        self.title.setText(f"From your supervisor {message.sender}{' at ' + when if when else ''}{more}")
        self.text.setText(message.text)
        self.shown_at = time.monotonic()
        self.show()
        announce(self, f"{self.title.text()}: {message.text}")  # a screen reader says it as it arrives

    def dismiss(self) -> None:
        self.unread = 0
        self.hide()
        self.dismissed.emit()
