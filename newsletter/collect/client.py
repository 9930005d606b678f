"""A small HTTP/1.1 client for the collector's conditional GETs, on asyncio streams with h11.

Why not httpx: a feed fetch is one GET with a few headers, and most feeds of most runs answer
304 Not Modified. httpx and httpcore spent about 1 ms of CPU on each such request (client
models, anyio checkpoints, pool bookkeeping); this client spends about a tenth of that, so a
whole unchanged pass over 1,000 feeds costs a fraction of its start-up. h11 (httpcore's own
parser) reads the protocol, so framing (Content-Length, chunked, read-until-close), header
validation and keep-alive rules are the same as before.

Kept from the httpx set-up: every connection goes through the SSRF guard (guard.connect_checked,
on the addresses actually connected to, redirects included), TLS verifies the host name against
certifi's roots, no proxy or other setting is read from the environment, connect and read
timeouts, and at most `max_idle` idle keep-alive connections (least recently used closed first).
"""

from __future__ import annotations

import asyncio
import base64
import os
import ssl
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from urllib.parse import quote, unquote, urlsplit

import h11

from newsletter.collect.guard import connect_checked

READ_SIZE = 64 * 1024
KEEPALIVE_EXPIRY = 5.0  # seconds an idle connection is kept (httpx's default)
MAX_HEAD = 100 * 1024  # the largest status line + headers accepted (httpcore's limit)
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


class HTTPError(Exception):
    """The request failed on the wire (the message says how)."""


class ConnectFailed(HTTPError):
    pass


class ConnectTimeout(HTTPError):
    pass


class ReadTimeout(HTTPError):
    pass


class RemoteProtocolError(HTTPError):
    """The server's answer is not valid HTTP/1.1, or it closed the connection mid-answer."""


class _Origin(tuple[str, str, int]):
    """(scheme, host, port): the key connections are kept under."""


def _ascii_host(host: str) -> str:
    """A host name as it goes on the wire (IDNA for non-ASCII names)."""
    if host.isascii():
        return host
    try:
        import idna

        return idna.encode(host, uts46=True).decode("ascii")
    except Exception:  # idna refuses some names browsers accept: the codec's IDNA 2003 then
        try:
            return host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ConnectFailed(f"invalid host name {host!r}") from exc


class Target:
    """A URL split into what one request needs; built once per URL."""

    __slots__ = ("origin", "host", "port", "tls", "host_header", "path", "auth")

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise ConnectFailed(f"not an http(s) URL: {url[:200]}")
        if not parts.hostname:
            raise ConnectFailed(f"no host in URL {url[:200]}")
        try:
            port = parts.port
        except ValueError as exc:
            raise ConnectFailed(f"invalid port in URL {url[:200]}") from exc
        self.tls = scheme == "https"
        self.host = _ascii_host(parts.hostname)
        default = 443 if self.tls else 80
        self.port = port or default
        name = f"[{self.host}]" if ":" in self.host else self.host
        self.host_header = name if self.port == default else f"{name}:{self.port}"
        self.origin = _Origin((scheme, self.host, self.port))
        path = quote(parts.path or "/", safe=_PATH_SAFE)
        self.path = path + ("?" + quote(parts.query, safe=_QUERY_SAFE) if parts.query else "")
        self.auth = None
        if parts.username is not None:  # as httpx did: credentials in the URL become Basic auth
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            self.auth = "Basic " + base64.b64encode(pair).decode("ascii")


class _Connection:
    __slots__ = ("origin", "reader", "writer", "h11", "idle_since", "answered")

    def __init__(self, origin: _Origin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.origin = origin
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
        self.idle_since = 0.0
        self.answered = False  # a byte of the current answer has arrived

    def usable(self, now: float) -> bool:
        """Still worth a request: not expired, and the server has not closed it meanwhile."""
        return now - self.idle_since < KEEPALIVE_EXPIRY and not self.reader.at_eof() and not self.writer.is_closing()

    def close(self) -> None:
        self.writer.close()


class Response:
    """Status and headers of an answer; the body is read with `chunks()`, then `aclose()` (or the
    `async with` of Client.stream) hands a fully read connection back for the next request."""

    def __init__(self, client: Client, conn: _Connection, event: h11.Response) -> None:
        self._client = client
        self._conn: _Connection | None = conn
        self.status_code = event.status_code
        self.reason_phrase = event.reason.decode("latin-1", "replace")
        headers: dict[str, str] = {}
        for raw_name, raw_value in event.headers:
            name = raw_name.decode("latin-1")
            try:
                value = raw_value.decode("utf-8")
            except UnicodeDecodeError:
                value = raw_value.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        self.headers = headers  # lower-case names, repeated headers joined with ", " (as httpx's .get)
        self._done = False

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body's bytes as they arrive (still content-encoded)."""
        conn = self._conn
        if conn is None or self._done:
            return
        while True:
            event = await self._client._next_event(conn)
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self._done = True
                return

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._client._release(conn, complete=self._done)


class Client:
    """Keep-alive connections per origin for one collect run; use as `async with Client(...) as c`."""

    def __init__(self, *, allow_loopback: bool, headers: list[tuple[str, str]], connect_timeout: float,
                 read_timeout: float, max_idle: int) -> None:
        self.allow_loopback = allow_loopback
        self.headers = headers
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_idle = max(0, max_idle)
        self._idle: dict[_Origin, list[_Connection]] = {}
        self._lru: OrderedDict[_Connection, None] = OrderedDict()  # idle connections, least recently used first
        self._ssl: ssl.SSLContext | None = None

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for conn in list(self._lru):
            conn.close()
        self._lru.clear()
        self._idle.clear()

    def idle_origins(self) -> list[tuple[str, str, int]]:
        """Origins with an idle connection, least recently used first (for tests and diagnostics)."""
        return list(dict.fromkeys(tuple(conn.origin) for conn in self._lru))  # type: ignore[misc]

    def ssl_context(self) -> ssl.SSLContext:
        """Made on the first https feed: loading the CA bundle costs ~30 ms that plain-http runs skip."""
        if self._ssl is None:
            import certifi

            ctx = ssl.create_default_context(cafile=certifi.where())
            ctx.set_alpn_protocols(["http/1.1"])
            self._ssl = ctx
        return self._ssl

    def stream(self, url: str, headers: list[tuple[str, str]] | None = None) -> _Exchange:
        """`async with client.stream(url, headers) as response:` one GET."""
        return _Exchange(self, url, headers or [])

    async def _open(self, target: Target) -> _Connection:
        try:
            async with asyncio.timeout(self.connect_timeout):
                reader, writer = await connect_checked(
                    target.host, target.port, allow_loopback=self.allow_loopback,
                    ssl_context=self.ssl_context() if target.tls else None, limit=READ_SIZE)
        except TimeoutError:
            raise ConnectTimeout(f"timed out connecting ({self.connect_timeout:g}s)") from None
        except ssl.SSLError as exc:
            raise ConnectFailed(f"TLS: {exc.reason or exc}") from None
        except OSError as exc:  # refused, unreachable, unresolvable (guard.Unresolved)
            reason = f"{os.strerror(exc.errno)} ({target.host_header})" if exc.errno else str(exc) or type(exc).__name__
            raise ConnectFailed(reason) from None
        return _Connection(target.origin, reader, writer)

    def _take_idle(self, origin: _Origin) -> _Connection | None:
        conns = self._idle.get(origin)
        now = time.monotonic()
        while conns:
            conn = conns.pop()
            del self._lru[conn]
            if conn.usable(now):
                return conn
            conn.close()
        return None

    def _release(self, conn: _Connection, *, complete: bool) -> None:
        """Keep a connection whose answer was read to its end and which both sides keep open."""
        machine = conn.h11
        if not complete or machine.our_state is not h11.DONE or machine.their_state is not h11.DONE or self.max_idle == 0:
            conn.close()
            return
        try:
            machine.start_next_cycle()
        except h11.LocalProtocolError:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        self._idle.setdefault(conn.origin, []).append(conn)
        self._lru[conn] = None
        while len(self._lru) > self.max_idle:
            oldest, _ = self._lru.popitem(last=False)
            self._idle[oldest.origin].remove(oldest)
            oldest.close()

    async def _next_event(self, conn: _Connection) -> object:
        machine = conn.h11
        while True:
            try:
                event = machine.next_event()
            except h11.RemoteProtocolError as exc:
                raise RemoteProtocolError(str(exc) or "invalid HTTP response") from None
            if event is not h11.NEED_DATA:
                return event
            try:
                async with asyncio.timeout(self.read_timeout):
                    data = await conn.reader.read(READ_SIZE)
            except TimeoutError:
                raise ReadTimeout(f"server stopped answering (read timeout {self.read_timeout:g}s)") from None
            except ConnectionError as exc:
                raise RemoteProtocolError(f"connection lost: {exc.strerror or type(exc).__name__}") from None
            except ssl.SSLError as exc:
                raise RemoteProtocolError(f"TLS: {exc.reason or exc}") from None
            if data:
                conn.answered = True
            machine.receive_data(data)  # b"" is the end of the connection; h11 decides what it means

    async def _send(self, conn: _Connection, target: Target, extra: list[tuple[str, str]]) -> Response:
        headers = [("Host", target.host_header), *self.headers, *extra]
        if target.auth:
            headers.append(("Authorization", target.auth))
        machine = conn.h11
        conn.answered = False
        try:
            data = machine.send(h11.Request(method="GET", target=target.path, headers=headers))
            data += machine.send(h11.EndOfMessage())
        except h11.LocalProtocolError as exc:  # e.g. a control character in a header value
            raise HTTPError(f"invalid request: {exc}") from None
        try:
            conn.writer.write(data)
        except (ConnectionError, RuntimeError) as exc:
            raise RemoteProtocolError(f"connection lost: {exc}") from None
        while True:
            event = await self._next_event(conn)
            if isinstance(event, h11.Response):
                return Response(self, conn, event)
            # h11.InformationalResponse (100 Continue, 103 Early Hints): the real answer follows


class _Exchange:
    """One request: a connection taken or opened, the answer's head read; closing releases it."""

    def __init__(self, client: Client, url: str, headers: list[tuple[str, str]]) -> None:
        self.client = client
        self.url = url
        self.headers = headers
        self.response: Response | None = None

    async def __aenter__(self) -> Response:
        client = self.client
        target = Target(self.url)
        conn = client._take_idle(target.origin)
        if conn is not None:
            try:
                self.response = await client._send(conn, target, self.headers)
                return self.response
            except RemoteProtocolError:
                conn.close()
                if conn.answered:
                    raise
                # the server closed the idle connection as we reused it: nothing was answered, so
                # the GET is sent again, once, on a new connection (httpcore does the same)
            except BaseException:
                conn.close()
                raise
        conn = await client._open(target)
        try:
            self.response = await client._send(conn, target, self.headers)
        except BaseException:
            conn.close()
            raise
        return self.response

    async def __aexit__(self, *exc: object) -> None:
        if self.response is not None:
            await self.response.aclose()
