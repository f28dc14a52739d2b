"""A minimal SMTP server on 127.0.0.1 for tests: it accepts every message and keeps it.

Enough of RFC 5321 for smtplib: EHLO/HELO, MAIL, RCPT, DATA (with dot-unstuffing),
RSET, NOOP, QUIT. No TLS, no authentication. ``refuse = True`` makes it answer 451 to
MAIL, to exercise retries.
"""

from __future__ import annotations

import socketserver
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> Message:
        return message_from_bytes(self.data)


@dataclass
class FakeSMTP:
    messages: list[Received] = field(default_factory=list)
    refuse: bool = False
    host: str = "127.0.0.1"
    port: int = 0


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def _reply(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())
        self.wfile.flush()

    def handle(self) -> None:
        fake = self.server.fake
        sender, recipients = "", []
        self._reply("220 fake-smtp ready")
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            argument = line[len(verb) :].strip()
            if verb == "EHLO":
                self._reply("250-fake-smtp")
                self._reply("250 8BITMIME")
            elif verb == "HELO":
                self._reply("250 fake-smtp")
            elif verb == "MAIL":
                if fake.refuse:
                    self._reply("451 try again later")
                    continue
                sender, recipients = argument.split(":", 1)[1].strip().strip("<>"), []
                self._reply("250 OK")
            elif verb == "RCPT":
                recipients.append(argument.split(":", 1)[1].strip().strip("<>"))
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 end with <CRLF>.<CRLF>")
                body = []
                while True:
                    data_line = self.rfile.readline()
                    if data_line in (b".\r\n", b".\n", b""):
                        break
                    body.append(data_line[1:] if data_line.startswith(b"..") else data_line)
                fake.messages.append(Received(sender, recipients, b"".join(body)))
                self._reply("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                self._reply("250 OK")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("502 not implemented")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fake: FakeSMTP) -> None:
        super().__init__((fake.host, 0), _Handler)
        self.fake = fake
        fake.port = self.server_address[1]


class Running:
    def __init__(self, server: _Server, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def serve(fake: FakeSMTP) -> Running:
    server = _Server(fake)
    thread = threading.Thread(target=server.serve_forever, name="fake-smtp", daemon=True)
    thread.start()
    return Running(server, thread)
