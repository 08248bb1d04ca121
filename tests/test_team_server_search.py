"""The team server's promises, on a real PostgreSQL server (tests/pg_server.py), no mocks of the
database, continued from test_team_server.py: full-text search under row-level security, redaction
and the share-text/share-audio policy on the server, the supervisors' filters and weekly dashboard,
and how the app finds the password (keyring, ~/.pgpass) and checks the server's TLS certificate."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from companion.store.redaction import redact
from companion.team import server_calls
from companion.team import server_queries as queries
from companion.team.connection import connect
from companion.team.errors import TeamError
from tests.pg_server import pg_server  # noqa: F401  (the session's server)
from tests.team_server_fixtures import CARD_WORDS, Team, call_doc, count, team  # noqa: F401  (team: the fixture)


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
