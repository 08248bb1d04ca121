"""No password in the clear (issue 20): every connection the app makes to a team server signs in with
SCRAM only, and a server on the network only with its certificate checked (sslmode=verify-full and a
CA), unless the user said --insecure-allow-plaintext for that address, which is then said every time.

On the real thing: the installed `companion team connect/status/sync` commands in processes of their
own; a hostile server on 127.0.0.1 (tests/fake_pg_server.py) that declines TLS and asks for the
password in clear text or as MD5, recording every byte; the session's PostgreSQL server
(tests/pg_server.py) with TLS on, its certificate for `localhost` and `team.example`. A network name
is reached on this machine with hostaddr=127.0.0.1: the name the user gave is what is judged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from companion.team.errors import TeamError
from companion.team.transport import plan
from tests.fake_pg_server import SSL_REQUEST, FakePgServer
from tests.installed import OUTSIDE
from tests.pg_server import pg_server  # noqa: F401  (the session's PostgreSQL server)
from tests.team_calls import Agent, TeamDb

PASSWORD = "correct horse battery staple 7"


@pytest.fixture
def tls(pg_server):  # noqa: F811
    return pg_server.ssl_setup()


@pytest.fixture
def team(pg_server):  # noqa: F811
    t = TeamDb(pg_server)
    yield t
    t.close()


class Machine:
    """An agent's machine with nothing on it but a ~/.pgpass that gives PASSWORD to any server."""

    def __init__(self, root: Path, password: str = PASSWORD):
        self.config, self.data = root / "config", root / "data"
        self.config.mkdir(parents=True)
        self.pgpass = root / "pgpass"
        self.pgpass.write_text(f"*:*:*:*:{password}\n")
        self.pgpass.chmod(0o600)

    def settings(self, dsn: str, insecure: bool = False) -> None:
        """team.toml as `team connect` writes it (by hand here: connect refuses these addresses)."""
        flag = "insecure_allow_plaintext = true\n" if insecure else ""
        (self.config / "team.toml").write_text(f"[server]\ndsn = {json.dumps(dsn)}\nrole = \"agent\"\n{flag}")

    def companion(self, *args: str, input: str = None) -> subprocess.CompletedProcess:
        env = dict(os.environ, COMPANION_CONFIG_DIR=str(self.config), COMPANION_DATA_DIR=str(self.data),
                   PGPASSFILE=str(self.pgpass), PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
        env.pop("PGPASSWORD", None)
        return subprocess.run([sys.executable, "-m", "ui", "team", *args], input=input, capture_output=True,
                              text=True, env=env, cwd=OUTSIDE, timeout=120)


def lines(run: subprocess.CompletedProcess) -> list[str]:
    return [line for line in run.stderr.splitlines() if line.strip()]


# --- a server that asks for the password in clear text -------------------------------------------
def test_the_fake_server_gets_the_password_from_a_client_that_does_not_refuse(tmp_path):
    """The hostile server works: plain libpq, as the app connected before, hands the password over."""
    with FakePgServer("cleartext") as fake:
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(f"host=127.0.0.1 port={fake.port} user=ann dbname=calls password='{PASSWORD}' "
                            "connect_timeout=5")
    assert fake.password_messages() == [PASSWORD.encode() + b"\0"]


NETWORK = "host=team.example hostaddr=127.0.0.1 port={port} dbname=calls user=ann"
CASES = [  # (address, --insecure-allow-plaintext, what the server may see, what the user is told, server asks)
    pytest.param(NETWORK, False, "nothing", "is on the network, and sslmode=prefer", "cleartext", id="network-name"),
    pytest.param(NETWORK + " sslmode=verify-full sslrootcert={ca}", False, "tls-request", "does not offer TLS",
                 "cleartext", id="network-name-verify-full"),
    pytest.param(NETWORK + " sslmode=disable", True, "startup", "asked for your password in clear text", "cleartext",
                 id="network-name-plaintext-allowed"),
    pytest.param(NETWORK + " sslmode=disable", True, "startup", "asked for an MD5 password hash", "md5",
                 id="network-name-plaintext-allowed-md5"),
    pytest.param("host=127.0.0.1 port={port} dbname=calls user=ann", False, "startup",
                 "asked for your password in clear text", "cleartext", id="loopback"),
    pytest.param("host=localhost port={port} dbname=calls user=ann", False, "startup",
                 "asked for an MD5 password hash", "md5", id="localhost-md5"),
]


@pytest.mark.parametrize("address, insecure, sees, told, asks", CASES)
def test_connect_status_and_sync_never_give_the_password_to_a_server_that_asks_for_it_in_clear(
        tmp_path, tls, address, insecure, sees, told, asks):
    machine = Machine(tmp_path)
    with FakePgServer(asks) as fake:
        dsn = address.format(port=fake.port, ca=tls.ca)
        flag = ["--insecure-allow-plaintext"] if insecure else []
        connect = machine.companion("connect", dsn, "--password-stdin", *flag, input=PASSWORD + "\n")
        assert connect.returncode == 2 and told in lines(connect)[-1], connect.stderr
        assert not (machine.config / "team.toml").exists()
        machine.settings(dsn, insecure)  # as if connected before: status and sync read it, and ~/.pgpass
        status = machine.companion("status")
        sync = machine.companion("sync")
    for run in (status, sync):
        assert run.returncode == 2 and told in run.stdout + run.stderr, run.stderr
    for run in (connect, status, sync):
        assert not any("Traceback" in line for line in lines(run))
        warned = [line for line in lines(run) if line.startswith("companion: WARNING")]
        assert len(warned) == (1 if insecure else 0), run.stderr  # said at every command when allowed
    assert PASSWORD.encode() not in fake.received and fake.password_messages() == []
    talks = fake.conversations
    if sees == "nothing":  # refused before a connection was even opened
        assert talks == []
    elif sees == "tls-request":  # asked for TLS, was declined, left: not even the user name was sent
        assert talks and all(t.requests == [SSL_REQUEST] and t.startup is None for t in talks)
    else:  # the sign-in began; the client ended it at the server's request for a password
        assert talks and all(t.startup and t.startup["user"] == "ann" and t.messages == [] for t in talks)


# --- the real server with TLS ------------------------------------------------------------------
def test_a_network_name_is_trusted_only_with_the_right_ca_and_the_right_name(team, tls, tmp_path):
    ann = Agent(team, "ann", tmp_path, pgpass=False)
    good = team.dsn("ann", host=tls.network_name, hostaddr="127.0.0.1", sslmode="verify-full", sslrootcert=str(tls.ca))
    wrong_ca = team.dsn("ann", host=tls.network_name, hostaddr="127.0.0.1", sslmode="verify-full",
                        sslrootcert=str(tls.wrong_ca))
    wrong_name = team.dsn("ann", host="other.example", hostaddr="127.0.0.1", sslmode="verify-full",
                          sslrootcert=str(tls.ca))
    no_ca = team.dsn("ann", host=tls.network_name, hostaddr="127.0.0.1", sslmode="verify-full")
    for dsn, told in ((wrong_ca, "not signed by the CA you trust"), (wrong_name, "not for other.example"),
                      (no_ca, "no CA is given — add sslrootcert=")):
        refused = ann.companion("team", "connect", dsn, "--password-stdin", input=ann.password + "\n",
                                HOME=str(tmp_path / "home"))
        assert refused.returncode == 2 and len(lines(refused)) == 1 and told in refused.stderr, refused.stderr
        assert not (ann.config / "team.toml").exists()
    joined = ann.companion("team", "connect", good, "--password-stdin", input=ann.password + "\n")
    assert joined.returncode == 1, joined.stderr  # no keyring here: the password is not kept (said below)
    [how] = [line for line in lines(joined) if line.startswith("companion: the connection:")]
    assert "TLS (TLSv1." in how and f"checked against {tls.ca} and is for {tls.network_name}" in how
    assert "SCRAM-SHA-256 and channel binding" in how and "WARNING" not in joined.stderr
    ann.pgpass.write_text(f"{tls.network_name}:{team.server.port}:{team.dbname}:{ann.role}:{ann.password}\n")
    ann.pgpass.chmod(0o600)
    ann.quick_calls(1)
    synced = ann.sync()
    assert synced.returncode == 0 and team.count() == 1, synced.stderr
    status = ann.companion("team", "status")
    assert status.returncode == 0 and "— connected" in status.stdout and status.stderr == ""
    # libpq's own default CA file, ~/.postgresql/root.crt, counts as the CA
    home = tmp_path / "home"
    (home / ".postgresql").mkdir(parents=True)
    (home / ".postgresql" / "root.crt").write_bytes(tls.ca.read_bytes())
    again = ann.companion("team", "connect", no_ca, "--password-stdin", input=ann.password + "\n", HOME=str(home))
    assert again.returncode == 0 and f"checked against {home}/.postgresql/root.crt" in again.stderr, again.stderr


def test_plaintext_to_a_network_name_is_refused_unless_asked_for_and_then_said_every_time(team, tls, tmp_path):
    ann = Agent(team, "ann", tmp_path, pgpass=False)
    plain = team.dsn("ann", host=tls.network_name, hostaddr="127.0.0.1", sslmode="disable")
    refused = ann.companion("team", "connect", plain, "--password-stdin", input=ann.password + "\n")
    assert refused.returncode == 2 and len(lines(refused)) == 1, refused.stderr
    assert "sslmode=disable does not check its certificate" in refused.stderr
    assert "--insecure-allow-plaintext" in refused.stderr and not (ann.config / "team.toml").exists()

    ann.pgpass.write_text(f"*:{team.server.port}:{team.dbname}:{ann.role}:{ann.password}\n")  # any host name
    ann.pgpass.chmod(0o600)
    joined = ann.companion("team", "connect", plain, "--insecure-allow-plaintext")
    assert joined.returncode == 0, joined.stderr
    assert lines(joined)[0].startswith("companion: WARNING: the connection to the team server at team.example is "
                                       "NOT encrypted (no TLS) (--insecure-allow-plaintext)")
    assert "NO TLS" in joined.stderr and "SCRAM-SHA-256, so the password itself was never sent" in joined.stderr
    assert "insecure_allow_plaintext = true" in (ann.config / "team.toml").read_text()
    ann.quick_calls(1)
    for run in (ann.companion("team", "status"), ann.sync(), ann.companion("team", "status", "--json")):
        assert run.returncode == 0, run.stderr
        assert lines(run)[0].startswith("companion: WARNING: the connection to the team server at team.example is NOT")
    assert team.count() == 1
    assert json.loads(run.stdout)["insecure"] is True and "NOT encrypted" in json.loads(run.stdout)["warning"]

    # connecting again without the flag, the certificate checked: the permission is gone with the address
    safe = team.dsn("ann", host=tls.network_name, hostaddr="127.0.0.1", sslmode="verify-full", sslrootcert=str(tls.ca))
    assert ann.companion("team", "connect", safe).returncode == 0
    assert "insecure" not in (ann.config / "team.toml").read_text()
    assert "WARNING" not in ann.companion("team", "status").stderr
    # and a flag that is not needed is said to be so, and not kept
    local = ann.companion("team", "connect", ann.dsn, "--insecure-allow-plaintext")
    assert local.returncode == 0 and "--insecure-allow-plaintext is not needed for this address" in local.stderr
    assert "insecure" not in (ann.config / "team.toml").read_text()


def test_the_admin_commands_follow_the_same_rules(pg_server, tls, tmp_path):  # noqa: F811
    import uuid

    sfx = uuid.uuid4().hex[:6]
    dbname, member = f"cctls_{sfx}", f"dan{sfx}"
    pg_server.create_database(dbname)
    admin = Machine(tmp_path, password=pg_server.superuser_password)  # ~/.pgpass has the superuser's password
    plain = pg_server.dsn(pg_server.superuser, dbname=dbname, host=tls.network_name, hostaddr="127.0.0.1",
                          sslmode="disable")
    checked = pg_server.dsn(pg_server.superuser, dbname=dbname, host=tls.network_name, hostaddr="127.0.0.1",
                            sslmode="verify-full", sslrootcert=str(tls.ca))
    try:
        refused = admin.companion("init", plain)
        assert refused.returncode == 2 and "--insecure-allow-plaintext" in lines(refused)[0], refused.stderr
        assert not (admin.config / "team.toml").exists()
        made = admin.companion("init", plain, "--insecure-allow-plaintext")
        assert made.returncode == 0 and lines(made)[0].startswith("companion: WARNING"), made.stderr
        assert "insecure_allow_plaintext = true" in (admin.config / "team.toml").read_text()
        added = admin.companion("add-agent", member, "--team", "north")  # the address init kept, and its flag
        assert added.returncode == 0 and lines(added)[0].startswith("companion: WARNING"), added.stderr
        safe = admin.companion("revoke", member, "--dsn", checked)
        assert safe.returncode == 0 and "WARNING" not in safe.stderr, safe.stderr
        again = admin.companion("revoke", member, "--dsn", plain)  # the address init kept: its flag with it
        assert again.returncode == 0 and lines(again)[0].startswith("companion: WARNING"), again.stderr
        other = pg_server.dsn(pg_server.superuser, dbname=dbname, host="db.example", hostaddr="127.0.0.1",
                              sslmode="disable")  # another address: what init allowed does not carry over
        assert admin.companion("revoke", member, "--dsn", other).returncode == 2
    finally:
        with psycopg.connect(pg_server.superuser_dsn, autocommit=True) as su:
            su.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            su.execute(f'DROP ROLE IF EXISTS "{member}"')


def test_loopback_and_the_unix_socket_sign_in_with_scram_without_tls(team, tmp_path):
    from companion.team.connection import connect, plan_for
    from companion.team.transport import describe

    password = team.passwords[team.name("ann")]
    for dsn in (team.dsn("ann", sslmode="disable"), team.dsn("ann", host=str(team.server.sock))):
        conn = connect(dsn, password)
        assert not conn.pgconn.ssl_in_use and conn.pgconn.used_password
        assert "so the password itself was never sent" in describe(conn, plan_for(dsn))
        conn.close()


def test_peer_on_the_unix_socket_lets_the_admin_in_and_trust_over_tcp_is_refused(pg_server):  # noqa: F811
    """`sudo -u postgres companion team init "host=/var/run/postgresql …"` (docs/team.md): the server
    knows the user from the socket, no password at all; the same "no questions" over TCP (trust) is a
    server that cannot prove it knows the password, and is refused."""
    import getpass
    import time

    from psycopg import sql

    from companion.team.connection import connect, plan_for
    from companion.team.transport import describe

    me = getpass.getuser()  # peer: the operating system's user is the role
    hba = pg_server.data / "pg_hba.conf"
    before = hba.read_text()
    su = psycopg.connect(pg_server.superuser_dsn, autocommit=True)
    su.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(me)))
    hba.write_text(f"local all {me} peer\nhost all {me} 127.0.0.1/32 trust\n" + before)
    pg_server.reload()
    try:
        socket_dsn = pg_server.dsn(me, host=str(pg_server.sock))
        deadline = time.monotonic() + 10  # the reload is the postmaster's, a moment later
        while True:
            try:
                conn = connect(socket_dsn, role_check=False)
                break
            except TeamError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert not conn.pgconn.used_password
        assert "the server knew you without a password (peer)" in describe(conn, plan_for(socket_dsn))
        conn.close()
        with pytest.raises(TeamError, match="let you in without checking a password"):
            connect(pg_server.dsn(me, sslmode="disable"), role_check=False)
    finally:
        hba.write_text(before)
        pg_server.reload()
        su.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(me)))
        su.close()


# --- the rules, address by address ---------------------------------------------------------------
@pytest.mark.parametrize("params, network", [
    ({"host": "localhost"}, False), ({"host": "127.0.0.2"}, False), ({"host": "::1"}, False), ({}, False),
    ({"host": "/var/run/postgresql"}, False), ({"host": "team.example", "hostaddr": "127.0.0.1"}, True),
    ({"host": "localhost", "hostaddr": "10.0.0.5"}, True), ({"hostaddr": "192.0.2.7"}, True),
    ({"host": "localhost,team.example"}, True), ({"host": "127.0.0.1.nip.io"}, True), ({"host": "::ffff:10.0.0.1"}, True),
])
def test_a_host_is_local_only_when_its_name_and_its_address_both_are(params, network, monkeypatch):
    for var in ("PGHOST", "PGHOSTADDR", "PGSSLMODE", "PGSSLROOTCERT", "PGSERVICE", "PGREQUIREAUTH", "PGCHANNELBINDING"):
        monkeypatch.delenv(var, raising=False)
    if network:
        with pytest.raises(TeamError, match="is on the network"):
            plan(params)
        assert plan(params, insecure=True).relaxed
    else:
        way = plan(params)
        assert not way.network and way.params["require_auth"].startswith("scram-sha-256")


def test_what_each_address_gets_and_what_is_refused(tmp_path, monkeypatch):
    for var in ("PGHOST", "PGHOSTADDR", "PGSSLMODE", "PGSSLROOTCERT", "PGSERVICE", "PGREQUIREAUTH", "PGCHANNELBINDING"):
        monkeypatch.delenv(var, raising=False)
    ca = tmp_path / "ca.crt"
    ca.write_text("a CA\n")
    far = {"host": "team.example", "sslmode": "verify-full", "sslrootcert": str(ca)}
    assert plan(far).params == {"sslmode": "verify-full", "require_auth": "scram-sha-256", "channel_binding": "require"}
    assert plan({"host": "/run/pg"}).params == {"sslmode": "prefer", "require_auth": "scram-sha-256,none"}  # peer too
    assert plan({"host": "localhost", "sslmode": "require"}).params["channel_binding"] == "require"
    assert "channel_binding" not in plan({"host": "localhost"}).params
    for params, told in (({**far, "require_auth": "password"}, "SCRAM-SHA-256 only"),
                         ({**far, "channel_binding": "disable"}, "leave channel_binding out"),
                         ({**far, "service": "team"}, "pg_service.conf"),
                         ({**far, "sslrootcert": str(tmp_path / "none.crt")}, "CA file .* is missing"),
                         ({**far, "sslmode": "verify-ca"}, "sslmode=verify-ca does not check the server's name"),
                         ({**far, "sslmode": "strict"}, "not one of libpq's")):
        with pytest.raises(TeamError, match=told):
            plan(params)
    # the environment counts as libpq reads it, and what was checked is pinned
    monkeypatch.setenv("PGSSLMODE", "disable")
    with pytest.raises(TeamError, match="sslmode=disable"):
        plan({"host": "team.example"})
    monkeypatch.setenv("PGSSLMODE", "verify-full")
    monkeypatch.setenv("PGSSLROOTCERT", str(ca))
    monkeypatch.setenv("PGHOST", "team.example")
    assert plan({}).params == {"sslmode": "verify-full", "require_auth": "scram-sha-256", "channel_binding": "require",
                               "host": "team.example", "sslrootcert": str(ca)}
    monkeypatch.setenv("PGSERVICE", "team")
    with pytest.raises(TeamError, match="pg_service.conf"):
        plan({"host": "localhost"})


# --- a libpq older than 16 (no require_auth): the system's libpq through psycopg's python implementation ---
OLD_LIBPQ = r'''
import json, sys
import psycopg
from companion.team.connection import connect
from companion.team.errors import TeamError
from fake_pg_server import FakePgServer
port, password, ca = sys.argv[1], sys.argv[2], sys.argv[3]
out = {"libpq": psycopg.pq.version()}
def attempt(key, dsn, **kw):
    try:
        conn = connect(dsn, password, role_check=False, **kw)
        out[key] = ["ok", conn.pgconn.ssl_in_use]
        conn.close()
    except TeamError as exc:
        out[key] = ["refused", exc.message]
base = f"port={port} user=postgres dbname=postgres"
attempt("loopback", f"host=127.0.0.1 {base}")
attempt("loopback-tls", f"host=127.0.0.1 {base} sslmode=require")
attempt("network-allowed", f"host=team.example hostaddr=127.0.0.1 {base} sslmode=require", insecure=True)
attempt("network-verified", f"host=team.example hostaddr=127.0.0.1 {base} sslmode=verify-full sslrootcert={ca}")
with FakePgServer("cleartext") as fake:
    attempt("fake", f"host=127.0.0.1 port={fake.port} user=ann sslmode=require")
out["fake-got"] = fake.received.decode("latin-1")
print(json.dumps(out))
'''


def test_with_a_libpq_older_than_16_only_tls_with_channel_binding_is_used(pg_server, tls, tmp_path):  # noqa: F811
    env = dict(os.environ, PSYCOPG_IMPL="python", PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    probe = subprocess.run([sys.executable, "-c", "import psycopg; print(psycopg.pq.version())"], env=env,
                           capture_output=True, text=True, cwd=OUTSIDE)
    if probe.returncode != 0 or int(probe.stdout) >= 160000:
        pytest.skip(f"no libpq older than 16 on this machine for psycopg's python implementation ({probe.stderr[-200:]})")
    (tmp_path / "fake_pg_server.py").write_bytes((Path(__file__).parent / "fake_pg_server.py").read_bytes())
    env["PYTHONPATH"] = str(tmp_path)  # the hostile server; the app is the installed one
    run = subprocess.run([sys.executable, "-c", OLD_LIBPQ, str(pg_server.port), pg_server.superuser_password,
                          str(tls.ca)], env=env, capture_output=True, text=True, cwd=OUTSIDE, timeout=60)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["libpq"] < 160000
    assert out["loopback"][0] == "refused" and "cannot refuse a server's request for the password" in out["loopback"][1]
    assert out["loopback-tls"] == ["ok", True] and out["network-verified"] == ["ok", True]
    assert out["network-allowed"][0] == "refused" and "not honoured" in out["network-allowed"][1]
    assert out["fake"][0] == "refused" and out["fake-got"] == "\x00\x00\x00\x08\x04\xd2\x16/"  # the SSLRequest, no more
