"""The team server's promises, on a real PostgreSQL server (tests/pg_server.py), no mocks of the
database: every "cannot" below is a query made as that person's own login role, refused or
answered with nothing by the server's row-level security and grants."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest

from companion.store.redaction import redact
from companion.team import admin, queries, server_calls
from companion.team.connection import connect, role_kind
from companion.team.errors import TeamError, TeamUnreachable
from companion.team.server_schema import MIGRATIONS, SCHEMA_VERSION, check_version, migrate
from tests.pg_server import pg_server  # noqa: F401  (the session's server)

CARD_WORDS = "four one one one one one one one one one one one one one one one"


class Team:
    """A fresh database set up with `init`, two teams: north (agents ann, bob; supervisor sue) and
    south (agent cat; supervisor sam). Role names get a suffix: roles are server-wide."""

    def __init__(self, server, share_text=True, share_audio=True):
        self.server, self.sfx = server, uuid.uuid4().hex[:6]
        self.dbname = f"cc_{self.sfx}"
        self.su = psycopg.connect(server.create_database(self.dbname), autocommit=True)
        admin.init_server(self.su, share_text=share_text, share_audio=share_audio)
        self.passwords: dict[str, str] = {}
        self.conns: list = []
        for base, team, kind in (("ann", "north", "agent"), ("bob", "north", "agent"), ("sue", "north", "supervisor"),
                                 ("cat", "south", "agent"), ("sam", "south", "supervisor")):
            self.passwords[self.name(base)] = admin.add_member(self.su, self.name(base), team, kind)

    def name(self, base: str) -> str:
        return f"{base}{self.sfx}"

    def dsn(self, base: str, **params) -> str:
        return self.server.dsn(self.name(base), dbname=self.dbname, **params)

    def connect(self, base: str, **kw):
        conn = connect(self.dsn(base), password=self.passwords[self.name(base)], **kw)
        self.conns.append(conn)
        return conn

    def raw(self, base: str):
        """A plain psycopg connection as that person: for the statements the app would never send."""
        conn = psycopg.connect(self.dsn(base, password=self.passwords[self.name(base)]), autocommit=True)
        self.conns.append(conn)
        return conn

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
        self.su.close()
        with psycopg.connect(self.server.superuser_dsn, autocommit=True) as su:
            su.execute(f'DROP DATABASE "{self.dbname}" WITH (FORCE)')
            for name in self.passwords:
                su.execute(f'DROP ROLE IF EXISTS "{name}"')


@pytest.fixture
def team(pg_server):  # noqa: F811
    t = Team(pg_server)
    yield t
    t.close()


def call_doc(said="the parcel never arrived and nobody called me back", **over) -> dict:
    doc = {
        "uuid": str(uuid.uuid4()), "started_at": "2026-11-30T10:00:00+00:00", "duration_s": 184.5,
        "status": "complete", "source": "live", "playbook": "delivery", "pace_source": "asr", "agent_wpm": 152.0,
        "agent_talk_ratio": 0.46, "longest_agent_monologue_s": 21.0, "customer_mood": "tense", "upset_s": 0.0,
        "turns": [{"party": "customer", "start": 0.0, "end": 4.0}, {"party": "agent", "start": 4.5, "end": 9.0}],
        "segments": [{"party": "customer", "start": 0.2, "end": 3.8, "text": said},
                     {"party": "agent", "start": 4.6, "end": 8.8, "text": "i am sorry to hear that let me check"}],
        "prompts": [{"t": 5.0, "kind": "slow_down", "reason": "pace 190 wpm"},
                    {"t": 7.0, "kind": "keep_listening", "reason": "customer still talking"}],
        "interruptions": [{"t": 4.4, "by": "agent", "overlap_s": 0.6}, {"t": 8.0, "by": "customer", "overlap_s": 0.3}],
        "pace": [{"t": 5.0, "wpm": 150.0}, {"t": 6.0, "wpm": 190.0}],
        "checklist": [{"step_id": "greet", "title": "Greet", "t": 1.0, "source": "asr", "done": True}],
        "root_cause": "the courier lost it",
        "customer_states": [{"t": 2.0, "state": "calm"}, {"t": 3.0, "state": "tense"}],
        "pauses": [], "audio_flac": None,
    }
    doc.update(over)
    return doc


def count(conn, sql: str, *args) -> int:
    return conn.execute(sql, args).fetchone()[0]


# --- set-up ---------------------------------------------------------------------------------
def test_init_is_idempotent_and_sets_the_policy(team):
    policies = count(team.su, "SELECT count(*) FROM pg_policies WHERE schemaname = 'cc'")
    assert admin.init_server(team.su, share_text=False, share_audio=False) == SCHEMA_VERSION
    assert admin.init_server(team.su, share_text=True, share_audio=False) == SCHEMA_VERSION
    assert count(team.su, "SELECT count(*) FROM cc.cc_schema") == 1
    assert count(team.su, "SELECT count(*) FROM pg_policies WHERE schemaname = 'cc'") == policies
    assert server_calls.policy(team.su) == {"share_text": True, "share_audio": False}
    for table in ("calls", "call_audio", "comments"):
        assert team.su.execute("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass",
                               (f"cc.{table}",)).fetchone() == (True, True)
    assert role_kind(team.connect("ann")) == "agent" and role_kind(team.connect("sue")) == "supervisor"


def test_init_upgrades_an_older_schema_and_a_newer_one_is_refused(team):
    newer = MIGRATIONS + ((2, "ALTER TABLE cc.calls ADD COLUMN wrap_up_s real"),)
    assert migrate(team.su, newer) == 2  # a later app's init on this server: only version 2 is applied
    assert [r[0] for r in team.su.execute("SELECT version FROM cc.cc_schema ORDER BY version")] == [1, 2]
    with pytest.raises(TeamError, match="schema is version 2; this app knows version 1 — update Call Companion"):
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


# --- text -----------------------------------------------------------------------------------
def test_full_text_search_finds_a_call_by_a_spoken_word(team):
    parcel, other = call_doc("my parcels never came"), call_doc("i want to cancel my subscription")
    server_calls.upsert_call(team.connect("ann"), parcel)
    server_calls.upsert_call(team.connect("bob"), other)
    sue = team.connect("sue")
    found = queries.list_calls(sue, text="parcel")  # stemmed: "parcels" was said
    assert [c["uuid"] for c in found] == [parcel["uuid"]] and found[0]["rank"] > 0
    assert [c["uuid"] for c in queries.list_calls(sue, text='"cancel my subscription"')] == [other["uuid"]]
    assert queries.list_calls(sue, text="refund") == []
    assert queries.list_calls(team.connect("sam"), text="parcel") == []  # not south's
    assert queries.list_calls(team.connect("bob"), text="parcel") == []  # nor another agent's
    # the search function itself (it skips row-level security to use the index) narrows to the caller
    assert count(team.raw("bob"), "SELECT count(*) FROM cc.text_matches('parcel')") == 0
    assert count(team.raw("ann"), "SELECT count(*) FROM cc.text_matches('parcel')") == 1
    assert count(team.raw("sam"), "SELECT count(*) FROM cc.text_matches('parcel')") == 0


def test_a_redacted_card_number_is_not_on_the_server(team):
    redacted = redact(f"my card number is {CARD_WORDS}")
    assert "one one one" not in redacted and "[card]" in redacted
    ann = team.connect("ann")
    server_calls.upsert_call(ann, call_doc(redacted))
    # a client that forgot to redact (or a user who turned redaction off locally): redacted here too
    server_calls.upsert_call(ann, call_doc(f"it is {CARD_WORDS} and 4111 1111 1111 1111",
                                           root_cause="card 4111111111111111"))
    dump = " ".join(r[0] for r in team.su.execute("SELECT c::text FROM cc.calls c"))
    assert "[card]" in dump
    assert "4111" not in dump and "one one one one" not in dump
    assert queries.list_calls(team.connect("sue"), text="card")


def test_without_share_text_no_words_are_stored(pg_server):  # noqa: F811
    team = Team(pg_server, share_text=False, share_audio=False)
    try:
        ann = team.connect("ann")
        doc = call_doc("the parcel never arrived", audio_flac=b"fLaC" + b"\0" * 64)
        server_calls.upsert_call(ann, doc)
        row = team.su.execute("SELECT transcript, doc->'segments', doc->'root_cause', tsv::text, prompts "
                              "FROM cc.calls").fetchone()
        assert row == (None, [], None, "", 2)
        assert count(team.su, "SELECT count(*) FROM cc.call_audio") == 0
        assert queries.list_calls(team.connect("sue"), text="parcel") == []
        # an older client that ignores the policy: the server strips the text itself
        team.raw("ann").execute("INSERT INTO cc.calls (uuid, started_at, status, doc, transcript) VALUES "
                                "(%s, now(), 'complete', %s, 'the parcel')",
                                (str(uuid.uuid4()), psycopg.types.json.Jsonb({"segments": [{"text": "parcel"}]})))
        assert count(team.su, "SELECT count(*) FROM cc.calls WHERE transcript IS NOT NULL "
                              "OR doc->'segments' <> '[]'::jsonb") == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # nor audio behind the policy's back
            team.raw("ann").execute("INSERT INTO cc.call_audio (uuid, flac) VALUES (%s, 'x')", (doc["uuid"],))
    finally:
        team.close()


def test_audio_goes_up_and_comes_back_when_the_policy_shares_it(team):
    doc = call_doc(audio_flac=b"fLaC" + bytes(range(256)) * 40)
    server_calls.upsert_call(team.connect("ann"), doc)
    assert queries.load_call(team.connect("sue"), doc["uuid"])["audio_flac"] == doc["audio_flac"]
    assert queries.list_calls(team.connect("sue"))[0]["has_audio"] is True
    with pytest.raises(TeamError):
        queries.load_call(team.connect("bob"), doc["uuid"])


# --- filters and the dashboard --------------------------------------------------------------
def test_the_team_list_filters(team):
    ann, bob, sue = team.connect("ann"), team.connect("bob"), team.connect("sue")
    early = call_doc(started_at="2026-11-02T09:00:00+00:00", prompts=[{"t": 1, "kind": "dead_air", "reason": "x"}])
    crashed = call_doc(started_at="2026-11-20T09:00:00Z", status="active", prompts=[])
    late = call_doc(started_at="2026-11-28T09:00:00+00:00")
    for conn, doc in ((ann, early), (ann, crashed), (bob, late)):
        server_calls.upsert_call(conn, doc)
    queries.set_reviewed(sue, late["uuid"])

    def uuids(**f):
        return [c["uuid"] for c in queries.list_calls(sue, **f)]

    assert uuids() == [late["uuid"], crashed["uuid"], early["uuid"]]
    assert uuids(agent=team.name("ann")) == [crashed["uuid"], early["uuid"]]
    assert uuids(team="north", since="2026-11-10", until="2026-11-25") == [crashed["uuid"]]
    assert uuids(prompt_kind="dead_air") == [early["uuid"]]
    assert uuids(interrupted=True) == [crashed["uuid"]]
    assert uuids(reviewed=True) == [late["uuid"]] and late["uuid"] not in uuids(reviewed=False)
    assert uuids(limit=1, offset=1) == [crashed["uuid"]]
    assert uuids(team="south") == []


def test_weekly_figures_per_agent_from_the_rollup(team):
    ann, bob, cat, sue = (team.connect(w) for w in ("ann", "bob", "cat", "sue"))
    week = "2026-11-30"  # a Monday
    for n in range(3):
        server_calls.upsert_call(ann, call_doc(started_at=f"{week}T1{n}:00:00Z", agent_wpm=140.0 + 10 * n,
                                               customer_mood="upset" if n == 0 else "calm", upset_s=12.0))
    server_calls.upsert_call(bob, call_doc(started_at="2026-12-08T10:00:00Z", prompts=[]))
    server_calls.upsert_call(cat, call_doc(started_at=f"{week}T10:00:00Z"))
    queries.set_reviewed(sue, queries.list_calls(sue, agent=team.name("ann"))[0]["uuid"])
    assert queries.refresh_rollup(sue)
    rows = {(r["agent"], r["week"]): r for r in queries.weekly(sue, weeks=520)}
    assert set(rows) == {(team.name("ann"), week), (team.name("bob"), "2026-12-07")}  # not cat: south
    a = rows[(team.name("ann"), week)]
    assert (a["calls"], a["prompts_per_call"], a["interruptions_per_call"], a["calls_reviewed"], a["upset_calls"]) == \
        (3, 2.0, 1.0, 1, 1)
    assert a["prompts_per_call_by_kind"] == {"keep_listening": 1.0, "slow_down": 1.0}
    assert a["avg_wpm"] == 150.0 and a["avg_talk_share"] == pytest.approx(0.46) and a["team"] == "north"
    assert rows[(team.name("bob"), "2026-12-07")]["prompts_per_call"] == 0.0
    csv_text = queries.weekly_csv(list(rows.values()))
    assert csv_text.splitlines()[0].startswith("week,agent,team,calls,prompts_per_call,slow_down_per_call")
    assert f"{week},{team.name('ann')},north,3,2.0" in csv_text
    assert [r["agent"] for r in queries.weekly(team.connect("cat"), weeks=520)] == [team.name("cat")]


# --- when things go wrong -------------------------------------------------------------------
def test_an_older_client_against_a_newer_schema_writes_nothing(team):
    ann = team.connect("ann")
    team.su.execute("INSERT INTO cc.cc_schema (version) VALUES (2)")  # a newer app's init ran
    with pytest.raises(TeamError, match=r"schema is version 2; this app knows version 1 — update Call Companion\. "
                                        r"Nothing was sent\.") as raised:
        server_calls.upsert_call(ann, call_doc())
    assert not raised.value.retry
    assert count(team.su, "SELECT count(*) FROM cc.calls") == 0
    with pytest.raises(TeamError, match="update Call Companion"):
        team.connect("ann")


def test_an_older_or_missing_schema_asks_for_init(team, pg_server):  # noqa: F811
    team.su.execute("DELETE FROM cc.cc_schema")
    with pytest.raises(TeamError, match=r"version 0; this app needs version 1 — ask your admin to run "
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


# --- passwords and TLS ----------------------------------------------------------------------
class _MemoryKeyring:
    priority = 1

    def __init__(self):
        self.kept = {}

    def get_password(self, service, key):
        return self.kept.get((service, key))

    def set_password(self, service, key, password):
        self.kept[(service, key)] = password

    def delete_password(self, service, key):
        self.kept.pop((service, key), None)


class _BrokenKeyring(_MemoryKeyring):
    def get_password(self, service, key):
        import keyring.errors

        raise keyring.errors.KeyringError("no Secret Service on this machine")

    set_password = get_password


@pytest.fixture
def keyring_backend():
    import keyring
    import keyring.backend

    before = keyring.get_keyring()

    def use(kind):
        backend = type(kind.__name__, (kind, keyring.backend.KeyringBackend), {})()
        keyring.set_keyring(backend)
        return backend

    yield use
    keyring.set_keyring(before)


def test_the_password_comes_from_the_keyring_or_pgpass(team, keyring_backend, tmp_path, monkeypatch):
    from companion.team.connection import save_password

    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    dsn, password = team.dsn("ann"), team.passwords[team.name("ann")]
    keyring_backend(_MemoryKeyring)
    save_password(dsn, password)
    connect(dsn).close()  # from the keyring
    keyring_backend(_BrokenKeyring)
    with pytest.raises(TeamError, match=r"OS keyring is not available \(no Secret Service on this machine\) and "
                                        r"~/\.pgpass has none"):
        connect(dsn)
    with pytest.raises(TeamError, match="~/.pgpass instead"):
        save_password(dsn, password)
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{team.server.port}:{team.dbname}:{team.name('ann')}:{password}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    connect(dsn).close()  # the broken keyring falls back to ~/.pgpass, without a word
    with pytest.raises(TeamError, match=f"refused the password for {team.name('ann')}"):
        connect(dsn, password="not it")


def test_verify_full_tls_with_a_self_signed_ca(team, pg_server):  # noqa: F811
    tls = pg_server.ssl_setup()
    password = team.passwords[team.name("ann")]
    conn = connect(team.dsn("ann", host=tls.hostname, sslmode="verify-full", sslrootcert=str(tls.ca)), password)
    assert conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone() == (True,)
    conn.close()
    with pytest.raises(TeamError, match="not signed by the CA you trust") as raised:
        connect(team.dsn("ann", host=tls.hostname, sslmode="verify-full", sslrootcert=str(tls.wrong_ca)), password)
    assert not raised.value.retry
    with pytest.raises(TeamError, match="TLS certificate is not for 127.0.0.1"):
        connect(team.dsn("ann", host="127.0.0.1", sslmode="verify-full", sslrootcert=str(tls.ca)), password)
    with pytest.raises(TeamError, match="CA file .* is missing"):
        connect(team.dsn("ann", host=tls.hostname, sslmode="verify-full", sslrootcert="/nonexistent/ca.crt"), password)
