"""After a call: a short summary for the agent, a root-cause note, and a breather before the next call."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout

from companion.events import MetricsSnapshot, Prompt
from ui.style import PROMPT_STYLES, clock

BREATHER_S = 30


class SummaryDialog(QDialog):
    def __init__(self, duration_s: float, last: MetricsSnapshot | None, prompts: list[Prompt],
                 done_steps: int, total_steps: int, parent=None):
        super().__init__(parent)
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
        self.summary = QLabel("<br>".join(lines))
        self.summary.setTextFormat(Qt.RichText)  # our bold labels; the one text from outside (cue kinds) is escaped
        self.summary.setWordWrap(True)
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("Root cause (a bottleneck? a missed confirmation?) and anything to follow up")
        self.breather = QLabel()
        self.breather.setStyleSheet("color: #1d7a46; font-weight: 600;")
        buttons = QDialogButtonBox(QDialogButtonBox.Ok)
        buttons.button(QDialogButtonBox.Ok).setText("Ready for the next call")
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(QLabel("Notes"))
        layout.addWidget(self.notes)
        layout.addWidget(self.breather)
        layout.addWidget(buttons)
        self._left = BREATHER_S
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._timer.start(1000)
        self._tick()

    def _tick(self) -> None:
        if self._left <= 0:
            self.breather.setText("Clean slate. Ready when you are.")
            self._timer.stop()
            return
        self.breather.setText(f"Take a breath before the next call… {self._left} s")
        self._left -= 1
