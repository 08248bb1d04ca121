"""The HTML report's timeline: one inline SVG, scaled to the page's width by its viewBox. A mm:ss
time axis, both parties' turns as lanes, the customer's mood as a band of coloured spans under
their lane (report_mood), interruption spans, prompt markers labelled by kind (in
staggered rows so labels never overlap), the pace curve on its words/min scale with the target band
shaded, and the volume curve against the agent's usual level; and the legend that names them all."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Callable, Iterator, Optional, Sequence

from companion.prompt_kinds import prompt_kind
from companion.reports.report_mood import BAND_NAME, mood_spans
from companion.reports.report_mood import legend_items as mood_legend
from companion.store.calls import CallDocument
from companion.timeline import MESSAGE_COLOUR, PARTY_NAMES, PAUSE_COLOUR, clock, time_ticks

if TYPE_CHECKING:
    from companion.config import CoachingConfig

PARTY_COLOURS = {"agent": "#1f5fa8", "customer": "#1d7a46"}
INTERRUPTION_COLOURS = {"agent": "#c62828", "customer": "#ef8f00"}  # by who talked over the other
PACE_COLOUR, VOLUME_COLOUR, BAND_COLOUR = "#c2185b", "#00897b", "#43a047"
GRID_COLOUR, FRAME_COLOUR, TEXT_COLOUR, LANE_COLOUR = "#e3e6ea", "#b8bec6", "#3c4043", "#f3f5f7"
MOOD_TEXT = "#202124"               # a state's name inside its span (the colours are MOOD_COLOURS)

# Geometry, in viewBox units (the SVG is drawn 1000 wide and scaled to the page).
WIDTH, LEFT, RIGHT = 1000, 120, 16  # the left gutter holds the lane and band names and the scales
FONT, CHAR_W = 12, 7.4              # text size, and the width of a bold character at that size
MOOD_CHAR_W = 6.8                   # a bold character of a mood span's name (11px)
CHIP_PAD, CHIP_GAP = 5, 4           # a prompt label's padding, and the space between two labels in a row
LABEL_H, LABEL_ROWS = 18, 3
LABELS_TOP = 4
LANES_TOP = LABELS_TOP + LABEL_ROWS * LABEL_H + 6
LANE_H, LANE_GAP = 18, 6
LANE_Y = {"agent": LANES_TOP, "customer": LANES_TOP + LANE_H + LANE_GAP}
LANES_BOTTOM = LANE_Y["customer"] + LANE_H
MOOD_TOP, MOOD_H = LANES_BOTTOM + LANE_GAP, 16  # the customer's mood, under their lane
PANEL_GAP = 24                      # room for a panel's title above it
PACE_TOP, PACE_H = MOOD_TOP + MOOD_H + PANEL_GAP, 110
VOLUME_TOP, VOLUME_H = PACE_TOP + PACE_H + PANEL_GAP, 90
AXIS_Y = VOLUME_TOP + VOLUME_H + 6
HEIGHT = AXIS_Y + 26
MAX_TIME_TICKS, MAX_VALUE_TICKS = 10, 5
GAP_FACTOR = 2.5                    # a step this many times the usual spacing is a gap in the curve
HALO = 'paint-order="stroke" stroke="#fff" stroke-width="3" stroke-linejoin="round"'  # text readable over curves


@dataclass(frozen=True)
class Limits:
    """The coaching lines the report draws: the pace target band and the volume at which 'Lower your tone' comes."""

    target_wpm: tuple[float, float]
    loud_above_db: float

    @property
    def target_text(self) -> str:
        low, high = self.target_wpm
        return f"{low:g}–{high:g}"


def limits_from(config: CoachingConfig) -> Limits:
    """The report's lines from a CoachingConfig (companion.config)."""
    low, high = config.coach.slow_down.target_wpm
    return Limits((low, high), config.coach.lower_tone.loudness_above_db)


def default_limits() -> Limits:
    from companion.config import load_config

    return limits_from(load_config())


@dataclass(frozen=True)
class Panel:
    title: str
    top: float
    height: float
    lo: float
    hi: float
    ticks: Sequence[float]

    def y(self, value: float) -> float:
        clamped = min(self.hi, max(self.lo, value))
        return self.top + self.height * (self.hi - clamped) / (self.hi - self.lo)


def nice_ticks(values: Sequence[float], max_ticks: int = MAX_VALUE_TICKS) -> list[float]:
    """Round ticks (1, 2 or 5 times a power of ten apart) that cover every value."""
    lo, hi = min(values), max(values)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    raw = (hi - lo) / max_ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first, last = math.floor(lo / step), math.ceil(hi / step)
    return [n * step for n in range(first, last + 1)]


def _panel(title: str, top: float, height: float, values: Sequence[float]) -> Panel:
    ticks = nice_ticks(values)
    return Panel(title, top, height, ticks[0], ticks[-1], ticks)


def _runs(points: Sequence[tuple[float, float]]) -> Iterator[list[tuple[float, float]]]:
    """The curve in pieces: a gap of more than GAP_FACTOR times the curve's usual spacing (its median step)
    is time with no measurement, and breaks it. A short last step (the call's final reading, a fraction
    of a second after the one before) does not change what the usual spacing is."""
    if not points:
        return
    steps = sorted(b[0] - a[0] for a, b in zip(points, points[1:]) if b[0] > a[0])
    gap = GAP_FACTOR * steps[len(steps) // 2] if steps else math.inf
    run = [points[0]]
    for prev, point in zip(points, points[1:]):
        if point[0] - prev[0] > gap:
            yield run
            run = []
        run.append(point)
    yield run


def _more(extra: str) -> str:
    return f" {extra}" if extra else ""


def _text(x: float, y: float, text: str, anchor: str = "start", cls: str = "", extra: str = "") -> str:
    attrs = _more(f'class="{cls}"' if cls else "") + _more(extra)
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{attrs}>{escape(text)}</text>'


def _line(x1: float, y1: float, x2: float, y2: float, colour: str, width: float = 1, extra: str = "") -> str:
    return (f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" '
            f'stroke-width="{width}"{_more(extra)}/>')


def _rect(x: float, y: float, w: float, h: float, fill: str, extra: str = "") -> str:
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 1.0):.1f}" height="{h:.1f}" fill="{fill}"{_more(extra)}/>'


def _axis(x: Callable[[float], float], duration: float) -> list[str]:
    out = [_line(LEFT, AXIS_Y, WIDTH - RIGHT, AXIS_Y, TEXT_COLOUR)]
    for t in time_ticks(duration, MAX_TIME_TICKS):
        out.append(_line(x(t), LANES_TOP, x(t), AXIS_Y, GRID_COLOUR))
        out.append(_line(x(t), AXIS_Y, x(t), AXIS_Y + 5, TEXT_COLOUR))
        out.append(_text(x(t), AXIS_Y + 18, clock(t), "middle", "tick-time"))
    out.append(_text(LEFT - 22, AXIS_Y + 18, "mm:ss", "end", "scale"))
    return out


def _lanes(doc: CallDocument, x: Callable[[float], float]) -> list[str]:
    out = []
    for party, y in LANE_Y.items():
        out.append(_text(LEFT - 8, y + LANE_H - 5, PARTY_NAMES[party], "end", "lane-name"))
        out.append(_rect(LEFT, y, WIDTH - RIGHT - LEFT, LANE_H, LANE_COLOUR))
        out += [_rect(x(t["start"]), y, x(t["end"]) - x(t["start"]), LANE_H, PARTY_COLOURS[party], f'class="turn {party}"')
                for t in doc["turns"] if t["party"] == party]
    for i in doc["interruptions"]:
        colour = INTERRUPTION_COLOURS.get(i["by"], INTERRUPTION_COLOURS["agent"])
        start, end = x(i["t"]), x(i["t"] + i["overlap_s"])
        style = f'fill-opacity="0.3" stroke="{colour}" stroke-width="1.5" class="interruption" data-by="{escape(i["by"])}"'
        out.append(_rect(start, LANES_TOP - 3, end - start, LANES_BOTTOM - LANES_TOP + 6, colour, style))
    for pause in doc["call"].get("pauses", []):  # pause for payment: nothing said there was stored
        start, end = x(pause["start"]), x(pause["end"])
        out.append(_rect(start, LANES_TOP - 3, max(2.0, end - start), LANES_BOTTOM - LANES_TOP + 6, PAUSE_COLOUR,
                         'fill-opacity="0.6" class="pause"'))
    for m in doc["call"].get("supervisor_messages") or []:  # the team live: a flag over the lanes, apart from the prompts
        at, top = x(m["t"]), LANES_TOP - 3
        tip = f'<title>{escape(clock(m["t"]))} Message from supervisor {escape(str(m.get("sender") or ""))}: {escape(str(m.get("text") or ""))}</title>'
        out.append(f'<g class="supervisor-message">{tip}'
                   + _line(at, top, at, LANES_BOTTOM + 3, MESSAGE_COLOUR, 2, 'stroke-dasharray="5 3"')
                   + f'<polygon points="{at:.1f},{top:.1f} {at + 9:.1f},{top + 4:.1f} {at:.1f},{top + 8:.1f}" fill="{MESSAGE_COLOUR}"/></g>')
    return out


def _mood_band(doc: CallDocument, x: Callable[[float], float]) -> list[str]:
    """The customer's mood under their lane: a span per state in its colour, named inside when it fits."""
    out = [_text(LEFT - 8, MOOD_TOP + MOOD_H - 4, BAND_NAME, "end", "band-name"),
           _rect(LEFT, MOOD_TOP, WIDTH - RIGHT - LEFT, MOOD_H, LANE_COLOUR)]
    for span in mood_spans(doc):
        start, end = x(span.start), x(span.end)
        state = span.state or "unknown"
        tip = f"<title>{escape(span.title())}</title>"
        out.append(f'<g class="mood-span" data-state="{state}">{tip}'
                   + _rect(start, MOOD_TOP, end - start, MOOD_H, span.colour, f'class="mood {state}"'))
        if span.state and end - start >= len(span.label) * MOOD_CHAR_W + 8:
            out.append(_text(start + 4, MOOD_TOP + MOOD_H - 4, span.label, cls="mood-label", extra=f'fill="{MOOD_TEXT}"'))
        out.append("</g>")
    return out


def _prompt_markers(doc: CallDocument, x: Callable[[float], float]) -> tuple[list[str], int]:
    """Each prompt: a stem in its kind's colour down through the curves, and a chip with the kind's
    label in the first row (nearest the lanes first) where it clears the label before it; with no
    row free, a dot (the legend and the transcript name it). Stems go under every chip. Returns the marks and how
    many label rows they take (the rows above those are left out of the picture)."""
    ends = [-math.inf] * LABEL_ROWS
    stems, marks = [], []
    for p in doc["prompts"]:
        kind = prompt_kind(p["kind"])
        at, width = x(p["t"]), len(kind.label) * CHAR_W + 2 * CHIP_PAD
        left = max(LEFT, min(at, WIDTH - RIGHT - width))
        row = next((r for r in range(LABEL_ROWS) if ends[r] + CHIP_GAP <= left), None)
        tip = f'<title>{escape(clock(p["t"]))} {escape(kind.label)}: {escape(p["reason"] or "")}</title>'
        if row is None:
            top, mark = LANES_TOP, f'<circle cx="{at:.1f}" cy="{LANES_TOP - 1:.1f}" r="3" fill="{kind.colour}"/>'
        else:
            ends[row] = left + width
            chip_y = LANES_TOP - 4 - (row + 1) * LABEL_H
            top = chip_y + LABEL_H - 2
            mark = (_rect(left, chip_y, width, LABEL_H - 2, kind.colour, 'rx="3"') +
                    _text(left + CHIP_PAD, chip_y + LABEL_H - 6, kind.label, cls="chip-label", extra=f'fill="{kind.text_colour}"'))
        stems.append(_line(at, top, at, AXIS_Y, kind.colour, 1.5, 'stroke-dasharray="4 3" class="prompt-stem"'))
        marks.append(f'<g class="prompt-marker" data-kind="{escape(p["kind"])}">{tip}{mark}</g>')
    rows = sum(1 for end in ends if end > -math.inf)
    return stems + marks, rows


def _frame(panel: Panel, tick_label: Callable[[float], str]) -> list[str]:
    out = [_text(LEFT, panel.top - 7, panel.title, cls="panel-title", extra=HALO),
           _rect(LEFT, panel.top, WIDTH - RIGHT - LEFT, panel.height, "none", f'stroke="{FRAME_COLOUR}"')]
    for v in panel.ticks:
        out.append(_line(LEFT, panel.y(v), WIDTH - RIGHT, panel.y(v), GRID_COLOUR))
        out.append(_text(LEFT - 8, panel.y(v) + 4, tick_label(v), "end", "tick-value"))
    return out


def curve_path(points: Sequence[tuple[float, float]], x: Callable[[float], float], y: Callable[[float], float]) -> str:
    """An SVG path's `d`: one line through every point of a run, a new subpath (M) after each gap; a run of
    one point is a dot (a zero-length line that the round line cap draws)."""
    parts = []
    for run in _runs(points):
        xy = [f"{x(t):.1f},{y(v):.1f}" for t, v in run]
        parts.append(f"M{xy[0]}" + ("".join(f" L{p}" for p in xy[1:]) if len(xy) > 1 else " h0"))
    return " ".join(parts)


def _curve(points: Sequence[tuple[float, float]], x: Callable[[float], float], panel: Panel, colour: str, cls: str) -> list[str]:
    if not points:
        return [_text((LEFT + WIDTH - RIGHT) / 2, panel.top + panel.height / 2, "not measured on this call", "middle", "empty")]
    return [f'<path class="{cls}" d="{curve_path(points, x, panel.y)}" fill="none" stroke="{colour}" stroke-width="2" '
            f'stroke-linejoin="round" stroke-linecap="round"/>']


def _pace(doc: CallDocument, x: Callable[[float], float], limits: Limits) -> list[str]:
    low, high = limits.target_wpm
    points = [(p["t"], p["wpm"]) for p in doc["pace"]]
    panel = _panel("Pace, words/min", PACE_TOP, PACE_H, [v for _, v in points] + [low, high])
    band = _rect(LEFT, panel.y(high), WIDTH - RIGHT - LEFT, panel.y(low) - panel.y(high), BAND_COLOUR,
                 'fill-opacity="0.18" class="target-band"')
    label = _text(WIDTH - RIGHT - 6, panel.y(high) - 3, f"target {limits.target_text}", "end", "band-label", HALO)
    return [*_frame(panel, lambda v: f"{v:g}"), band, *_curve(points, x, panel, PACE_COLOUR, "pace-curve"), label]


def _signed_db(v: float) -> str:
    return "your usual" if abs(v) < 1e-9 else f"{v:+g} dB".replace("-", "−")


def _volume(doc: CallDocument, x: Callable[[float], float], limits: Limits) -> list[str]:
    points = [(v["t"], v["db"]) for v in doc["call"].get("volume", [])]
    loud, tone = limits.loud_above_db, prompt_kind("lower_tone")
    panel = _panel("Volume against your usual level", VOLUME_TOP, VOLUME_H, [v for _, v in points] + [0.0, loud])
    usual = _line(LEFT, panel.y(0), WIDTH - RIGHT, panel.y(0), TEXT_COLOUR, 1.5, 'class="usual-line"')
    line = _line(LEFT, panel.y(loud), WIDTH - RIGHT, panel.y(loud), tone.colour, 1.5, 'stroke-dasharray="6 4" class="loud-line"')
    label = _text(WIDTH - RIGHT - 6, panel.y(loud) - 4, f"“{tone.label}” above {_signed_db(loud)}", "end", "band-label", HALO)
    return [*_frame(panel, _signed_db), usual, line, *_curve(points, x, panel, VOLUME_COLOUR, "volume-curve"), label]


def timeline_svg(doc: CallDocument, limits: Limits) -> str:
    duration = max(doc["duration_s"], 1.0)
    x = lambda t: LEFT + (WIDTH - RIGHT - LEFT) * min(max(t, 0.0), duration) / duration  # noqa: E731
    markers, rows = _prompt_markers(doc, x)
    parts = [*_axis(x, duration), *_lanes(doc, x), *_mood_band(doc, x), *_pace(doc, x, limits), *_volume(doc, x, limits),
             *markers]
    top = (LABEL_ROWS - rows) * LABEL_H   # the label rows no prompt needs (all three on a call without prompts)
    return (f'<svg class="timeline" viewBox="0 {top} {WIDTH} {HEIGHT - top}" width="100%" role="img" '
            'aria-label="Timeline of the call" '
            f'xmlns="http://www.w3.org/2000/svg" font-size="{FONT}" fill="{TEXT_COLOUR}">{"".join(parts)}</svg>')


# --- the legend ---------------------------------------------------------------------------------
def _swatch(colour: str, shape: str) -> str:
    drawn = {
        "box": f'<rect x="1" y="2" width="16" height="10" rx="2" fill="{colour}"/>',
        "span": f'<rect x="1" y="1" width="16" height="12" fill="{colour}" fill-opacity="0.3" stroke="{colour}" stroke-width="1.5"/>',
        "line": f'<line x1="0" y1="7" x2="18" y2="7" stroke="{colour}" stroke-width="2.5"/>',
        "dashed": f'<line x1="0" y1="7" x2="18" y2="7" stroke="{colour}" stroke-width="2" stroke-dasharray="5 3"/>',
        "band": f'<rect x="1" y="2" width="16" height="10" fill="{colour}" fill-opacity="0.25"/>',
    }[shape]
    return f'<svg class="swatch" viewBox="0 0 18 14" width="18" height="14" aria-hidden="true">{drawn}</svg>'


def _entry(label: str, colour: str, shape: str, kind: Optional[str] = None, state: Optional[str] = None) -> str:
    data = (f' data-kind="{escape(kind)}"' if kind else "") + (f' data-state="{escape(state)}"' if state else "")
    return f'<li{data}>{_swatch(colour, shape)}{escape(label)}</li>'


def talked_over(by: str) -> str:
    """'Agent talked over the customer' (or the other way round)."""
    other = "customer" if by == "agent" else "agent"
    return f"{PARTY_NAMES[by]} talked over the {PARTY_NAMES[other].lower()}"


def legend_html(doc: CallDocument, limits: Limits) -> str:
    entries = [_entry(f"{PARTY_NAMES[p]} speaking", PARTY_COLOURS[p], "box") for p in LANE_Y]
    entries += [_entry(talked_over(by), colour, "span") for by, colour in INTERRUPTION_COLOURS.items()]
    if doc["call"].get("pauses"):
        entries.append(_entry("Paused for payment (nothing stored)", PAUSE_COLOUR, "box"))
    if doc["call"].get("supervisor_messages"):
        entries.append(_entry("Supervisor's message", MESSAGE_COLOUR, "dashed"))
    entries += [_entry(label, colour, "box", state=state or "unknown") for label, colour, state in mood_legend(doc)]
    kinds = [prompt_kind(k) for k in dict.fromkeys(p["kind"] for p in doc["prompts"])]
    entries += [_entry(k.label, k.colour, "box", k.kind) for k in kinds]
    tone = prompt_kind("lower_tone")
    entries += [_entry("Pace", PACE_COLOUR, "line"), _entry(f"Target pace {limits.target_text} words/min", BAND_COLOUR, "band"),
                _entry("Volume", VOLUME_COLOUR, "line"), _entry("Your usual level (0 dB)", TEXT_COLOUR, "line"),
                _entry(f"“{tone.label}” line", tone.colour, "dashed")]
    return f'<ul class="legend">{"".join(entries)}</ul>'
