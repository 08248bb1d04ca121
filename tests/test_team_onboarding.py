"""Joining the team server in one step (issue 23, item 8): on a machine where no keyring can keep the
password, `companion team connect` writes the ~/.pgpass line itself — with --pgpass, or when the user
says yes in a terminal — and exits 0 only when a fresh `companion team status` signs in by itself.

The installed command in processes of its own, on the session's real PostgreSQL server
(tests/pg_server.py); the terminal is a real pseudo-terminal. There is no OS keyring on a test machine:
"no keyring" is keyring's own `fail` backend, "a keyring" is a file backend made with keyring's API
(tests/test_team_status.py's), allowed with --allow-plaintext-keyring."""

from __future__ import annotations

import fcntl
import os
import select
import stat
import subprocess
import sys
import termios

import pytest

from companion.team.pgpass import PgpassEntry, split_line, updated
from tests.installed import OUTSIDE
from tests.pg_server import pg_server  # noqa: F401  (the session's PostgreSQL server)
from tests.team_calls import Agent, TeamDb
from tests.test_team_status import PLAINTEXT_KEYRING

# a password with both characters a ~/.pgpass line must escape
AWKWARD = "pa:ss\\word:"


@pytest.fixture
def team(pg_server):  # noqa: F811
    t = TeamDb(pg_server)
    yield t
    t.close()


def set_password(team: TeamDb, role: str, password: str) -> None:
    """A new password for `role`, given to the server as a SCRAM verifier (as the admin commands do)."""
    from psycopg import sql

    verifier = team.su.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()
    team.su.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(verifier)))
    team.passwords[role] = password


def said(run) -> str:
    return " ".join(run.stderr.split())


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def in_terminal(agent: Agent, args: list[str], answers: list[tuple[str, str]]) -> tuple[int, str]:
    """Run the installed command with a pseudo-terminal as its controlling terminal, typing each answer
    when its prompt shows; (exit code, all it wrote)."""
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "companion", *args], stdin=slave, stdout=slave, stderr=slave,
                            env=agent.env(), cwd=OUTSIDE, start_new_session=True,
                            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
    os.close(slave)
    out, pending = b"", list(answers)
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 120)
            if not ready:
                raise AssertionError(f"no output from the command for 120 s: {out.decode(errors='replace')}")
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the command ended and closed the terminal
                break
            if not chunk:
                break
            out += chunk
            if pending and pending[0][0].encode() in out.rsplit(b"\n", 1)[-1]:
                os.write(master, (pending.pop(0)[1] + "\n").encode())
    finally:
        os.close(master)
    return proc.wait(timeout=120), out.decode(errors="replace").replace("\r", "")


# --- the line itself ---------------------------------------------------------------------------------
def test_the_line_is_escaped_as_libpq_reads_it_and_replaces_the_one_libpq_would_use():
    entry = PgpassEntry("/run/a:b\\c", "5432", "calls", "ann")
    assert entry.line("p:w\\d") == "/run/a\\:b\\\\c:5432:calls:ann:p\\:w\\\\d"
    assert split_line(entry.line("p:w\\d")) == ["/run/a:b\\c", "5432", "calls", "ann", "p:w\\d"]
    before = ("# mine\n"
              "other.example:5432:calls:ann:keep me\n"
              "*:*:*:ann:a wildcard that shadows\n"
              "/run/a\\:b\\\\c:5432:calls:ann:old\n"
              "/run/a\\:b\\\\c:5432:calls:ann:older\n")
    after = updated(before, entry, "new").splitlines()
    assert after == ["# mine", "other.example:5432:calls:ann:keep me", "/run/a\\:b\\\\c:5432:calls:ann:new",
                     "*:*:*:ann:a wildcard that shadows"]
    assert updated("", entry, "x") == "/run/a\\:b\\\\c:5432:calls:ann:x\n"


# --- no keyring --------------------------------------------------------------------------------------
def test_with_no_keyring_pgpass_writes_the_line_replacing_the_old_one_and_status_then_signs_in(team, tmp_path):
    ann = Agent(team, "ann", tmp_path, pgpass=False)  # keyring's "fail" backend: nothing keeps a password
    s = team.server
    set_password(team, ann.role, AWKWARD)
    # ann's ~/.pgpass already has other servers' lines, and a stale line for this one (twice)
    others = f"# my servers\nother.example:5432:x:ann:secret\n{s.host}:{s.port}:{team.dbname}:someone:theirs\n"
    stale = f"{s.host}:{s.port}:{team.dbname}:{ann.role}:an old password\n"
    ann.pgpass.write_text(others + stale + stale)
    os.chmod(ann.pgpass, 0o644)  # too open: libpq would ignore the whole file

    run = ann.companion("team", "connect", ann.dsn, "--password-stdin", "--pgpass", input=AWKWARD + "\n")
    assert run.returncode == 0, run.stderr
    assert f"connected to {ann.role}@{s.host}:{s.port}/{team.dbname} as agent" in said(run)
    assert f"it is in {ann.pgpass} (mode 600" in said(run) and "keyring.backends.fail.Keyring" in said(run)
    assert mode(ann.pgpass) == 0o600
    lines = ann.pgpass.read_text().splitlines()
    assert lines == ["# my servers", "other.example:5432:x:ann:secret", f"{s.host}:{s.port}:{team.dbname}:someone:theirs",
                     f"{s.host}:{s.port}:{team.dbname}:{ann.role}:pa\\:ss\\\\word\\:"]

    status = ann.companion("team", "status")  # a later call, with nothing but what connect left behind
    assert status.returncode == 0 and "— connected" in status.stdout, status.stdout + status.stderr
    ann.quick_calls(1)
    assert ann.sync().returncode == 0 and team.count() == 1


def test_a_socket_folder_with_colon_and_backslash_gets_an_escaped_host_field(team, tmp_path):
    ann = Agent(team, "ann", tmp_path, pgpass=False)
    odd = tmp_path / "odd:dir\\name"
    odd.symlink_to(team.server.sock, target_is_directory=True)  # the server's Unix socket, by a path that needs escaping
    dsn = team.server.dsn(ann.role, dbname=team.dbname, host=str(odd))
    run = ann.companion("team", "connect", dsn, "--password-stdin", "--pgpass", input=ann.password + "\n")
    assert run.returncode == 0, run.stderr
    escaped = str(odd).replace("\\", "\\\\").replace(":", "\\:")
    assert ann.pgpass.read_text() == f"{escaped}:{team.server.port}:{team.dbname}:{ann.role}:{ann.password}\n"
    status = ann.companion("team", "status")
    assert status.returncode == 0 and "— connected" in status.stdout, status.stdout + status.stderr


def test_with_no_keyring_and_no_consent_nothing_is_written_and_connect_exits_1(team, tmp_path):
    ann = Agent(team, "ann", tmp_path, pgpass=False)
    run = ann.companion("team", "connect", ann.dsn, "--password-stdin", input=ann.password + "\n")
    assert run.returncode == 1, run.stderr
    assert "NOT stored" in said(run) and "--pgpass" in said(run) and "connected to" not in said(run)
    assert "cannot sign in again by itself" in said(run)
    assert not ann.pgpass.exists()
    assert ann.companion("team", "status").returncode == 2  # and status agrees: refused, no password


def test_connect_exits_1_when_the_written_line_would_not_be_used(team, tmp_path):
    ann = Agent(team, "ann", tmp_path, pgpass=False)
    # PGPASSWORD comes before ~/.pgpass in libpq: a later call would send this one, not the line written
    run = ann.companion("team", "connect", ann.dsn, "--password-stdin", "--pgpass", input=ann.password + "\n",
                        PGPASSWORD="a stale password")
    assert run.returncode == 1, run.stderr
    assert "PGPASSWORD" in said(run) and "cannot sign in again by itself" in said(run)
    assert ann.pgpass.exists()  # written as asked; the exit code says a later call would still fail
    assert ann.companion("team", "status", PGPASSWORD="a stale password").returncode == 2


def test_in_a_terminal_connect_asks_before_writing_and_yes_makes_status_work(team, tmp_path):
    ann = Agent(team, "ann", tmp_path, pgpass=False)
    no, out = in_terminal(ann, ["team", "connect", ann.dsn], [("Password for", ann.password), ("[y/N]", "n")])
    assert no == 1, out
    assert "no keyring can keep the password" in out and "NOT stored" in out and not ann.pgpass.exists()

    yes, out = in_terminal(ann, ["team", "connect", ann.dsn], [("Password for", ann.password), ("[y/N]", "y")])
    assert yes == 0, out
    assert f"Write it to {ann.pgpass}" in out and mode(ann.pgpass) == 0o600
    assert ann.password not in out  # getpass: not echoed
    status = ann.companion("team", "status")
    assert status.returncode == 0 and "— connected" in status.stdout, status.stdout + status.stderr


# --- a keyring ---------------------------------------------------------------------------------------
def test_with_a_keyring_that_keeps_it_pgpass_is_left_alone(team, tmp_path):
    ann = Agent(team, "ann", tmp_path, pgpass=False, keyring_backend="plain_keyring.PlaintextKeyring")
    (tmp_path / "kr").mkdir()
    (tmp_path / "kr" / "plain_keyring.py").write_text(PLAINTEXT_KEYRING)
    ann.pythonpath = [str(tmp_path / "kr")]
    vault = tmp_path / "keyring.json"
    run = ann.companion("team", "connect", ann.dsn, "--password-stdin", "--pgpass", "--allow-plaintext-keyring",
                        input=ann.password + "\n", TEST_KEYRING_FILE=str(vault))
    assert run.returncode == 0, run.stderr
    assert "the password is in the keyring backend plain_keyring.PlaintextKeyring" in said(run)
    assert not ann.pgpass.exists() and ann.password in vault.read_text()
    status = ann.companion("team", "status", TEST_KEYRING_FILE=str(vault))
    assert status.returncode == 0 and "— connected" in status.stdout, status.stdout + status.stderr
    gone = ann.companion("team", "status", TEST_KEYRING_FILE=str(tmp_path / "empty.json"))
    assert gone.returncode == 2  # it was the keyring that signed in
