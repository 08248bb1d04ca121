"""Meters: pace against its target band, volume against the agent's own baseline, talk share,
interruptions, the call timer, and a level meter per party so the agent sees both lines are live
(and a row for what the window adds beside them: the customer's mood)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QProgressBar, QWidget

from companion.events import MetricsSnapshot
from ui.style import clock


def _bar(minimum: int, maximum: int, fmt: str) -> QProgressBar:
    bar = QProgressBar()
    bar.setRange(minimum, maximum)
    bar.setFormat(fmt)
    bar.setTextVisible(True)
    bar.setFixedHeight(18)
    return bar


def _colour(bar: QProgressBar, colour: str) -> None:
    bar.setStyleSheet(f"QProgressBar::chunk {{ background: {colour}; border-radius: 3px; }}"
                      "QProgressBar { border: 1px solid #c8ccd2; border-radius: 4px; text-align: center; }")


def pace_source_text(snapshot: MetricsSnapshot) -> str:
    """Where the pace on the meter comes from, in the agent's words."""
    if snapshot.pace_source == "asr":
        return "Pace from words"
    return "Pace from sound, calibrated" if snapshot.pace_calibrated else "Pace from sound"


LINE_IDLE = "no call"
LINE_NAMES = {"agent": "Your line", "customer": "Customer line"}
HEARD_DB = -50.0  # above this a line carries sound (speech or noise), below it is quiet


def line_text(level_db: float) -> str:
    """A line meter's words: whether it carries sound, not only how full its bar is."""
    return f"sound  {level_db:.0f} dB" if level_db > HEARD_DB else "quiet"


def _row_label(name: str) -> QLabel:
    label = QLabel(name)
    label.setStyleSheet("color: #5b6270;")
    return label


class MetersPanel(QWidget):
    def __init__(self, target=(140, 160), pace_limit=170.0, loud_db=6.0, parent=None):
        super().__init__(parent)
        self.target, self.pace_limit, self.loud_db = target, pace_limit, loud_db
        self.grid = grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(4)
        self.timer = QLabel("00:00")
        self.timer.setObjectName("callTimer")
        self.timer.setStyleSheet("font-size: 18px; font-weight: 600;")
        self.pace = _bar(0, 260, "pace —")
        self.volume = _bar(-6, 12, "volume —")
        self.talk = _bar(0, 100, "talk share —")
        self.interruptions = QLabel("Interruptions: 0")
        self.levels = {party: _bar(-70, 0, LINE_IDLE) for party in ("agent", "customer")}
        rows = [("Call", self.timer), ("Pace", self.pace), ("Volume", self.volume), ("Talk (2 min)", self.talk),
                ("", self.interruptions), ("Your line", self.levels["agent"]), ("Customer line", self.levels["customer"])]
        for name, widget in rows:
            self.add_row(name, widget)
        for party, bar in self.levels.items():
            _colour(bar, "#7aa6d9")
            bar.setValue(-70)  # empty until a line is heard: never a full bar on an idle window
            bar.setAccessibleName(LINE_NAMES[party])
        for bar in (self.pace, self.volume, self.talk):
            bar.setValue(bar.minimum())  # empty until the call's figures come: no part-filled bar on an idle window
        for bar, name, what in ((self.pace, "Pace", "Your words per minute against the aim"),
                                (self.volume, "Volume", "How loud you are against your usual level"),
                                (self.talk, "Talk share", "Who talked how much over the last two minutes")):
            bar.setAccessibleName(name)
            bar.setAccessibleDescription(what)
        self.last: MetricsSnapshot | None = None
        self.configure(target, pace_limit, loud_db)

    def add_row(self, name: str, widget: QWidget) -> None:
        row = self.grid.rowCount() if self.grid.count() else 0
        self.grid.addWidget(_row_label(name), row, 0, Qt.AlignRight)
        self.grid.addWidget(widget, row, 1)

    def configure(self, target, pace_limit: float, loud_db: float) -> None:
        self.target, self.pace_limit, self.loud_db = target, pace_limit, loud_db
        low, high = target
        # the aim on the bar and the prompt's limit in Settings are two numbers: the tooltip says how they go together
        self.pace.setToolTip(f"Aim for {low:.0f}–{high:.0f} words/min. The bar turns amber above {high:.0f}; "
                             f"“Slow down” comes when you stay above {pace_limit:.0f} (Settings).")

    def update_clock(self, seconds: float) -> None:
        self.timer.setText(clock(seconds))

    def update_metrics(self, m: MetricsSnapshot) -> None:
        self.last = m
        if m.pace_wpm is None:
            self.pace.setValue(0)
            self.pace.setFormat("pace: listening…")
        else:
            wpm = int(round(m.pace_wpm))
            self.pace.setValue(min(260, wpm))
            low, high = self.target
            word = " — too fast" if wpm > self.pace_limit else " — fast" if wpm > high else ""  # in words, not colour alone
            self.pace.setFormat(f"{wpm} words/min{word} (aim {low:.0f}–{high:.0f})")
            _colour(self.pace, "#e0a020" if wpm > self.pace_limit else "#e9c46a" if wpm > high else "#52b788")
        delta = m.loudness_delta_db
        if delta is None:
            self.volume.setValue(-6)
            self.volume.setFormat("volume: learning your usual level…")
        else:
            self.volume.setValue(int(max(-6, min(12, round(delta)))))
            loud = " — loud" if delta >= self.loud_db else ""
            self.volume.setFormat(f"{round(delta):+d} dB vs your usual{loud}")  # never "-0 dB"
            _colour(self.volume, "#e4683f" if delta >= self.loud_db else "#52b788")
        share = m.talk_share_window
        if share is None:
            self.talk.setValue(0)
            self.talk.setFormat("talk share —")
        else:
            self.talk.setValue(int(round(share * 100)))
            self.talk.setFormat(f"you {share:.0%} · customer {1 - share:.0%}" + (" — a lot" if share > 0.65 else ""))
            _colour(self.talk, "#e0a020" if share > 0.65 else "#52b788")
        self.interruptions.setText(
            f"Interruptions: {m.interruptions_by_agent} by you, {m.interruptions_by_customer} by the customer")
        for party, level in (("agent", m.agent_level_db), ("customer", m.customer_level_db)):
            self.levels[party].setValue(int(max(-70, min(0, level))))
            self.levels[party].setFormat(line_text(level))

    def lines_idle(self) -> None:
        """No call: both line meters empty and saying so."""
        for bar in self.levels.values():
            bar.setValue(-70)
            bar.setFormat(LINE_IDLE)
