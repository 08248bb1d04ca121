"""A real PostgreSQL server for the tests: initdb + pg_ctl from Debian's `postgresql` package, in a
temporary directory, on a free port of 127.0.0.1, with password (SCRAM) authentication only.

    from tests.pg_server import pg_server      # the session fixture, in a test module or conftest

    def test_x(pg_server):
        psycopg.connect(pg_server.superuser_dsn)
        pg_server.stop(); ...; pg_server.start()  # an outage
        tls = pg_server.ssl_setup()              # a self-signed CA and a server certificate, ssl=on

As root the server runs as the unprivileged `postgres` user (PostgreSQL refuses to run as root);
its directory is then owned by that user. The binaries missing is a failure, not a skip: `.ci/run`
installs the package. `python -m tests.pg_server` starts one and waits (for trying things by hand).
"""

from __future__ import annotations

import atexit
import datetime
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest

PG_LIB = Path("/usr/lib/postgresql")
RUN_AS = "postgres"
SUPERUSER = "postgres"


def find_bindir() -> Path:
    """The newest PostgreSQL's bin directory under /usr/lib/postgresql (or PG_BINDIR)."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    found = [p for p in PG_LIB.glob("*/bin") if (p / "initdb").exists() and (p / "pg_ctl").exists()]
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin: install Debian's "
                           "`postgresql` package (bash .ci/run does), or set PG_BINDIR")
    return max(found, key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.name)] or [0])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class TlsFiles:
    """What `ssl_setup` made: the CA that signed the server's certificate (for sslrootcert), another
    CA that did not, and the names the certificate is valid for: `hostname` (loopback) and
    `network_name` (a name the client treats as a network server's; reach it with hostaddr=127.0.0.1)."""
    ca: Path
    wrong_ca: Path
    hostname: str = "localhost"
    network_name: str = "team.example"


class PgServer:
    def __init__(self, root: Optional[Path] = None, settings: Optional[dict] = None):
        self.bindir = find_bindir()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            try:
                self.owner = pwd.getpwnam(RUN_AS)
            except KeyError:
                raise RuntimeError(f"PostgreSQL cannot run as root and there is no `{RUN_AS}` user "
                                   "(Debian's postgresql package makes it)") from None
        # not under pytest's basetemp: as root that is a 0700 folder the server's user cannot enter
        self.root = Path(root or tempfile.mkdtemp(prefix="cc-pg-"))
        self.data = self.root / "data"
        self.sock = self.root / "sock"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.host = "127.0.0.1"
        self.superuser = SUPERUSER
        self.superuser_password = secrets.token_urlsafe(18)
        self.settings = dict(settings or {})
        self.running = False
        self._tls: Optional[TlsFiles] = None

    # --- running the server's own commands as its user -------------------------------------
    def _run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", RUN_AS, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            said = done.stderr.strip() or done.stdout.strip()
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {said}\n{log}")
        return done

    def _own(self, *paths: Path) -> None:
        for path in paths:
            if self.as_root:
                os.chown(path, self.owner.pw_uid, self.owner.pw_gid)

    def init(self) -> "PgServer":
        self.root.mkdir(parents=True, exist_ok=True)
        self.sock.mkdir(exist_ok=True)
        os.chmod(self.root, 0o700)
        pwfile = self.root / "pw"
        pwfile.write_text(self.superuser_password + "\n")
        os.chmod(pwfile, 0o600)
        self._own(self.root, self.sock, pwfile)
        self._run("initdb", "-D", str(self.data), "-U", self.superuser, f"--pwfile={pwfile}", "-A", "scram-sha-256",
                  "-E", "UTF8", "--no-locale", "--no-instructions")
        pwfile.unlink()
        conf = {"listen_addresses": "'127.0.0.1'", "port": str(self.port),
                "unix_socket_directories": f"'{self.sock}'", "password_encryption": "'scram-sha-256'",
                "max_connections": "120", "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                "log_min_messages": "warning", "logging_collector": "off", **self.settings}
        with open(self.data / "postgresql.conf", "a") as f:
            f.write("\n# tests/pg_server.py\n" + "".join(f"{k} = {v}\n" for k, v in conf.items()))
        (self.data / "pg_hba.conf").write_text(
            "# tests/pg_server.py: passwords (SCRAM) only, TLS or not, from this machine\n"
            "local   all all              scram-sha-256\n"
            "hostssl all all 127.0.0.1/32 scram-sha-256\n"
            "host    all all 127.0.0.1/32 scram-sha-256\n")
        return self

    def start(self) -> None:
        if self.running:
            return
        for attempt in range(5):
            try:
                self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")
                break
            except RuntimeError as exc:
                # free_port() only finds a port free at the time: another process (a parallel test worker
                # starting its own server) may take it first; then the server starts on another one
                if attempt == 4 or "already in use" not in str(exc):
                    raise
                self.port = free_port()
                with open(self.data / "postgresql.conf", "a") as f:
                    f.write(f"port = {self.port}\n")
        self.running = True

    def stop(self) -> None:
        if self.running:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")
            self.running = False

    def reload(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "reload")

    def cleanup(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    # --- addresses ------------------------------------------------------------------------
    def dsn(self, user: str, password: Optional[str] = None, **params) -> str:
        """A libpq connection string for `user` (dbname defaults to postgres; any libpq parameter)."""
        from psycopg.conninfo import make_conninfo

        fields = {"host": self.host, "port": self.port, "dbname": "postgres", "user": user, "connect_timeout": 5}
        if password is not None:
            fields["password"] = password
        fields.update(params)
        return make_conninfo("", **fields)

    @property
    def superuser_dsn(self) -> str:
        return self.dsn(self.superuser, self.superuser_password)

    def superuser_dsn_for(self, dbname: str) -> str:
        return self.dsn(self.superuser, self.superuser_password, dbname=dbname)

    def create_database(self, name: str) -> str:
        """A fresh database; returns the superuser's DSN for it."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.superuser_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.superuser_dsn_for(name)

    # --- TLS ------------------------------------------------------------------------------
    def ssl_setup(self) -> TlsFiles:
        """A self-signed CA, a server certificate it signs for `localhost` only, ssl=on (reloaded,
        no restart); idempotent. Plain connections keep working (pg_hba has host and hostssl)."""
        if self._tls is None:
            tls = self.root / "tls"
            tls.mkdir(exist_ok=True)
            _make_certificates(tls)
            self._own(tls, tls / "server.crt", tls / "server.key")
            with open(self.data / "postgresql.conf", "a") as f:
                f.write(f"ssl = on\nssl_cert_file = '{tls / 'server.crt'}'\nssl_key_file = '{tls / 'server.key'}'\n")
            self.reload()
            self._tls = TlsFiles(ca=tls / "ca.crt", wrong_ca=tls / "other-ca.crt")
            _wait_for_ssl(self)
        return self._tls


def _make_certificates(folder: Path) -> None:
    """ca.crt + server.crt/server.key (SAN DNS:localhost and DNS:team.example only) and other-ca.crt, a CA
    that signed nothing."""
    try:
        from cryptography import x509  # noqa: F401
    except ImportError:
        return _make_certificates_openssl(folder)
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    pem = serialization.Encoding.PEM

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def ca(cn: str):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(name(cn)).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=2))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                             crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
                .sign(key, hashes.SHA256()))
        return key, cert

    ca_key, ca_cert = ca("Call Companion test CA")
    _, other_cert = ca("Some other CA")
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name("localhost")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.DNSName("team.example")]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    (folder / "ca.crt").write_bytes(ca_cert.public_bytes(pem))
    (folder / "other-ca.crt").write_bytes(other_cert.public_bytes(pem))
    (folder / "server.crt").write_bytes(cert.public_bytes(pem))
    key_file = folder / "server.key"
    key_file.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    os.chmod(key_file, 0o600)  # the certificate names no IP address: host=127.0.0.1 fails verify-full


def _make_certificates_openssl(folder: Path) -> None:
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    for cn, stem in (("Call Companion test CA", "ca"), ("Some other CA", "other-ca")):
        run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", f"/CN={cn}", "-keyout", f"{stem}.key", "-out", f"{stem}.crt")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=localhost",
        "-keyout", "server.key", "-out", "server.csr")
    (folder / "san.ext").write_text("subjectAltName=DNS:localhost,DNS:team.example\nbasicConstraints=critical,CA:FALSE\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
        "-extfile", "san.ext", "-out", "server.crt")
    os.chmod(folder / "server.key", 0o600)


def _wait_for_ssl(server: PgServer) -> None:
    import time

    import psycopg

    deadline = time.monotonic() + 10
    while True:
        try:
            with psycopg.connect(server.dsn(server.superuser, server.superuser_password, sslmode="require")):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


_SHARED: Optional[PgServer] = None


def shared_server() -> PgServer:
    """One server for the whole test session, however many modules import the fixture."""
    global _SHARED
    if _SHARED is None:
        server = PgServer().init()
        atexit.register(server.cleanup)
        server.start()
        _SHARED = server
    elif not _SHARED.running:
        _SHARED.start()  # a test stopped it and failed before starting it again
    return _SHARED


@pytest.fixture(scope="session")
def pg_server():
    try:
        server = shared_server()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield server
    global _SHARED
    server.cleanup()  # the end of the session: a clean shutdown, the folder removed
    _SHARED = None


if __name__ == "__main__":
    s = shared_server()
    print("superuser:", s.superuser_dsn, "\nsocket dir:", s.sock, "\nCtrl-C stops it")
    try:
        import time

        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
