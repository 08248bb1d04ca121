"""The replay's timeline: a mm:ss time axis, both parties' turn lanes, the customer's mood row
(ui.review.replay_mood), interruption spans, a supervisor's messages (a flag over the lanes), prompt markers labelled by kind (in staggered rows, elided where they would overlap),
the pace and volume curves on scales that fit the call's own readings, the playhead, and under the axis a legend
whose entries wrap onto as many rows as the width needs (never cut). A click on a marker picks that prompt; a
click anywhere else seeks to that time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QWidget

from companion.prompt_kinds import PROMPT_KINDS, prompt_kind
from companion.reports.report_timeline import nice_ticks
from companion.timeline import MESSAGE_COLOUR, PAUSE_COLOUR, clock, time_ticks
from ui.review import replay_mood
from ui.style import PARTY_COLOURS, PARTY_NAMES

PACE_COLOUR = "#c2185b"
VOLUME_COLOUR = "#00897b"
INTERRUPTION_COLOUR = "#a8322b"
GRID_COLOUR = "#e3e6ea"
BACKGROUND = "#fafbfc"
TEXT_COLOUR = "#3c4043"
PACE_SHOWN = (100.0, 200.0)  # words/min always on the pace scale, whatever the call's readings
VOLUME_SHOWN = (-6.0, 12.0)  # dB against the agent's usual level, likewise
SCALE_TICKS = 4  # at most about this many numbered lines per scale: the curves' band is short
HEADROOM = 0.08  # the highest reading stays this share of the scale below its top, never flat on the edge


@dataclass(frozen=True)
class LegendEntry:
    label: str
    colour: str
    shape: str  # "marker", "span", "band" or "line"


@dataclass(frozen=True)
class Scale:
    """A curve's value range, bottom to top, and the round values numbered on it."""

    lo: float
    hi: float
    grid: tuple[float, ...]


def fit_scale(values: list[float], shown: tuple[float, float]) -> Scale:
    """Round lines covering every reading and the `shown` range, with room above the highest reading."""
    ticks = nice_ticks([*values, *shown], SCALE_TICKS)
    step = ticks[1] - ticks[0]
    while values and max(values) > ticks[-1] - HEADROOM * (ticks[-1] - ticks[0]):
        ticks.append(ticks[-1] + step)
    return Scale(ticks[0], ticks[-1], tuple(ticks))


@dataclass(frozen=True)
class MarkerLabel:
    index: int  # the prompt's place in doc["prompts"]
    x: float  # the marker's x
    row: int  # 0 is nearest the lanes; the marker's stem runs down to its row
    rect: QRectF  # where its label is drawn
    text: str  # the kind's label, elided where the next label in its row would overlap it


def scale_text(value: float, curve: str) -> str:
    if curve == "pace":
        return f"{value:g}"
    return "0 dB" if abs(value) < 1e-9 else f"{value:+g} dB".replace("-", "−")


class Timeline(QWidget):
    """The whole call across the widget; `seek(t)` on a click, `prompt_clicked(n)` on a marker."""

    seek = Signal(float)
    prompt_clicked = Signal(int)

    LEFT, RIGHT = 104, 56  # gutters: lane and row names and the pace scale; the volume scale
    LANES = {"agent": 12, "customer": 32}
    LANE_HEIGHT = 16
    MOOD_TOP, MOOD_HEIGHT = 52, 14  # the customer's mood, under their lane
    LABEL_TOP, LABEL_ROWS, LABEL_HEIGHT = 72, 3, 15
    CURVES_TOP = 124
    CURVES_HEIGHT = 84  # at least: the band the pace and volume curves share
    AXIS_GAP = 22  # the axis line sits this far above the legend
    HIT_PX = 5
    SWATCH, LEGEND_SPACING, LEGEND_ROW = 16, 14, 18
    LABEL_GAP = 6

    def __init__(self, doc: dict, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.duration = max(doc["duration_s"], 1.0)
        self.position = 0.0
        self.pace_scale = fit_scale([s["wpm"] for s in doc["pace"]], PACE_SHOWN)
        self.volume_scale = fit_scale([v["db"] for v in doc["call"].get("volume") or []], VOLUME_SHOWN)
        self.setMinimumWidth(420)
        self.setMinimumHeight(self.height_for(self.width()))
        self.setCursor(Qt.PointingHandCursor)

    def height_for(self, width: float) -> int:
        """The height that shows everything at `width`: the legend takes as many rows as it needs there."""
        curves = self.doc["pace"] or self.doc["call"].get("volume")
        body = self.CURVES_TOP + (self.CURVES_HEIGHT + 6 if curves else 0)  # no curves: no room for them
        return int(body + self.AXIS_GAP + self.legend_height(width))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        needed = self.height_for(self.width())
        if needed != self.minimumHeight():
            self.setMinimumHeight(needed)  # a narrower window wraps the legend onto more rows: the widget grows
        super().resizeEvent(event)

    # --- geometry ---------------------------------------------------------------------------------
    def plot_width(self) -> float:
        return max(1.0, self.width() - self.LEFT - self.RIGHT)

    def x(self, t: float) -> float:
        return self.LEFT + self.plot_width() * t / self.duration

    def t(self, x: float) -> float:
        return max(0.0, min(self.duration, (x - self.LEFT) / self.plot_width() * self.duration))

    def axis_y(self) -> float:
        return self.height() - self.AXIS_GAP - self.legend_height(self.width())

    def curve_band(self) -> tuple[float, float]:
        """Top and bottom of the pace and volume curves."""
        return self.CURVES_TOP, self.axis_y() - 6

    # --- what is drawn (public so the tests read it without pixels) --------------------------------
    def marker_positions(self) -> list[tuple[float, str]]:
        return [(self.x(p["t"]), p["kind"]) for p in self.doc["prompts"]]

    def message_positions(self) -> list[tuple[float, str]]:
        """(x, sender) of each message a supervisor sent during the call (the team live), apart from the prompts."""
        return [(self.x(m["t"]), str(m.get("sender") or "")) for m in self.doc["call"].get("supervisor_messages") or []]

    def mood_spans(self) -> list[replay_mood.MoodSpan]:
        """The customer's mood row as drawn: each span's times, state, rectangle, colour and text."""
        return replay_mood.lay_out(self.doc, self.x, self.MOOD_TOP, self.MOOD_HEIGHT, self.fontMetrics())

    def tick_labels(self) -> list[tuple[float, str]]:
        """(x, 'mm:ss') for each tick of the time axis, at round steps that fit the width."""
        max_ticks = max(2, int(self.plot_width() // 70))
        return [(self.x(t), clock(t)) for t in time_ticks(self.duration, max_ticks) if t <= self.duration]

    def legend_entries(self) -> list[LegendEntry]:
        """The prompt kinds in this call (in the catalogue's order, newer kinds after), the customer's
        moods its row shows, then the interruptions and the curves that are present."""
        present = dict.fromkeys(p["kind"] for p in self.doc["prompts"])
        kinds = [k for k in PROMPT_KINDS if k in present] + [k for k in present if k not in PROMPT_KINDS]
        entries = [LegendEntry(prompt_kind(k).label, prompt_kind(k).colour, "marker") for k in kinds]
        entries += [LegendEntry(label, colour, "band") for label, colour in replay_mood.legend(self.doc)]
        if self.doc["interruptions"]:
            entries.append(LegendEntry("Interruption", INTERRUPTION_COLOUR, "span"))
        if self.doc["call"].get("pauses"):
            entries.append(LegendEntry("Paused for payment", PAUSE_COLOUR, "band"))
        if self.doc["call"].get("supervisor_messages"):
            entries.append(LegendEntry("Supervisor's message", MESSAGE_COLOUR, "marker"))
        if self.doc["pace"]:
            entries.append(LegendEntry("Pace (words/min)", PACE_COLOUR, "line"))
        if self.doc["call"].get("volume"):
            entries.append(LegendEntry("Volume (dB)", VOLUME_COLOUR, "line"))
        return entries

    def marker_labels(self) -> list[MarkerLabel]:
        """Each prompt's label beside its marker, in the row nearest the lanes where it overlaps no
        other label and no later marker's stem runs through it (a stem runs down to its own label's
        row). Placed from the last prompt back; when no row is left, the label is elided in the
        first row to end before the next marker."""
        fm = self.fontMetrics()
        placed: list[MarkerLabel] = []
        for n, (x, kind) in reversed(list(enumerate(self.marker_positions()))):
            text = prompt_kind(kind).label
            width = fm.horizontalAdvance(text) + 4
            left = max(2.0, min(x + 3, self.width() - 2 - width))
            right = left + width
            row = self._free_row(placed, left, right)
            if row is None:
                row = 0
                right = min([l.x for l in placed if l.x >= left - self.LABEL_GAP] + [right]) - self.LABEL_GAP
                text = fm.elidedText(text, Qt.ElideRight, max(0, int(right - left) - 4))
            rect = QRectF(left, self.LABEL_TOP + row * self.LABEL_HEIGHT, max(0.0, right - left), self.LABEL_HEIGHT)
            placed.append(MarkerLabel(n, x, row, rect, "" if text == "…" else text))
        return placed[::-1]

    def _free_row(self, placed: list[MarkerLabel], left: float, right: float) -> Optional[int]:
        """The first row below every stem that crosses [left, right], free of labels there."""
        gap = self.LABEL_GAP
        stems = [l.row for l in placed if left - gap <= l.x <= right + gap]
        for row in range(max(stems, default=-1) + 1, self.LABEL_ROWS):
            if not any(l.row == row and l.rect.left() < right + gap and l.rect.right() + gap > left for l in placed):
                return row
        return None

    def prompt_at(self, x: float, y: Optional[float] = None) -> Optional[int]:
        """The prompt whose label holds (x, y), or whose marker is within a few pixels of x."""
        if y is not None:
            for label in self.marker_labels():
                if label.text and label.rect.contains(QPointF(x, y)):
                    return label.index
        near = [(abs(mx - x), n) for n, (mx, _) in enumerate(self.marker_positions()) if abs(mx - x) <= self.HIT_PX]
        return min(near)[1] if near else None

    # --- interaction ------------------------------------------------------------------------------
    def set_position(self, t: float) -> None:
        self.position = t
        self.update()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        point = event.position()
        n = self.prompt_at(point.x(), point.y())
        if n is not None:
            self.prompt_clicked.emit(n)
        else:
            self.seek.emit(self.t(point.x()))

    # --- painting ---------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        p.fillRect(self.rect(), QColor(BACKGROUND))
        self._paint_grid(p)
        self._paint_lanes(p)
        self._paint_mood(p)
        self._paint_pauses(p)
        self._paint_interruptions(p)
        self._paint_curves(p)
        self._paint_markers(p)
        self._paint_messages(p)
        self._paint_axis(p)
        self._paint_legend(p)
        self._paint_playhead(p)
        p.end()

    def _text(self, p: QPainter, rect: QRectF, text: str, colour: str = TEXT_COLOUR,
              align=Qt.AlignLeft | Qt.AlignVCenter) -> None:
        p.setPen(QColor(colour))
        p.drawText(rect, int(align), text)

    def _paint_grid(self, p: QPainter) -> None:
        p.setPen(QPen(QColor(GRID_COLOUR), 1))
        for x, _ in self.tick_labels():
            p.drawLine(QPointF(x, self.LANES["agent"] - 4), QPointF(x, self.axis_y()))

    def _paint_lanes(self, p: QPainter) -> None:
        for party, y in self.LANES.items():
            self._text(p, QRectF(4, y, self.LEFT - 10, self.LANE_HEIGHT), PARTY_NAMES[party], PARTY_COLOURS[party])
            p.fillRect(QRectF(self.LEFT, y, self.plot_width(), self.LANE_HEIGHT), QColor("#eceff3"))
            colour = QColor(PARTY_COLOURS[party])
            for turn in self.doc["turns"]:
                if turn["party"] == party:
                    start, end = self.x(turn["start"]), self.x(turn["end"])
                    p.fillRect(QRectF(start, y, max(1.0, end - start), self.LANE_HEIGHT), colour)

    def _paint_mood(self, p: QPainter) -> None:
        name = QRectF(4, self.MOOD_TOP - 1, self.LEFT - 8, self.MOOD_HEIGHT + 2)
        lane = QRectF(self.LEFT, self.MOOD_TOP, self.plot_width(), self.MOOD_HEIGHT)
        replay_mood.paint(p, self.mood_spans(), name, lane, "#eceff3", PARTY_COLOURS["customer"])

    def _paint_pauses(self, p: QPainter) -> None:
        """Pause for payment: a grey band over both lanes, where nothing said was stored."""
        top = self.LANES["agent"] - 3
        height = self.LANES["customer"] + self.LANE_HEIGHT + 3 - top
        colour = QColor(PAUSE_COLOUR)
        colour.setAlpha(170)
        for pause in self.doc["call"].get("pauses", []):
            start = self.x(pause["start"])
            p.fillRect(QRectF(start, top, max(2.0, self.x(pause["end"]) - start), height), colour)

    def _paint_interruptions(self, p: QPainter) -> None:
        top = self.LANES["agent"] - 3
        height = self.LANES["customer"] + self.LANE_HEIGHT + 3 - top
        colour = QColor(INTERRUPTION_COLOUR)
        for i in self.doc["interruptions"]:
            start = self.x(i["t"])
            rect = QRectF(start, top, max(3.0, self.x(i["t"] + i["overlap_s"]) - start), height)
            p.fillRect(rect, QBrush(colour, Qt.BDiagPattern))
            p.setPen(QPen(colour, 1.5))
            p.setBrush(Qt.NoBrush)
            p.drawRect(rect)

    def _paint_markers(self, p: QPainter) -> None:
        labels = self.marker_labels()
        colours = [QColor(prompt_kind(prompt["kind"]).colour) for prompt in self.doc["prompts"]]
        for label in labels:
            p.setPen(QPen(colours[label.index], 2))
            p.drawLine(QPointF(label.x, self.LANES["agent"] - 4), QPointF(label.x, label.rect.bottom() - 2))
        for label in labels:  # over every stem: a stem crosses a label only when the rows are full
            if label.text:
                p.fillRect(label.rect.adjusted(1, 1, 0, -1), QColor(BACKGROUND))
                self._text(p, label.rect.adjusted(2, 0, 0, 0), label.text, colours[label.index].darker(150).name())

    def _paint_messages(self, p: QPainter) -> None:
        """A dashed stem over both lanes with a small flag at its top: someone else spoke to the agent here."""
        colour = QColor(MESSAGE_COLOUR)
        top, bottom = self.LANES["agent"] - 4, self.LANES["customer"] + self.LANE_HEIGHT + 3
        for x, _ in self.message_positions():
            p.setPen(QPen(colour, 2, Qt.DashLine))
            p.drawLine(QPointF(x, top), QPointF(x, bottom))
            p.setPen(Qt.NoPen)
            p.setBrush(colour)
            p.drawPolygon(QPolygonF([QPointF(x, top), QPointF(x + 9, top + 4), QPointF(x, top + 8)]))
        p.setBrush(Qt.NoBrush)

    def _paint_curves(self, p: QPainter) -> None:
        top, bottom = self.curve_band()
        pace, volume = self.doc["pace"], self.doc["call"].get("volume") or []
        if pace:
            self._paint_scale(p, self.pace_scale, PACE_COLOUR, left=True)
            self._paint_curve(p, self.curve_points("pace"), PACE_COLOUR)
        if volume:
            self._paint_scale(p, self.volume_scale, VOLUME_COLOUR, left=False)
            self._paint_curve(p, self.curve_points("volume"), VOLUME_COLOUR)
        if pace or volume:
            p.setPen(QPen(QColor("#c9ced4"), 1))
            p.drawLine(QPointF(self.LEFT, top - 4), QPointF(self.LEFT + self.plot_width(), top - 4))

    def curve_y(self, value: float, scale: Scale) -> float:
        top, bottom = self.curve_band()
        return bottom - (max(scale.lo, min(scale.hi, value)) - scale.lo) / (scale.hi - scale.lo) * (bottom - top)

    def curve_points(self, curve: str) -> list[QPointF]:
        """Where the "pace" or "volume" curve's readings are drawn."""
        if curve == "pace":
            readings, scale = [(s["t"], s["wpm"]) for s in self.doc["pace"]], self.pace_scale
        else:
            readings, scale = [(v["t"], v["db"]) for v in self.doc["call"].get("volume") or []], self.volume_scale
        return [QPointF(self.x(t), self.curve_y(v, scale)) for t, v in readings]

    def scale_labels(self, curve: str) -> list[tuple[float, str]]:
        """(y, text) of each numbered line of the "pace" or "volume" scale."""
        scale = self.pace_scale if curve == "pace" else self.volume_scale
        return [(self.curve_y(v, scale), scale_text(v, curve)) for v in scale.grid]

    def _paint_curve(self, p: QPainter, points: list[QPointF], colour: str) -> None:
        p.setPen(QPen(QColor(colour), 1.6))
        p.drawPolyline(QPolygonF(points))

    def _paint_scale(self, p: QPainter, scale: Scale, colour: str, left: bool) -> None:
        """Dotted lines at round values, numbered in the gutter on the curve's side."""
        for value in scale.grid:
            y = self.curve_y(value, scale)
            p.setPen(QPen(QColor(colour).lighter(170), 1, Qt.DotLine))
            p.drawLine(QPointF(self.LEFT, y), QPointF(self.LEFT + self.plot_width(), y))
            text = scale_text(value, "pace" if left else "volume")
            if left:
                rect, align = QRectF(4, y - 8, self.LEFT - 10, 16), Qt.AlignRight | Qt.AlignVCenter
            else:
                rect, align = QRectF(self.width() - self.RIGHT + 6, y - 8, self.RIGHT - 8, 16), Qt.AlignLeft | Qt.AlignVCenter
            self._text(p, rect, text, colour, align)

    def _paint_axis(self, p: QPainter) -> None:
        y = self.axis_y()
        p.setPen(QPen(QColor("#9aa0a6"), 1))
        p.drawLine(QPointF(self.LEFT, y), QPointF(self.LEFT + self.plot_width(), y))
        for x, text in self.tick_labels():
            p.setPen(QPen(QColor("#9aa0a6"), 1))
            p.drawLine(QPointF(x, y), QPointF(x, y + 4))
            self._text(p, QRectF(x - 30, y + 4, 60, self.AXIS_GAP - 4), text, align=Qt.AlignHCenter | Qt.AlignVCenter)

    def legend_layout(self, width: Optional[float] = None) -> list[tuple[LegendEntry, QPointF, str]]:
        """(entry, top left of its swatch, its label) under the time axis: every label whole, in rows that
        wrap at the widget's width (or `width`)."""
        fm = self.fontMetrics()
        width = self.width() if width is None else width
        right = max(width - 4, self.LEFT + 1)
        x, row, laid = float(self.LEFT), 0, []
        for entry in self.legend_entries():
            size = self.SWATCH + fm.horizontalAdvance(entry.label) + 4
            if x > self.LEFT and x + size > right:
                x, row = float(self.LEFT), row + 1
            laid.append((entry, QPointF(x, row * self.LEGEND_ROW), entry.label))
            x += size + self.LEGEND_SPACING
        return laid

    def legend_height(self, width: float) -> float:
        laid = self.legend_layout(width)
        return 0.0 if not laid else laid[-1][1].y() + self.LEGEND_ROW + 2

    def _paint_legend(self, p: QPainter) -> None:
        top, h = self.height() - self.legend_height(self.width()), 16.0
        for entry, at, text in self.legend_layout():
            x, y = at.x(), top + at.y()
            colour = QColor(entry.colour)
            if entry.shape == "marker":
                p.fillRect(QRectF(x + 4, y + 2, 3, h - 4), colour)
            elif entry.shape == "band":
                p.fillRect(QRectF(x, y + 3, 12, h - 6), colour)
            elif entry.shape == "span":
                p.fillRect(QRectF(x, y + 3, 12, h - 6), QBrush(colour, Qt.BDiagPattern))
                p.setPen(QPen(colour, 1))
                p.drawRect(QRectF(x, y + 3, 12, h - 6))
            else:
                p.setPen(QPen(colour, 2))
                p.drawLine(QPointF(x, y + h / 2), QPointF(x + 12, y + h / 2))
            self._text(p, QRectF(x + self.SWATCH, y, self.fontMetrics().horizontalAdvance(text) + 4, h), text)

    def _paint_playhead(self, p: QPainter) -> None:
        x = self.x(self.position)
        top = self.LANES["agent"] - 4
        p.setPen(QPen(QColor("#202124"), 2))
        p.drawLine(QPointF(x, top), QPointF(x, self.axis_y()))
        p.setBrush(QColor("#202124"))
        p.drawPolygon(QPolygonF([QPointF(x - 5, top - 5), QPointF(x + 5, top - 5), QPointF(x, top + 1)]))
