"""Polite, bounded HTTP fetching of feeds (collect/client.py: HTTP/1.1 on asyncio streams with h11).

Bounded: a global and a per-host concurrency limit, connect/read/total timeouts, a body cap
enforced while streaming on the decompressed bytes (a gzip bomb stops at the cap), a few redirects.
Polite: conditional GET (ETag, Last-Modified), a User-Agent that names us, Retry-After kept.
"""

from __future__ import annotations

import asyncio
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import urljoin, urlsplit

from newsletter.collect.client import Client, ConnectFailed, ConnectTimeout, HTTPError, ReadTimeout, Response
from newsletter.collect.guard import BlockedAddress
from newsletter.config import Settings

MAX_REDIRECTS = 5
REDIRECTS = {301, 302, 303, 307, 308}
PERMANENT = {301, 308}
DRAIN_BYTES = 64 * 1024  # an unused error or redirect body read to keep the connection alive
ACCEPT = "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"


@dataclass(frozen=True)
class FetchRequest:
    source_id: int
    name: str
    url: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class FetchResult:
    """What happened on the wire. `status`: ok | not_modified | gone | error."""

    request: FetchRequest
    status: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    final_url: str | None = None
    moved_to: str | None = None  # set when every redirect hop was permanent
    etag: str | None = None
    last_modified: str | None = None
    http_status: int | None = None
    retry_after: str | None = None
    error: str | None = None
    elapsed: float = 0.0


class BodyTooLarge(Exception):
    pass


class _Decoder:
    """Content-Encoding decoder that never produces more than the cap, whatever the compression ratio."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.encoding = encoding
        if encoding in ("", "identity"):
            self._z = None
        elif encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = zlib.decompressobj(32 + zlib.MAX_WBITS)
        else:
            raise ValueError(f"unsupported Content-Encoding {encoding!r}")
        self._raw_deflate_tried = False

    def feed(self, chunk: bytes) -> bytes:
        if self._z is None:
            self._count(len(chunk))
            return chunk
        out = bytearray()
        data = chunk
        while data:
            try:
                piece = self._z.decompress(data, self.limit - self.size + 1)
            except zlib.error as exc:
                if self.encoding == "deflate" and not self._raw_deflate_tried and self.size == 0:
                    self._raw_deflate_tried = True
                    self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise ValueError(f"corrupt {self.encoding} body: {exc}") from exc
            self._count(len(piece))
            out += piece
            data = self._z.unconsumed_tail
            if self._z.eof:
                break
        return bytes(out)

    def _count(self, n: int) -> None:
        self.size += n
        if self.size > self.limit:
            what = "after decompression " if self._z is not None else ""
            raise BodyTooLarge(f"response body {what}exceeds the limit of {self.limit:,} bytes (NEWSLETTER_FETCH_MAX_BYTES)")


async def _drain(resp: Response, cap: int = DRAIN_BYTES) -> None:
    """Read the (small or empty) body of a response we do not use, so its connection is kept alive.

    A response closed before its end closes the connection too: every unchanged feed (304) cost
    a new TCP (and TLS) connection. A body larger than `cap` is not worth reading: that one closes.
    """
    read = 0
    async for chunk in resp.chunks():
        read += len(chunk)
        if read > cap:
            return


def user_agent(settings: Settings) -> str:
    try:
        ver = version("newsletter")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        ver = "dev"
    return f"newsletter-collector/{ver} (+{settings.base_url}; feed reader for a human-rights monitoring newsletter)"


class Fetcher:
    """One shared client for a collect run; use as `async with Fetcher(settings) as f`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        total = settings.fetch_timeout
        self.total_timeout = total
        self.connect_timeout, self.read_timeout = min(10.0, total), min(20.0, total)
        # at most one idle keep-alive connection per concurrent fetch, least recently used closed first
        self.client = Client(
            allow_loopback=settings.allow_loopback_feeds,
            headers=[("User-Agent", user_agent(settings)), ("Accept", ACCEPT), ("Accept-Encoding", "gzip, deflate")],
            connect_timeout=self.connect_timeout, read_timeout=self.read_timeout, max_idle=settings.fetch_concurrency,
        )
        self._global = asyncio.Semaphore(settings.fetch_concurrency)
        self._hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(settings.fetch_per_host))

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    async def fetch(self, req: FetchRequest) -> FetchResult:
        """Never raises for a feed's own faults: they come back as status 'error' with a reason."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with self._global:
            try:
                async with asyncio.timeout(self.total_timeout):
                    result = await self._fetch(req)
            except TimeoutError:
                result = FetchResult(req, "error", error=f"no complete response within {self.total_timeout:g}s (total timeout)")
            except (ConnectTimeout, ReadTimeout, BlockedAddress, BodyTooLarge) as exc:
                result = FetchResult(req, "error", error=str(exc))
            except ConnectFailed as exc:
                result = FetchResult(req, "error", error=f"connection failed: {exc}"[:500])
            except (HTTPError, ValueError, OSError) as exc:
                result = FetchResult(req, "error", error=f"{type(exc).__name__}: {exc}"[:500])
        result.elapsed = loop.time() - started
        return result

    async def _fetch(self, req: FetchRequest) -> FetchResult:
        url = req.url
        visited = {url}
        all_permanent = True
        conditional: list[tuple[str, str]] = []
        if req.etag:
            conditional.append(("If-None-Match", req.etag))
        if req.last_modified:
            conditional.append(("If-Modified-Since", req.last_modified))
        for _hop in range(MAX_REDIRECTS + 1):
            host = urlsplit(url).hostname or ""
            async with self._hosts[host]:
                async with self.client.stream(url, conditional) as resp:
                    if resp.status_code in REDIRECTS:
                        await _drain(resp)
                        location = resp.headers.get("location")
                        if not location:
                            return FetchResult(req, "error", http_status=resp.status_code,
                                               error=f"HTTP {resp.status_code} redirect without a Location")
                        target = urljoin(url, location.strip())
                        if urlsplit(target).scheme not in ("http", "https"):
                            return FetchResult(req, "error", error=f"redirect to a non-http(s) URL refused: {target[:200]}")
                        if target in visited:
                            return FetchResult(req, "error", http_status=resp.status_code, error=f"redirect loop at {target[:200]}")
                        visited.add(target)
                        all_permanent = all_permanent and resp.status_code in PERMANENT
                        url = target
                        continue
                    return await self._finish(req, resp, url, moved=url if all_permanent and url != req.url else None)
        return FetchResult(req, "error", error=f"more than {MAX_REDIRECTS} redirects")

    async def _finish(self, req: FetchRequest, resp: Response, url: str, moved: str | None) -> FetchResult:
        status = resp.status_code
        base = dict(final_url=url, moved_to=moved, http_status=status)
        if status == 304 or status == 410 or status >= 400 or status < 200 or status == 204:
            await _drain(resp)
        if status == 304:
            return FetchResult(req, "not_modified", etag=req.etag, last_modified=req.last_modified, **base)
        if status == 410:
            return FetchResult(req, "gone", error="HTTP 410 Gone: the publisher removed this feed", **base)
        if status >= 400 or status < 200 or status == 204:
            reason = resp.reason_phrase or ""
            return FetchResult(req, "error", retry_after=resp.headers.get("retry-after"),
                               error=f"HTTP {status} {reason}".strip(), **base)
        limit = self.settings.fetch_max_bytes
        declared = resp.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise BodyTooLarge(f"response body of {int(declared):,} bytes exceeds the limit of {limit:,} bytes (NEWSLETTER_FETCH_MAX_BYTES)")
        decoder = _Decoder(resp.headers.get("content-encoding", "").strip().lower(), limit)
        chunks: list[bytes] = []
        raw = 0
        async for chunk in resp.chunks():
            raw += len(chunk)
            if raw > limit:
                raise BodyTooLarge(f"response body exceeds the limit of {limit:,} bytes (NEWSLETTER_FETCH_MAX_BYTES)")
            chunks.append(decoder.feed(chunk))
        headers = {k: resp.headers[k] for k in ("content-type", "content-location", "content-language") if k in resp.headers}
        return FetchResult(req, "ok", body=b"".join(chunks), headers=headers,
                           etag=resp.headers.get("etag"), last_modified=resp.headers.get("last-modified"), **base)
