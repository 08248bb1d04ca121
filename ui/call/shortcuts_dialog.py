"""Help → Keyboard shortcuts: every shortcut of a window, read from the window itself — its actions (with
their shortcut; their `whatsThis`, else their text, says what they do) and its QShortcut objects (their
`whatsThis`) — so the list can never drift from the keys that work."""

from __future__ import annotations

from typing import Optional

from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


def _words(text: str) -> str:
    return text.replace("&", "").rstrip("…").strip()


def shortcuts_of(window: QWidget) -> list[tuple[str, str]]:
    """(key, what it does) for each shortcut of `window` and its children, in the order they were made."""
    found: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for action in window.findChildren(QAction):
        for key in action.shortcuts():
            # whatsThis: what a key does whatever the action's text says now ("Start call" / "Stop call")
            entry = (key.toString(QKeySequence.SequenceFormat.NativeText), action.whatsThis() or _words(action.text()))
            if entry[1] and entry not in seen:
                seen.add(entry)
                found.append(entry)
    for shortcut in window.findChildren(QShortcut):
        key = shortcut.key()
        what = shortcut.whatsThis()
        if key.isEmpty() or not what or not shortcut.isEnabled():
            continue
        entry = (key.toString(QKeySequence.SequenceFormat.NativeText), what)
        if entry not in seen:
            seen.add(entry)
            found.append(entry)
    return found


class ShortcutsDialog(QDialog):
    def __init__(self, window: QWidget, parent: Optional[QWidget] = None):
        super().__init__(parent or window)
        self.setWindowTitle("Keyboard shortcuts")
        self.setAccessibleName("Keyboard shortcuts")
        self.setAccessibleDescription("Every keyboard shortcut of the call window and what it does")
        entries = shortcuts_of(window)
        self.table = QTableWidget(len(entries), 2)
        self.table.setObjectName("shortcuts")
        self.table.setAccessibleName("Keyboard shortcuts")
        self.table.setAccessibleDescription("One row per shortcut: the keys, then what they do")
        self.table.setHorizontalHeaderLabels(["Keys", "What it does"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        for row, (key, what) in enumerate(entries):
            self.table.setItem(row, 0, QTableWidgetItem(key))
            self.table.setItem(row, 1, QTableWidgetItem(what))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setAccessibleDescription("Close the list of shortcuts")
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(460, 420)

    def entries(self) -> list[tuple[str, str]]:
        return [(_text(self.table.item(r, 0)), _text(self.table.item(r, 1))) for r in range(self.table.rowCount())]


def _text(item: Optional[QTableWidgetItem]) -> str:
    return item.text() if item is not None else ""
