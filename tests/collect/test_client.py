"""The collector's HTTP/1.1 client against a real loopback server that answers byte for byte as scripted:
framings (chunked, read-until-close), a stale keep-alive connection, broken answers, TLS."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from newsletter.collect.client import Client, ConnectFailed, ReadTimeout, RemoteProtocolError
from newsletter.collect.fetcher import Fetcher, FetchRequest
from newsletter.config import load_settings

Answer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _head(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


async def _serve(answer: Answer, ssl_context: ssl.SSLContext | None = None) -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=ssl_context)
    return server, server.sockets[0].getsockname()[1]


def _client(**kwargs: object) -> Client:
    options: dict[str, object] = dict(allow_loopback=True, headers=[("User-Agent", "test")], connect_timeout=5,
                                      read_timeout=5, max_idle=4)
    options.update(kwargs)
    return Client(**options)  # type: ignore[arg-type]


async def _get(client: Client, url: str) -> tuple[int, dict[str, str], bytes]:
    async with client.stream(url) as resp:
        body = b"".join([chunk async for chunk in resp.chunks()])
        return resp.status_code, resp.headers, body


def test_chunked_and_close_delimited_bodies_are_read_whole() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await _head(reader)
        if head.startswith(b"GET /chunked "):
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Seen: a\r\nX-Seen: b\r\n\r\n"
                         b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
            await writer.drain()
            head = await _head(reader)  # the same connection serves the next request
        assert head.startswith(b"GET /close ")
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\n\r\n<rss>until the end</rss>")
        await writer.drain()
        writer.close()

    async def run() -> None:
        server, port = await _serve(answer)
        async with server, _client() as client:
            status, headers, body = await _get(client, f"http://127.0.0.1:{port}/chunked")
            assert (status, body, headers["x-seen"]) == (200, b"hello world", "a, b")
            assert client.idle_origins() == [("http", "127.0.0.1", port)]
            status, headers, body = await _get(client, f"http://127.0.0.1:{port}/close")
            assert (status, body, headers["content-type"]) == (200, b"<rss>until the end</rss>", "text/xml")
            assert client.idle_origins() == []  # a close-delimited answer ends its connection

    asyncio.run(run())


def test_a_keep_alive_connection_the_server_dropped_is_replaced_once() -> None:
    """A server may close an idle connection just as it is reused: the GET goes again on a new one."""
    connections: list[int] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        await _head(reader)
        writer.write(b"HTTP/1.1 304 Not Modified\r\nETag: \"e\"\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        if len(connections) == 1:
            await _head(reader)  # reads the second request, then drops the connection without a word
        writer.close()

    async def run() -> list[int]:
        server, port = await _serve(answer)
        async with server, _client() as client:
            return [(await _get(client, f"http://127.0.0.1:{port}/f.xml"))[0] for _ in range(2)]

    assert asyncio.run(run()) == [304, 304]
    assert len(connections) == 2


@pytest.mark.parametrize(("reply", "expected"), [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nonly part of it", "RemoteProtocolError"),
    (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "RemoteProtocolError"),
    (b"", "RemoteProtocolError"),
])
def test_a_broken_answer_is_an_error_not_a_hang(reply: bytes, expected: str) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _head(reader)
        writer.write(reply)
        await writer.drain()
        writer.close()

    async def run() -> None:
        server, port = await _serve(answer)
        async with server, _client() as client:
            with pytest.raises(RemoteProtocolError):
                await _get(client, f"http://127.0.0.1:{port}/f.xml")

    asyncio.run(run())


def test_a_server_that_stops_mid_answer_hits_the_read_timeout() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nstart")
        await writer.drain()
        await asyncio.sleep(5)

    async def run() -> None:
        server, port = await _serve(answer)
        async with server, _client(read_timeout=0.3) as client:
            with pytest.raises(ReadTimeout, match="read timeout 0.3s"):
                await _get(client, f"http://127.0.0.1:{port}/f.xml")
            server.close()

    asyncio.run(run())


def test_request_carries_host_conditionals_and_url_credentials() -> None:
    seen: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await _head(reader))
        writer.write(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    async def run() -> None:
        server, port = await _serve(answer)
        async with server, _client() as client:
            async with client.stream(f"http://us%40er:pw@127.0.0.1:{port}/новости/feed xml?q=a b",
                                     [("If-None-Match", '"v1"')]) as resp:
                assert resp.status_code == 304

    asyncio.run(run())
    head = seen[0].decode("latin-1")
    assert head.startswith("GET /%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/feed%20xml?q=a%20b HTTP/1.1\r\n")
    assert "\r\nhost: 127.0.0.1:" in head.lower() and '\r\nIf-None-Match: "v1"\r\n' in head
    assert "\r\nAuthorization: Basic dXNAZXI6cHc=\r\n" in head  # us@er:pw


def _tls_files(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test feed server")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_tls_is_verified_and_then_used(tmp_path: Path) -> None:
    cert, key = _tls_files(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await _head(reader)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            return  # the client refused our certificate
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n<rss/>...")
        await writer.drain()

    async def run() -> None:
        server, port = await _serve(answer, server_ctx)
        async with server:
            async with _client() as client:  # certifi's roots: a self-signed certificate is refused
                with pytest.raises(ConnectFailed, match="CERTIFICATE_VERIFY_FAILED"):
                    await _get(client, f"https://127.0.0.1:{port}/f.xml")
            async with _client() as client:
                trusting = ssl.create_default_context(cafile=str(cert))
                client._ssl = trusting  # the test's own root, as if it were a public one
                assert await _get(client, f"https://127.0.0.1:{port}/f.xml") == (200, {"content-length": "9"}, b"<rss/>...")

    asyncio.run(run())


def test_fetcher_reports_a_refused_connection_and_a_bad_certificate(tmp_path: Path) -> None:
    cert, key = _tls_files(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await _head(reader)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass

    async def run() -> list[str | None]:
        server, port = await _serve(answer, server_ctx)
        closed, closed_port = await _serve(answer)
        closed.close()
        await closed.wait_closed()
        settings = load_settings(allow_loopback_feeds=True, fetch_timeout=5)
        async with server, Fetcher(settings) as fetcher:
            results = [await fetcher.fetch(FetchRequest(1, "f", url)) for url in
                       (f"https://127.0.0.1:{port}/f.xml", f"http://127.0.0.1:{closed_port}/f.xml")]
        return [r.error for r in results]

    tls, refused = asyncio.run(run())
    assert tls and tls.startswith("connection failed: TLS: CERTIFICATE_VERIFY_FAILED")
    assert refused and refused.startswith("connection failed: ") and "refused" in refused.lower()
