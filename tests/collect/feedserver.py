"""A small threaded HTTP server on loopback that misbehaves on request, for the collector's tests.

Routes map a path to a Reply (status, headers, body, optional delay or hang) or to a function
of the request handler returning one; every request is recorded (path, headers) for assertions.
"""

from __future__ import annotations

import gzip
import io
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/rss+xml; charset=utf-8"})
    delay: float = 0.0  # seconds before answering
    hang: bool = False  # accept the request, never answer (until the server stops)
    etag: str | None = None  # answer 304 when the client sends this ETag back


Route = Reply | Callable[[BaseHTTPRequestHandler], Reply]


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    peer: tuple[str, int] = ("", 0)  # the client's address and port: one port is one connection


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.in_flight = 0
        self.max_in_flight = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                pass

            def do_GET(self) -> None:  # noqa: N802 - stdlib API
                server._handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self, path: str) -> list[Seen]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self.requests.append(Seen(h.path, {k.lower(): v for k, v in h.headers.items()}, h.client_address[:2]))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            route = self.routes.get(h.path)
            reply = route(h) if callable(route) else route
            if reply is None:
                reply = Reply(404, b"not found", {"Content-Type": "text/plain"})
            if reply.hang:
                self.stopping.wait(60)
                return
            if reply.delay:
                time.sleep(reply.delay)
            if reply.etag and h.headers.get("If-None-Match") == reply.etag:
                h.send_response(304)
                h.send_header("ETag", reply.etag)
                h.send_header("Content-Length", "0")
                h.end_headers()
                return
            h.send_response(reply.status)
            for key, value in reply.headers.items():
                h.send_header(key, value)
            if reply.etag:
                h.send_header("ETag", reply.etag)
            h.send_header("Content-Length", str(len(reply.body)))
            h.end_headers()
            h.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with self.lock:
                self.in_flight -= 1

    def start(self) -> None:
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def rss(items: list[dict[str, str]], title: str = "Test feed", link: str = "https://outlet.example/") -> bytes:
    """An RSS 2.0 document; item keys: title, link, guid, description, pubDate (omitted when absent)."""
    parts = [f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{title}</title><link>{link}</link>']
    for item in items:
        parts.append("<item>")
        for key in ("title", "link", "guid", "description", "pubDate"):
            if key in item:
                attr = ' isPermaLink="false"' if key == "guid" else ""
                parts.append(f"<{key}{attr}>{item[key]}</{key}>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def gzip_bomb(size: int) -> bytes:
    """`size` zero bytes, gzip-compressed (about 1,000 times smaller)."""
    chunk = b"\0" * (1024 * 1024)
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9) as gz:
        for _ in range(size // len(chunk)):
            gz.write(chunk)
    return buf.getvalue()
