"""The HTML coaching report, as a browser shows it: each saved call is rendered by headless
Chromium and its DOM checked section by section; hostile text must stay text; nothing is fetched;
it screenshots and prints on A4.

`python -m tests.test_html_report [OUT.png]` saves the demo call and takes docs/report.png.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterator, Optional

import pytest

from companion.prompt_kinds import prompt_kind
from companion.reports.report_timeline import LABEL_H, LABEL_ROWS, MAX_TIME_TICKS, limits_from, timeline_svg
from companion.timeline import PARTY_NAMES, clock, speech_without_text, time_ticks
from tests import scenarios
from tests.installed import OUTSIDE

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_TIMEOUT_S = 60
WINDOW = (1200, 2200)
NOTE = "The parcel was left at the front desk; the courier's photo was not checked before the call."
COMMENT = ("Dana (supervisor)", 54.0, "Let the customer finish here: you cut in while they said why they are upset.")
HOSTILE = '<script>alert(1)</script> "&<> <img src=x onerror=alert(2)>'
HOSTILE_KIND = 'x"><b onclick="alert(3)">kind'


# --- Chromium ------------------------------------------------------------------------------------
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("the HTML report tests need headless Chromium: bash .ci/run installs the Debian package chromium")
    return found


def run_chromium(page: Path, *args: str) -> str:
    """Chromium headless on `page` with a profile of its own; its stdout (its stderr is noise)."""
    with tempfile.TemporaryDirectory(prefix="cc-chromium-") as profile:
        command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                   f"--user-data-dir={profile}", *args, page.resolve().as_uri()]
        run = subprocess.run(command, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


# --- the DOM Chromium dumps ------------------------------------------------------------------------
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict, parent: Optional["Node"]):
        self.tag, self.attrs, self.parent, self.children = tag, attrs, parent, []

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self) -> Iterator["Node"]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def all(self, tag: Optional[str] = None, cls: Optional[str] = None, **attrs: str) -> list["Node"]:
        return [n for n in self.iter() if (tag is None or n.tag == tag)
                and (cls is None or cls in (n.attrs.get("class") or "").split())
                and all(n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def one(self, tag: Optional[str] = None, cls: Optional[str] = None, **attrs: str) -> "Node":
        found = self.all(tag, cls, **attrs)
        assert len(found) == 1, (tag, cls, attrs, len(found))
        return found[0]

    def cell(self, cls: str) -> str:
        return self.one("td", cls).text()


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.root = self.node = Node("#document", {}, None)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.node)
        self.node.children.append(node)
        if tag not in VOID:
            self.node = node

    def handle_startendtag(self, tag, attrs):
        self.node.children.append(Node(tag, dict(attrs), self.node))

    def handle_endtag(self, tag):
        node = self.node
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.node = node.parent

    def handle_data(self, data):
        self.node.children.append(data)


def parse(html: str) -> Node:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


def rendered(page: Path) -> Node:
    return parse(run_chromium(page, "--dump-dom"))


# --- saved calls -------------------------------------------------------------------------------
def save_demo_call() -> int:
    """The bundled demo through the live pipeline (its script as the transcript), kept in the store with
    its playbook; one step ticked by hand, one ticked and undone; then a note and a supervisor's comment."""
    from companion.config import load_config
    from companion.demo import demo_recording, demo_script
    from companion.events import MetricsSnapshot
    from companion.playbooks import find_playbook
    from companion.session import CallSession
    from companion.store.db import open_store
    from companion.store.rows import CallRows

    playbook = find_playbook(None)
    session = CallSession(load_config(use_user_default=False), playbook)
    recorder = session.keep("demo", playbook=playbook.id, file="demo_call.flac")
    by_hand = iter([(12.0, "mindset", True), (80.0, "repeat", True), (84.0, "repeat", False)])
    pending = [next(by_hand)]

    def pilot(event: object) -> None:
        if isinstance(event, MetricsSnapshot) and pending[0] and event.t >= pending[0][0]:
            _, step, done = pending[0]
            pending[0] = next(by_hand, None)
            session.tick(step, done)

    session.bus.subscribe(pilot)
    session.start_demo(demo_recording(), speed=10.0, script=demo_script())
    assert session.ended.wait(60), "the demo call did not end"
    db = open_store()
    with db:
        rows = CallRows(db, recorder.call_id)
        rows.note(NOTE)
        rows.comment(COMMENT[1], COMMENT[0], COMMENT[2], "2026-01-05T10:12:00+00:00")
    db.close()
    return recorder.call_id


def save_hostile_call() -> int:
    """A call whose every piece of free text is markup: what was said, a prompt's reason and kind, a step's
    title, the file name, the note, the comment and its author."""
    from companion.events import CallEnded, FinalSegment, Prompt, StepTicked, Turn, Word
    from companion.store.db import open_store
    from companion.store.recorder import CallRecorder
    from companion.store.rows import CallRows

    recorder = CallRecorder("live", file=f"{HOSTILE}.flac")
    words = tuple(Word(w, 1.0 + i * 0.3, 1.25 + i * 0.3, 1.0) for i, w in enumerate(HOSTILE.split()))
    for event in (Turn("customer", 1.0, 4.0), FinalSegment("customer", words[0].start, words[-1].end, words),
                  Turn("agent", 5.0, 9.0), Prompt(6.0, "keep_listening", HOSTILE), Prompt(7.5, HOSTILE_KIND, HOSTILE),
                  StepTicked(8.0, "listen", HOSTILE, "manual"), CallEnded(12.0, 0)):
        recorder(event)
    recorder.close()
    db = open_store()
    with db:
        rows = CallRows(db, recorder.call_id)
        rows.note(HOSTILE)
        rows.comment(3.0, HOSTILE, HOSTILE, "2026-01-05T10:12:00+00:00")
    db.close()
    return recorder.call_id


def report_of(call_id: int, page: Path) -> dict:
    """The call's document, and its report written to `page`."""
    from companion.reports.export import export
    from companion.store.calls import load_call
    from companion.store.db import open_store

    db = open_store()
    try:
        doc = load_call(db, call_id)
    finally:
        db.close()
    page.write_text(export(doc, "html"), encoding="utf-8")
    return doc


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Both calls in a store of their own (the test's own folders are set per test, after module fixtures)."""
    folder = tmp_path_factory.mktemp("report")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COMPANION_DATA_DIR", str(folder / "data"))
        mp.setenv("COMPANION_CONFIG_DIR", str(folder / "config"))
        demo, hostile = save_demo_call(), save_hostile_call()
        return {name: (report_of(call_id, folder / f"{name}.html"), folder / f"{name}.html")
                for name, call_id in (("demo", demo), ("hostile", hostile))}


@pytest.fixture(scope="module")
def demo(saved):
    doc, page = saved["demo"]
    return doc, page, rendered(page)


# --- the demo call's report, section by section ---------------------------------------------------
def test_the_cards_give_the_calls_key_numbers(demo):
    doc, _, dom = demo
    cards = {c.one("div", "card-title").text(): c for c in dom.one("section", id="cards").all("div", "card")}
    assert list(cards) == ["Duration", "Talk share", "Pace", "Interruptions", "Customer mood", "Checklist", "Prompts"]
    assert cards["Duration"].one("div", "value").text() == clock(doc["duration_s"])
    assert cards["Talk share"].one("div", "value").text() == f"{doc['agent_talk_ratio']:.0%}"
    assert f"Customer {1 - doc['agent_talk_ratio']:.0%}" in cards["Talk share"].text()
    assert doc["pace_source"] == "asr" and "from words" in cards["Pace"].text()
    assert cards["Pace"].one("div", "value").text() == f"{doc['agent_wpm']:.0f} words/min"
    by = [i["by"] for i in doc["interruptions"]]
    assert by == ["agent"]
    assert "Agent talked over the customer: 1" in cards["Interruptions"].text()
    assert "Customer talked over the agent: 0" in cards["Interruptions"].text()
    kinds = [p["kind"] for p in doc["prompts"]]
    assert {"keep_listening", "slow_down", "lower_tone"} <= set(kinds)
    for kind in set(kinds):
        shown = cards["Prompts"].one("span", data_kind=kind).text()
        assert shown == f"{prompt_kind(kind).label} × {kinds.count(kind)}"


def test_the_timeline_has_a_time_axis_lanes_interruptions_and_labelled_prompts(demo):
    doc, _, dom = demo
    svg = dom.one("section", id="timeline").one("svg", "timeline")
    assert svg.attrs["viewbox"].startswith("0 ") and svg.attrs["width"] == "100%"  # scaled to the page
    axis = [t.text() for t in svg.all("text", "tick-time")]
    assert axis == [clock(t) for t in time_ticks(doc["duration_s"], MAX_TIME_TICKS)]
    assert axis[0] == "00:00" and all(re.fullmatch(r"\d\d:\d\d", t) for t in axis) and len(axis) >= 5
    names = [t.text() for t in svg.all("text", "lane-name")]
    assert names == [PARTY_NAMES["agent"], PARTY_NAMES["customer"]]
    for party in ("agent", "customer"):
        assert len(svg.all("rect", party)) == len([t for t in doc["turns"] if t["party"] == party])
    assert [r.attrs["data-by"] for r in svg.all("rect", "interruption")] == [i["by"] for i in doc["interruptions"]]
    markers = svg.all("g", "prompt-marker")
    assert [m.attrs["data-kind"] for m in markers] == [p["kind"] for p in doc["prompts"]]
    for marker, prompt in zip(markers, doc["prompts"]):
        assert marker.one("text", "chip-label").text() == prompt_kind(prompt["kind"]).label  # every demo prompt labelled
        assert prompt["reason"] in marker.one("title").text()
    legend = dom.one("section", id="timeline").one("ul", "legend")
    for kind in {p["kind"] for p in doc["prompts"]}:
        assert legend.one("li", data_kind=kind).text() == prompt_kind(kind).label
    assert "Agent talked over the customer" in legend.text() and "Your usual level" in legend.text()


def _value_scale(svg: Node) -> dict[float, float]:
    """The pace scale: words/min of each numeric tick label, by the y of its grid line."""
    ticks = [t for t in svg.all("text", "tick-value") if re.fullmatch(r"\d+", t.text())]
    return {float(t.text()): float(t.attrs["y"]) - 4 for t in ticks}


def test_the_pace_curve_has_its_scale_and_the_configured_target_band(demo, config):
    doc, _, dom = demo
    svg = dom.one("svg", "timeline")
    scale = _value_scale(svg)
    low, high = config.coach.slow_down.target_wpm
    assert len(scale) >= 3 and min(scale) <= low and max(scale) >= high
    assert "Pace, words/min" in [t.text() for t in svg.all("text", "panel-title")]
    (v1, y1), (v2, y2) = sorted(scale.items())[:2]
    y_of = lambda v: y1 + (v - v1) * (y2 - y1) / (v2 - v1)  # noqa: E731
    band = svg.one("rect", "target-band")
    assert float(band.attrs["y"]) == pytest.approx(y_of(high), abs=0.2)
    assert float(band.attrs["y"]) + float(band.attrs["height"]) == pytest.approx(y_of(low), abs=0.2)
    assert f"target {low:g}–{high:g}" in [t.text() for t in svg.all("text", "band-label")]
    [curve] = svg.all("path", "pace-curve")  # one line through every reading (tests/test_report_curves.py)
    assert len(re.findall(r"[ML]", curve.attrs["d"])) == len(doc["pace"])


def test_the_volume_curve_is_drawn_against_your_usual_level(demo, config):
    doc, _, dom = demo
    svg = dom.one("svg", "timeline")
    [curve] = svg.all("path", "volume-curve")
    assert doc["call"]["volume"] and len(re.findall(r"[ML]", curve.attrs["d"])) == len(doc["call"]["volume"])
    usual = [t for t in svg.all("text", "tick-value") if t.text() == "your usual"]
    line = svg.one("line", "usual-line")
    assert len(usual) == 1 and float(usual[0].attrs["y"]) - 4 == pytest.approx(float(line.attrs["y1"]), abs=0.2)
    db_ticks = {0.0 if t.text() == "your usual" else float(t.text().replace("−", "-").removesuffix(" dB")): float(t.attrs["y"]) - 4
                for t in svg.all("text", "tick-value") if t.text() == "your usual" or t.text().endswith(" dB")}
    (v1, y1), (v2, y2) = sorted(db_ticks.items())[:2]
    loud_db = config.coach.lower_tone.loudness_above_db
    loud = svg.one("line", "loud-line")
    assert float(loud.attrs["y1"]) == pytest.approx(y1 + (loud_db - v1) * (y2 - y1) / (v2 - v1), abs=0.2)
    assert any(t.text().endswith(f"above +{loud_db:g} dB") for t in svg.all("text", "band-label"))


def test_the_transcript_has_speakers_times_and_each_prompt_where_it_came(demo):
    doc, _, dom = demo
    rows = dom.one("section", id="transcript").one("tbody").all("tr")
    lines = [r for r in rows if "line" in r.attrs["class"].split()]
    segments = doc["call"]["segments"]
    assert len(lines) == len(segments) > 5
    for row, seg in zip(lines, segments):
        assert (row.cell("t"), row.cell("who"), row.cell("text")) == (clock(seg["start"]), PARTY_NAMES[seg["party"]], seg["text"])
    prompts = [r for r in rows if "prompt" in r.attrs["class"].split()]
    assert [r.attrs["data-kind"] for r in prompts] == [p["kind"] for p in doc["prompts"]]
    starts = iter(s["start"] for s in segments)
    line_times = [next(starts) if r in lines else None for r in rows]
    for prompt, row in zip(doc["prompts"], prompts):
        at = rows.index(row)
        before = [t for t in line_times[:at] if t is not None]
        after = [t for t in line_times[at + 1:] if t is not None]
        assert (not before or before[-1] <= prompt["t"]) and (not after or after[0] > prompt["t"]), prompt
        assert row.cell("t") == clock(prompt["t"])
        assert row.one("span", "chip").text() == prompt_kind(prompt["kind"]).label and prompt["reason"] in row.cell("text")


def test_the_checklist_shows_when_each_step_was_ticked_and_how(demo):
    doc, _, dom = demo
    ticks = doc["call"]["checklist"]
    rows = dom.one("section", id="checklist").one("tbody").all("tr")
    assert len(rows) == len(ticks) and {t["source"] for t in ticks} == {"auto", "manual"}
    for row, tick in zip(rows, ticks):
        assert row.cell("t") == clock(tick["t"]) and row.cell("step") == tick["title"]
        how = "as the call began" if tick["step_id"] == "mindset" else {"auto": "automatically", "manual": "by hand"}[tick["source"]]
        assert row.cell("how") == how
        assert ("undone" in row.cell("state")) == (not tick["done"]) and ("undone" in row.attrs["class"]) == (not tick["done"])
    assert [t["step_id"] for t in ticks if not t["done"]] == ["repeat"]
    assert [t["step_id"] for t in ticks if t["source"] == "auto"] == ["mindset", "listen", "repeat", "empathise", "solution",
                                                                       "action"]


def test_the_calls_adherence_to_its_playbook_is_a_card_and_heads_the_checklist(demo):
    """The demo call: its steps said in the playbook's order, "repeat" then undone by hand, and a root-cause note
    written: 6 of 7 steps done in order."""
    _, _, dom = demo
    cards = {c.one("div", "card-title").text(): c for c in dom.one("section", id="cards").all("div", "card")}
    assert cards["Checklist"].one("div", "value").text() == "86%"
    assert "6 of 7 steps in order" in cards["Checklist"].text() and "6 done" in cards["Checklist"].text()
    section = dom.one("section", id="checklist")
    assert section.one("p", "adherence").text() == "Adherence 86%: 6 of 7 steps done in the playbook's order (6 done)."
    assert section.one("p", "not-done").text() == "Not done: Repeat their concerns."
    assert "Step 7, “Use the feedback”, is done after the call, by the notes below." in section.text()


def test_the_notes_and_the_supervisors_comments_are_there(demo):
    _, _, dom = demo
    assert dom.one("section", id="notes").one("p", "notes").text() == NOTE
    [row] = dom.one("section", id="comments").one("tbody").all("tr")
    author, t, text = COMMENT
    assert (row.cell("t"), row.cell("author"), row.cell("text")) == (clock(t), author, text)
    written = datetime.fromisoformat("2026-01-05T10:12:00+00:00").astimezone().strftime("%Y-%m-%d %H:%M")
    assert row.cell("written") == written  # local time to the minute, never "2026-01-05T10:12:00+00:00"


def test_the_header_says_when_the_call_started_in_local_time(demo):
    doc, _, dom = demo
    meta = dom.one("p", "meta").text()
    started = datetime.fromisoformat(doc["call"]["started_at"]).astimezone().strftime("%Y-%m-%d %H:%M")
    assert f"started {started}" in meta and doc["call"]["started_at"] not in meta


def _assert_self_contained(dom: Node, raw: str) -> None:
    elements = list(dom.iter())
    assert not [n for n in elements if n.tag in ("script", "iframe", "object", "embed", "link", "img", "base")]
    for node in elements:
        for name, value in node.attrs.items():
            assert not name.startswith("on"), (node.tag, name)
            if name in ("src", "href", "xlink:href", "action", "srcset"):
                assert not re.match(r"\s*(https?:)?//", value or "", re.I), (node.tag, name, value)
    style = "".join(s.text() for s in dom.all("style"))
    assert style and "url(" not in style and "@import" not in style
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", raw, re.I)


def test_the_report_is_self_contained(demo):
    _, page, dom = demo
    _assert_self_contained(dom, page.read_text())
    assert "@page" in dom.one("style").text() and "size: A4" in dom.one("style").text()


# --- hostile text ------------------------------------------------------------------------------
def test_hostile_text_stays_text(saved):
    doc, page = saved["hostile"]
    raw = page.read_text()
    dom = rendered(page)
    _assert_self_contained(dom, raw)
    assert "<script" not in raw.lower() and "<img" not in raw.lower() and "<b onclick" not in raw.lower()
    assert not dom.all("b", onclick='alert(3)')
    said = doc["call"]["segments"][0]["text"]
    assert "<script>" in said and '"&<>' in said  # what the store kept is still markup
    line = dom.one("tr", "line")
    assert line.cell("text") == said
    reasons = [r.cell("text") for r in dom.all("tr", "prompt")]
    assert len(reasons) == 2 and all(r.endswith(doc["prompts"][0]["reason"]) for r in reasons)
    assert [r.attrs["data-kind"] for r in dom.all("tr", "prompt")] == ["keep_listening", HOSTILE_KIND]
    assert dom.one("tr", "tick").cell("step") == doc["call"]["checklist"][0]["title"]
    assert dom.one("p", "notes").text() == doc["call"]["notes"]
    comment = dom.one("tr", "comment")
    assert comment.cell("author") == doc["call"]["comments"][0]["author"] and comment.cell("text") == doc["call"]["comments"][0]["text"]
    assert doc["file"] in dom.one("p", "meta").text()
    titles = [m.one("title").text() for m in dom.all("g", "prompt-marker")]
    assert len(titles) == 2 and all(doc["prompts"][0]["reason"] in t for t in titles)


# --- a call with no transcript, through the command line -------------------------------------------------
def companion(*args):
    return subprocess.run([sys.executable, "-m", "ui", *map(str, args)], capture_output=True, text=True,
                          env=dict(os.environ), cwd=OUTSIDE, timeout=300)


def test_the_timeline_keeps_room_only_for_the_prompt_labels_it_shows(demo, config):
    """The label rows above the lanes that no prompt needs are left out of the picture: all three on a call without
    prompts (the report showed an empty band there), none where the chips fill them; every chip stays in view."""
    doc, _, _ = demo
    limits = limits_from(config)

    def view_top_and_chips(d) -> tuple[float, list[float]]:
        svg = parse(timeline_svg(d, limits)).one("svg", "timeline")
        chips = [float(m.one("rect").attrs["y"]) for m in svg.all("g", "prompt-marker") if m.all("rect")]
        return float(svg.attrs["viewbox"].split()[1]), chips

    top, chips = view_top_and_chips(doc)
    rows = len({round(y) for y in chips})
    assert chips and top == (LABEL_ROWS - rows) * LABEL_H and min(chips) >= top
    assert view_top_and_chips({**doc, "prompts": []}) == (LABEL_ROWS * LABEL_H, [])
    one = view_top_and_chips({**doc, "prompts": doc["prompts"][:1]})
    assert one[0] == (LABEL_ROWS - 1) * LABEL_H and one[1][0] >= one[0]


def test_a_call_with_no_transcript_says_who_spoke_and_for_how_long(make_call, tmp_path):
    wav, _ = make_call(scenarios.interrupter())
    assert companion("analyze", wav, "--model", "none", "--save").returncode == 0
    call_id = json.loads(companion("calls", "list", "--json").stdout)[0]["id"]
    doc = json.loads(companion("calls", "show", call_id, "--json").stdout)
    for fmt in ("html", "txt"):
        run = companion("calls", "export", call_id, "--format", fmt, "--output", tmp_path / f"call.{fmt}")
        assert run.returncode == 0, run.stderr
    dom = rendered(tmp_path / "call.html")
    lines = dom.one("section", id="transcript").all("tr", "line")
    assert len(lines) == len(doc["turns"]) > 3
    for row, turn in zip(lines, doc["turns"]):
        assert row.cell("text") == speech_without_text(turn["party"], turn["start"], turn["end"])
        assert row.cell("who") == PARTY_NAMES[turn["party"]] and "no-text" in row.attrs["class"]
    assert "(speech)" not in (tmp_path / "call.html").read_text() + (tmp_path / "call.txt").read_text()
    first = doc["turns"][0]
    assert f"{PARTY_NAMES[first['party']]}: {speech_without_text(first['party'], first['start'], first['end'])}" in \
        (tmp_path / "call.txt").read_text()
    by = [i["by"] for i in doc["interruptions"]]
    cards = dom.one("section", id="cards")
    assert f"Agent talked over the customer: {by.count('agent')}" in cards.text() and by.count("agent") == 2
    assert "from sound" in cards.text()


def test_the_target_band_follows_the_users_coaching_file(saved, tmp_path):
    from companion.reports.html_report import render_report

    doc, _ = saved["demo"]
    config_dir = Path(os.environ["COMPANION_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "coaching.toml").write_text("[coach.slow_down]\ntarget_wpm = [125, 145]\nrelease_wpm = 150.0\n")
    dom = parse(render_report(doc))
    assert "target 125–145" in [t.text() for t in dom.all("text", "band-label")]
    assert "target 125–145 words/min" in dom.one("div", "pace").text()


# --- how it looks ---------------------------------------------------------------------------------
def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def screenshot(page: Path, out: Path) -> Path:
    run_chromium(page, f"--screenshot={out}", f"--window-size={WINDOW[0]},{WINDOW[1]}", "--hide-scrollbars")
    return out


def test_a_screenshot_of_the_report(demo, tmp_path):
    _, page, _ = demo
    png = screenshot(page, tmp_path / "report.png")
    assert png_size(png) == WINDOW and png.stat().st_size > 60_000  # a blank page is a few kB


def test_the_report_prints_on_a4(demo, tmp_path):
    _, page, _ = demo
    pdf = tmp_path / "report.pdf"
    run_chromium(page, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert boxes and all(float(w) == pytest.approx(595.3, abs=1.5) and float(h) == pytest.approx(841.9, abs=1.5) for w, h in boxes)
    assert 1 <= len(boxes) <= 4


def main(out: Path) -> int:
    """Save the demo call in a throwaway store and take `out` (docs/report.png)."""
    with tempfile.TemporaryDirectory(prefix="cc-report-") as folder:
        os.environ["COMPANION_DATA_DIR"] = str(Path(folder) / "data")
        os.environ["COMPANION_CONFIG_DIR"] = str(Path(folder) / "config")
        page = Path(folder) / "report.html"
        report_of(save_demo_call(), page)
        screenshot(page, out)
    print(f"{out}: {png_size(out)[0]}x{png_size(out)[1]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "report.png"))


def test_a_pause_for_payment_shows_as_a_paused_span_with_its_legend(demo, tmp_path):
    from companion.reports.export import export

    doc = json.loads(json.dumps(demo[0]))
    doc["call"]["pauses"] = [{"start": 40.0, "end": 52.0}]
    page = tmp_path / "paused.html"
    page.write_text(export(doc, "html"), encoding="utf-8")
    dom = rendered(page)
    svg = dom.one("section", id="timeline").one("svg", "timeline")
    [band] = svg.all("rect", "pause")
    assert float(band.attrs["width"]) > 0
    assert "Paused for payment" in dom.one("section", id="timeline").one("ul", "legend").text()
