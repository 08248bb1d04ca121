"""Where `companion team connect` keeps the password, said truthfully (issue 20, item 13), and what
`companion team status` says and how it exits (item 17): the installed commands in processes of their
own, on the session's real PostgreSQL server (tests/pg_server.py).

A keyring backend is judged by its class: the OS's own keyrings (Secret Service, KWallet, the macOS
Keychain, the Windows Credential Locker) encrypt what they keep; keyring's `fail` and `null` keep
nothing; anything else (keyrings.alt's PlaintextKeyring, a base64 file) is refused unless
--allow-plaintext-keyring. The plaintext backend here is this test's own, made with keyring's API."""

from __future__ import annotations

import json

import pytest

from companion.team.connection import keyring_kind
from companion.team.server_schema import SCHEMA_VERSION
from tests.pg_server import free_port, pg_server  # noqa: F401  (the session's PostgreSQL server)
from tests.team_calls import Agent, TeamDb

PLAINTEXT_KEYRING = '''
import json, os
from keyring.backend import KeyringBackend


class PlaintextKeyring(KeyringBackend):
    """Passwords as they are in one JSON file: what keyrings.alt's PlaintextKeyring amounts to."""
    priority = 1
    scheme = "no encyption"
    file_path = os.environ["TEST_KEYRING_FILE"]

    def _all(self):
        try:
            with open(self.file_path) as f:
                return json.load(f)
        except FileNotFoundError:
            return {}

    def get_password(self, service, username):
        return self._all().get(f"{service}|{username}")

    def set_password(self, service, username, password):
        kept = self._all()
        kept[f"{service}|{username}"] = password
        with open(self.file_path, "w") as f:
            json.dump(kept, f)

    def delete_password(self, service, username):
        kept = self._all()
        kept.pop(f"{service}|{username}", None)
        with open(self.file_path, "w") as f:
            json.dump(kept, f)
'''


@pytest.fixture
def team(pg_server):  # noqa: F811
    t = TeamDb(pg_server)
    yield t
    t.close()


def lines(run) -> list[str]:
    return [line for line in run.stderr.splitlines() if line.strip()]


# --- where the password goes -----------------------------------------------------------------------
def test_with_no_keyring_connect_names_the_backend_and_says_the_password_was_not_kept(team, tmp_path):
    ann = Agent(team, "ann", tmp_path, pgpass=False)  # keyring's own "fail" backend: this machine has none
    run = ann.companion("team", "connect", ann.dsn, "--password-stdin", input=ann.password + "\n")
    assert run.returncode == 1
    [line] = [line for line in lines(run) if "NOT stored" in line]
    assert "keyring.backends.fail.Keyring" in line and "keeps no passwords" in line and "~/.pgpass" in line
    assert "OS keyring" not in run.stderr.replace("not the OS keyring", "")


def test_a_plaintext_keyring_is_refused_unless_asked_for_and_then_named(team, tmp_path):
    ann = Agent(team, "ann", tmp_path, pgpass=False, keyring_backend="plain_keyring.PlaintextKeyring")
    (tmp_path / "kr").mkdir()
    (tmp_path / "kr" / "plain_keyring.py").write_text(PLAINTEXT_KEYRING)
    ann.pythonpath = [str(tmp_path / "kr")]
    vault = tmp_path / "keyring.json"

    refused = ann.companion("team", "connect", ann.dsn, "--password-stdin", input=ann.password + "\n",
                            TEST_KEYRING_FILE=str(vault))
    assert refused.returncode == 1 and not vault.exists(), refused.stderr  # not a byte in the file
    [line] = [line for line in lines(refused) if "NOT stored" in line]
    assert "plain_keyring.PlaintextKeyring is not the OS keyring" in line
    assert f"passwords unencrypted (base64 at most) in {vault}" in line and "--allow-plaintext-keyring" in line
    assert "the password is in the OS keyring" not in refused.stderr

    kept = ann.companion("team", "connect", ann.dsn, "--password-stdin", "--allow-plaintext-keyring",
                         input=ann.password + "\n", TEST_KEYRING_FILE=str(vault))
    assert kept.returncode == 0, kept.stderr
    assert lines(kept)[-1] == ("companion: WARNING: the password is in the keyring backend plain_keyring.PlaintextKeyring, "
                               f"which keeps passwords unencrypted (base64 at most) in {vault} "
                               "(--allow-plaintext-keyring).")
    assert ann.password in vault.read_text()  # where it said, as it said
    ann.quick_calls(1)
    synced = ann.companion("team", "sync", TEST_KEYRING_FILE=str(vault))  # the password from that keyring
    assert synced.returncode == 0 and team.count() == 1, synced.stderr


def test_the_os_keyrings_are_told_apart_from_files_and_from_none():
    from keyring.backends import SecretService, fail, kwallet, null

    for backend in (SecretService.Keyring(), kwallet.DBusKeyring()):
        kind = keyring_kind(backend)
        assert kind.keeps and kind.encrypted, kind
    assert keyring_kind(SecretService.Keyring()).what == "the Secret Service"
    for backend in (fail.Keyring(), null.Keyring()):
        kind = keyring_kind(backend)
        assert not kind.keeps and not kind.encrypted, kind
    namespace: dict = {}
    exec(PLAINTEXT_KEYRING.replace('os.environ["TEST_KEYRING_FILE"]', '"/somewhere/keyring.json"'), namespace)
    kind = keyring_kind(namespace["PlaintextKeyring"]())
    assert kind.keeps and not kind.encrypted and kind.what == "passwords unencrypted (base64 at most) in /somewhere/keyring.json"


# --- team status -----------------------------------------------------------------------------------
def test_status_exits_0_connected_1_unreachable_2_refused(team, tmp_path):
    ann = Agent(team, "ann", tmp_path)
    ann.connect()
    settings = ann.config / "team.toml"
    connected = ann.companion("team", "status")
    assert connected.returncode == 0 and "— connected" in connected.stdout, connected.stderr

    good = settings.read_text()
    settings.write_text(good.replace(f"port={team.server.port}", f"port={free_port()}"))  # nothing listens there
    away, away_json = ann.companion("team", "status"), ann.companion("team", "status", "--json")
    assert away.returncode == away_json.returncode == 1, away.stderr
    assert "— unreachable" in away.stdout and json.loads(away_json.stdout)["reachable"] is False

    settings.write_text(good)
    ann.pgpass.write_text(f"{team.server.host}:{team.server.port}:{team.dbname}:{ann.role}:not the password\n")
    refused, refused_json = ann.companion("team", "status"), ann.companion("team", "status", "--json")
    assert refused.returncode == refused_json.returncode == 2 and "— refused" in refused.stdout, refused.stderr
    report = json.loads(refused_json.stdout)
    assert report["reachable"] is True and report["connected"] is False and "refused the password" in report["problem"]

    not_set = Agent(team, "bob", tmp_path)  # a machine with no team server: nothing wrong
    assert not_set.companion("team", "status").returncode == 0


def test_status_shows_the_servers_own_schema_version_next_to_the_apps(team, tmp_path):
    ann = Agent(team, "ann", tmp_path)
    ann.connect()
    assert ann.sync().returncode == 0  # the version seen at this sync is kept on the machine
    newer = SCHEMA_VERSION + 1
    team.su.execute("INSERT INTO cc.cc_schema (version) VALUES (%s)", (newer,))  # a newer app's init ran
    status = ann.companion("team", "status")
    assert status.returncode == 2
    assert f"Server schema version: {newer} (this app knows version {SCHEMA_VERSION})" in status.stdout
    assert f"schema is version {newer}; this app knows version {SCHEMA_VERSION}" in status.stdout
    report = json.loads(ann.companion("team", "status", "--json").stdout)
    assert (report["server_schema_version"], report["app_schema_version"]) == (newer, SCHEMA_VERSION)

    settings = ann.config / "team.toml"
    settings.write_text(settings.read_text().replace(f"port={team.server.port}", f"port={free_port()}"))
    away = ann.companion("team", "status")  # what was seen last, said as such
    assert away.returncode == 1
    assert f"Server schema version: {SCHEMA_VERSION} at the last sync (this app knows version {SCHEMA_VERSION})" \
        in away.stdout
