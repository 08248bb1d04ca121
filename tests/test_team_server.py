"""The team server's promises, on a real PostgreSQL server (tests/pg_server.py), no mocks of the
database: every "cannot" below is a query made as that person's own login role, refused or
answered with nothing by the server's row-level security and grants. Here: setting the server up
and its schema versions, who may upload and read which calls, comments and reviews, and what
happens when things go wrong (a newer or missing schema, a revoked role, a stopped server, a
dropped connection). Search, filters, the dashboard, passwords and TLS: test_team_server_search.py."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest

from companion.team import server_admin as admin
from companion.team import server_calls
from companion.team import server_queries as queries
from companion.team.connection import connect, role_kind
from companion.team.errors import TeamError, TeamUnreachable
from companion.team.server_schema import MIGRATIONS, SCHEMA_VERSION, check_version, migrate
from tests.pg_server import pg_server  # noqa: F401  (the session's server)
from tests.team_server_fixtures import call_doc, count, team  # noqa: F401  (team: the fixture)


# --- set-up ---------------------------------------------------------------------------------
def test_init_is_idempotent_and_sets_the_policy(team):
    policies = count(team.su, "SELECT count(*) FROM pg_policies WHERE schemaname = 'cc'")
    assert admin.init_server(team.su, share_text=False, share_audio=False) == SCHEMA_VERSION
    assert admin.init_server(team.su, share_text=True, share_audio=False) == SCHEMA_VERSION
    assert count(team.su, "SELECT count(*) FROM cc.cc_schema") == SCHEMA_VERSION
    assert count(team.su, "SELECT count(*) FROM pg_policies WHERE schemaname = 'cc'") == policies
    assert server_calls.policy(team.su) == {"share_text": True, "share_audio": False}
    for table in ("calls", "call_audio", "comments"):
        assert team.su.execute("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass",
                               (f"cc.{table}",)).fetchone() == (True, True)
    assert role_kind(team.connect("ann")) == "agent" and role_kind(team.connect("sue")) == "supervisor"


def test_init_upgrades_an_older_schema_and_a_newer_one_is_refused(team):
    later = SCHEMA_VERSION + 1
    newer = MIGRATIONS + ((later, "ALTER TABLE cc.calls ADD COLUMN wrap_up_s real"),)
    assert migrate(team.su, newer) == later  # a later app's init on this server: only the newest is applied
    assert [r[0] for r in team.su.execute("SELECT version FROM cc.cc_schema ORDER BY version")] == \
        list(range(1, later + 1))
    with pytest.raises(TeamError, match=f"schema is version {later}; this app knows version {SCHEMA_VERSION} — "
                                        "update Call Companion"):
        admin.init_server(team.su, share_text=True, share_audio=True)  # this (older) app's init changes nothing


def test_a_database_owner_who_is_not_a_superuser_can_set_the_server_up(pg_server):  # noqa: F811
    sfx = uuid.uuid4().hex[:6]
    with psycopg.connect(pg_server.superuser_dsn, autocommit=True) as su:
        su.execute(f"CREATE ROLE own{sfx} LOGIN CREATEROLE PASSWORD 'owner-pw'")
        su.execute(f"CREATE DATABASE db{sfx} OWNER own{sfx}")
    with psycopg.connect(pg_server.dsn(f"own{sfx}", "owner-pw", dbname=f"db{sfx}"), autocommit=True) as owner:
        admin.init_server(owner, share_text=True, share_audio=False)  # btree_gin is a trusted extension
        agent = admin.add_member(owner, f"ag{sfx}", "t", "agent")
        with connect(pg_server.dsn(f"ag{sfx}", dbname=f"db{sfx}"), agent) as conn:
            server_calls.upsert_call(conn, call_doc())
        assert len(queries.list_calls(owner, text="parcel")) == 1  # the owner is an admin, under FORCEd security
    with psycopg.connect(pg_server.superuser_dsn, autocommit=True) as su:
        su.execute(f"DROP DATABASE db{sfx} WITH (FORCE)")
        su.execute(f"DROP ROLE ag{sfx}")
        su.execute(f"DROP ROLE own{sfx}")


# --- uploads --------------------------------------------------------------------------------
def test_a_call_sent_twice_is_stored_once(team):
    ann = team.connect("ann")
    doc = call_doc()
    server_calls.upsert_call(ann, doc)
    first = team.su.execute("SELECT received_at FROM cc.calls WHERE uuid = %s", (doc["uuid"],)).fetchone()[0]
    server_calls.upsert_call(ann, doc)
    server_calls.upsert_call(ann, dict(doc, duration_s=200.0, status="interrupted"))
    rows = team.su.execute("SELECT agent_role, team, duration_s, status, received_at, prompts, prompt_counts, "
                           "interruptions_by_agent FROM cc.calls").fetchall()
    assert rows == [(team.name("ann"), "north", 200.0, "interrupted", first, 2,
                     {"slow_down": 1, "keep_listening": 1}, 1)]


def test_agent_cannot_read_another_agents_call(team):
    ann, bob = team.connect("ann"), team.connect("bob")
    mine, theirs = call_doc(), call_doc("my order is missing")
    server_calls.upsert_call(ann, mine)
    server_calls.upsert_call(bob, theirs)
    assert [c["uuid"] for c in queries.list_calls(ann)] == [mine["uuid"]]
    assert count(team.raw("ann"), "SELECT count(*) FROM cc.calls") == 1
    assert count(team.raw("ann"), "SELECT count(*) FROM cc.calls WHERE uuid = %s", theirs["uuid"]) == 0
    with pytest.raises(TeamError, match="no call .* that you may see"):
        queries.load_call(ann, theirs["uuid"])
    assert queries.load_call(ann, mine["uuid"])["agent"] == team.name("ann")


def test_nobody_can_upload_as_someone_else(team):
    ann, bob = team.connect("ann"), team.connect("bob")
    doc = call_doc(agent=team.name("bob"), agent_role=team.name("bob"))
    server_calls.upsert_call(ann, doc)  # the document's agent field is not believed
    assert team.su.execute("SELECT agent_role FROM cc.calls").fetchall() == [(team.name("ann"),)]
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        team.raw("ann").execute("INSERT INTO cc.calls (uuid, agent_role, started_at, status, doc) "
                                "VALUES (%s, %s, now(), 'complete', '{}')", (str(uuid.uuid4()), team.name("bob")))
    for sent in (doc, dict(doc, duration_s=1.0)):  # bob sending ann's call by its uuid, as it is or changed
        with pytest.raises(TeamError, match="does not allow"):
            server_calls.upsert_call(bob, sent)
    assert team.su.execute("SELECT agent_role, duration_s FROM cc.calls").fetchall() == [(team.name("ann"), 184.5)]


def test_a_supervisor_sees_their_teams_agents_and_no_other_team(team):
    docs = {who: call_doc() for who in ("ann", "bob", "cat")}
    for who, doc in docs.items():
        server_calls.upsert_call(team.connect(who), doc)
    sue, sam = team.connect("sue"), team.connect("sam")
    assert {c["agent"] for c in queries.list_calls(sue)} == {team.name("ann"), team.name("bob")}
    assert {c["agent"] for c in queries.list_calls(sam)} == {team.name("cat")}
    with pytest.raises(TeamError):
        queries.load_call(sam, docs["ann"]["uuid"])
    call = queries.load_call(sue, docs["ann"]["uuid"])
    assert call["turns"][0]["text"].startswith("the parcel") and call["call"]["segments"][1]["party"] == "agent"
    assert [p["kind"] for p in call["prompts"]] == ["slow_down", "keep_listening"]


# --- comments and reviews -------------------------------------------------------------------
def test_only_supervisors_comment_and_only_on_their_teams_calls(team):
    doc = call_doc()
    server_calls.upsert_call(team.connect("ann"), doc)
    with pytest.raises(TeamError, match="Only supervisors can comment"):
        queries.add_comment(team.connect("ann"), doc["uuid"], "I did well")
    with pytest.raises(TeamError, match="Only supervisors can comment"):
        queries.add_comment(team.connect("sam"), doc["uuid"], "not my team")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):  # nor as someone else
        team.raw("sue").execute("INSERT INTO cc.comments (call_uuid, author_role, text) VALUES (%s, %s, 'x')",
                                (doc["uuid"], team.name("sam")))
    comment = queries.add_comment(team.connect("sue"), doc["uuid"], "Good recovery at 0:05", t=5.0)
    assert comment["author"] == team.name("sue")
    back = queries.load_call(team.connect("ann"), doc["uuid"])
    assert [c["text"] for c in back["comments"]] == ["Good recovery at 0:05"]
    assert [(c["t"], c["author"]) for c in back["call"]["comments"]] == [(5.0, team.name("sue"))]  # the replay's shape


def test_review_status_and_comments_come_back_to_the_agent(team):
    ann, sue = team.connect("ann"), team.connect("sue")
    doc, other = call_doc(), call_doc()
    server_calls.upsert_call(ann, doc)
    server_calls.upsert_call(team.connect("bob"), other)
    assert server_calls.feedback_since(ann, None) == []
    queries.add_comment(sue, doc["uuid"], "Let them finish before you answer", t=4.4)
    queries.set_reviewed(sue, doc["uuid"])
    with pytest.raises(TeamError, match="Only supervisors can mark"):
        queries.set_reviewed(ann, doc["uuid"], False)
    items = server_calls.feedback_since(ann, None)
    assert [(i["type"], i["call_uuid"]) for i in items] == [("comment", doc["uuid"]), ("review", doc["uuid"])]
    assert items[0]["author"] == team.name("sue") and items[0]["t"] == pytest.approx(4.4)
    assert items[1]["reviewed"] is True and items[1]["by"] == team.name("sue")
    assert server_calls.feedback_since(team.connect("bob"), None) == []  # bob's call got nothing
    newest = items[-1]["at"]
    time.sleep(0.01)
    queries.add_comment(sue, doc["uuid"], "And well done on the refund")
    later = server_calls.feedback_since(ann, newest)
    assert [i.get("text") for i in later if i["type"] == "comment"] == ["And well done on the refund"]
    server_calls.upsert_call(ann, dict(doc, duration_s=190.0))  # a re-sent call keeps its review
    assert queries.list_calls(sue, reviewed=True)[0]["uuid"] == doc["uuid"]


# --- when things go wrong -------------------------------------------------------------------
def test_an_older_client_against_a_newer_schema_writes_nothing(team):
    ann = team.connect("ann")
    team.su.execute("INSERT INTO cc.cc_schema (version) VALUES (%s)", (SCHEMA_VERSION + 1,))  # a newer app's init ran
    with pytest.raises(TeamError, match=rf"schema is version {SCHEMA_VERSION + 1}; this app knows version "
                                        rf"{SCHEMA_VERSION} — update Call Companion\. "
                                        r"Nothing was sent\.") as raised:
        server_calls.upsert_call(ann, call_doc())
    assert not raised.value.retry
    assert count(team.su, "SELECT count(*) FROM cc.calls") == 0
    with pytest.raises(TeamError, match="update Call Companion"):
        team.connect("ann")


def test_an_older_or_missing_schema_asks_for_init(team, pg_server):  # noqa: F811
    team.su.execute("DELETE FROM cc.cc_schema")
    with pytest.raises(TeamError, match=rf"version 0; this app needs version {SCHEMA_VERSION} — ask your admin to run "
                                        r"`companion team init`"):
        check_version(team.su)
    bare = pg_server.create_database(f"bare_{team.sfx}")
    with psycopg.connect(bare, autocommit=True) as conn, pytest.raises(TeamError, match="no Call Companion schema yet"):
        server_calls.upsert_call(conn, call_doc())
    with psycopg.connect(pg_server.superuser_dsn, autocommit=True) as su:
        su.execute(f'DROP DATABASE "bare_{team.sfx}"')


def test_a_revoked_role_gets_a_clear_message_and_the_calls_stay(team):
    ann = team.connect("ann")
    doc = call_doc()
    server_calls.upsert_call(ann, doc)
    admin.revoke_member(team.su, team.name("ann"))
    with pytest.raises(TeamError):  # the open session was ended (or is refused)
        server_calls.upsert_call(ann, call_doc())
    bob = team.connect("bob")
    team.su.execute(f'REVOKE cc_agent FROM "{team.name("bob")}"')  # revoked while connected, session not ended
    with pytest.raises(TeamError, match=r"no longer lets this account in "
                                        r"\(permission denied for schema cc: revoked\?\)"):
        server_calls.upsert_call(bob, call_doc())
    with pytest.raises(TeamError, match=f"account {team.name('ann')} has been revoked — ask your admin") as raised:
        team.connect("ann")
    assert not raised.value.retry
    assert count(team.su, "SELECT count(*) FROM cc.calls WHERE uuid = %s", doc["uuid"]) == 1
    assert [m["revoked"] for m in admin.members(team.su) if m["role"] == team.name("ann")] == [True]


def test_a_stopped_server_is_unreachable_then_back(team, pg_server):  # noqa: F811
    ann = team.connect("ann")
    pg_server.stop()
    try:
        with pytest.raises(TeamUnreachable, match="cannot be reached") as raised:
            team.connect("ann")
        assert raised.value.retry
        with pytest.raises(TeamUnreachable, match="connection to the team server was lost"):
            server_calls.upsert_call(ann, call_doc())
    finally:
        pg_server.start()
    team.su = psycopg.connect(pg_server.superuser_dsn_for(team.dbname), autocommit=True)
    server_calls.upsert_call(team.connect("ann"), call_doc())
    assert count(team.su, "SELECT count(*) FROM cc.calls") == 1


def test_a_connection_dropped_mid_transaction_keeps_nothing_half_written(team):
    ann = team.connect("ann")
    doc = call_doc()
    server_calls.upsert_call(ann, doc)
    blocker = psycopg.connect(team.server.superuser_dsn_for(team.dbname))
    blocker.execute("SELECT 1 FROM cc.calls WHERE uuid = %s FOR UPDATE", (doc["uuid"],))  # the upload will wait here
    raised = []
    worker = threading.Thread(target=lambda: _catch(raised, server_calls.upsert_call, ann,
                                                    dict(doc, duration_s=999.0, status="interrupted")))
    worker.start()
    pid = ann.info.backend_pid
    deadline = time.monotonic() + 10
    while count(team.su, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock'", pid) == 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    team.su.execute("SELECT pg_terminate_backend(%s)", (pid,))
    worker.join(10)
    blocker.rollback()
    blocker.close()
    assert raised and isinstance(raised[0], TeamUnreachable)
    assert team.su.execute("SELECT duration_s, status FROM cc.calls").fetchall() == [(184.5, "complete")]
    server_calls.upsert_call(team.connect("ann"), dict(doc, duration_s=999.0))  # the retry
    assert team.su.execute("SELECT count(*), max(duration_s) FROM cc.calls").fetchone() == (1, 999.0)


def _catch(into: list, fn, *args) -> None:
    try:
        fn(*args)
    except Exception as exc:  # noqa: BLE001 - handed back to the test
        into.append(exc)
