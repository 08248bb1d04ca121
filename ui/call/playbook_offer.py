"""The offer, at the top of the checklist, to switch to the Angry customer steps once the customer is
upset: one click switches, "Not now" hides it; either way it does not come back in this call. Nothing
switches without the click."""

from __future__ import annotations

import html
from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from companion.playbooks import Playbook
from companion.timeline import MOOD_COLOURS

ANGRY_PLAYBOOK = "angry-customer"  # resources/playbooks/02_angry_customer.toml


def plain_tooltip(text: str) -> str:
    """`text` shown exactly as written in a tooltip. Qt renders a tooltip as rich text whenever it
    looks like markup (Qt::mightBeRichText: `<b>`, `<img src=…>`), so a playbook's description would
    be read as HTML: it is escaped and wrapped as rich text that says just its own words, its spaces
    and line breaks kept."""
    return f"<p style='white-space:pre-wrap'>{html.escape(text)}</p>" if text else ""


class PlaybookOffer(QFrame):
    chosen = Signal(object)  # the Playbook to switch to, on the agent's click

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("playbookOffer")
        self.setStyleSheet(f"#playbookOffer {{ background: #f3f6fb; border: 1px solid {MOOD_COLOURS['upset']};"
                           " border-radius: 8px; }")
        self.text = QLabel("The customer is upset.")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.PlainText)
        self.switch = QPushButton()
        self.switch.setObjectName("switchPlaybook")
        self.switch.setDefault(False)
        self.switch.setAutoDefault(False)
        self.not_now = QPushButton("Not now")
        self.not_now.setObjectName("notNow")
        self.not_now.setFlat(True)
        self.switch.setAccessibleName("Switch to the angry customer steps")
        self.switch.setAccessibleDescription("The checklist follows the steps for an upset customer for the rest of "
                                             "this call")
        self.not_now.setAccessibleDescription("Keep the current steps; not offered again in this call")
        self.switch.clicked.connect(self._switch)
        self.not_now.clicked.connect(self.close_for_call)
        top = QHBoxLayout()  # two rows: the offer stays narrow enough for the checklist's side
        top.addWidget(self.text, 1)
        top.addWidget(self.not_now)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 4, 6, 8)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.switch, 0, Qt.AlignLeft)
        self.playbook: Optional[Playbook] = None
        self.closed = False  # switched or dismissed: not offered again in this call
        self.hide()

    def reset(self) -> None:
        """A new call: the offer may come again."""
        self.closed = False
        self.playbook = None
        self.hide()

    def offer(self, playbook: Playbook, current: Playbook) -> bool:
        """Show the offer, unless it was answered in this call or `current` already is `playbook`."""
        if self.closed or current.id == playbook.id or not self.isHidden():
            return False
        self.playbook = playbook
        self.switch.setText(f"Switch to {playbook.name} steps")
        self.switch.setAccessibleName(self.switch.text())
        self.switch.setToolTip(plain_tooltip(playbook.description))
        self.show()
        return True

    def close_for_call(self) -> None:
        self.closed = True
        self.hide()

    def _switch(self) -> None:
        playbook = self.playbook
        self.close_for_call()
        if playbook is not None:
            self.chosen.emit(playbook)
