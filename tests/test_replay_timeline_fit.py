"""The replay timeline shows what the call held: a fast agent's pace is drawn where it was (not flattened on the
scale's top edge), and every legend entry is there whole, at a narrow width too (pytest-qt, offscreen)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRectF

from companion.prompt_kinds import KINDS, prompt_kind
from ui.review.replay_timeline import Timeline

DURATION = 120.0


def call(pace=(), volume=(), prompts=(), states=(), interruptions=(), pauses=()) -> dict:
    return {"duration_s": DURATION, "prompts": list(prompts), "turns": [{"party": "agent", "start": 1.0, "end": 100.0}],
            "interruptions": list(interruptions), "pace": list(pace), "customer_states": list(states),
            "call": {"comments": [], "segments": [], "volume": list(volume), "pauses": list(pauses)}}


def shown(qtbot, doc: dict, width: int) -> Timeline:
    timeline = Timeline(doc)
    qtbot.addWidget(timeline)
    timeline.resize(width, timeline.minimumHeight())
    timeline.show()
    qtbot.waitUntil(lambda: timeline.height() >= timeline.height_for(width), timeout=2000)
    timeline.grab()  # painted once, as the window would
    return timeline


def labelled_value(timeline: Timeline, curve: str, y: float) -> float:
    """The value at `y`, read from the scale's numbered lines as drawn."""
    lines = sorted((float(text.replace("−", "-").removesuffix(" dB")), ly) for ly, text in timeline.scale_labels(curve))
    (v1, y1), (v2, y2) = lines[0], lines[-1]
    return v1 + (y - y1) * (v2 - v1) / (y2 - y1)


def test_a_fast_agents_pace_is_drawn_where_it_was_not_flat_on_the_top_edge(qtbot):
    pace = [{"t": float(t), "wpm": 150.0 + 150.0 * min(1.0, t / 60)} for t in range(5, 110)]  # up to 300 words/min
    timeline = shown(qtbot, call(pace=pace), 1000)
    top, bottom = timeline.curve_band()
    points = timeline.curve_points("pace")
    assert len(points) == len(pace)
    for point, reading in zip(points, pace):
        assert top + 3 < point.y() <= bottom  # inside the band, with room above the highest reading
        assert labelled_value(timeline, "pace", point.y()) == pytest.approx(reading["wpm"], abs=1.0)
    fast = [p.y() for p, r in zip(points, pace) if r["wpm"] >= 250]
    assert max(fast) - min(fast) > 10  # 250 and 300 words/min are drawn apart
    numbers = [float(text) for _, text in timeline.scale_labels("pace")]
    assert max(numbers) >= 300 and min(numbers) <= 100


def test_a_loud_agents_volume_fits_its_scale_too(qtbot):
    volume = [{"t": float(t), "db": -9.0 + 24.0 * t / 110} for t in range(0, 110)]  # −9 to +15 dB
    timeline = shown(qtbot, call(volume=volume), 1000)
    top, bottom = timeline.curve_band()
    for point, reading in zip(timeline.curve_points("volume"), volume):
        assert top + 3 < point.y() < bottom + 0.01
        assert labelled_value(timeline, "volume", point.y()) == pytest.approx(reading["db"], abs=0.3)


def busy_call() -> dict:
    """Every prompt kind, every mood, an interruption, a pause for payment and both curves: the longest legend."""
    prompts = [{"t": 4.0 + n * 9.0, "kind": kind, "reason": ""} for n, kind in enumerate(KINDS)]
    states = [{"t": 10.0, "state": "calm"}, {"t": 40.0, "state": "tense"}, {"t": 60.0, "state": "upset"}]
    return call(pace=[{"t": float(t), "wpm": 150.0} for t in range(5, 100)],
                volume=[{"t": float(t), "db": 1.0} for t in range(5, 100)], prompts=prompts, states=states,
                interruptions=[{"t": 20.0, "overlap_s": 2.0, "by": "agent"}], pauses=[{"start": 50.0, "end": 55.0}])


@pytest.mark.parametrize("width", [1100, 700, 480])
def test_every_legend_entry_is_shown_whole_on_rows_that_fit_the_width(qtbot, width):
    doc = busy_call()
    timeline = shown(qtbot, doc, width)
    entries = timeline.legend_entries()
    assert {prompt_kind(k).label for k in KINDS} <= {e.label for e in entries}
    assert "Mood: calm" in [e.label for e in entries] and "Interruption" in [e.label for e in entries]
    laid = timeline.legend_layout()
    assert [text for _, _, text in laid] == [e.label for e in entries]  # none elided
    fm = timeline.fontMetrics()
    legend_top = timeline.height() - timeline.legend_height(width)
    rects = []
    for entry, at, text in laid:
        rect = QRectF(at.x(), legend_top + at.y(), timeline.SWATCH + fm.horizontalAdvance(text), 16)
        assert rect.left() >= 0 and rect.right() <= width and rect.bottom() <= timeline.height(), (entry.label, rect)
        assert rect.top() >= timeline.axis_y() + 16  # under the axis and its mm:ss labels
        assert not any(rect.intersects(other) for other in rects), entry.label
        rects.append(rect)
    for before, (after, at, _) in zip(rects, laid[1:]):
        if at.x() == laid[0][1].x() and after is not laid[0][0]:  # a new row only where the entry did not fit
            assert before.right() + timeline.LEGEND_SPACING + timeline.SWATCH + fm.horizontalAdvance(after.label) > width - 4
    assert timeline.height() >= timeline.axis_y() + timeline.AXIS_GAP + len({at.y() for _, at, _ in laid}) * 16
