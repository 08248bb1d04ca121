"""The replay timeline's "Customer mood" row: the customer's mood under their lane as coloured spans
(calm / tense / upset, and grey before their baseline was known), each named inside when it fits;
the same spans, words and colours as the HTML report's band (companion.reports.report_mood)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter

from companion.reports.report_mood import BAND_NAME, legend_items, mood_spans
from companion.timeline import MOOD_COLOURS, MOOD_LABELS, MOOD_UNKNOWN_COLOUR

TEXT_COLOUR = "#202124"  # a state's name inside its span


@dataclass(frozen=True)
class MoodSpan:
    """One span of the row as drawn: its times, state (None: not read yet), rectangle, colour and text."""

    start: float
    end: float
    state: Optional[str]
    rect: QRectF
    colour: str
    text: str  # the state's name, or "" where the span is too narrow for it


def lay_out(doc: dict, x: Callable[[float], float], top: float, height: float, fm: QFontMetrics) -> list[MoodSpan]:
    out = []
    for span in mood_spans(doc):
        left, right = x(span.start), x(span.end)
        rect = QRectF(left, top, max(1.0, right - left), height)
        name = MOOD_LABELS.get(span.state, "")
        text = name if name and fm.horizontalAdvance(name) + 6 <= rect.width() else ""
        out.append(MoodSpan(span.start, span.end, span.state, rect, span.colour, text))
    return out


def legend(doc: dict) -> list[tuple[str, str]]:
    """(label, colour) of the states this call's row shows, in rising order, then "not read yet"."""
    shown = {span.state for span in mood_spans(doc)}
    return [(label, colour) for label, colour, state in legend_items(doc) if state in shown]


def state_at(doc: dict, t: float) -> Optional[str]:
    """The customer's mood at `t` (None: not read yet)."""
    current = None
    for span in mood_spans(doc):
        if span.start <= t:
            current = span.state
    return current


def now_text(doc: dict, t: float) -> tuple[str, str]:
    """What the replay's controls say of the customer's mood at the playhead, and its colour."""
    state = state_at(doc, t)
    return (f"{BAND_NAME}: {MOOD_LABELS[state].lower()}" if state else f"{BAND_NAME}: not read yet",
            MOOD_COLOURS.get(state, MOOD_UNKNOWN_COLOUR))


def paint(p: QPainter, spans: list[MoodSpan], name_rect: QRectF, lane_rect: QRectF, lane_colour: str, name_colour: str) -> None:
    """The row's name in the gutter, its empty lane, then each span with its name inside."""
    fm = p.fontMetrics()
    p.setPen(QColor(name_colour))
    p.drawText(name_rect, int(Qt.AlignLeft | Qt.AlignVCenter), fm.elidedText(BAND_NAME, Qt.ElideRight, int(name_rect.width())))
    p.fillRect(lane_rect, QColor(lane_colour))
    for span in spans:
        p.fillRect(span.rect, QColor(span.colour))
        if span.text:
            p.setPen(QColor(TEXT_COLOUR))
            p.drawText(span.rect.adjusted(3, 0, 0, 0), int(Qt.AlignLeft | Qt.AlignVCenter), span.text)
