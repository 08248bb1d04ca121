"""The team live in the windows (offscreen), on the session's real PostgreSQL server: the supervisor's
floor view shows their agents' live rows (alerts first, the mood as a colour with its word, a team
filter) and nothing of a team that is not theirs; in the agent's window a supervisor's message is a
banner of its own and the raise-hand button reaches the supervisor."""

from __future__ import annotations

import time

import pytest

from companion.team import server_admin as admin
from companion.team.connection import connect
from companion.team.live_alerts import LiveTuning
from companion.team.live_publisher import LivePublisher
from companion.team.live_watch import LiveFloor, send_message
from companion.timeline import MOOD_COLOURS
from tests.pg_server import pg_server  # noqa: F401  (the session's PostgreSQL server)
from tests.team_calls import TeamDb

MEMBERS = (("ann", "north", "agent"), ("bob", "north", "agent"), ("sue", "north", "supervisor"),
           ("cat", "south", "agent"), ("dan", "west", "agent"))
FAST = LiveTuning(publish_every_s=0.5, heartbeat_s=1.0, stale_after_s=30.0, reconnect_first_s=0.2, reconnect_max_s=1.0)


@pytest.fixture
def team(pg_server):  # noqa: F811
    t = TeamDb(pg_server, share_text=True, share_audio=False, members=MEMBERS)
    admin.add_member(t.su, t.name("sue"), "south", "supervisor", password=t.passwords[t.name("sue")])
    yield t
    t.close()


def write(team: TeamDb, base: str, sql: str, *args) -> None:
    team.as_role(base).execute(sql, args)


def test_the_floor_shows_the_supervisors_agents_alerts_first_with_the_moods_word_and_a_team_filter(qtbot, team):
    from ui.team.team_floor import ALL_TEAMS, TeamFloor

    write(team, "ann", "INSERT INTO cc.live_state (state, call_s, customer_mood, mood_since_s, last_prompt, "
                       "last_prompt_kind) VALUES ('on_call', 95, 'upset', 60, 'Let them finish', 'customer_upset')")
    write(team, "bob", "INSERT INTO cc.live_state (state, call_s, customer_mood, mood_since_s) "
                       "VALUES ('on_call', 40, 'calm', 10)")
    write(team, "cat", "INSERT INTO cc.live_state (state) VALUES ('idle')")
    write(team, "dan", "INSERT INTO cc.live_state (state, call_s, customer_mood, mood_since_s) "
                       "VALUES ('on_call', 300, 'upset', 10)")  # another team's: never on sue's floor
    sue = LiveFloor(team.dsn("sue"), FAST, password=team.passwords[team.name("sue")])
    try:
        views = sue.open()
    finally:
        sue.close()
    floor = TeamFloor()
    qtbot.addWidget(floor)
    floor.show()
    floor.update_views(views)
    shown = [v["agent"] for v in floor.shown()]
    assert shown == [team.name("ann"), team.name("bob"), team.name("cat")]  # alerts first, then on a call
    ann_tile = floor.tiles[team.name("ann")]
    assert ann_tile.mood.text() == "Upset" and MOOD_COLOURS["upset"] in ann_tile.mood.styleSheet()
    assert "CUSTOMER UPSET" in ann_tile.alert.text() and "Let them finish" in ann_tile.prompt.text()
    assert "on call  01:35" in ann_tile.state.text()
    assert floor.tiles[team.name("bob")].mood.text() == "Calm" and floor.tiles[team.name("bob")].alert.text() == ""
    assert team.name("dan") not in floor.tiles
    floor.team.setCurrentText("south")
    assert [v["agent"] for v in floor.shown()] == [team.name("cat")]
    assert not floor.tiles[team.name("ann")].isVisible() and floor.tiles[team.name("cat")].isVisible()
    floor.team.setCurrentText(ALL_TEAMS)
    assert len(floor.shown()) == 3 and "1 with alerts" in floor.summary.text()
    assert floor.tiles[team.name("ann")].isVisible()
    from PySide6.QtCore import Qt

    with qtbot.waitSignal(floor.agent_opened) as opened:
        qtbot.mouseClick(floor.tiles[team.name("bob")], Qt.LeftButton)
    assert opened.args == [team.name("bob")]


def test_the_agents_window_shows_a_supervisors_message_as_its_own_banner_and_raises_a_hand(qtbot, team):
    from ui.call.team_live_agent import TeamLiveAgent

    pub = LivePublisher(team.dsn("ann"), FAST, password=team.passwords[team.name("ann")])
    pub.start()
    live = TeamLiveAgent(publisher=pub)
    qtbot.addWidget(live.banner)
    qtbot.addWidget(live.button)
    try:
        qtbot.waitUntil(lambda: pub.status is not None and pub.status.state == "connected", timeout=15000)
        assert live.button.isEnabled() and not live.banner.isVisibleTo(live.banner.parentWidget() or live.banner)
        live.button.click()
        assert live.button.isChecked() and live.button.text() == "Hand raised — lower"
        su = team.su
        deadline = time.monotonic() + 10
        while not su.execute("SELECT count(*) FROM cc.live_messages WHERE kind = 'hand'").fetchone()[0]:
            assert time.monotonic() < deadline, "the hand did not reach the server"
            time.sleep(0.05)
        sue = connect(team.dsn("sue"), password=team.passwords[team.name("sue")])
        try:
            send_message(sue, team.name("ann"), "I'm listening in — offer the refund")
        finally:
            sue.close()
        qtbot.waitUntil(lambda: live.banner.messages != [], timeout=10000)
        assert live.banner.text.text() == "I'm listening in — offer the refund"
        assert live.banner.title.text().startswith(f"From your supervisor {team.name('sue')}")
        qtbot.waitUntil(lambda: not live.button.isChecked(), timeout=5000)  # answered: the hand is down
        live.banner.dismiss()
        assert live.banner.unread == 0
    finally:
        live.stop()


def test_the_raise_hand_button_says_why_it_is_off_on_a_machine_that_is_not_an_agents(qtbot):
    from ui.call.raise_hand import RaiseHandButton

    button = RaiseHandButton()
    qtbot.addWidget(button)
    assert not button.isEnabled() and "connected to a team server as an agent" in button.toolTip()


def test_the_call_window_holds_the_team_live_a_supervisors_message_above_the_cues_and_raise_hand_in_its_toolbar(
        qtbot, team, tmp_path):
    from PySide6.QtCore import QSettings

    from companion.config import load_config
    from companion.playbooks import all_playbooks
    from ui.call.main_window import MainWindow
    from ui.call.raise_hand import SHORTCUT

    pub = LivePublisher(team.dsn("ann"), FAST, password=team.passwords[team.name("ann")])
    pub.start()
    window = MainWindow(load_config(), all_playbooks()[0], QSettings(str(tmp_path / "w.ini"), QSettings.IniFormat),
                        use_model=False, live_publisher=pub)
    qtbot.addWidget(window)
    window.show()
    try:
        toolbar = window.controller.toolbar
        assert window.live.button in [toolbar.widgetForAction(a) for a in toolbar.actions()]
        assert SHORTCUT in window.live.button.toolTip()
        qtbot.waitUntil(lambda: pub.status is not None and pub.status.state == "connected", timeout=15000)
        assert window.live.button.isEnabled()
        layout = window.banner.parentWidget().layout()
        assert layout.indexOf(window.live.banner) < layout.indexOf(window.banner)  # above the coaching banner
        assert not window.live.banner.isVisible()
        sue = connect(team.dsn("sue"), password=team.passwords[team.name("sue")])
        try:
            send_message(sue, team.name("ann"), "Offer the refund")
        finally:
            sue.close()
        qtbot.waitUntil(lambda: window.live.banner.isVisible(), timeout=10000)
        assert window.live.banner.text.text() == "Offer the refund"
        window.start_call(demo=True)  # the demo is no call of the agent's: not on the supervisors' floor
        assert window.session is not None and pub.tracker not in window.session.bus._subscribers
        window.stop_call()
        qtbot.waitUntil(lambda: window.session is None or window.session.ended.is_set(), timeout=20000)
        window.close()  # the window closing stops the publisher
        assert window.live.button.publisher is None
    finally:
        pub.stop(2.0)
