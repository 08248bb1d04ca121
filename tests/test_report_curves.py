"""The HTML report draws the pace and volume curves as lines through every reading, not as scattered dots.

A call's last reading comes when the call ends, often a fraction of a second after the one before; the
report once took that short step for the curve's spacing, broke the curve at every other step, and
drew 87 one-point lines that showed nothing but a tick at the right edge.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
import soundfile as sf

from companion.resources import resource_path

SVG = "{http://www.w3.org/2000/svg}"
CUT_S = 90.03  # the demo call cut here: its last readings are 90.0 s and 90.03 s


def keep(path, config) -> dict:
    """`analyze --save` of `path`, as the store then gives the call to the report."""
    from companion.app.keeping import analyze_and_keep
    from companion.audio.file_source import CallFileSpec, FileCallSource
    from companion.store.calls import load_call
    from companion.store.db import open_store

    kept = analyze_and_keep(FileCallSource(CallFileSpec(path=path), config.audio), config, "analyze")
    db = open_store()
    try:
        return load_call(db, kept.call_id)
    finally:
        db.close()


@pytest.fixture(scope="module")
def cut_call(tmp_path_factory, config):
    folder = tmp_path_factory.mktemp("curves")
    audio, rate = sf.read(str(resource_path("demo/demo_call.flac")), dtype="float32")
    path = folder / "cut.flac"
    sf.write(str(path), audio[: int(CUT_S * rate)], rate)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COMPANION_DATA_DIR", str(folder / "data"))
        mp.setenv("COMPANION_CONFIG_DIR", str(folder / "config"))
        return keep(path, config)


def svg_of(doc: dict) -> ET.Element:
    from companion.reports.html_report import render_report

    page = render_report(doc)
    return ET.fromstring(re.search(r"<svg class=\"timeline\".*?</svg>(?=</section>)", page, re.S).group(0))


def subpaths(d: str) -> list[list[tuple[float, float]]]:
    """The points of each subpath of a path's `d` (M x,y L x,y ... with an 'h0' for a lone point)."""
    runs = []
    for command, x, y in re.findall(r"([ML])\s*(-?[\d.]+),(-?[\d.]+)", d):
        if command == "M":
            runs.append([])
        runs[-1].append((float(x), float(y)))
    return runs


def scale(svg: ET.Element, panel_title: str, parse) -> tuple[float, float, float, float]:
    """Two (value, y) pairs of the panel's labelled grid lines: the labels sit 4 units under their line."""
    texts = [t for t in svg.iter(f"{SVG}text") if "tick-value" in (t.get("class") or "")]
    pairs = sorted((parse(t.text), float(t.get("y")) - 4) for t in texts if parse(t.text) is not None)
    return pairs


def pace_value(text: str):
    return float(text) if re.fullmatch(r"\d+", text) else None


def volume_value(text: str):
    if text == "your usual":
        return 0.0
    return float(text.replace("−", "-").removesuffix(" dB")) if text.endswith(" dB") else None


def x_of_time(svg: ET.Element, doc: dict):
    """The time axis as drawn: x of each mm:ss tick, fitted to a line."""
    from companion.timeline import time_ticks

    ticks = [t for t in svg.iter(f"{SVG}text") if "tick-time" in (t.get("class") or "")]
    times = list(time_ticks(doc["duration_s"], len(ticks)))[: len(ticks)]
    (t1, x1), (t2, x2) = (times[0], float(ticks[0].get("x"))), (times[-1], float(ticks[-1].get("x")))
    return lambda t: x1 + (t - t1) * (x2 - x1) / (t2 - t1)


def check_curve(svg: ET.Element, doc: dict, cls: str, points: list[tuple[float, float]], parse) -> None:
    [path] = [p for p in svg.iter(f"{SVG}path") if p.get("class") == cls]
    runs = subpaths(path.get("d"))
    assert len(runs) == 1, f"{cls}: {len(runs)} pieces, the curve should be one line"
    drawn = runs[0]
    assert len(drawn) == len(points)
    pairs = scale(svg, cls, parse)
    (v1, y1), (v2, y2) = pairs[0], pairs[-1]
    x = x_of_time(svg, doc)
    for (dx, dy), (t, v) in zip(drawn, points):
        assert dx == pytest.approx(x(t), abs=0.2)
        assert dy == pytest.approx(y1 + (v - v1) * (y2 - y1) / (v2 - v1), abs=0.2)
    assert all(a[0] <= b[0] for a, b in zip(drawn, drawn[1:]))  # left to right, never back


def test_a_calls_pace_and_volume_are_each_one_line_through_every_reading(cut_call):
    pace = [(p["t"], p["wpm"]) for p in cut_call["pace"]]
    volume = [(v["t"], v["db"]) for v in cut_call["call"]["volume"]]
    assert len(pace) > 60 and len(volume) > 40
    assert pace[-1][0] - pace[-2][0] < 0.1  # the case that broke the curve: a last reading just after the one before
    svg = svg_of(cut_call)
    check_curve(svg, cut_call, "pace-curve", pace, pace_value)
    check_curve(svg, cut_call, "volume-curve", volume, volume_value)
    assert not list(svg.iter(f"{SVG}polyline"))


def test_time_with_no_reading_breaks_the_curve_and_a_lone_reading_shows_as_a_dot(cut_call):
    """The agent silent from 20 s to 50 s: no pace there, so the line stops and starts again; a single
    reading between two gaps is a dot."""
    doc = dict(cut_call)
    doc["pace"] = [p for p in cut_call["pace"] if not 20 < p["t"] < 50 or p["t"] == 35.0]
    svg = svg_of(doc)
    [path] = [p for p in svg.iter(f"{SVG}path") if p.get("class") == "pace-curve"]
    runs = subpaths(path.get("d"))
    assert [len(r) for r in runs] == [len([p for p in doc["pace"] if p["t"] <= 20]), 1,
                                      len([p for p in doc["pace"] if p["t"] >= 50])]
    assert "h0" in path.get("d") and path.get("stroke-linecap") == "round"  # the lone reading is drawn as a dot
