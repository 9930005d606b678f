"""Server-side request forgery guard: feed URLs may not reach internal addresses.

The check runs inside the connection layer (an httpcore network backend), on the addresses
actually connected to, so redirects and DNS answers that change between checks are covered too.
"""

from __future__ import annotations

import ipaddress
import socket
import typing
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any, Iterable

import anyio
import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedAddress(Exception):
    """The feed's host resolves to an address the collector must not contact."""


def address_problem(ip: IPAddress, *, allow_loopback: bool) -> str | None:
    """Why this address is refused, or None when it is a public address (or allowed loopback)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if allow_loopback else "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_private:
        return "private"
    if ip.is_reserved or not ip.is_global:
        return "reserved"
    return None


async def resolve_checked(host: str, port: int, *, allow_loopback: bool) -> list[str]:
    """Resolve a host and return its addresses, or raise BlockedAddress if any of them is internal."""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        problem = address_problem(literal, allow_loopback=allow_loopback)
        if problem:
            raise BlockedAddress(f"refused: {host} is a {problem} address")
        return [str(literal)]
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for addr in addresses:
        problem = address_problem(ipaddress.ip_address(addr.split("%", 1)[0]), allow_loopback=allow_loopback)
        if problem:
            raise BlockedAddress(f"refused: {host} resolves to {addr}, a {problem} address")
    if not addresses:
        raise httpcore.ConnectError(f"cannot resolve {host}")
    return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to vetted addresses; TLS still verifies the original host name."""

    def __init__(self, *, allow_loopback: bool) -> None:
        self.allow_loopback = allow_loopback
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        with anyio.fail_after(timeout) if timeout else nullcontext():
            addresses = await resolve_checked(host, port, allow_loopback=self.allow_loopback)
        last: Exception | None = None
        for addr in addresses:
            try:
                return await self._inner.connect_tcp(
                    addr, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress("refused: unix sockets are not feeds")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class HostPools:
    """One small connection pool per origin instead of one big pool for every feed.

    httpcore checks every connection of a pool on each request and at each response's end (a
    poll() per idle socket), so with one pool for the whole run that check grew with the number of
    connections; pools of at most `per_host` connections keep it short. Idle pools beyond
    `max_idle_pools` are closed (least recently used first), so a run over thousands of outlets
    never holds thousands of open sockets.
    """

    def __init__(self, make_pool: Callable[[], httpcore.AsyncConnectionPool], *, max_idle_pools: int) -> None:
        self._make_pool = make_pool
        self._max_idle = max_idle_pools
        self._pools: dict[tuple[bytes, bytes, int | None], httpcore.AsyncConnectionPool] = {}
        self._busy: dict[tuple[bytes, bytes, int | None], int] = {}

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        origin = request.url.origin
        key = (origin.scheme, origin.host, origin.port)
        pool = self._pools.pop(key, None)
        if pool is None:
            await self.close_idle()
            pool = self._make_pool()
        self._pools[key] = pool  # most recently used last
        self._busy[key] = self._busy.get(key, 0) + 1
        try:
            response = await pool.handle_async_request(request)
        except BaseException:
            self._release(key)
            raise
        stream = response.stream
        assert isinstance(stream, typing.AsyncIterable)
        response.stream = _Released(stream, lambda: self._release(key))
        return response

    def _release(self, key: tuple[bytes, bytes, int | None]) -> None:
        left = self._busy[key] - 1
        if left:
            self._busy[key] = left
        else:
            del self._busy[key]

    async def close_idle(self) -> None:
        """Close the least recently used pools that have no request in flight, beyond the limit."""
        idle = [key for key in self._pools if key not in self._busy]
        for key in idle[: max(0, len(idle) - self._max_idle)]:
            await self._pools.pop(key).aclose()

    async def __aenter__(self) -> HostPools:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()


class _Released:
    """A response body stream that tells its pool router when it is closed."""

    def __init__(self, stream: typing.AsyncIterable[bytes], done: Callable[[], None]) -> None:
        self._stream = stream
        self._done: Callable[[], None] | None = done

    async def __aiter__(self) -> typing.AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            if hasattr(self._stream, "aclose"):
                await self._stream.aclose()
        finally:
            if self._done is not None:
                done, self._done = self._done, None
                done()


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with the guarded network backend, no proxies from the environment, and
    one small pool per host (of at most `per_host` connections) sharing one TLS context."""

    def __init__(self, *, allow_loopback: bool, limits: httpx.Limits, per_host: int | None = None) -> None:
        super().__init__(trust_env=False, limits=limits)
        ssl_context = httpx.create_ssl_context(trust_env=False)
        backend = GuardedBackend(allow_loopback=allow_loopback)
        per_host = per_host or limits.max_connections

        def make_pool() -> httpcore.AsyncConnectionPool:
            return httpcore.AsyncConnectionPool(
                ssl_context=ssl_context,
                max_connections=per_host,
                max_keepalive_connections=per_host,
                keepalive_expiry=limits.keepalive_expiry,
                http1=True,
                http2=False,
                network_backend=backend,
            )

        self.pools = HostPools(make_pool, max_idle_pools=max(1, (limits.max_keepalive_connections or 1) // per_host))
        self._pool = self.pools  # type: ignore[assignment]
