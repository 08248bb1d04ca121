"""A supervisor's start (offscreen, on the session's real PostgreSQL server): a machine whose team settings
say supervisor opens on History's Team source, the dashboard and the live floor — never the agent's call
setup — while an agent's machine opens the call window as ever; the dashboard's figures say how fresh they
are and are recomputed by the dashboard itself when stale; and the team windows name every control."""

from __future__ import annotations

from companion.team.settings import save_connection
from tests.pg_server import pg_server  # noqa: F401  (the session's server)
from tests.test_team_ui import team  # noqa: F401  (north: ann, bob, sue the supervisor; south: cat; calls uploaded)
from ui.accessibility import nameless


def test_a_supervisors_machine_opens_on_team_history_the_dashboard_and_the_live_floor(qtbot, team):  # noqa: F811
    from ui.app import open_supervisor_start

    team.db.as_role("ann").execute("INSERT INTO cc.live_state (state, call_s, customer_mood, mood_since_s) "
                                   "VALUES ('on_call', 40, 'calm', 10)")
    start = open_supervisor_start()  # team.toml: sue's connection, role supervisor
    assert start is not None
    for window in start.windows:
        qtbot.addWidget(window)
    try:
        history = start.history
        assert history.isVisible() and history.team_source.isChecked()
        assert history.pages.currentWidget() is history.team
        assert start.dashboard.isVisible() and start.floor.isVisible()
        qtbot.waitUntil(lambda: team.name("ann") in start.floor.views, timeout=20000)  # the floor is live
        qtbot.waitUntil(lambda: not start.dashboard.busy and "figures as of" in start.dashboard.message,
                        timeout=20000)
        assert start.dashboard.error is None
        for window in start.windows:
            assert nameless(window) == [], window.windowTitle()
    finally:
        start.close()
    assert not start.feed._thread.is_alive()


def test_an_agents_machine_opens_the_call_window_as_ever(team):  # noqa: F811
    from ui.app import open_supervisor_start

    save_connection(team.dsn("ann"), "agent")
    assert open_supervisor_start() is None


def test_the_dashboard_recomputes_stale_figures_by_itself_and_says_how_fresh_they_are(qtbot, team):  # noqa: F811
    from ui.team.team_dashboard import TeamDashboard

    team.db.su.execute("UPDATE cc.rollup_state SET refreshed_at = now() - interval '3 hours'")
    dash = TeamDashboard(team.dsn("sue"))
    qtbot.addWidget(dash)
    dash.show()
    # nobody presses "Recompute now": figures three hours old are recomputed, with the uploaded calls in them
    qtbot.waitUntil(lambda: not dash.busy and dash.error is None and bool(dash.rows), timeout=20000)
    assert sorted(dash.agents) == [team.name("ann"), team.name("bob")]
    assert "figures as of" in dash.message and "(just now)" in dash.message
    assert "recomputed by themselves when older than 10 min" in dash.message
    recomputed = dash.refreshed_at
    dash.check_freshness()  # fresh now: only says so, asks the server nothing
    assert not dash.busy and dash.refreshed_at == recomputed
