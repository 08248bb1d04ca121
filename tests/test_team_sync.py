"""The agent side of the team server (issue 14): every finished live call reaches the team's
PostgreSQL server once, whatever happens on the way, and the supervisors' feedback comes back.

A real server (tests/pg_server.py), no mocks of the database; calls made through the real pipeline
on two agents' machines (two data and config folders: two SQLite stores); the installed
`companion team …` commands in processes of their own, killed with SIGKILL where the promise is
about a crash."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import psycopg
import pytest

from companion.store.calls import load_call
from companion.team import server_queries as queries
from companion.team.server_schema import SCHEMA_VERSION
from companion.team.settings import SyncTuning
from tests.installed import OUTSIDE
from tests.pg_server import pg_server  # noqa: F401  (the session's PostgreSQL server)
from tests.team_calls import Agent, TeamDb

FAST = "backoff_first_s = 0.2\nbackoff_max_s = 1.0\nbackoff_jitter = 0.0\nfeedback_every_s = 0.5\nidle_poll_s = 0.2"


@pytest.fixture
def team(pg_server):  # noqa: F811
    t = TeamDb(pg_server, share_text=True, share_audio=False)
    yield t
    t.close()


@pytest.fixture(autouse=True)
def _no_keyring_here():
    """This test process never asks the machine's own keyring (a Secret Service over D-Bus)."""
    import keyring
    from keyring.backends import fail

    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(before)


def agents(team, tmp_path, *names, **kw):
    out = [Agent(team, name, tmp_path, team_settings=FAST, **kw) for name in names]
    for a in out:
        a.connect()
    return out


def one_line(run) -> str:
    lines = [l for l in run.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, run.stderr
    return lines[0]


# --- round trip -----------------------------------------------------------------------------
def test_two_agents_live_calls_reach_the_server_once_each_and_each_agent_sees_only_their_own(team, tmp_path):
    ann, bob = agents(team, tmp_path, "ann", "bob")
    ann_calls = [ann.live_call(), ann.live_call()]
    bob_call = bob.live_call()
    assert ann.pending() == 2 and bob.pending() == 1  # queued as they were closed, before any sync

    for agent, n in ((ann, 2), (bob, 1)):
        run = agent.sync()
        assert run.returncode == 0, run.stderr
        assert one_line(run) == f"companion: {n} call{'s' if n > 1 else ''} sent; every call is on the team server."
        assert agent.pending() == 0
    assert team.uuids() == sorted(ann.local_uuids() + bob.local_uuids())  # each call once, under its own UUID

    again = ann.sync()  # nothing is sent twice
    assert again.returncode == 0 and "Nothing to send" in again.stderr and team.count() == 3

    owners = dict(team.su.execute("SELECT uuid::text, agent_role FROM cc.calls").fetchall())
    assert sorted(owners.values()) == sorted([ann.role, ann.role, bob.role])
    sue = team.as_role("sue")
    assert {c["uuid"] for c in queries.list_calls(sue)} == set(owners)  # the supervisor sees both agents' calls
    as_ann = team.as_role("ann")
    [bobs] = bob.local_uuids()
    assert as_ann.execute("SELECT count(*) FROM cc.calls WHERE uuid = %s", (bobs,)).fetchone()[0] == 0
    assert sorted(str(r[0]) for r in as_ann.execute("SELECT uuid FROM cc.calls")) == ann.local_uuids()

    # the call on the server is the call of the store: its figures, its (redacted) transcript, searchable
    db = ann.store()
    local = load_call(db, ann_calls[0])
    uuid0 = db.execute("SELECT uuid FROM calls WHERE id = ?", (ann_calls[0],)).fetchone()[0]
    db.close()
    doc, status, prompts = team.su.execute("SELECT doc, status, prompts FROM cc.calls WHERE uuid = %s", (uuid0,)).fetchone()
    assert status == "complete" and doc["source"] == "live" and prompts == len(local["prompts"])
    assert doc["duration_s"] == pytest.approx(local["duration_s"]) and len(doc["turns"]) == len(local["turns"])
    assert [s["text"] for s in doc["segments"]] == [s["text"] for s in local["call"]["segments"]]
    found = queries.list_calls(sue, text="coffee machine")
    assert {c["uuid"] for c in found} == set(owners)  # words said on the call find it on the server
    assert bob_call


def test_demo_and_analyze_calls_are_not_team_calls(team, tmp_path):
    from companion.demo import demo_recording
    from companion.session import CallSession

    [ann] = agents(team, tmp_path, "ann")
    run = ann.companion("analyze", demo_recording(), "--model", "none", "--save")
    assert run.returncode == 0, run.stderr
    with ann.here():
        session = CallSession(ann.coaching())
        session.keep("demo")
        session.start_demo(demo_recording(), speed=40.0)
        assert session.ended.wait(60)
    db = ann.store()
    assert sorted(r[0] for r in db.execute("SELECT source FROM calls")) == ["analyze", "demo"]
    db.close()
    assert ann.pending() == 0
    assert ann.sync().returncode == 0 and team.count() == 0


def test_a_call_taken_before_connecting_stays_on_the_machine(team, tmp_path):
    ann = Agent(team, "ann", tmp_path)
    ann.live_call()
    ann.connect()
    assert ann.pending() == 0 and ann.sync().returncode == 0 and team.count() == 0


def test_a_supervisors_comment_and_review_reach_the_agents_history(team, tmp_path):
    [ann] = agents(team, tmp_path, "ann")
    call_id = ann.live_call()
    assert ann.sync().returncode == 0
    [uuid] = ann.local_uuids()
    sue = team.as_role("sue")
    queries.add_comment(sue, uuid, "Good recovery after the interruption, well done", t=31.5)
    queries.set_reviewed(sue, uuid, True)

    run = ann.sync()
    assert run.returncode == 0 and one_line(run).endswith("; 1 new comment and 1 review from supervisors."), run.stderr
    db = ann.store()
    comments = load_call(db, call_id)["call"]["comments"]
    assert [(c["author"], c["t"], c["text"]) for c in comments] == \
        [(team.name("sue"), 31.5, "Good recovery after the interruption, well done")]
    from companion.team.sync import review_status

    review = review_status(db, call_id)
    assert review["reviewed"] and review["reviewed_by"] == team.name("sue") and review["reviewed_at"]
    db.close()

    assert ann.sync().returncode == 0  # pulled again (the overlap): not doubled
    queries.set_reviewed(sue, uuid, False)
    queries.add_comment(sue, uuid, "Second thought: ask for the order number first")
    assert ann.sync().returncode == 0
    db = ann.store()
    assert [c["text"] for c in load_call(db, call_id)["call"]["comments"]] == \
        ["Second thought: ask for the order number first", "Good recovery after the interruption, well done"]
    assert review_status(db, call_id) == {"reviewed": False, "reviewed_by": None, "reviewed_at": None}
    db.close()


# --- the worker ------------------------------------------------------------------------------
def test_the_worker_sends_a_call_at_once_and_catches_up_after_the_server_was_down(team, tmp_path, pg_server):  # noqa: F811
    from companion.team.sync_worker import start_sync

    [ann] = agents(team, tmp_path, "ann")
    seen = []
    with ann.here():
        worker = start_sync(publish=seen.append)
        assert worker is not None
        try:
            ann.live_call()
            ended = time.monotonic()
            while team.count() < 1 and time.monotonic() - ended < 10:
                time.sleep(0.02)
            assert team.count() == 1  # sent at once (how soon: bench/bench_team_sync.py), not at the next start
            _wait(lambda: worker.status and worker.status.state == "synced" and worker.status.pending == 0)
            assert worker.status.since and time.time() - worker.status.since < 30

            pg_server.stop()  # the server goes away for a while; calls go on
            try:
                ann.live_call()
                ann.live_call()
                _wait(lambda: worker.status.state == "unreachable" and worker.status.pending == 2)
                down = worker.status
                assert "cannot be reached" in down.message and down.since and worker.failures >= 1
                time.sleep(1.5)  # several retries, backed off
            finally:
                pg_server.start()
            _wait(lambda: worker.status.state == "synced" and worker.status.pending == 0, timeout=20)
        finally:
            worker.stop()
    assert team.uuids() == ann.local_uuids() and team.count() == 3  # everything arrived, once
    states = [s.state for s in seen]
    assert "unreachable" in states and states[-1] == "synced"
    assert all(s.pending >= 0 and isinstance(s.message, str) and s.message for s in seen)


def _wait(cond, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    assert cond(), "timed out"


# --- faults ----------------------------------------------------------------------------------
def test_an_agent_killed_mid_upload_loses_nothing_and_doubles_nothing(team, tmp_path):
    [ann] = agents(team, tmp_path, "ann")
    ann.quick_calls(40)
    assert ann.pending() == 40
    lock = psycopg.connect(team.su_dsn)  # not autocommit: the lock holds until rollback
    sync = ann.popen("team", "sync")
    try:
        _wait(lambda: team.count() >= 5, timeout=60)
        lock.execute("LOCK TABLE cc.calls IN EXCLUSIVE MODE")  # the next upload waits inside its transaction …
        _wait(lambda: any(w == "Lock" for _, w in team.backends("ann")), timeout=20)
        sync.send_signal(signal.SIGKILL)  # … and the agent's process is killed there
        sync.wait(10)
    finally:
        lock.rollback()
        lock.close()
        if sync.poll() is None:
            sync.kill()
    on_server = team.count()
    assert 5 <= on_server < 40 and ann.pending() >= 40 - on_server  # a sent call leaves the outbox only after the server has it
    again = ann.sync()
    assert again.returncode == 0, again.stderr
    assert team.uuids() == ann.local_uuids() and team.count() == 40 and ann.pending() == 0


def test_a_connection_dropped_mid_transaction_keeps_nothing_half_written_and_is_retried_once(pg_server, tmp_path):  # noqa: F811
    from companion.team.sync import sync_once

    team = TeamDb(pg_server, share_text=True, share_audio=True)
    try:
        [ann] = agents(team, tmp_path, "ann")
        ann.live_call(record_audio=True)
        lock = psycopg.connect(team.su_dsn)
        lock.execute("LOCK TABLE cc.call_audio IN EXCLUSIVE MODE")  # the call's row goes in, its audio waits
        results = []
        with ann.here():
            sending = threading.Thread(target=lambda: results.append(sync_once()))
            sending.start()
            _wait(lambda: any(w == "Lock" for _, w in team.backends("ann")), timeout=20)
            [(pid, _)] = team.backends("ann")
            team.su.execute("SELECT pg_terminate_backend(%s)", (pid,))  # the connection drops mid-transaction
            sending.join(30)
        lock.rollback()
        lock.close()
        [dropped] = results
        assert dropped.state == "unreachable" and dropped.exit_code == 1 and dropped.sent == 0
        assert "lost" in dropped.message and "1 call waits on this machine" in dropped.message
        assert team.count() == 0 and ann.pending() == 1  # the half-written call was not kept; it waits here
        again = ann.sync()
        assert again.returncode == 0, again.stderr
        assert team.uuids() == ann.local_uuids() and team.count("SELECT count(*) FROM cc.call_audio") == 1
        db = ann.store()
        recording = db.execute("SELECT recording FROM calls").fetchone()[0]
        db.close()
        flac = team.su.execute("SELECT flac FROM cc.call_audio").fetchone()[0]
        assert bytes(flac) == open(recording, "rb").read()  # the policy shares audio: the call's own FLAC
    finally:
        team.close()


def test_a_call_cut_off_by_a_crash_reaches_the_server_as_interrupted(team, tmp_path):
    [ann] = agents(team, tmp_path, "ann")
    script = ("from companion.config import load_config\n"
              "from companion.demo import demo_recording, demo_script\n"
              "from companion.session import CallSession\n"
              "s = CallSession(load_config(use_user_default=False))\n"
              "s.keep('live')\n"
              "s.start_demo(demo_recording(), speed=2.0, script=demo_script())\n"
              "print('in call', flush=True)\n"
              "s.ended.wait(120)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], env=ann.env(), cwd=OUTSIDE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "in call"
    time.sleep(4.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    raw = sqlite3.connect(ann.store_path)  # a look that does not open the store the app's way
    assert raw.execute("SELECT status FROM calls").fetchall() == [("active",)]
    assert raw.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0  # still open: nothing to send yet
    raw.close()
    run = ann.sync()  # opening the store closes the call as interrupted, and queues it in that transaction
    assert run.returncode == 0, run.stderr
    status, duration = team.su.execute("SELECT status, duration_s FROM cc.calls").fetchone()
    assert status == "interrupted" and 2.0 < duration < 30.0


def test_an_older_client_meeting_a_newer_schema_says_so_and_writes_nothing(team, tmp_path):
    [ann] = agents(team, tmp_path, "ann")
    ann.quick_calls(2)
    newer = SCHEMA_VERSION + 1
    team.su.execute("INSERT INTO cc.cc_schema (version) VALUES (%s)", (newer,))  # a newer app's init ran on the server
    run = ann.sync()
    assert run.returncode == 2
    line = one_line(run)
    assert f"schema is version {newer}; this app knows version {SCHEMA_VERSION} — update Call Companion" in line
    assert "2 calls wait on this machine" in line
    assert team.count() == 0 and ann.pending() == 2
    status = ann.companion("team", "status", "--json")
    report = json.loads(status.stdout)
    assert report["server_schema_version"] == newer and report["pending"] == 2 and report["refused_since"]
    team.su.execute("DELETE FROM cc.cc_schema WHERE version = %s", (newer,))
    assert ann.sync().returncode == 0 and team.count() == 2


def test_a_revoked_agent_is_told_and_keeps_their_calls(team, tmp_path):
    [ann] = agents(team, tmp_path, "ann")
    first = ann.live_call()
    assert ann.sync().returncode == 0
    admin = Agent(team, "ann", tmp_path / "admin", pgpass=False)  # the admin's machine
    revoke = admin.companion("team", "revoke", team.name("ann"), "--dsn", team.admin_dsn(),
                             PGPASSWORD=team.server.superuser_password)
    assert revoke.returncode == 0, revoke.stderr
    second = ann.live_call()
    run = ann.sync()
    assert run.returncode == 2
    line = one_line(run)
    assert "revoked" in line and "ask your admin" in line and "1 call waits on this machine" in line
    assert ann.pending() == 1 and team.count() == 1
    db = ann.store()
    assert {load_call(db, c)["call"]["status"] for c in (first, second)} == {"complete"}  # both kept here
    db.close()


# --- secrets ---------------------------------------------------------------------------------
class _InTestKeyring:
    """A keyring backend of this test's own: passwords in a dict."""

    def __new__(cls):
        from keyring.backend import KeyringBackend

        class Backend(KeyringBackend):
            priority = 1
            kept: dict = {}

            def get_password(self, service, username):
                return self.kept.get((service, username))

            def set_password(self, service, username, password):
                self.kept[(service, username)] = password

            def delete_password(self, service, username):
                self.kept.pop((service, username), None)

        return Backend()


def test_the_password_from_the_keyring_logs_the_sync_in(team, tmp_path):
    import keyring

    from companion.team.connection import KEYRING_SERVICE, keyring_key, save_password
    from companion.team.settings import save_connection
    from companion.team.sync import sync_once

    ann = Agent(team, "ann", tmp_path, pgpass=False)
    backend = _InTestKeyring()
    keyring.set_keyring(backend)
    with ann.here():
        save_connection(ann.dsn, "agent")
        assert sync_once().state == "refused"  # no password anywhere yet
        save_password(ann.dsn, ann.password)
        assert backend.kept == {(KEYRING_SERVICE, keyring_key(ann.dsn)): ann.password}
        ann.quick_calls(1)
        result = sync_once()
    assert result.state == "synced" and result.sent == 1 and team.count() == 1


FILE_KEYRING = '''
import json, os
from keyring.backend import KeyringBackend

class FileKeyring(KeyringBackend):
    """A keyring in one JSON file (the tests' stand-in for the OS keyring)."""
    priority = 1
    path = os.environ["TEST_KEYRING_FILE"]

    def _all(self):
        try:
            with open(self.path) as f:
                return json.load(f)
        except FileNotFoundError:
            return {}

    def get_password(self, service, username):
        return self._all().get(f"{service}|{username}")

    def set_password(self, service, username, password):
        kept = self._all()
        kept[f"{service}|{username}"] = password
        with open(self.path, "w") as f:
            json.dump(kept, f)

    def delete_password(self, service, username):
        kept = self._all()
        kept.pop(f"{service}|{username}", None)
        with open(self.path, "w") as f:
            json.dump(kept, f)
'''


def test_team_connect_keeps_the_password_in_the_keyring_and_in_no_file_of_ours(team, tmp_path):
    ann = Agent(team, "ann", tmp_path, pgpass=False, keyring_backend="test_file_keyring.FileKeyring")
    (tmp_path / "kr").mkdir()
    (tmp_path / "kr" / "test_file_keyring.py").write_text(FILE_KEYRING)
    ann.pythonpath = [str(tmp_path / "kr")]
    vault = tmp_path / "keyring.json"
    run = ann.companion("team", "connect", ann.dsn, "--password-stdin", "--allow-plaintext-keyring",
                        input=ann.password + "\n", TEST_KEYRING_FILE=str(vault))  # a plain file: only when asked
    assert run.returncode == 0, run.stderr
    assert "the password is in the keyring backend test_file_keyring.FileKeyring" in run.stderr
    assert ann.password in vault.read_text()
    ann.quick_calls(2)
    sync = ann.companion("team", "sync", TEST_KEYRING_FILE=str(vault))
    assert sync.returncode == 0, sync.stderr
    assert team.count() == 2
    for folder in (ann.config, ann.data):
        for path in folder.rglob("*"):
            if path.is_file():
                assert ann.password.encode() not in path.read_bytes(), path
    settings = (ann.config / "team.toml").read_text()
    assert f"user={ann.role}" in settings and "password" not in settings.split("No password")[1].split("\n", 1)[1]


def test_without_a_keyring_team_connect_points_to_pgpass_which_the_sync_then_uses(team, tmp_path):
    ann = Agent(team, "ann", tmp_path, pgpass=False)  # keyring: keyring's own "fail" backend
    run = ann.companion("team", "connect", ann.dsn, "--password-stdin", input=ann.password + "\n")
    assert run.returncode == 1
    [line] = [l for l in run.stderr.splitlines() if "NOT stored" in l]
    assert "NOT stored" in line and "~/.pgpass" in line and f":{team.dbname}:{ann.role}:PASSWORD" in line
    assert (ann.config / "team.toml").is_file() and ann.password not in (ann.config / "team.toml").read_text()
    ann.quick_calls(1)
    refused = ann.sync()
    assert refused.returncode == 2 and "No password" in one_line(refused) and ann.pending() == 1
    ann.write_pgpass()  # PGPASSFILE: libpq's own ~/.pgpass
    ok = ann.sync()
    assert ok.returncode == 0, ok.stderr
    assert team.count() == 1 and ann.pending() == 0


@pytest.mark.parametrize("form", ["uri", "keywords"])
def test_a_dsn_with_a_password_is_refused(team, tmp_path, form):
    ann = Agent(team, "ann", tmp_path)
    s = team.server
    dsn = (f"postgresql://{ann.role}:{ann.password}@{s.host}:{s.port}/{team.dbname}" if form == "uri"
           else team.dsn("ann", password=ann.password))
    run = ann.companion("team", "connect", dsn)
    assert run.returncode == 2
    assert "contains a password: leave it out" in one_line(run) and ann.password not in run.stderr
    assert not (ann.config / "team.toml").exists()


# --- privacy ---------------------------------------------------------------------------------
CARD_HALVES = ("four five five six seven three seven five", "eight six eight nine nine eight five five")
NUMBER_WORDS = {"four", "five", "six", "seven", "eight", "nine"}


def test_a_card_number_said_on_a_call_is_not_on_the_server_even_with_local_redaction_off(team, tmp_path):
    [ann] = agents(team, tmp_path, "ann")
    said = [("agent", "can i take the card number please", 30.0), ("customer", f"yes it's {CARD_HALVES[0]}", 33.0),
            ("customer", CARD_HALVES[1], 37.5), ("agent", "lovely thank you", 41.5)]
    # the agent turned both local redaction and the automatic pause for payment off: the server still takes it out
    call_id = ann.live_call(said, redact=False, script=False, auto_pause=False)
    db = ann.store()
    local = " ".join(s["text"] for s in load_call(db, call_id)["call"]["segments"])
    db.close()
    assert CARD_HALVES[0] in local and CARD_HALVES[1] in local  # the agent's own store keeps it (their choice)
    assert ann.sync().returncode == 0
    doc, transcript = team.su.execute("SELECT doc::text, transcript FROM cc.calls").fetchone()
    assert "[card]" in transcript and "can i take the card number please" in transcript
    for text in (doc, transcript):
        assert not NUMBER_WORDS & set(text.replace('"', " ").replace(",", " ").split()), text
    [hit] = queries.list_calls(team.as_role("sue"), text="lovely")
    assert queries.list_calls(team.as_role("sue"), text="eight six eight") == [] and hit


def test_without_share_text_or_share_audio_only_the_figures_leave_the_machine(pg_server, tmp_path):  # noqa: F811
    team = TeamDb(pg_server, share_text=False, share_audio=False)
    try:
        [ann] = agents(team, tmp_path, "ann")
        call_id = ann.live_call(record_audio=True)
        with ann.here():
            from companion.store.calls import save_root_cause

            save_root_cause(call_id, "courier lost the parcel")
        assert ann.sync().returncode == 0
        doc, transcript, prompts = team.su.execute("SELECT doc, transcript, prompts FROM cc.calls").fetchone()
        assert transcript is None and doc["segments"] == [] and doc["root_cause"] is None
        assert "coffee" not in json.dumps(doc) and "courier" not in json.dumps(doc)
        assert prompts > 0 and doc["turns"] and doc["pace"]
        assert team.count("SELECT count(*) FROM cc.call_audio") == 0
    finally:
        team.close()


# --- the numbers -------------------------------------------------------------------------------
def test_backoff_grows_from_5_s_to_10_minutes_and_stays_there():
    from companion.team.settings import tuning

    t = tuning()  # resources/team.toml, as installed
    assert t == SyncTuning()
    assert [t.backoff(n) for n in (1, 2, 3, 4)] == [5.0, 10.0, 20.0, 40.0]
    assert t.backoff(8) == 600.0 and t.backoff(10_000) == 600.0
    assert 480.0 <= t.backoff(50, rand=1.0) <= 600.0  # jitter only ever shortens a wait, by at most 20 %


def test_the_worker_sends_a_recorded_call_with_its_finished_audio(pg_server, tmp_path):  # noqa: F811
    """The call's row is closed (and queued) a moment before its FLAC is finished: the worker, woken at
    once, waits for the file rather than sending half of it."""
    import soundfile as sf

    from companion.team.sync_worker import start_sync

    team = TeamDb(pg_server, share_text=True, share_audio=True)
    try:
        [ann] = agents(team, tmp_path, "ann")
        with ann.here():
            worker = start_sync()
            try:
                call_id = ann.live_call(record_audio=True)
                _wait(lambda: team.count("SELECT count(*) FROM cc.call_audio") == 1 and ann.pending() == 0)
            finally:
                worker.stop()
        db = ann.store()
        recording = db.execute("SELECT recording FROM calls WHERE id = ?", (call_id,)).fetchone()[0]
        db.close()
        flac = bytes(team.su.execute("SELECT flac FROM cc.call_audio").fetchone()[0])
        assert flac == open(recording, "rb").read()
        info = sf.info(recording)
        from companion.demo import demo_recording
        assert info.duration == pytest.approx(sf.info(str(demo_recording())).duration, abs=1.0)  # the whole call
    finally:
        team.close()


def test_a_fifth_version_store_gets_a_uuid_for_every_call_and_an_empty_outbox(tmp_path, monkeypatch):
    import uuid

    from companion.store.db import open_store
    from companion.store.schema import MIGRATIONS, VERSION

    data = tmp_path / "old"
    data.mkdir()
    monkeypatch.setenv("COMPANION_DATA_DIR", str(data))
    old = sqlite3.connect(str(data / "calls.sqlite3"))
    old.executescript("".join(MIGRATIONS[:5]) + "PRAGMA user_version = 5;")
    for _ in range(20):
        old.execute("INSERT INTO calls(started_at, source, status) VALUES ('2026-01-02T10:00:00+00:00', 'live', 'complete')")
    old.execute("INSERT INTO comments(call_id, t, author, text, created_at) VALUES (1, 3, 'me', 'a note', '2026-01-02')")
    old.commit()
    old.close()
    db = open_store()
    assert db.execute("PRAGMA user_version").fetchone()[0] == VERSION
    ids = [r[0] for r in db.execute("SELECT uuid FROM calls")]
    assert len(set(ids)) == 20 and all(uuid.UUID(i).version == 4 for i in ids)
    assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0  # calls from before are not sent
    assert [tuple(r) for r in db.execute("SELECT server_id FROM comments")] == [(None,)]
    from companion.store.rows import insert_call

    with db:
        new = insert_call(db, "2026-01-03T10:00:00+00:00", "live", None)
    assert uuid.UUID(db.execute("SELECT uuid FROM calls WHERE id = ?", (new,)).fetchone()[0]).version == 4
    with pytest.raises(sqlite3.IntegrityError):
        with db:
            db.execute("UPDATE calls SET uuid = ? WHERE id = ?", (ids[0], new))  # one UUID, one call


def test_an_admin_sets_a_server_up_and_adds_people_with_the_commands(pg_server, tmp_path):  # noqa: F811
    import uuid

    sfx = uuid.uuid4().hex[:6]
    dbname = f"ccadmin_{sfx}"
    pg_server.create_database(dbname)
    admin_env = dict(os.environ, COMPANION_CONFIG_DIR=str(tmp_path / "admin" / "config"),
                     COMPANION_DATA_DIR=str(tmp_path / "admin" / "data"), PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
                     PGPASSFILE=str(tmp_path / "none"))
    admin_env.pop("PGPASSWORD", None)
    dsn = pg_server.dsn(pg_server.superuser, dbname=dbname)

    def admin(*args, input=None, **extra):
        return subprocess.run([sys.executable, "-m", "ui", "team", *args], input=input, capture_output=True,
                              text=True, env=dict(admin_env, **extra), cwd=OUTSIDE, timeout=120)

    try:
        init = admin("init", dsn, "--share-text", "--password-stdin", input=pg_server.superuser_password + "\n")
        assert init.returncode == 0, init.stderr
        assert f"is ready (schema version {SCHEMA_VERSION})" in one_line(init) and "redacted" in init.stderr
        added = admin("add-agent", f"ann{sfx}", "--team", "north", PGPASSWORD=pg_server.superuser_password)
        assert added.returncode == 0, added.stderr
        password = added.stdout.strip()  # printed once, on stdout
        assert len(password) >= 16 and password not in added.stderr
        sup = admin("add-supervisor", f"sue{sfx}", "--team", "north", "--password-stdin", input="sue's own secret\n",
                    PGPASSWORD=pg_server.superuser_password)
        assert sup.returncode == 0 and sup.stdout == "", sup.stderr
        assert pg_server.superuser_password not in (tmp_path / "admin" / "config" / "team.toml").read_text()

        agent_env = dict(admin_env, COMPANION_CONFIG_DIR=str(tmp_path / "ann" / "config"),
                         COMPANION_DATA_DIR=str(tmp_path / "ann" / "data"))
        joined = subprocess.run([sys.executable, "-m", "ui", "team", "connect",
                                 pg_server.dsn(f"ann{sfx}", dbname=dbname), "--password-stdin"], input=password + "\n",
                                capture_output=True, text=True, env=agent_env, cwd=OUTSIDE, timeout=120)
        assert joined.returncode == 1 and f"as agent (schema version {SCHEMA_VERSION})" in joined.stderr  # no keyring
        sue = psycopg.connect(pg_server.dsn(f"sue{sfx}", "sue's own secret", dbname=dbname))
        assert sue.execute("SELECT count(*) FROM cc.calls").fetchone()[0] == 0
        sue.close()
        wrong = admin("add-agent", "Not A Name!", "--team", "north", PGPASSWORD=pg_server.superuser_password)
        assert wrong.returncode == 2 and "cannot be a team member's name" in one_line(wrong)
    finally:
        with psycopg.connect(pg_server.superuser_dsn, autocommit=True) as su:
            su.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            for name in (f"ann{sfx}", f"sue{sfx}"):
                su.execute(f'DROP ROLE IF EXISTS "{name}"')
