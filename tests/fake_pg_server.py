"""A hostile "PostgreSQL server" for tests/test_team_tls.py: it listens on 127.0.0.1, declines TLS
(answers an SSLRequest or GSSENCRequest with 'N', as a man in the middle who cannot present the
real certificate would), then asks for the password in clear text (or as an MD5 hash) and records
every byte any client sends it. Whatever a client would give away is in `received`.

    with FakePgServer(asks="cleartext") as fake:
        ... connect to host=127.0.0.1 port=fake.port ...
        assert fake.password_messages() == []

It speaks just enough of the protocol (v3) for libpq to reach the point where it would answer
with a PasswordMessage ('p'); after one, it says "password authentication failed".
"""

from __future__ import annotations

import socket
import struct
import threading
from typing import Optional

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
AUTH = {"cleartext": struct.pack("!cii", b"R", 8, 3), "md5": struct.pack("!cii", b"R", 12, 5) + b"salt"}


class Conversation:
    """What one client connection sent: the packets before the startup message, the startup
    message's parameters, and the typed messages after it."""

    def __init__(self) -> None:
        self.raw = bytearray()
        self.requests: list[int] = []          # SSLRequest / GSSENCRequest codes, in order
        self.startup: Optional[dict] = None    # user, database, … when a startup message came
        self.messages: list[tuple[bytes, bytes]] = []  # (type byte, body) after the startup


class FakePgServer:
    def __init__(self, asks: str = "cleartext"):
        self.asks = asks
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.conversations: list[Conversation] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> "FakePgServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    @property
    def received(self) -> bytes:
        return b"".join(bytes(c.raw) for c in self.conversations)

    def password_messages(self) -> list[bytes]:
        return [body for c in self.conversations for kind, body in c.messages if kind == b"p"]

    # --- the server ---------------------------------------------------------------------------
    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            talk = Conversation()
            self.conversations.append(talk)
            threading.Thread(target=self._talk, args=(conn, talk), daemon=True).start()

    def _talk(self, conn: socket.socket, talk: Conversation) -> None:
        conn.settimeout(5)
        try:
            with conn:
                while True:  # the packets before the startup message: length, code
                    head = self._read(conn, talk, 8)
                    length, code = struct.unpack("!ii", head)
                    if code in (SSL_REQUEST, GSSENC_REQUEST):
                        talk.requests.append(code)
                        conn.sendall(b"N")
                        continue
                    if code == CANCEL_REQUEST:
                        return
                    body = self._read(conn, talk, length - 8)
                    parts = body.split(b"\0")
                    talk.startup = {parts[i].decode(errors="replace"): parts[i + 1].decode(errors="replace")
                                    for i in range(0, len(parts) - 1, 2) if parts[i]}
                    break
                conn.sendall(AUTH[self.asks])
                while True:
                    kind = self._read(conn, talk, 1)
                    (length,) = struct.unpack("!i", self._read(conn, talk, 4))
                    talk.messages.append((kind, self._read(conn, talk, length - 4)))
                    if kind == b"p":
                        error = b"SFATAL\0C28P01\0Mpassword authentication failed for user \"x\"\0\0"
                        conn.sendall(b"E" + struct.pack("!i", len(error) + 4) + error)
                        return
                    if kind == b"X":
                        return
        except (OSError, EOFError, struct.error):
            return

    @staticmethod
    def _read(conn: socket.socket, talk: Conversation, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise EOFError
            talk.raw += chunk
            data += chunk
        return data
