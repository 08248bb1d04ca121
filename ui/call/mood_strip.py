"""The customer's mood beside the meters: "Calm", "Tense" or "Upset" in the state's colour (grey
"listening…" until their baseline is known), what it is read from ("+7 dB, +4 semitones, 20% faster
than at the start"), and a thin strip of the last two minutes of states so the agent sees the trend.

Fed from the pipeline's events once a second; a repaint is a few rectangles, a text changes only
when it differs."""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from companion.events import MetricsSnapshot
from companion.timeline import MOOD_COLOURS, MOOD_LABELS, MOOD_UNKNOWN_COLOUR

TREND_S = 120.0   # how far back the strip reaches
LISTENING = "listening…"
NO_CALL = "no call"
# each state's pattern over its colour, so the strip never tells the states apart by colour alone
PATTERNS = {"tense": Qt.Dense5Pattern, "upset": Qt.BDiagPattern}
PATTERN_ROWS = 3


def mood_detail(m: MetricsSnapshot) -> str:
    """What the customer's state is read from (their level and pitch), against how they sounded at the start."""
    if m.customer_state is None:
        return ""
    parts = []
    if m.customer_loudness_db is not None and abs(m.customer_loudness_db) >= 0.5:
        parts.append(f"{m.customer_loudness_db:+.0f} dB")
    if m.customer_pitch_semitones is not None and abs(m.customer_pitch_semitones) >= 0.5:
        parts.append(f"{m.customer_pitch_semitones:+.0f} semitones")
    # their syllable rate is read but is no evidence (docs/coaching.md): on real voices it moves either way when
    # they speed up, so "11% slower" beside "upset" would only mislead
    text = ", ".join(parts) + " than at the start" if parts else "as at the start of the call"
    if m.customer_talkovers:
        text += f"; talked over you {m.customer_talkovers}×"
    return text


def trend_words(changes: list[tuple[float, str]]) -> str:
    """The strip in words, oldest first: "Last two minutes: calm, then upset"."""
    states: list[str] = []
    for _, state in changes:
        word = MOOD_LABELS.get(state, state).lower()
        if not states or states[-1] != word:
            states.append(word)
    return "Last two minutes: " + ", then ".join(states) if states else "No mood read yet"


class MoodTrend(QWidget):
    """The last `TREND_S` seconds of the customer's states as coloured segments, newest on the right."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFixedHeight(8)
        self.changes: list[tuple[float, str]] = []  # (t, state), in call order
        self.now = 0.0
        self._colours = {state: QColor(colour) for state, colour in MOOD_COLOURS.items()}
        self._unknown = QColor(MOOD_UNKNOWN_COLOUR)

    def reset(self) -> None:
        self.changes, self.now = [], 0.0
        self.update()

    def add(self, t: float, state: str) -> None:
        self.changes.append((t, state))
        self._prune()
        self.update()

    def advance(self, t: float) -> None:
        if t > self.now:
            self.now = t
            self._prune()
            self.update()

    def _prune(self) -> None:
        lo = self.now - TREND_S
        while len(self.changes) > 1 and self.changes[1][0] <= lo:  # the one before the window still colours its start
            self.changes.pop(0)

    def segments(self) -> list[tuple[float, float, str]]:
        """(start, end, state) inside the window, as fractions of its width."""
        lo = self.now - TREND_S
        out = []
        for (t, state), nxt in zip(self.changes, self.changes[1:] + [(self.now, "")]):
            a, b = max(t, lo), min(nxt[0], self.now)
            if b > a:
                out.append(((a - lo) / TREND_S, (b - lo) / TREND_S, state))
        return out

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        w, h = self.width(), self.height()
        painter.fillRect(0, 0, w, h, self._unknown)
        for a, b, state in self.segments():
            x = int(a * w)
            width = max(1, int(b * w) - x)
            painter.fillRect(x, 0, width, h, self._colours.get(state, self._unknown))
            pattern = PATTERNS.get(state)
            if pattern is not None:  # along the top edge: the colour stays readable below it
                painter.fillRect(x, 0, width, PATTERN_ROWS, QBrush(QColor(0, 0, 0, 170), pattern))
        painter.end()


class MoodStrip(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("moodStrip")
        self.setAccessibleName("Customer mood")
        self.state: Optional[str] = None
        self.label = QLabel()
        self.label.setObjectName("moodState")
        self.detail = QLabel()
        self.detail.setObjectName("moodDetail")
        self.detail.setStyleSheet("color: #5b6270;")
        self.detail.setTextFormat(Qt.PlainText)
        self.trend = MoodTrend()
        self.trend.setToolTip("The customer's mood over the last two minutes, newest on the right")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label)
        row.addWidget(self.detail, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.trend)
        self.on_call = False
        self.reset(on_call=False)

    def reset(self, on_call: bool = True) -> None:
        """A new call: nothing known about this customer yet (`on_call` False: no call at all)."""
        self.on_call = on_call
        self.state = None
        self.trend.reset()
        self._show_state()
        self._set_detail("")

    def call_over(self) -> None:
        """The call ended: its last mood stays; a customer never heard no longer reads "listening…"."""
        self.on_call = False
        self._show_state()

    def set_state(self, t: float, state: str) -> None:
        """A CustomerState: their mood changed (the first one: their baseline is known)."""
        self.trend.advance(t)
        if state != self.state:
            self.state = state
            self.trend.add(t, state)
            self._show_state()
            self.trend.setAccessibleDescription(trend_words(self.trend.changes))

    def update_metrics(self, m: MetricsSnapshot) -> None:
        if not self.on_call:  # the call's figures arrive: the customer is being listened to
            self.on_call = True
            self._show_state()
        if m.customer_state is not None and self.state is None:  # a change the window did not hear (joined late)
            self.set_state(m.t, m.customer_state)
        self.trend.advance(m.t)
        self._set_detail(mood_detail(m) if self.state is not None else "")

    def _show_state(self) -> None:
        colour = MOOD_COLOURS.get(self.state, MOOD_UNKNOWN_COLOUR)
        dark = QColor(colour).lightness() < 140
        self.label.setText(MOOD_LABELS.get(self.state, LISTENING if self.on_call else NO_CALL))
        self.label.setAccessibleName(f"Customer mood: {self.label.text()}")
        self.label.setStyleSheet(f"background: {colour}; color: {'white' if dark else '#1b1f24'}; border-radius: 4px;"
                                 f" padding: 1px 8px; font-weight: 600;")

    def _set_detail(self, text: str) -> None:
        if text != self.detail.text():
            self.detail.setText(text)
            self.setToolTip(f"Read from their voice against their first speech in the call: {text}" if text else
                            "Read from the customer's voice once they have spoken for a while")
