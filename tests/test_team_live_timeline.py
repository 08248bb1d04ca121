"""The live floor's tiles open the call's live timeline (issue 25, item 5): clicking a tile, or Enter on a
focused one, opens the agent's call so far in the replay's own timeline widget, kept current as the floor's
views arrive (read under row-level security through the floor's feed), with the supervisor's messages on it,
and saying when the call ended or the connection was lost (and for how long). On the session's real
PostgreSQL server, with a real call through the pipeline and the real windows (offscreen)."""

from __future__ import annotations

import pytest

from companion.team.live_alerts import LiveTuning
from companion.team.live_publisher import LivePublisher
from companion.team.live_timeline import UNKNOWN_KIND, LiveCall, fresh
from tests import mood_scenarios
from tests.pg_server import pg_server  # noqa: F401  (the session's PostgreSQL server)
from tests.team_calls import TeamDb

MEMBERS = (("ann", "north", "agent"), ("sue", "north", "supervisor"), ("cat", "south", "agent"))
FAST = LiveTuning(publish_every_s=0.5, heartbeat_s=1.0, stale_after_s=30.0, reconnect_first_s=0.2, reconnect_max_s=1.0)


@pytest.fixture
def team(pg_server):  # noqa: F811
    t = TeamDb(pg_server, share_text=True, share_audio=False, members=MEMBERS)
    yield t
    t.close()


def floor_for(team: TeamDb, qtbot, tuning: LiveTuning):
    from ui.team.team_floor import FloorFeed, TeamFloor

    floor = TeamFloor()
    qtbot.addWidget(floor)
    feed = FloorFeed(team.dsn("sue"), tuning, team.passwords[team.name("sue")], floor)
    feed.views.connect(floor.update_views)
    feed.problem.connect(floor.show_problem)
    feed.start()
    floor.show()
    return floor, feed


def test_a_click_on_a_tile_opens_the_calls_live_timeline_in_the_replays_widget_kept_current_to_its_end(
        qtbot, team, make_call):
    from PySide6.QtCore import Qt

    from companion.config import load_config
    from companion.session import CallSession
    from companion.team.connection import connect
    from companion.team.live_watch import send_message
    from ui.review.replay_timeline import Timeline

    wav, _ = make_call(mood_scenarios.upset_soon())  # calm, then upset and a prompt at ~34.8 s of 45 s
    ann_name, cat_name = team.name("ann"), team.name("cat")
    floor, feed = floor_for(team, qtbot, FAST)
    ann = LivePublisher(team.dsn("ann"), FAST, password=team.passwords[ann_name])
    cat = LivePublisher(team.dsn("cat"), FAST, password=team.passwords[cat_name])  # another team's agent
    ann.start(), cat.start()
    session = CallSession(load_config(use_user_default=False))
    ann.attach(session)
    sue = connect(team.dsn("sue"), password=team.passwords[team.name("sue")])
    try:
        qtbot.waitUntil(lambda: ann.status is not None and ann.status.state == "connected", timeout=15000)
        session.start_demo(wav, speed=2.5)
        qtbot.waitUntil(lambda: floor.views.get(ann_name, {}).get("state") == "on_call", timeout=15000)
        with qtbot.waitSignal(floor.agent_opened):
            qtbot.mouseClick(floor.tiles[ann_name], Qt.LeftButton)
        view = floor.calls[ann_name]
        assert view.isVisible() and view.windowTitle() == f"Live call — {ann_name}"
        assert isinstance(view.timeline, Timeline)  # the replay's own widget
        assert view.status_text().startswith("On call · ")
        early = view.timeline.duration
        send_message(sue, ann_name, "I'm listening in")
        qtbot.waitUntil(lambda: any("Message from supervisor" in line for line in view.call.moments()), timeout=10000)
        assert [m["text"] for m in view.timeline.doc["call"]["supervisor_messages"]] == ["I'm listening in"]
        # the prompt and the customer turning upset, as they happen, on the timeline
        qtbot.waitUntil(lambda: "customer_upset" in [k for _, k in view.timeline.marker_positions()], timeout=40000)
        qtbot.waitUntil(lambda: "upset" in [s.state for s in view.timeline.mood_spans()], timeout=20000)
        assert view.timeline.duration > early and abs(view.timeline.position - view.call.call_s) < 1e-6
        assert any("Customer upset" in line for line in view.call.moments())
        assert "Mood: upset" in [e.label for e in view.timeline.legend_entries()]
        assert session.ended.wait(60)
        qtbot.waitUntil(lambda: view.status_text().startswith("Call ended at "), timeout=15000)
        assert "wrapping up" in view.status_text()
        # a call of the same length as the agent's, not of another call
        assert view.timeline.duration == pytest.approx(floor.views[ann_name]["call_s"], abs=1.5)
        assert cat_name not in floor.tiles and cat_name not in floor.calls  # another team's: never on sue's floor
        view.close()
        qtbot.waitUntil(lambda: ann_name not in floor.calls, timeout=5000)
    finally:
        sue.close()
        session.stop()
        ann.stop(), cat.stop()
        feed.stop()


def test_enter_on_a_focused_tile_opens_the_timeline_and_a_silent_agent_says_how_long_since_they_were_heard(
        qtbot, team):
    from PySide6.QtCore import Qt

    ann_name = team.name("ann")
    team.as_role("ann").execute(
        "INSERT INTO cc.live_state (state, call_started_at, call_s, prompt_times, last_prompt, last_prompt_kind, "
        "last_prompt_s, customer_mood, mood_since_s) VALUES ('on_call', now() - interval '12 seconds', 12, '{5, 9}', "
        "'Slow down', 'slow_down', 9, 'tense', 8)")
    stale = LiveTuning(publish_every_s=0.5, heartbeat_s=1.0, stale_after_s=2.0)
    floor, feed = floor_for(team, qtbot, stale)
    try:
        qtbot.waitUntil(lambda: ann_name in floor.tiles, timeout=15000)
        tile = floor.tiles[ann_name]
        assert tile.focusPolicy() == Qt.StrongFocus and ann_name in tile.accessibleName()
        floor.activateWindow()
        tile.setFocus()  # (Tab reaches it: a strong focus policy; the key goes to the tile either way)
        with qtbot.waitSignal(floor.agent_opened) as opened:
            qtbot.keyClick(tile, Qt.Key_Return)
        assert opened.args == [ann_name]
        view = floor.calls[ann_name]
        kinds = sorted(k for _, k in view.timeline.marker_positions())
        # the row's two recent prompts: the last one with its kind, the one before drawn as a prompt of unknown kind
        assert kinds == sorted(["slow_down", UNKNOWN_KIND])
        # then nothing more from ann: "connection lost", and for how long, on the tile and on the call
        qtbot.waitUntil(lambda: floor.views[ann_name]["state"] == "connection_lost", timeout=15000)
        qtbot.waitUntil(lambda: "last heard" in tile.state.text(), timeout=5000)
        first = tile.state.text()
        assert first.startswith("connection lost\nlast heard ") and first.endswith(" s ago")
        qtbot.waitUntil(lambda: tile.state.text() != first, timeout=5000)  # it counts on between reads
        qtbot.waitUntil(lambda: view.status_text().startswith("Connection lost — nothing heard from "), timeout=5000)
        assert view.status.text().startswith("Connection lost")
    finally:
        feed.stop()


def test_the_floors_own_lost_connection_is_said_on_an_open_calls_timeline(qtbot, tmp_path):
    from ui.team.team_floor import FloorFeed, TeamFloor

    floor = TeamFloor()
    qtbot.addWidget(floor)
    floor.update_views([{"event": "state", "agent": "ann", "team": "north", "state": "on_call",
                         "state_label": "on call", "call_s": 30.0, "call_started_at": "2026-12-06T08:00:00+00:00",
                         "prompt_times": [], "talkover_times": [], "alerts": []}])
    view = floor.open_call("ann")
    from ui.accessibility import nameless

    assert nameless(view) == [] and nameless(floor) == []  # a screen reader names every part of both
    nowhere = f"host={tmp_path} port=5999 dbname=callcompanion user=sue"  # a socket directory with no server in it
    feed = FloorFeed(nowhere, FAST, "x", floor)
    feed.problem.connect(floor.show_problem)
    feed.start()
    try:
        qtbot.waitUntil(lambda: floor.problem is not None, timeout=15000)
        assert view.status_text().startswith("Connection lost — the team server has not answered for ")
        assert "The timeline stops at 00:30." in view.status_text()
    finally:
        feed.stop()


def view(agent="ann", **kw):
    base = {"event": "state", "agent": agent, "state": "on_call", "call_started_at": "2026-12-06T08:00:00+00:00",
            "call_s": 0.0, "prompt_times": [], "talkover_times": [], "age_s": 0.2}
    return {**base, **kw}


def test_the_call_so_far_is_what_the_floor_saw_and_a_new_call_starts_afresh():
    call = LiveCall("ann")
    assert call.add(view(call_s=20.0, mood="calm", mood_since_s=6.0))
    call.add(view(call_s=31.0, prompt_times=[12.0, 30.5], last_prompt_kind="slow_down", last_prompt_s=30.5,
                  last_prompt_reason="190 words/min", mood="tense", mood_since_s=29.0, talkover_times=[25.0]))
    call.add(view(state="paused", call_s=40.0, prompt_times=[12.0, 30.5]))
    call.add(view(call_s=52.0, mood="upset", mood_since_s=50.0))
    assert call.add({"event": "message", "agent": "ann", "from": "sue", "text": "Offer the refund",
                     "at": "2026-12-06T08:00:45+00:00", "call_started_at": "2026-12-06T08:00:00+00:00"})
    assert not call.add({"event": "message", "agent": "ann", "from": "sue", "text": "before the call",
                         "at": "2026-12-06T07:59:00+00:00", "call_started_at": "2026-12-06T07:50:00+00:00"})
    doc = call.document()
    assert doc["duration_s"] == 52.0 and doc["turns"] == [] and doc["pace"] == []
    assert [(p["t"], p["kind"]) for p in doc["prompts"]] == [(12.0, UNKNOWN_KIND), (30.5, "slow_down")]
    assert [(s["t"], s["state"]) for s in doc["customer_states"]] == [(6.0, "calm"), (29.0, "tense"), (50.0, "upset")]
    assert doc["interruptions"] == [{"t": 25.0, "by": "agent", "overlap_s": 0.0}]
    assert doc["call"]["pauses"] == [{"start": 40.0, "end": 52.0}]
    assert doc["call"]["supervisor_messages"] == [{"t": 45.0, "sender": "sue", "text": "Offer the refund"}]
    assert call.status().startswith("On call · 00:52 · customer upset")
    assert call.moments()[-1] == "00:50  Customer upset"
    call.add(view(state="wrapping_up", call_s=60.0))
    assert call.status() == "Call ended at 01:00 — wrapping up."
    call.add(view(state="connection_lost", age_s=95.0))
    assert call.status() == "Connection lost — nothing heard from ann for 2 min; the timeline stops at 01:00."
    call.add(view(call_started_at="2026-12-06T08:05:00+00:00", call_s=3.0))  # the next call
    assert call.document()["prompts"] == [] and call.document()["customer_states"] == [] and call.call_s == 3.0
    assert (fresh(44.6), fresh(600), fresh(3 * 3600)) == ("45 s", "10 min", "3 h")
