"""The agent's "Raise hand" button (and its shortcut, Ctrl+Shift+H): asks the team's supervisors for
help through the live publisher (companion.team.live_publisher); pressed again it lowers the hand. A
supervisor's message lowers it too, and the button follows."""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QPushButton

SHORTCUT = "Ctrl+Shift+H"


class RaiseHandButton(QPushButton):
    def __init__(self, parent=None, shortcut: str = SHORTCUT):
        super().__init__("Raise hand", parent)
        self.setCheckable(True)
        self.publisher = None
        self._shortcut = QShortcut(QKeySequence(shortcut), parent or self, activated=self.click)
        self._shortcut.setWhatsThis("Raise your hand: ask your supervisor for help (again: lower it)")
        self.setAccessibleName("Raise hand")
        self.clicked.connect(self._pressed)
        self._follow = QTimer(self)  # the hand may be lowered by a supervisor's answer, on another thread
        self._follow.setInterval(500)
        self._follow.timeout.connect(self.sync)
        self.set_publisher(None)

    def set_publisher(self, publisher) -> None:
        """The running LivePublisher, or None (not an agent's machine): the button is then disabled and says why."""
        self.publisher = publisher
        self.setEnabled(publisher is not None)
        self.setToolTip(f"Ask your supervisor for help ({SHORTCUT})" if publisher is not None else
                        "Raising a hand needs this computer connected to a team server as an agent "
                        "(companion team connect).")
        if publisher is not None:
            self._follow.start()
        else:
            self._follow.stop()
        self.sync()

    def _pressed(self, checked: bool) -> None:
        if self.publisher is None:
            self.setChecked(False)
            return
        if checked:
            self.publisher.raise_hand()
        else:
            self.publisher.lower_hand()
        self.sync()

    def sync(self) -> None:
        up = bool(self.publisher is not None and self.publisher.hand_up)
        if self.isChecked() != up:
            self.setChecked(up)
        self.setText("Hand raised — lower" if up else "Raise hand")

    @property
    def hand_up(self) -> Optional[bool]:
        return None if self.publisher is None else self.publisher.hand_up
