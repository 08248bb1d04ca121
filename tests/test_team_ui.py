"""The team server in the windows (pytest-qt, offscreen), against a real PostgreSQL server
(tests/pg_server.py), no mocks of the database: History's Team source as a supervisor (row-level
security decides whose calls), its filters, search and paging; a call replayed from the server with
its audio, a comment and "Reviewed" saved there; the team dashboard's series against SQL and its CSV;
the status bar's sync states; an unreachable or slow server is one line in the window."""

from __future__ import annotations

import csv
import io
import math
import os
import stat
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QSettings, Qt, QTimer

from companion.team import server_calls
from companion.team import server_queries as queries
from companion.team.connection import connect
from companion.team.settings import save_connection
from companion.team.sync import TeamSyncStatus
from tests.pg_server import free_port, pg_server  # noqa: F401  (the session's server)
from tests.team_calls import NO_KEYRING, TeamDb

MEMBERS = (("ann", "north", "agent"), ("bob", "north", "agent"), ("sue", "north", "supervisor"),
           ("cat", "south", "agent"))
CARD_WORDS = "four one one one one one one one one one one one one one one one"
NOW = datetime.now(timezone.utc)
MONDAY = datetime.combine((NOW - timedelta(days=NOW.weekday())).date(), datetime.min.time(), timezone.utc)
THIS_WEEK = max(NOW - timedelta(minutes=40), MONDAY + timedelta(minutes=1))  # this week's calls from here on


def flac_bytes(seconds: float = 1.0) -> bytes:
    rate = 16000
    t = np.arange(int(rate * seconds)) / rate
    out = io.BytesIO()
    sf.write(out, np.stack([0.2 * np.sin(2 * np.pi * 220 * t), 0.2 * np.sin(2 * np.pi * 330 * t)], axis=1), rate,
             format="FLAC")
    return out.getvalue()


def call_doc(said: str, started: datetime, prompts=(), interruptions=0, wpm=150.0, talk=0.5, mood="calm",
             status="complete", audio=None) -> dict:
    return {
        "uuid": str(uuid.uuid4()), "started_at": started.isoformat(), "duration_s": 60.0, "status": status,
        "source": "live", "playbook": "delivery", "pace_source": "asr", "agent_wpm": wpm, "agent_talk_ratio": talk,
        "longest_agent_monologue_s": 12.0, "customer_mood": mood, "upset_s": 20.0 if mood == "upset" else 0.0,
        "turns": [{"party": "customer", "start": 0.0, "end": 4.0}, {"party": "agent", "start": 4.5, "end": 9.0}],
        "segments": [{"party": "customer", "start": 0.2, "end": 3.8, "text": said},
                     {"party": "agent", "start": 4.6, "end": 8.8, "text": "let me check that for you"}],
        "prompts": [{"t": 5.0 + i, "kind": k, "reason": f"because {k}"} for i, k in enumerate(prompts)],
        "interruptions": [{"t": 4.4 + i, "by": "agent", "overlap_s": 0.5} for i in range(interruptions)]
        + [{"t": 30.0, "by": "customer", "overlap_s": 0.4}],
        "pace": [{"t": 5.0, "wpm": wpm}], "checklist": [], "root_cause": None,
        "customer_states": [{"t": 2.0, "state": mood}], "pauses": [], "volume": [], "audio_flac": audio,
    }


class Team:
    """A fresh team database (the app's init_server and add_member, through tests/team_calls.TeamDb):
    north = ann, bob (agents) and sue (supervisor); south = cat. This test process is sue's machine:
    her connection saved in team.toml, her password in ~/.pgpass (PGPASSFILE), no keyring."""

    def __init__(self, server, tmp_path, monkeypatch):
        self.db = TeamDb(server, share_text=True, share_audio=True, members=MEMBERS)
        self.server, self.tmp = server, tmp_path
        pgpass = tmp_path / "pgpass"
        pgpass.write_text("".join(f"{server.host}:{server.port}:{self.db.dbname}:{role}:{pw}\n"
                                  for role, pw in self.db.passwords.items()))
        os.chmod(pgpass, 0o600)
        monkeypatch.setenv("PGPASSFILE", str(pgpass))
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", NO_KEYRING)
        monkeypatch.delenv("PGPASSWORD", raising=False)
        save_connection(self.dsn("sue"), "supervisor")
        self.calls: dict[str, list[dict]] = {"ann": [], "bob": [], "cat": []}
        self._conns: dict[str, object] = {}

    def dsn(self, base: str) -> str:
        return self.db.dsn(base)

    def name(self, base: str) -> str:
        return self.db.name(base)

    def conn(self, base: str):
        if base not in self._conns or self._conns[base].closed:
            self._conns[base] = connect(self.dsn(base), self.db.passwords[self.name(base)])
        return self._conns[base]

    def upload(self, base: str, *docs: dict) -> None:
        for doc in docs:
            server_calls.upsert_call(self.conn(base), doc)
            self.calls[base].append(doc)

    def uuids(self, *bases: str) -> set[str]:
        return {d["uuid"] for b in bases for d in self.calls[b]}

    def close(self) -> None:
        for conn in self._conns.values():
            conn.close()
        self.db.close()


@pytest.fixture
def team(pg_server, tmp_path, monkeypatch):  # noqa: F811
    t = Team(pg_server, tmp_path, monkeypatch)
    this_week, last_week = THIS_WEEK, THIS_WEEK - timedelta(days=7)
    t.upload("ann",
             call_doc("my parcel never arrived and nobody called me back", this_week,
                      prompts=("slow_down", "slow_down", "keep_listening"), interruptions=2, wpm=171.0, talk=0.62,
                      mood="upset", audio=flac_bytes()),
             call_doc("i would like to change my delivery address", this_week + timedelta(minutes=10),
                      prompts=("lower_tone",), interruptions=0, wpm=149.0, talk=0.48, status="interrupted"),
             call_doc("the invoice shows the wrong amount", last_week, prompts=(), interruptions=1, wpm=140.0,
                      talk=0.41))
    t.upload("bob",
             call_doc("the courier left the box in the rain", this_week + timedelta(minutes=30),
                      prompts=("keep_listening", "keep_listening"), interruptions=3, wpm=158.0, talk=0.55,
                      mood="upset"),
             call_doc("can you tell me when the refund arrives", last_week + timedelta(hours=1),
                      prompts=("slow_down",), interruptions=1, wpm=162.0, talk=0.58, mood="tense"))
    t.upload("cat", call_doc("the parcel never arrived in the south", this_week + timedelta(minutes=35),
                             prompts=("slow_down",)))
    yield t
    t.close()


@pytest.fixture
def history(qtbot, team):
    from ui.review.history_window import HistoryWindow
    from ui.team.team_client import team_dsn
    from ui.team.team_history import TeamHistoryPane

    assert team_dsn() == team.dsn("sue")  # the supervisor's saved connection is History's Team source
    window = HistoryWindow(team_dsn=team_dsn(), team_pane=TeamHistoryPane)
    qtbot.addWidget(window)
    window.show()
    assert window.switch.isVisible() and window.here_source.isChecked()
    window.team_source.click()
    pane = window.team
    qtbot.waitUntil(lambda: not pane.busy and bool(pane.rows), timeout=15000)
    yield window
    window.close()


def settle(qtbot, pane, timeout=15000):
    qtbot.waitUntil(lambda: not pane.busy, timeout=timeout)


# --- History's Team source ---------------------------------------------------------------------
def test_the_team_history_lists_both_agents_calls_for_the_supervisor_and_not_the_other_teams(history, team):
    pane = history.team
    assert history.pages.currentWidget() is pane and pane.error is None
    assert set(pane.shown_uuids) == team.uuids("ann", "bob")  # cat (south) is not sue's: the server says so
    started = [r["started_at"] for r in pane.rows]
    assert started == sorted(started, reverse=True)  # newest first
    agents = [pane.agent.itemData(i) for i in range(1, pane.agent.count())]
    assert sorted(agents) == [team.name("ann"), team.name("bob")]
    assert [pane.team.itemData(i) for i in range(1, pane.team.count())] == ["north"]
    headers = [pane.table.horizontalHeaderItem(c).text() for c in range(pane.table.columnCount())]
    upset = next(n for n, r in enumerate(pane.rows) if r["agent"] == team.name("ann") and r["has_audio"])
    assert pane.table.item(upset, headers.index("Customer")).text() == "Upset 00:20"
    assert pane.table.item(upset, headers.index("Audio")).text() == "Yes"
    assert pane.table.item(upset, headers.index("Prompts")).text() == "3"
    assert "5 calls shown, newest first" in pane.message
    history.here_source.click()
    assert history.pages.currentWidget() is history.local  # this computer's calls, as before


def test_filters_and_search_narrow_the_team_list(qtbot, history, team):
    pane = history.team
    bob = team.name("bob")

    def shown_after(change):
        change()
        settle(qtbot, pane)
        assert pane.error is None, pane.error
        return set(pane.shown_uuids)

    assert shown_after(lambda: pane.agent.setCurrentIndex(pane.agent.findData(bob))) == team.uuids("bob")
    assert shown_after(lambda: pane.agent.setCurrentIndex(0)) == team.uuids("ann", "bob")
    keep_listening = {d["uuid"] for b in ("ann", "bob") for d in team.calls[b]
                      if any(p["kind"] == "keep_listening" for p in d["prompts"])}
    assert shown_after(lambda: pane.kind.setCurrentIndex(pane.kind.findData("keep_listening"))) == keep_listening
    assert shown_after(lambda: pane.kind.setCurrentIndex(0)) == team.uuids("ann", "bob")
    interrupted = {team.calls["ann"][1]["uuid"]}
    assert shown_after(lambda: pane.interrupted.setCurrentIndex(pane.interrupted.findData(True))) == interrupted
    assert shown_after(lambda: pane.interrupted.setCurrentIndex(pane.interrupted.findData(False))) == \
        team.uuids("ann", "bob") - interrupted
    pane.interrupted.setCurrentIndex(0)
    settle(qtbot, pane)
    since = pane.since.date()
    recent = {d["uuid"] for b in ("ann", "bob") for d in team.calls[b]
              if datetime.fromisoformat(d["started_at"]) > NOW - timedelta(days=3)}
    assert shown_after(lambda: pane.since.setDate(pane.until.date().addDays(-3))) == recent
    assert shown_after(lambda: pane.since.setDate(since)) == team.uuids("ann", "bob")

    server_calls_reviewed = team.calls["bob"][0]["uuid"]
    queries.set_reviewed(team.conn("sue"), server_calls_reviewed, True)
    assert shown_after(lambda: pane.reviewed.setCurrentIndex(pane.reviewed.findData(True))) == {server_calls_reviewed}
    assert shown_after(lambda: pane.reviewed.setCurrentIndex(pane.reviewed.findData(False))) == \
        team.uuids("ann", "bob") - {server_calls_reviewed}
    pane.reviewed.setCurrentIndex(0)
    settle(qtbot, pane)

    qtbot.keyClicks(pane.query, "parcel")  # asked once the typing pauses; "parcel" was also said in cat's call
    qtbot.waitUntil(lambda: not pane.busy and set(pane.shown_uuids) == {team.calls["ann"][0]["uuid"]}, timeout=15000)
    assert "best matches first" in pane.message
    pane.query.setText("\"left the box\"")
    qtbot.waitUntil(lambda: not pane.busy and set(pane.shown_uuids) == {team.calls["bob"][0]["uuid"]}, timeout=15000)
    pane.query.setText("nothing like this was said")
    qtbot.waitUntil(lambda: not pane.busy and pane.shown_uuids == [], timeout=15000)
    assert pane.message == "No calls on the team server match."


def test_the_team_list_pages_200_calls_at_a_time(qtbot, history, team):
    base = NOW - timedelta(days=2)
    team.upload("bob", *[call_doc(f"call number {i}", base - timedelta(minutes=i)) for i in range(200)])
    pane = history.team
    pane.refresh_button.click()
    settle(qtbot, pane)
    assert len(pane.shown_uuids) == 200 and pane.more_button.isEnabled()
    first_page = pane.shown_uuids
    pane.more_button.click()
    settle(qtbot, pane)
    assert pane.shown_uuids[:200] == first_page and len(pane.shown_uuids) == 205
    assert set(pane.shown_uuids) == team.uuids("ann", "bob") and not pane.more_button.isEnabled()


# --- replay from the server -------------------------------------------------------------------
def test_a_call_opens_from_the_server_and_its_comment_and_review_are_saved_there(qtbot, history, team):
    from ui.team.team_replay import TeamReplay

    pane = history.team
    doc = team.calls["ann"][0]
    row = pane.shown_uuids.index(doc["uuid"])
    pane.table.selectRow(row)
    rect = pane.table.visualRect(pane.table.model().index(row, 0))
    qtbot.mouseClick(pane.table.viewport(), Qt.LeftButton, pos=rect.center())  # Qt 6: a double click follows a press
    qtbot.mouseDClick(pane.table.viewport(), Qt.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: bool(pane.replays), timeout=15000)
    replay = pane.replays[-1]
    qtbot.addWidget(replay)
    assert isinstance(replay, TeamReplay) and replay.isVisible()
    from ui.accessibility import nameless

    assert nameless(replay) == []  # every control named for a screen reader
    assert [p["kind"] for p in replay.doc["prompts"]] == ["slow_down", "slow_down", "keep_listening"]
    assert replay.lines[0]["text"] == "my parcel never arrived and nobody called me back"
    # the uploaded audio, in an owner-only temporary file the replay window's own audio path plays
    audio = replay.recording
    assert audio is not None and audio.exists() and stat.S_IMODE(audio.stat().st_mode) == 0o600
    assert sf.info(str(audio)).format == "FLAC" and abs(sf.info(str(audio)).duration - 1.0) < 0.01
    assert "audio_flac" not in replay.doc
    assert "Not reviewed yet" in replay.message

    replay.seek(5.0)
    replay.comment.setText(f"Good apology; card {CARD_WORDS} should never be read back")
    qtbot.mouseClick(replay.add_comment, Qt.LeftButton)
    assert "you (saving…)" in replay.moments.item(replay.moments.count() - 1).text() or any(
        "saving" in replay.moments.item(i).text() for i in range(replay.moments.count()))
    qtbot.waitUntil(lambda: "Comment saved" in replay.message, timeout=15000)
    replay.reviewed.click()
    qtbot.waitUntil(lambda: replay.message.startswith("Reviewed by"), timeout=15000)
    assert team.name("sue") in replay.message

    on_server = queries.load_call(team.conn("sue"), doc["uuid"])  # asked as the supervisor
    assert [(c["author"], c["t"]) for c in on_server["comments"]] == [(team.name("sue"), 5.0)]
    assert "four one one" not in on_server["comments"][0]["text"] and "Good apology" in on_server["comments"][0]["text"]
    assert on_server["reviewed"] is True and on_server["reviewed_by"] == team.name("sue")
    shown = [replay.moments.item(i).text() for i in range(replay.moments.count())]
    assert any(on_server["comments"][0]["text"] in s and team.name("sue") in s for s in shown)  # the server's words
    headers = [pane.table.horizontalHeaderItem(c).text() for c in range(pane.table.columnCount())]
    assert pane.table.item(row, headers.index("Reviewed")).text() == "Yes"
    assert pane.table.item(row, headers.index("Comments")).text() == "1"

    replay.reviewed.click()  # and back
    qtbot.waitUntil(lambda: "Not reviewed" in replay.message, timeout=15000)
    assert queries.load_call(team.conn("sue"), doc["uuid"])["reviewed"] is False
    replay.close()
    assert not audio.exists()  # the temporary audio goes with the window


def test_a_call_without_uploaded_audio_says_so_and_a_refused_review_is_undone(qtbot, history, team):
    pane = history.team
    doc = team.calls["bob"][0]
    pane.table.selectRow(pane.shown_uuids.index(doc["uuid"]))
    pane.open_button.click()
    qtbot.waitUntil(lambda: bool(pane.replays), timeout=15000)
    replay = pane.replays[-1]
    qtbot.addWidget(replay)
    labels = [w.text() for w in replay.findChildren(type(replay.clock))]
    assert replay.recording is None and "No audio uploaded: the prompts replay in time" in labels
    team.db.su.execute("DELETE FROM cc.calls WHERE uuid = %s", (doc["uuid"],))  # gone meanwhile (an admin)
    replay.reviewed.click()
    qtbot.waitUntil(lambda: replay.message.startswith("Not saved"), timeout=15000)
    assert "no call" in replay.message.lower() and not replay.reviewed.isChecked()
    replay.comment.setText("well handled")
    replay.add_comment.click()
    qtbot.waitUntil(lambda: replay.message.startswith("Comment not saved"), timeout=15000)
    assert replay.comment.text() == "well handled" and replay.doc["call"]["comments"] == []  # nothing typed is lost
    replay.close()


# --- the dashboard ----------------------------------------------------------------------------
WEEKLY_SQL = """
SELECT agent_role, (date_trunc('week', started_at AT TIME ZONE 'UTC'))::date::text AS week, count(*) AS calls,
       sum(prompts)::float / count(*), sum(interruptions_by_agent)::float / count(*), avg(agent_wpm),
       100 * avg(agent_talk_ratio), count(*) FILTER (WHERE reviewed), count(*) FILTER (WHERE customer_mood = 'upset'),
       sum(coalesce((prompt_counts ->> 'keep_listening')::int, 0))::float / count(*)
FROM cc.calls WHERE agent_role = ANY (%s) GROUP BY 1, 2"""


def test_the_dashboard_draws_one_series_per_agent_with_the_right_numbers_and_exports_csv(qtbot, team, tmp_path,
                                                                                       monkeypatch):
    from ui.team.team_charts import MEASURES
    from ui.team.team_dashboard import TeamDashboard

    queries.set_reviewed(team.conn("sue"), team.calls["ann"][0]["uuid"], True)
    dash = TeamDashboard(team.dsn("sue"))
    qtbot.addWidget(dash)
    dash.show()
    qtbot.waitUntil(lambda: not dash.busy, timeout=15000)
    assert dash.error is None, dash.error
    dash.recompute.click()  # the rollup is made on the server: recompute it with these calls in it
    qtbot.waitUntil(lambda: not dash.busy and bool(dash.rows), timeout=15000)
    ann, bob = team.name("ann"), team.name("bob")
    assert sorted(dash.agents) == [ann, bob] and "figures as of" in dash.message  # not cat: another team's

    truth = {(r[0], r[1]): r[2:] for r in team.db.su.execute(WEEKLY_SQL, ([ann, bob, team.name("cat")],))}
    columns = {"prompts": 1, "interruptions": 2, "pace": 3, "talk": 4, "reviewed": 5, "upset": 6}
    for measure, _, _, _ in MEASURES:
        curves = dash.curves[measure]
        assert sorted(curves) == [ann, bob], measure  # one series per agent
        for agent, curve in curves.items():
            xs, ys = curve.getData()
            assert list(xs) == list(range(len(dash.weeks)))
            for week, y in zip(dash.weeks, ys):
                expected = truth.get((agent, week))
                if expected is None:
                    assert math.isnan(y), (measure, agent, week)
                else:
                    assert y == pytest.approx(expected[columns[measure]], abs=0.06), (measure, agent, week)
    assert len(dash.plots["trend"]["pace"].plotItem.listDataItems()) == 3  # the two agents and the team's dashes
    team_prompts = team.db.su.execute(
        "SELECT sum(prompts)::float / count(*) FROM cc.calls WHERE agent_role = ANY (%s) AND started_at >= %s",
        ([ann, bob], MONDAY)).fetchone()[0]
    assert dash.team_curves["prompts"].getData()[1][-1] == pytest.approx(team_prompts, abs=0.01)

    dash.kind.setCurrentIndex(dash.kind.findData("keep_listening"))  # prompts of one kind
    _, ys = dash.curves["prompts"][bob].getData()
    assert ys[-1] == pytest.approx(truth[(bob, dash.weeks[-1])][7], abs=0.01) == 2.0

    dash.view.setCurrentIndex(dash.view.findData("latest"))  # a bar per agent for the newest week
    latest = dash.weeks[-1]
    assert dash.bar_values["upset"] == {ann: truth[(ann, latest)][6], bob: truth[(bob, latest)][6]}
    assert dash.bar_values["reviewed"][ann] == 1
    assert dash.stack.currentIndex() == 1 and "Latest week" in dash.headline.text()

    item = next(dash.agent_list.item(i) for i in range(dash.agent_list.count())
                if dash.agent_list.item(i).data(Qt.UserRole) == bob)
    item.setCheckState(Qt.Unchecked)  # only ann shown, and only ann exported
    dash.view.setCurrentIndex(dash.view.findData("trend"))
    assert sorted(dash.curves["pace"]) == [ann]
    target = tmp_path / "weekly.csv"
    monkeypatch.setattr("ui.team.team_dashboard.QFileDialog.getSaveFileName", lambda *a, **k: (str(target), "CSV (*.csv)"))
    assert dash.export_dialog() == target
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    rows = list(csv.DictReader(target.open()))
    assert {r["agent"] for r in rows} == {ann} and len(rows) == len([k for k in truth if k[0] == ann])
    this_week = next(r for r in rows if r["week"] == latest)
    assert int(this_week["calls"]) == 2 and int(this_week["upset_calls"]) == 1 and int(this_week["calls_reviewed"]) == 1
    assert float(this_week["slow_down_per_call"]) == 1.0 and float(this_week["interruptions_per_call"]) == 1.0
    assert "Exported" in dash.message
    dash.close()


# --- the status bar ---------------------------------------------------------------------------
@pytest.fixture
def main_window(qtbot, tmp_path):
    from companion.config import load_config
    from companion.playbooks import all_playbooks
    from ui.call.main_window import MainWindow

    def make():
        settings = QSettings(str(tmp_path / "window.ini"), QSettings.IniFormat)
        w = MainWindow(load_config(), all_playbooks()[0], settings, use_model=False)
        qtbot.addWidget(w)
        w.show()
        made.append(w)
        return w

    made = []
    yield make
    for w in made:
        w.close()


def test_the_status_bar_shows_each_sync_state_from_the_workers_thread(qtbot, main_window, monkeypatch):
    window = main_window()
    label = window.team_sync.label
    assert label.isHidden() and window.team_sync.worker is None  # no team connection: nothing shown
    since = datetime.now().replace(hour=14, minute=5, second=0, microsecond=0).timestamp()
    feed = [(TeamSyncStatus("synced", 0, time.time(), "Every call is on the team server."), "Team: synced"),
            (TeamSyncStatus("waiting", 3, None, "3 waiting; next try at 14:06:10."), "Team: 3 waiting"),
            (TeamSyncStatus("unreachable", 3, since, "The team server at db:5432 cannot be reached."),
             "Team: server unreachable since 14:05"),
            (TeamSyncStatus("refused", 3, since, "The team server account ann has been revoked — ask your admin."),
             "Team: refused — The team server account ann has been revoked — ask your admin.")]
    gui = threading.current_thread()
    for status, text in feed:
        touched = []
        label.setText("")
        t = threading.Thread(target=lambda s=status: (window.team_sync.bridge.post(s), touched.append(  # noqa: B023
            threading.current_thread() is not gui)))
        t.start()
        t.join()
        qtbot.waitUntil(lambda text=text: label.text() == text, timeout=3000)
        assert label.isVisible() and label.toolTip() == status.message and touched == [True]
    long = TeamSyncStatus("refused", 0, None, "The team server's schema is version 2; this app knows version 1 — "
                                              "update Call Companion. Nothing was sent.")
    window.team_sync.bridge.post(long)
    qtbot.waitUntil(lambda: label.text().startswith("Team: refused — The team server's schema"), timeout=3000)
    assert label.text().endswith("…") and len(label.text()) < 90 and label.toolTip() == long.message


def test_an_agents_window_starts_the_sync_and_shows_it_reach_the_server_and_lose_it(
        qtbot, main_window, team, pg_server):  # noqa: F811
    from companion.team.settings import settings_path

    save_connection(team.dsn("ann"), "agent")  # this machine is now ann's
    with open(settings_path(), "a") as f:
        f.write("\n[team]\nfeedback_every_s = 0.3\nbackoff_first_s = 0.2\nbackoff_max_s = 0.5\n")
    window = main_window()
    label = window.team_sync.label
    assert window.team_sync.worker is not None and window.team_sync.worker.is_alive()
    qtbot.waitUntil(lambda: label.text() == "Team: synced", timeout=15000)
    pg_server.stop()
    try:
        qtbot.waitUntil(lambda: label.text().startswith("Team: server unreachable since "), timeout=20000)
        assert label.text()[-5:] == time.strftime("%H:%M", time.localtime(window.team_sync.status.since))
    finally:
        pg_server.start()
    qtbot.waitUntil(lambda: label.text() == "Team: synced", timeout=20000)
    worker = window.team_sync.worker
    window.close()
    assert not worker.is_alive()  # stopped with the window


def test_a_supervisors_window_says_connected_and_offers_the_dashboard(qtbot, main_window, team):
    window = main_window()
    assert window.team_sync.label.text() == "Team: connected as supervisor" and window.team_sync.worker is None
    toolbar = window.findChild(type(window.addToolBar("x")), "callToolbar")
    assert window.controller.dashboard_action in toolbar.actions()


# --- a slow or unreachable server ---------------------------------------------------------------
def test_an_unreachable_server_is_one_line_in_the_history_and_the_dashboard(qtbot, team):
    from ui.review.history_window import HistoryWindow
    from ui.team.team_dashboard import TeamDashboard
    from ui.team.team_history import TeamHistoryPane

    closed = team.server.dsn(team.name("sue"), dbname=team.db.dbname, port=free_port())
    window = HistoryWindow(team_dsn=closed, team_pane=TeamHistoryPane)
    qtbot.addWidget(window)
    window.show()
    window.show_team(True)
    pane = window.team
    qtbot.waitUntil(lambda: not pane.busy, timeout=20000)
    assert pane.error and "cannot be reached" in pane.message and "\n" not in pane.message
    assert pane.status.text() == pane.message and pane.shown_uuids == []
    assert "Traceback" not in pane.message
    dash = TeamDashboard(closed)
    qtbot.addWidget(dash)
    qtbot.waitUntil(lambda: not dash.busy, timeout=20000)
    assert "cannot be reached" in dash.message and dash.status.text() == dash.message
    window.close()
    dash.close()


def test_a_server_stopped_under_an_open_history_is_a_message_then_it_comes_back(
        qtbot, history, team, pg_server):  # noqa: F811
    pane = history.team
    pg_server.stop()
    try:
        pane.refresh_button.click()
        settle(qtbot, pane, 30000)
        assert pane.error and ("cannot be reached" in pane.message or "was lost" in pane.message), pane.message
        assert "\n" not in pane.message
        pane.query.setText("parcel")  # still usable: another question, another one-line answer
        settle(qtbot, pane, 30000)
        assert pane.error
    finally:
        pg_server.start()
    pane.query.setText("")
    qtbot.waitUntil(lambda: not pane.busy and pane.error is None and len(pane.shown_uuids) == 5, timeout=20000)


def test_a_slow_server_says_so_and_the_window_keeps_working(qtbot, history, team):
    pane = history.team
    pane.client.submit(lambda conn: conn.execute("SELECT pg_sleep(4)"))  # the server busy with something long
    pane.refresh()
    ticks = []
    timer = QTimer(pane)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))  # the event loop goes on meanwhile
    timer.start(50)
    qtbot.waitUntil(lambda: "slow to answer" in pane.message, timeout=6000)
    assert len(ticks) >= 3  # the loop turned while the query waited (a blocked loop runs a missed timer once)
    pane.query.setText("typing while it waits")
    assert pane.query.text() == "typing while it waits"
    timer.stop()
    pane.query.setText("")
    qtbot.waitUntil(lambda: not pane.busy and len(pane.shown_uuids) == 5, timeout=15000)
