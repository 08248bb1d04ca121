"""The side panel: the playbook's steps, the one the conversation is at highlighted with its tips, ticked
automatically from what the agent says (and by the call's flow: the opening step as the call begins), or by hand
(click, Space, or Ctrl+1..9). An after-call step is done in the summary, with the root-cause note."""

from __future__ import annotations

import html
from typing import Callable, Iterable, Optional

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QListView, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from companion.checklist import current_step
from companion.events import StepTicked
from companion.playbooks import Playbook, Step

FLOW_NOTES = {"opening": "as the call begins", "after-call": "after the call"}


def step_text(n: int, step: Step) -> str:
    """A step's line in the list: its number and title, and when the call's flow does it."""
    note = FLOW_NOTES.get(step.flow)
    return f"{n}. {step.title}" + (f" ({note})" if note else "")


def step_tooltip(step: Step) -> str:
    if step.flow == "opening":
        return f"{step.guidance}\nDone as the call begins."
    if step.flow == "after-call":
        return f"{step.guidance}\nDone after the call: write the root cause in the call summary."
    return step.guidance


def _html(text: str) -> str:
    """Playbook text for a rich-text place: shown exactly as written, never read as markup."""
    return html.escape(text, quote=False).replace("\n", "<br>")


def _tooltip(text: str) -> str:
    """A tooltip showing `text` as written (Qt guesses whether a tooltip is markup; a <p> settles it)."""
    return f"<p>{_html(text)}</p>" if text else ""


class ChecklistPanel(QWidget):
    def __init__(self, playbook: Playbook, on_tick: Callable[[str, bool], None], parent=None):
        super().__init__(parent)
        self.on_tick = on_tick
        self.heading = QLabel()
        self.heading.setStyleSheet("font-size: 15px; font-weight: 700;")
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.PlainText)  # playbook names are data, not markup
        self.steps = QListWidget()
        self.steps.setObjectName("steps")
        self.steps.setAccessibleName("Checklist steps")
        self.steps.setAccessibleDescription("The playbook's steps: each is ticked when done (Space or Ctrl+1..9 "
                                            "ticks by hand); the current step is marked")
        self.heading.setAccessibleName("Playbook")
        self.steps.setWordWrap(True)  # a long step title wraps in a narrow panel instead of scrolling sideways
        self.steps.setResizeMode(QListView.Adjust)
        self.steps.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.tips = QLabel()
        self.tips.setObjectName("tips")
        self.tips.setWordWrap(True)
        self.tips.setTextFormat(Qt.RichText)  # our layout; the playbook's words go in escaped (_html)
        self.tips.setStyleSheet("background: #f3f6fb; border-radius: 8px; padding: 8px;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.steps, 1)
        layout.addWidget(self.tips)
        self.steps.itemChanged.connect(self._changed)
        for n in range(1, 10):
            key = QShortcut(QKeySequence(f"Ctrl+{n}"), self, activated=lambda n=n: self.toggle_row(n - 1))
            key.setWhatsThis(f"Tick or untick step {n} of the checklist")
        self._updating = False
        self.ticks: dict[str, StepTicked] = {}  # each step done, by its last tick (times for the call's adherence)
        self.set_playbook(playbook)

    def set_playbook(self, playbook: Playbook, ticks: Iterable[StepTicked] = ()) -> None:
        """Show `playbook`'s steps, with `ticks` (steps already done, e.g. carried over from a switch mid-call)."""
        self.playbook = playbook
        self.ticks = {}
        self._updating = True
        self.steps.clear()
        self.heading.setText(playbook.name)
        for n, step in enumerate(playbook.steps, 1):
            item = QListWidgetItem(step_text(n, step))
            item.setData(Qt.UserRole, step.id)
            item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Unchecked)
            item.setToolTip(_tooltip(step_tooltip(step)))
            self.steps.addItem(item)
        self._updating = False
        for tick in ticks:
            self.apply(tick)
        self._highlight()

    def item(self, step_id: str) -> QListWidgetItem:
        for row in range(self.steps.count()):
            if self.steps.item(row).data(Qt.UserRole) == step_id:
                return self.steps.item(row)
        raise KeyError(step_id)

    def is_done(self, step_id: str) -> bool:
        return self.item(step_id).checkState() == Qt.Checked

    @property
    def current(self) -> Optional[str]:
        """The step the conversation is at: the first not done after the furthest done (companion.checklist)."""
        done = [self.steps.item(row).data(Qt.UserRole) for row in range(self.steps.count())
                if self.steps.item(row).checkState() == Qt.Checked]
        return current_step(self.playbook.steps, done)

    def call_ticks(self) -> list[StepTicked]:
        """The steps done on this call, each with its last tick: what the summary's adherence is worked out from."""
        return [self.ticks[s.id] for s in self.playbook.steps if s.id in self.ticks and self.is_done(s.id)]

    def toggle_row(self, row: int) -> None:
        item = self.steps.item(row)
        if item is not None:
            item.setCheckState(Qt.Unchecked if item.checkState() == Qt.Checked else Qt.Checked)

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.key() == Qt.Key_Space and self.steps.currentRow() >= 0:
            self.toggle_row(self.steps.currentRow())
            return
        super().keyPressEvent(event)

    def apply(self, tick: StepTicked) -> None:
        """A tick from the session (automatic or the echo of a manual one)."""
        if not any(s.id == tick.step_id for s in self.playbook.steps):
            return  # a tick of the playbook switched away from, still on its way
        self._updating = True
        try:
            item = self.item(tick.step_id)
            item.setCheckState(Qt.Checked if tick.done else Qt.Unchecked)
            if tick.done:
                self.ticks[tick.step_id] = tick
            else:
                self.ticks.pop(tick.step_id, None)
            step = self.playbook.step(tick.step_id)
            if tick.done and tick.source == "auto":
                why = f"Ticked when you said “{tick.phrase}”" if tick.phrase else "Done as the call began"
                item.setToolTip(_tooltip(f"{step.guidance}\n{why}"))
            else:
                item.setToolTip(_tooltip(step_tooltip(step)))
        finally:
            self._updating = False
        self._highlight()

    def _changed(self, item: QListWidgetItem) -> None:
        if self._updating:
            return
        self.on_tick(item.data(Qt.UserRole), item.checkState() == Qt.Checked)
        self._highlight()

    def _highlight(self) -> None:
        self._updating = True
        current = self.current
        bold = QFont()
        bold.setBold(True)
        for row in range(self.steps.count()):
            item = self.steps.item(row)
            is_current = item.data(Qt.UserRole) == current
            item.setFont(bold if is_current else QFont())
            item.setBackground(QBrush(QColor("#fff4d6")) if is_current else QBrush())
            item.setForeground(QBrush(QColor("#8a9099")) if item.checkState() == Qt.Checked else QBrush())
            state = "done" if item.checkState() == Qt.Checked else "not done"  # said in words, not by colour
            item.setData(Qt.AccessibleTextRole, f"{item.text()}, {state}{', current step' if is_current else ''}")
        self._updating = False
        if current is None:
            self.tips.setText("<b>All steps done.</b>")
            return
        step = self.playbook.step(current)
        tips = "".join(f"<li>{_html(t)}</li>" for t in step.tips)
        self.tips.setText(f"<b>{_html(step.title)}</b><br>{_html(step.guidance)}<ul style='margin:4px 0 0 -20px'>{tips}</ul>")
