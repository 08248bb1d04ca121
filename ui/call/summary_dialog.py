"""After a call: a short summary for the agent (with how the customer sounded and how closely the call followed
its playbook), a root-cause note (the playbook's after-call step: writing it does that step), and, after a call
with an upset customer, the suggestion of a short pause before the next one (ui/breather.py)."""

from __future__ import annotations

import html
from typing import Optional, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout

from companion.checklist import Adherence, adherence
from companion.events import MetricsSnapshot, Prompt, StepTicked
from companion.playbooks import Playbook
from companion.report import mood_summary
from ui.breather import breather_text
from ui.style import PROMPT_STYLES, clock


class SummaryDialog(QDialog):
    def __init__(self, duration_s: float, last: MetricsSnapshot | None, prompts: list[Prompt],
                 done_steps: int, total_steps: int, parent=None, customer_states: Optional[list[dict]] = None,
                 upset_s: Optional[float] = None, hold_s: int = 0, playbook: Optional[Playbook] = None,
                 ticks: Sequence[StepTicked] = ()):
        """`customer_states`: the call's [{t, state}, ...]; `upset_s`: how long the customer was upset (None: never);
        `hold_s`: how long the window holds the next call; `playbook` and `ticks`: the playbook the call ended with
        and its steps done (each with its last tick), for the call's adherence."""
        super().__init__(parent)
        self.playbook, self.ticks = playbook, list(ticks)
        self.setWindowTitle("Call summary")
        self.setMinimumWidth(420)
        lines = [f"<b>Call length</b> {clock(duration_s)}"]
        if last is not None:
            pace = "—" if last.pace_wpm is None else f"{last.pace_wpm:.0f} words/min"
            share = "—" if last.talk_share_call is None else f"{last.talk_share_call:.0%}"
            lines += [f"<b>Pace (last 30 s of your speech)</b> {pace}", f"<b>Your share of the talk</b> {share}",
                      f"<b>You talked over the customer</b> {last.interruptions_by_agent}×",
                      f"<b>Longest monologue</b> {last.longest_monologue_s:.0f} s"]
        kinds = {}
        for p in prompts:
            kinds[p.kind] = kinds.get(p.kind, 0) + 1
        cues = ", ".join(f"{PROMPT_STYLES.get(k, (k,))[0]} ×{n}" for k, n in kinds.items()) or "none"
        lines += [f"<b>Cues</b> {html.escape(cues, quote=False)}", f"<b>Checklist</b> {done_steps} of {total_steps} steps"]
        if customer_states is not None:
            lines.append(f"<b>Customer</b> {mood_summary(customer_states, duration_s)}")
        self.summary = QLabel("<br>".join(lines))
        self.summary.setTextFormat(Qt.RichText)  # our bold labels; the one text from outside (cue kinds) is escaped
        self.summary.setWordWrap(True)
        self.adherence = QLabel()
        self.adherence.setObjectName("adherence")
        self.adherence.setTextFormat(Qt.RichText)  # our bold label; the playbook's words go in escaped
        self.adherence.setWordWrap(True)
        self.adherence.setVisible(playbook is not None)
        after = [s for s in playbook.steps if s.flow == "after-call"] if playbook is not None else []
        number = {s.id: n for n, s in enumerate(playbook.steps, 1)} if playbook is not None else {}
        self.notes_title = QLabel("Notes" if not after else
                                  f"Notes — step {number[after[0].id]}, “{after[0].title}”: {after[0].guidance}")
        self.notes_title.setObjectName("notesTitle")
        self.notes_title.setTextFormat(Qt.PlainText)  # the playbook's words, as written
        self.notes_title.setWordWrap(True)
        self.notes = QPlainTextEdit()
        self.notes.setAccessibleName("Notes")
        self.notes.setAccessibleDescription(self.notes_title.text())
        self.notes.setPlaceholderText("Root cause (a bottleneck? a missed confirmation?) and anything to follow up")
        self.notes.textChanged.connect(self._show_adherence)
        self._show_adherence()
        self.breather = QLabel(breather_text(upset_s, hold_s) if upset_s is not None else "")
        self.breather.setObjectName("breatherAdvice")
        self.breather.setWordWrap(True)
        self.breather.setTextFormat(Qt.PlainText)
        self.breather.setStyleSheet("color: #1d7a46; font-weight: 600;")
        self.breather.setVisible(upset_s is not None)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok)
        # while the window holds the next call, this button only closes the summary (Skip ends the pause)
        buttons.button(QDialogButtonBox.Ok).setText("Done" if hold_s else "Ready for the next call")
        buttons.accepted.connect(self.accept)
        buttons.button(QDialogButtonBox.Ok).setAccessibleDescription("Close the summary and keep the notes")
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.adherence)
        layout.addWidget(self.notes_title)
        layout.addWidget(self.notes)
        layout.addWidget(self.breather)
        layout.addWidget(buttons)

    def call_adherence(self) -> Optional[Adherence]:
        """How closely the call followed its playbook, counting the root-cause note being written now."""
        if self.playbook is None:
            return None
        ticks = [(t.step_id, t.t, t.done) for t in self.ticks]
        return adherence(self.playbook.steps, ticks, bool(self.notes.toPlainText().strip()))

    def _show_adherence(self) -> None:
        result = self.call_adherence()
        if result is None:
            return
        missing = [s.title for s in self.playbook.steps if s.flow != "after-call"
                   and s.id not in {t.step_id for t in self.ticks if t.done}]
        note = " (with your root-cause note)" if self.notes.toPlainText().strip() else ""
        text = (f"<b>Adherence</b> {result.score:.0%}: {result.in_order} of {result.total} steps done in the "
                f"playbook's order{note}")
        if missing:
            text += "<br>Not done: " + html.escape("; ".join(missing), quote=False)
        self.adherence.setText(text)
