"""A supervisor's message is kept with the call (issue 25, item 4): when it reaches the agent during a call it
goes on the call's bus as a MessageFromSupervisor, so the agent's window shows it from there and the store keeps
it with the call, redacted, at its call time; the replay, the HTML report and the exports show it there, apart
from the coaching prompts. One that comes between calls is shown and kept with no call."""

from __future__ import annotations

import json
import sqlite3
import time

import numpy as np
import pytest
import soundfile as sf

from companion.event_json import JsonlWriter
from companion.events import CallEnded, CallStarted, MessageFromSupervisor, Prompt
from companion.reports.export import export
from companion.store.calls import load_call
from companion.store.db import open_store
from companion.store.recorder import CallRecorder
from companion.team.live_alerts import LiveTuning
from companion.team.live_publisher import LivePublisher
from tests.pg_server import pg_server  # noqa: F401  (the session's PostgreSQL server)
from tests.team_calls import TeamDb

CARD = "4111 1111 1111 1111"
SAID = f"Read back {CARD} then offer the refund"
MEMBERS = (("ann", "north", "agent"), ("sue", "north", "supervisor"))
FAST = LiveTuning(publish_every_s=0.5, heartbeat_s=1.0, stale_after_s=30.0, reconnect_first_s=0.2, reconnect_max_s=1.0)


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_a_message_on_the_calls_bus_is_stored_redacted_at_its_time_and_shown_apart_from_prompts_everywhere(tmp_path):
    events = tmp_path / "events.jsonl"
    writer = JsonlWriter(str(events))
    recorder = CallRecorder("live")
    for event in (CallStarted(time.time()), Prompt(5.0, "slow_down", "190 words/min"),
                  MessageFromSupervisor(12.5, "sue", SAID, 7), CallEnded(30.0, 0)):
        recorder(event)
        writer(event)
    recorder.close()
    writer.close()
    assert recorder.complete and recorder.failed is None

    doc = load_call(open_store(), recorder.call_id)
    (kept,) = doc["call"]["supervisor_messages"]
    assert kept["t"] == 12.5 and kept["sender"] == "sue"
    assert CARD not in kept["text"] and "4111" not in kept["text"] and kept["text"].endswith("then offer the refund")
    assert [p["kind"] for p in doc["prompts"]] == ["slow_down"]  # not a coaching prompt

    lines = [json.loads(line) for line in events.read_text().splitlines()]
    (line,) = [x for x in lines if x["type"] == "supervisor_message"]
    assert (line["t"], line["from"], line["message_id"]) == (12.5, "sue", 7) and "4111" not in line["text"]

    as_json = json.loads(export(doc, "json"))
    assert as_json["call"]["supervisor_messages"] == [kept]
    assert f"12.5,supervisor_message,sue,{kept['text']}" in export(doc, "csv")
    assert f"(message from supervisor sue: {kept['text']})" in export(doc, "txt")
    from companion.app.calls_cli import call_lines
    shown = call_lines(doc)   # `companion calls show`
    assert shown[shown.index("Messages from a supervisor (1)") + 1] == f"  00:12  sue: {kept['text']}"
    html = export(doc, "html")
    row = html[html.index('<tr class="supervisor-message">'):]
    row = row[:row.index("</tr>")]
    assert "00:12" in row and "Supervisor sue" in row and "then offer the refund" in row and "4111" not in html
    assert html.index('<tr class="prompt"') < html.index('<tr class="supervisor-message">')  # in time order
    flag = html[html.index('<g class="supervisor-message">'):]   # and flagged on the report's timeline, at 00:12
    flag = flag[:flag.index("</g>")]
    assert "<title>00:12 Message from supervisor sue:" in flag and "4111" not in flag
    assert "Supervisor&#x27;s message" in html or "Supervisor's message" in html   # in its legend

    from ui.review.replay_window import MESSAGE_COLOUR, moments

    shown = [m for m in moments(doc) if m["colour"] == MESSAGE_COLOUR]
    assert [(m["t"], m["prompt"]) for m in shown] == [(12.5, None)]  # at its time; a click seeks there
    assert shown[0]["text"] == f"00:12  Message from supervisor sue: {kept['text']}"


def test_the_replay_timeline_flags_a_supervisors_message_at_its_time_apart_from_the_prompts(qtbot):
    from ui.review.replay_timeline import MESSAGE_COLOUR, Timeline

    doc = {"file": "call", "duration_s": 30.0, "turns": [{"party": "agent", "start": 1.0, "end": 20.0}],
           "interruptions": [], "prompts": [{"t": 5.0, "kind": "slow_down", "reason": "190 words/min"}],
           "pace": [], "customer_states": [],
           "call": {"segments": [], "pauses": [], "volume": [], "comments": [],
                    "supervisor_messages": [{"t": 12.5, "sender": "sue", "text": "offer the refund"}]}}
    timeline = Timeline(doc)
    qtbot.addWidget(timeline)
    timeline.resize(900, timeline.height_for(900))
    [(x, sender)] = timeline.message_positions()
    assert sender == "sue" and x == timeline.x(12.5) and [k for _, k in timeline.marker_positions()] == ["slow_down"]
    assert "Supervisor's message" in [e.label for e in timeline.legend_entries()]
    image = timeline.grab().toImage()
    drawn = {image.pixelColor(int(x) + dx, timeline.LANES["agent"] + dy).name() for dx in (0, 1, 2) for dy in (-2, 0, 2)}
    assert MESSAGE_COLOUR in drawn   # the flag over the lanes, in the banner's colour


def test_a_store_from_before_messages_opens_and_keeps_them_as_typed_when_its_redaction_is_off(tmp_path):
    from companion.store.schema import MIGRATIONS, _statements

    path = tmp_path / "data" / "calls.sqlite3"
    path.parent.mkdir(parents=True)
    old = sqlite3.connect(path)
    for step in MIGRATIONS[:8]:  # version 8: the store as it was before supervisors' messages
        if callable(step):
            step(old)
        else:
            for statement in _statements(step):
                old.execute(statement)
    old.execute("PRAGMA user_version = 8")
    old.commit()
    old.close()
    recorder = CallRecorder("live", redaction=False)  # the user turned redaction off for their own store
    for event in (CallStarted(time.time()), MessageFromSupervisor(3.0, "sue", SAID), CallEnded(10.0, 0)):
        recorder(event)
    recorder.close()
    assert recorder.complete and recorder.failed is None
    assert load_call(open_store(), recorder.call_id)["call"]["supervisor_messages"] == [
        {"t": 3.0, "sender": "sue", "text": SAID}]


@pytest.fixture
def team(pg_server):  # noqa: F811
    t = TeamDb(pg_server, share_text=True, share_audio=False, members=MEMBERS)
    yield t
    t.close()


def quiet_call(path, seconds: float = 20.0, rate: int = 16000):
    """A two-channel recording with nothing said on it (the pipeline runs it as a call, fast to make)."""
    noise = np.random.default_rng(3).normal(0.0, 0.001, (int(seconds * rate), 2)).astype(np.float32)
    sf.write(str(path), noise, rate)
    return path


def test_in_the_window_a_message_during_a_call_is_its_banner_from_the_calls_bus_and_is_kept_with_the_call(
        qtbot, team, tmp_path):
    from companion.config import load_config
    from companion.session import CallSession
    from companion.team.connection import connect
    from companion.team.live_watch import send_message
    from ui.call.team_live_agent import TeamLiveAgent

    pub = LivePublisher(team.dsn("ann"), FAST, password=team.passwords[team.name("ann")])
    pub.start()
    live = TeamLiveAgent(publisher=pub)
    qtbot.addWidget(live.banner)
    qtbot.addWidget(live.button)
    on_bus: list[MessageFromSupervisor] = []
    session = CallSession(load_config(use_user_default=False))
    session.bus.subscribe(lambda e: on_bus.append(e) if isinstance(e, MessageFromSupervisor) else None)
    recorder = session.keep("live")
    live.follow(session)
    sue = connect(team.dsn("sue"), password=team.passwords[team.name("sue")])
    try:
        qtbot.waitUntil(lambda: pub.status is not None and pub.status.state == "connected", timeout=15000)
        session.start_demo(quiet_call(tmp_path / "quiet.wav"), speed=1.0)
        qtbot.waitUntil(lambda: pub.tracker.snapshot().state == "on_call" and session.now() > 1.0, timeout=10000)
        send_message(sue, team.name("ann"), SAID)
        qtbot.waitUntil(lambda: live.banner.messages != [], timeout=10000)
        assert [type(m) for m in live.banner.messages] == [MessageFromSupervisor]  # it came on the call's bus
        assert len(on_bus) == 1 and live.banner.text.text() == SAID  # the agent reads it as typed
        assert live.banner.title.text().startswith(f"From your supervisor {team.name('sue')}")
        t = on_bus[0].t
        assert 1.0 <= t <= session.now() + 0.005   # its call time, to the hundredth of a second it is kept at
        session.stop()
        assert session.ended.wait(30)
        kept = load_call(open_store(), recorder.call_id)["call"]["supervisor_messages"]
        assert [(m["t"], m["sender"]) for m in kept] == [(t, team.name("sue"))]
        assert "4111" not in kept[0]["text"] and kept[0]["text"].endswith("offer the refund")

        # between calls: shown all the same, and kept with no call
        qtbot.waitUntil(lambda: pub.tracker.snapshot().state == "wrapping_up", timeout=10000)
        send_message(sue, team.name("ann"), "Well done")
        qtbot.waitUntil(lambda: len(live.banner.messages) == 2, timeout=10000)
        assert live.banner.text.text() == "Well done" and len(on_bus) == 1
        assert [m["text"] for m in load_call(open_store(), recorder.call_id)["call"]["supervisor_messages"]] == [
            kept[0]["text"]]
    finally:
        sue.close()
        session.stop()
        live.stop()
