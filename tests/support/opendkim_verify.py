"""Verify a DKIM-signed message with OpenDKIM's `opendkim-testmsg`, keys served by a loopback DNS server.

opendkim-testmsg looks keys up in DNS through the C library's resolver, so this script must run
inside fresh network and mount namespaces (`unshare -n -m`, as root): there it brings up the
loopback interface, points /etc/resolv.conf (a bind mount, visible only inside) at 127.0.0.1,
answers TXT queries from a small dnslib server, and runs opendkim-testmsg on the message.
Nothing can leave the machine: the namespace has no other interface.

usage: unshare -n -m python opendkim_verify.py RECORDS.json < message.eml
RECORDS.json maps names ("sel._domainkey.example.org") to TXT record text. Exit code and output
are opendkim-testmsg's.
"""

from __future__ import annotations

import json
import socketserver
import subprocess
import sys
import tempfile
import threading

from dnslib import QTYPE, RR, TXT, DNSRecord


def main() -> int:
    records: dict[str, str] = json.loads(open(sys.argv[1]).read())
    message = sys.stdin.buffer.read()
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as conf:
        conf.write("nameserver 127.0.0.1\noptions timeout:2 attempts:1\n")
    subprocess.run(["mount", "--bind", conf.name, "/etc/resolv.conf"], check=True)

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            data, sock = self.request
            query = DNSRecord.parse(data)
            reply = query.reply()
            name = str(query.q.qname).rstrip(".")
            if query.q.qtype == QTYPE.TXT and name in records:
                text = records[name].encode()
                # TXT strings are at most 255 bytes; a key record is split into several
                reply.add_answer(RR(query.q.qname, QTYPE.TXT, rdata=TXT([text[i:i + 255] for i in range(0, len(text), 255)]),
                                    ttl=60))
            else:
                reply.header.rcode = 3  # NXDOMAIN
            sock.sendto(reply.pack(), self.client_address)

    server = socketserver.ThreadingUDPServer(("127.0.0.1", 53), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    result = subprocess.run(["opendkim-testmsg"], input=message, capture_output=True)
    server.shutdown()
    sys.stdout.buffer.write(result.stdout + result.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
