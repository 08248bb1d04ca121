"""The customer's mood goes wherever a saved call goes: the store (each change, the call's worst mood
and time upset, the listing and its filter, deletion), the exports, the bundle to another machine
(checked strictly), the HTML report's band and card, and the replay window's row.

The call is synthetic with a known truth: about 50 s of calm customer speech (their baseline), then
three raised turns (louder, higher, faster), then calm again; the detector marks them upset."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from companion.events import CUSTOMER_STATES, CallEnded, CustomerState, Turn
from companion.report import mood_summary, state_spans
from companion.timeline import MOOD_COLOURS, MOOD_LABELS, MOOD_UNKNOWN_COLOUR, clock
from tests import mood_scenarios as ms
from tests.callgen import Say, Script
from tests.installed import OUTSIDE
from tests.scenarios import AGENT_LINES, CUSTOMER_LINES

CALM = dict(wpm=160, tag="calm")
AGENT = dict(wpm=145)
RAISED = dict(wpm=210, gain_db=9.0, semitones=4.0, tag="upset")  # raised: louder, faster and higher
COMPLAINTS = [ms.COMPLAINTS[i] for i in (3, 0, 6, 13, 8, 15)]  # the venting of mood_scenarios.grows_upset
SETTLED = [
    "Okay, that sounds reasonable, thank you for explaining it properly.",
    "Yes, the email address on the account is still the right one.",
    "Alright, so I should hear from you by Friday at the latest, is that right?",
    "And if the first parcel turns up in the meantime, should I just send it back?",
    "Fine, I will keep an eye out for your email then, thanks again.",
]
SHORT = ["I understand, and I am sorry.", "I hear you, that should not have happened.",
         "That is fair, and I will make sure it is sorted today."]


def gets_upset() -> Script:
    s = [Say("agent", AGENT_LINES[0], at=0.5, **AGENT),
         Say("customer", CUSTOMER_LINES[0] + " " + CUSTOMER_LINES[1], gap=0.4, **CALM),
         Say("agent", AGENT_LINES[1], gap=0.6, **AGENT),
         Say("customer", CUSTOMER_LINES[2] + " " + SETTLED[1], gap=0.4, **CALM),
         Say("agent", AGENT_LINES[2], gap=0.5, **AGENT),
         Say("customer", CUSTOMER_LINES[4], gap=0.4, **CALM),
         Say("agent", AGENT_LINES[3], gap=0.5, **AGENT)]
    for n in range(3):
        s.append(Say("customer", COMPLAINTS[2 * n] + " " + COMPLAINTS[2 * n + 1], gap=0.3 if n else 0.4, **RAISED))
        s.append(Say("agent", SHORT[n], gap=0.5, **AGENT))
    s.append(Say("customer", SETTLED[0], gap=0.5, **CALM))
    for n, line in enumerate([AGENT_LINES[7], AGENT_LINES[8], AGENT_LINES[9]]):
        s.append(Say("agent", line, gap=0.5, **AGENT))
        s.append(Say("customer", SETTLED[2 + n], gap=0.4, **CALM))
    return Script("mood_saved_gets_upset", s, customer_voice="en-us+f3")


def companion(*args, data: Path):
    env = dict(os.environ, COMPANION_DATA_DIR=str(data))
    return subprocess.run([sys.executable, "-m", "ui", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=OUTSIDE, timeout=300)


@pytest.fixture(scope="module")
def upset_call(make_call, tmp_path_factory):
    """The call analysed and saved by the installed app (`analyze --save --json`) in a store of its own:
    (its data folder, its id, what the analysis found, its saved duration)."""
    data = tmp_path_factory.mktemp("mood") / "data"
    wav, truth = make_call(gets_upset())
    run = companion("analyze", wav, "--model", "none", "--save", "--json", data=data)
    assert run.returncode == 0, run.stderr
    analysed = json.loads(run.stdout)
    states = [s["state"] for s in analysed["customer_states"]]
    raised = [u for u in truth.utterances if u.tag == "upset"]
    assert states[0] == "calm" and "upset" in states, analysed["customer_states"]
    first_upset = next(s["t"] for s in analysed["customer_states"] if s["state"] == "upset")
    assert raised[0].start <= first_upset <= raised[-1].end  # the detector found it during the raised turns
    call_id = json.loads(companion("calls", "list", "--json", data=data).stdout)[0]["id"]
    duration = json.loads(companion("calls", "show", call_id, "--json", data=data).stdout)["duration_s"]  # the saved call's length
    assert duration == pytest.approx(analysed["duration_s"], abs=0.05)
    return data, call_id, analysed, duration


@pytest.fixture
def store(upset_call, monkeypatch):
    """The upset call's store, opened in this test (which uses that data folder)."""
    from companion.store.db import open_store

    monkeypatch.setenv("COMPANION_DATA_DIR", str(upset_call[0]))
    db = open_store()
    yield db
    db.close()


def upset_seconds(states: list[dict], duration: float) -> float:
    return sum(b - a for a, b, s in state_spans(states, duration) if s == "upset")


# --- the store ------------------------------------------------------------------------------------
def test_the_stored_states_are_the_ones_the_analysis_found(upset_call, store):
    from companion.store.calls import list_calls, load_call

    _, call_id, analysed, duration = upset_call
    doc = load_call(store, call_id)
    assert doc["customer_states"] == analysed["customer_states"]
    rows = store.execute("SELECT t, state FROM customer_states WHERE call_id = ? ORDER BY t", (call_id,)).fetchall()
    assert [{"t": r["t"], "state": r["state"]} for r in rows] == analysed["customer_states"]
    [listed] = [c for c in list_calls(store) if c["id"] == call_id]
    assert listed["customer_mood"] == "upset"
    assert listed["upset_s"] == pytest.approx(upset_seconds(analysed["customer_states"], duration), abs=0.02)
    assert listed["upset_s"] > 5


def test_a_live_call_stores_each_mood_change_the_bus_carried(make_call, monkeypatch, tmp_path):
    """The window's path: a CallSession keeps the call (CallRecorder on its bus) as it is played."""
    from companion.config import load_config
    from companion.session import CallSession
    from companion.store.calls import list_calls, load_call
    from companion.store.db import open_store

    wav, _ = make_call(gets_upset())
    session = CallSession(load_config(use_user_default=False))
    heard: list[CustomerState] = []
    session.bus.subscribe(lambda e: heard.append(e) if isinstance(e, CustomerState) else None)
    recorder = session.keep("demo")
    session.start_demo(wav, speed=20.0)
    assert session.ended.wait(60)
    db = open_store()
    doc = load_call(db, recorder.call_id)
    assert doc["customer_states"] == [{"t": e.t, "state": e.state} for e in heard]
    assert [s["state"] for s in doc["customer_states"]][0] == "calm" and "upset" in [e.state for e in heard]
    assert list_calls(db)[0]["customer_mood"] == "upset"


def _synthetic_call(*events) -> int:
    """A call written through the recorder from hand-made events."""
    from companion.store.recorder import CallRecorder

    recorder = CallRecorder("live")
    for event in events:
        recorder(event)
    recorder.close()
    return recorder.call_id


def test_the_listing_shows_the_mood_and_filters_calls_with_an_upset_customer(upset_call, store):
    from companion.store.calls import list_calls, search

    data, upset_id, analysed, duration = upset_call
    calm_id = _synthetic_call(Turn("customer", 1.0, 9.0), CustomerState(6.0, "calm"), CustomerState(12.0, "tense"),
                              CustomerState(15.0, "calm"), CallEnded(30.0, 0))
    unread_id = _synthetic_call(Turn("agent", 0.5, 3.0), CallEnded(4.0, 0))  # the customer never spoke
    listed = {c["id"]: c for c in json.loads(companion("calls", "list", "--json", data=data).stdout)}
    assert listed == {c["id"]: c for c in list_calls(store)}
    assert (listed[calm_id]["customer_mood"], listed[calm_id]["upset_s"]) == ("tense", 0.0)
    assert (listed[unread_id]["customer_mood"], listed[unread_id]["upset_s"]) == (None, None)
    upset = [c["id"] for c in json.loads(companion("calls", "list", "--json", "--upset", data=data).stdout)]
    assert upset == [i for i, c in listed.items() if c["customer_mood"] == "upset"] == [upset_id]
    assert search(store, upset=True) == [upset_id] and {calm_id, unread_id} <= set(search(store, upset=False))
    assert upset_id not in search(store, upset=False)
    assert search(store, kind="customer_upset", upset=True) == [upset_id]
    lines = {int(line.split()[0]): line for line in companion("calls", "list", data=data).stdout.splitlines()[1:]}  # under the header
    upset_for = clock(upset_seconds(analysed["customer_states"], duration))
    assert f"customer upset {upset_for}" in lines[upset_id]
    assert "customer tense" in lines[calm_id] and " — " in lines[unread_id]


def test_an_interrupted_call_counts_its_upset_time_to_where_it_was_cut_off():
    from companion.store.calls import list_calls
    from companion.store.db import open_store

    cut = _synthetic_call(Turn("customer", 1.0, 40.0), CustomerState(5.0, "calm"), CustomerState(20.0, "upset"),
                          Turn("customer", 41.0, 50.0))  # no CallEnded: the app died
    [row] = [c for c in list_calls(open_store()) if c["id"] == cut]  # reopening closes it as interrupted
    assert row["status"] == "interrupted" and row["customer_mood"] == "upset" and row["upset_s"] == pytest.approx(30.0)


def test_deleting_a_call_deletes_its_states():
    from companion.store.db import open_store

    call_id = _synthetic_call(CustomerState(3.0, "calm"), CustomerState(9.0, "upset"), CallEnded(20.0, 0))
    db = open_store()
    assert db.execute("SELECT COUNT(*) FROM customer_states WHERE call_id = ?", (call_id,)).fetchone()[0] == 2
    assert companion("calls", "delete", call_id, data=Path(os.environ["COMPANION_DATA_DIR"])).returncode == 0
    assert db.execute("SELECT COUNT(*) FROM customer_states").fetchone()[0] == 0


@pytest.mark.parametrize("state, t", [("furious", 3.0), ("calm", float("nan")), ("calm", -1.0), ("calm", "3"), (None, 1.0)])
def test_the_write_path_refuses_a_state_it_does_not_know(state, t):
    from companion.store.db import open_store
    from companion.store.rows import CallRows, RowError, insert_call

    db = open_store()
    rows = CallRows(db, insert_call(db, "2026-01-02T10:00:00+00:00", "live", None))
    with pytest.raises(RowError):
        rows.customer_state(t, state)
    db.rollback()


# --- exports --------------------------------------------------------------------------------------
def test_the_exports_carry_the_states(upset_call):
    data, call_id, analysed, duration = upset_call
    doc = json.loads(companion("calls", "export", call_id, "--format", "json", data=data).stdout)
    assert doc["customer_states"] == analysed["customer_states"]
    rows = list(csv.reader(io.StringIO(companion("calls", "export", call_id, "--format", "csv", data=data).stdout)))
    assert [(float(r[0]), r[2]) for r in rows[1:] if r[1] == "customer_state"] == \
        [(s["t"], s["state"]) for s in analysed["customer_states"]]
    assert [float(r[0]) for r in rows[1:]] == sorted(float(r[0]) for r in rows[1:])
    txt = companion("calls", "export", call_id, "--format", "txt", data=data).stdout
    assert f"Customer mood: {mood_summary(analysed['customer_states'], duration)}" in txt.splitlines()[:3]


# --- bundles --------------------------------------------------------------------------------------
@pytest.fixture
def shared(upset_call, tmp_path) -> tuple[Path, dict]:
    """The upset call as a bundle, and its call.json."""
    data, call_id, _, _ = upset_call
    path = tmp_path / "upset.ccall"
    run = companion("calls", "export", call_id, "--format", "bundle", "-o", path, data=data)
    assert run.returncode == 0, run.stderr
    with zipfile.ZipFile(path) as zf:
        return path, json.loads(zf.read("call.json"))


def test_a_bundle_carries_the_states_to_another_machine(shared, upset_call, tmp_path, monkeypatch):
    from companion.store.bundle import import_bundle
    from companion.store.bundle_check import FORMAT_VERSION
    from companion.store.calls import list_calls, load_call
    from companion.store.db import open_store

    path, doc = shared
    _, _, analysed, duration = upset_call
    assert doc["format"]["version"] == FORMAT_VERSION == 2 and doc["customer_states"] == analysed["customer_states"]
    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "supervisor"))
    db = open_store()
    new_id = import_bundle(db, path)
    assert load_call(db, new_id)["customer_states"] == analysed["customer_states"]
    [row] = list_calls(db)
    assert row["customer_mood"] == "upset"
    assert row["upset_s"] == pytest.approx(upset_seconds(analysed["customer_states"], duration), abs=0.02)


def test_a_bundle_from_before_the_mood_opens_without_it(shared, tmp_path, monkeypatch):
    from companion.store.bundle import import_bundle
    from companion.store.calls import list_calls, load_call
    from companion.store.db import open_store
    from tests.test_bundles import bundle

    _, doc = shared
    older = {k: v for k, v in doc.items() if k != "customer_states"}
    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "supervisor"))
    db = open_store()
    new_id = import_bundle(db, bundle(tmp_path / "older.ccall", older))
    assert load_call(db, new_id)["customer_states"] == [] and list_calls(db)[0]["customer_mood"] is None


def _states(change):
    def apply(doc):
        doc["customer_states"] = change(doc)
    return apply


@pytest.mark.parametrize("name, change, says", [
    ("unknown state", _states(lambda d: d["customer_states"] + [{"t": 30.0, "state": "furious"}]),
     "customer_states[].state must be one of calm, tense, upset"),
    ("state not text", _states(lambda d: [{"t": 30.0, "state": 2}]), "customer_states[].state must be text"),
    ("missing state", _states(lambda d: [{"t": 30.0}]), "customer_states[].state must be text"),
    ("NaN time", _states(lambda d: [{"t": float("nan"), "state": "calm"}]), "customer_states[].t must be a number"),
    ("infinite time", _states(lambda d: [{"t": float("inf"), "state": "calm"}]), "customer_states[].t must be a number"),
    ("negative time", _states(lambda d: [{"t": -1, "state": "calm"}]), "customer_states[].t must be a number"),
    ("time as text", _states(lambda d: [{"t": "12", "state": "calm"}]), "customer_states[].t must be a number"),
    ("time as a boolean", _states(lambda d: [{"t": True, "state": "calm"}]), "customer_states[].t must be a number"),
    ("after the call", _states(lambda d: [{"t": d["duration_s"] + 0.01, "state": "upset"}]),
     "customer_states[].t must be a number from 0 to"),
    ("out of order", _states(lambda d: list(reversed(d["customer_states"]))), "customer_states must be in time order"),
    ("not a list", _states(lambda d: {"t": 1, "state": "calm"}), "customer_states must be a list"),
    ("not objects", _states(lambda d: ["calm"]), "customer_states must be a list of objects"),
])
def test_a_bundle_with_bad_states_is_refused_and_nothing_is_stored(shared, tmp_path, monkeypatch, name, change, says):
    from companion.store.bundle import import_bundle
    from companion.store.bundle_check import BundleError
    from companion.store.db import open_store
    from tests.test_bundles import bundle, changed

    _, doc = shared
    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "supervisor"))
    db = open_store()
    path = bundle(tmp_path / "bad.ccall", changed(doc, change))
    with pytest.raises(BundleError) as refused:
        import_bundle(db, path)
    assert says in refused.value.message and refused.value.message.startswith("bad.ccall ")
    assert db.execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM customer_states").fetchone()[0] == 0


# --- the HTML report ------------------------------------------------------------------------------
def _x(t: float, duration: float) -> float:
    from companion.reports.report_timeline import LEFT, RIGHT, WIDTH

    return LEFT + (WIDTH - RIGHT - LEFT) * min(max(t, 0.0), duration) / duration


def test_the_report_has_the_mood_band_its_legend_and_a_card(upset_call, tmp_path):
    from companion.prompt_kinds import prompt_kind
    from tests.test_html_report import rendered

    data, call_id, analysed, duration = upset_call
    page = tmp_path / "report.html"
    assert companion("calls", "export", call_id, "--format", "html", "-o", page, data=data).returncode == 0
    dom = rendered(page)
    timeline = dom.one("section", id="timeline")
    svg = timeline.one("svg", "timeline")
    assert [t.text() for t in svg.all("text", "band-name")] == ["Customer mood"]
    states = analysed["customer_states"]
    spans = svg.all("g", "mood-span")
    expected = [(0.0, states[0]["t"], "unknown")] + state_spans(states, duration)
    assert [g.attrs["data-state"] for g in spans] == [s for _, _, s in expected]
    for g, (start, end, state) in zip(spans, expected):
        rect = g.one("rect")
        assert rect.attrs["fill"] == MOOD_COLOURS.get(state, MOOD_UNKNOWN_COLOUR)
        assert float(rect.attrs["x"]) == pytest.approx(_x(start, duration), abs=0.1)
        assert float(rect.attrs["width"]) == pytest.approx(max(_x(end, duration) - _x(start, duration), 1.0), abs=0.2)
        assert clock(start) in g.one("title").text()
    upset = [g for g in spans if g.attrs["data-state"] == "upset"]
    assert upset and all(g.one("text", "mood-label").text() == MOOD_LABELS["upset"] for g in upset)  # wide enough to name
    lane_bottom = max(float(r.attrs["y"]) + float(r.attrs["height"]) for r in svg.all("rect", "customer"))
    assert float(spans[0].one("rect").attrs["y"]) >= lane_bottom  # under the customer's lane
    legend = timeline.one("ul", "legend")
    for state in CUSTOMER_STATES:
        assert legend.one("li", data_state=state).text() == f"Mood: {MOOD_LABELS[state].lower()}"
    assert legend.one("li", data_state="unknown").text() == "Mood not read yet"
    kinds = [m.attrs["data-kind"] for m in svg.all("g", "prompt-marker")]
    assert "customer_upset" in kinds and legend.one("li", data_kind="customer_upset").text() == prompt_kind("customer_upset").label
    cards = {c.one("div", "card-title").text(): c for c in dom.one("section", id="cards").all("div", "card")}
    card = cards["Customer mood"]
    assert card.one("div", "value").text() == "Upset" and "mood-upset" in card.attrs["class"]
    assert card.one("div", "detail").text() == mood_summary(states, duration)
    assert MOOD_COLOURS["upset"] in card.attrs["style"]


def test_a_call_whose_mood_was_never_read_shows_a_grey_band_and_says_so(tmp_path):
    from companion.reports.export import export
    from companion.store.calls import load_call
    from companion.store.db import open_store
    from tests.test_html_report import rendered

    call_id = _synthetic_call(Turn("agent", 0.5, 3.0), CallEnded(4.0, 0))
    page = tmp_path / "unread.html"
    page.write_text(export(load_call(open_store(), call_id), "html"), encoding="utf-8")
    dom = rendered(page)
    [span] = dom.one("svg", "timeline").all("g", "mood-span")
    assert span.attrs["data-state"] == "unknown" and span.one("rect").attrs["fill"] == MOOD_UNKNOWN_COLOUR
    card = [c for c in dom.one("section", id="cards").all("div", "card") if c.one("div", "card-title").text() == "Customer mood"]
    assert card[0].one("div", "value").text() == "—" and card[0].one("div", "detail").text() == mood_summary([], 4.0)


# --- the replay window ----------------------------------------------------------------------------
def test_the_replay_paints_the_mood_row_and_the_upset_prompt(qtbot, upset_call, store):
    from companion.reports.report_mood import BAND_NAME
    from ui.review.replay_window import ReplayWindow

    _, call_id, analysed, duration = upset_call
    window = ReplayWindow.from_store(store, call_id)
    qtbot.addWidget(window)
    window.resize(1100, 760)
    window.show()
    qtbot.waitExposed(window)
    timeline = window.timeline
    states = analysed["customer_states"]
    expected = [(0.0, states[0]["t"], None)] + state_spans(states, duration)
    spans = timeline.mood_spans()
    assert [(s.start, s.end, s.state) for s in spans] == [(a, pytest.approx(b, abs=0.01), s) for a, b, s in expected]
    image = timeline.grab().toImage()
    ratio = image.width() / timeline.width()
    stems = [mx for mx, _ in timeline.marker_positions()] + [timeline.x(window.position)]
    for span in spans:
        assert span.rect.top() >= timeline.LANES["customer"] + timeline.LANE_HEIGHT  # under the customer's lane
        assert span.rect.left() == pytest.approx(timeline.x(span.start))
        assert span.colour == MOOD_COLOURS.get(span.state, MOOD_UNKNOWN_COLOUR)
        # a pixel inside, clear of its name (near its right end, at its top) and of the prompt stems
        x = next(x for x in range(int(span.rect.right()) - 3, int(span.rect.left()), -1) if all(abs(x - m) > 3 for m in stems))
        pixel = image.pixelColor(int(x * ratio), int((span.rect.top() + 1) * ratio)).name()
        assert pixel == span.colour, (span, pixel)
    upset = [s for s in spans if s.state == "upset"]
    assert upset and all(s.text == MOOD_LABELS["upset"] for s in upset)
    legend = {e.label: e.colour for e in timeline.legend_entries()}
    assert legend["Mood: upset"] == MOOD_COLOURS["upset"] and legend["Mood: calm"] == MOOD_COLOURS["calm"]
    assert [label for _, _, label in timeline.legend_layout()] == list(legend)  # none elided at this width
    assert BAND_NAME == "Customer mood"
    kinds = [kind for _, kind in timeline.marker_positions()]
    assert "customer_upset" in kinds
    window.go_to_prompt(kinds.index("customer_upset"))
    assert window.banner.kind == "customer_upset" and window.mood_now.text() == "Customer mood: upset"
    window.seek(0.0)
    assert window.mood_now.text() == "Customer mood: not read yet"
    window.seek(duration)
    assert window.mood_now.text() == f"Customer mood: {states[-1]['state']}"


def test_the_replay_row_name_fits_its_gutter(qtbot):
    from ui.review.replay_timeline import Timeline

    doc = {"duration_s": 60.0, "prompts": [], "turns": [], "interruptions": [], "pace": [],
           "customer_states": [{"t": 10.0, "state": "calm"}, {"t": 30.0, "state": "upset"}],
           "call": {"comments": [], "segments": []}}
    timeline = Timeline(doc)
    qtbot.addWidget(timeline)
    timeline.resize(800, timeline.minimumHeight())
    assert timeline.fontMetrics().horizontalAdvance("Customer mood") <= timeline.LEFT - 8
    assert [s.state for s in timeline.mood_spans()] == [None, "calm", "upset"]
    assert math.isclose(timeline.mood_spans()[-1].rect.right(), timeline.x(60.0), abs_tol=0.5)


def test_history_shows_the_customers_mood_and_filters_to_upset_customers(qtbot, upset_call, store):
    from ui.review.history_window import HistoryWindow

    data, upset_id, analysed, duration = upset_call
    history = HistoryWindow()  # the store's (`store` set its data folder)
    qtbot.addWidget(history)
    qtbot.waitUntil(lambda: not history.searching, timeout=20000)  # History searches off the GUI thread
    assert upset_id in history.shown_ids
    row = history.shown_ids.index(upset_id)
    headers = [history.table.horizontalHeaderItem(c).text() for c in range(history.table.columnCount())]
    mood = history.table.item(row, headers.index("Customer")).text()
    assert mood == f"Upset {clock(upset_seconds(analysed['customer_states'], duration))}"
    with qtbot.waitSignal(history.searched, timeout=20000):
        history.upset.setChecked(True)
    assert history.shown_ids == [upset_id]  # calls whose customer was never upset are left out


def test_a_call_switched_to_the_angry_customer_steps_is_saved_with_that_playbook(make_call):
    from companion.config import load_config
    from companion.playbooks import find_playbook
    from companion.session import CallSession
    from companion.store.calls import load_call
    from companion.store.db import open_store

    wav, _ = make_call(gets_upset())
    unhappy, angry = find_playbook("unhappy-customer"), find_playbook("angry-customer")
    session = CallSession(load_config(use_user_default=False), unhappy)
    switched = []
    session.bus.subscribe(lambda e: switched.append(session.switch_playbook(angry))
                          if isinstance(e, CustomerState) and e.state == "upset" and not switched else None)
    recorder = session.keep("live", playbook=unhappy.id)
    session.start_demo(wav, speed=20.0)
    assert session.ended.wait(60)
    recorder.close()
    assert switched  # the agent clicked the offer when the customer got upset
    assert load_call(open_store(), recorder.call_id)["call"]["playbook"] == angry.id
