"""A small real IMAP4rev1 server on loopback, enough for imaplib: LOGIN, SELECT, UID SEARCH/FETCH/STORE, LOGOUT."""

from __future__ import annotations

import shlex
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Mailbox:
    user: str
    password: str
    messages: dict[int, bytes] = field(default_factory=dict)
    seen: set[int] = field(default_factory=set)
    logins: int = 0


def _handler(box: Mailbox) -> type[socketserver.StreamRequestHandler]:
    class Handler(socketserver.StreamRequestHandler):
        def w(self, data: str | bytes) -> None:
            self.wfile.write(data if isinstance(data, bytes) else data.encode() + b"\r\n")

        def handle(self) -> None:
            self.w("* OK test IMAP4rev1 ready")
            authed = False
            while line := self.rfile.readline():
                tag, _, rest = line.decode().rstrip("\r\n").partition(" ")
                cmd, _, args = rest.partition(" ")
                cmd = cmd.upper()
                if cmd == "CAPABILITY":
                    self.w("* CAPABILITY IMAP4rev1")
                    self.w(f"{tag} OK CAPABILITY completed")
                elif cmd == "LOGIN":
                    user, password = shlex.split(args)
                    authed = (user, password) == (box.user, box.password)
                    box.logins += authed
                    self.w(f"{tag} OK LOGIN completed" if authed else f"{tag} NO [AUTHENTICATIONFAILED] bad credentials")
                elif not authed:
                    self.w(f"{tag} BAD not authenticated")
                elif cmd == "SELECT":
                    self.w(f"* {len(box.messages)} EXISTS")
                    self.w(f"{tag} OK [READ-WRITE] SELECT completed")
                elif cmd == "UID":
                    self._uid(tag, args)
                elif cmd == "LOGOUT":
                    self.w("* BYE logging out")
                    self.w(f"{tag} OK LOGOUT completed")
                    return
                else:
                    self.w(f"{tag} BAD unknown command")

        def _uid(self, tag: str, args: str) -> None:
            sub, _, rest = args.partition(" ")
            sub = sub.upper()
            uids = sorted(box.messages)
            if sub == "SEARCH":
                self.w("* SEARCH " + " ".join(str(u) for u in uids if u not in box.seen))
            elif sub == "FETCH":
                uid = int(rest.split(" ", 1)[0])
                data = box.messages[uid]
                self.w(f"* {uids.index(uid) + 1} FETCH (UID {uid} BODY[] {{{len(data)}}}\r\n".encode() + data + b")\r\n")
            elif sub == "STORE":
                uid = int(rest.split(" ", 1)[0])
                box.seen.add(uid)
                self.w(f"* {uids.index(uid) + 1} FETCH (UID {uid} FLAGS (\\Seen))")
            self.w(f"{tag} OK UID {sub} completed")

    return Handler


@contextmanager
def imap_server(box: Mailbox) -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _handler(box))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
