"""Server-side request forgery guard: feed URLs may not reach internal addresses.

The check runs where connections are opened (connect_checked, the collector's HTTP client's only
way to a socket), on the addresses actually connected to, so redirects and DNS answers that change
between checks are covered too.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedAddress(Exception):
    """The feed's host resolves to an address the collector must not contact."""


class Unresolved(OSError):
    """The feed's host name has no address (or the resolver failed)."""


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
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise Unresolved(f"cannot resolve {host}: {exc}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for addr in addresses:
        problem = address_problem(ipaddress.ip_address(addr.split("%", 1)[0]), allow_loopback=allow_loopback)
        if problem:
            raise BlockedAddress(f"refused: {host} resolves to {addr}, a {problem} address")
    if not addresses:
        raise Unresolved(f"cannot resolve {host}")
    return addresses


async def connect_checked(host: str, port: int, *, allow_loopback: bool, ssl_context: ssl.SSLContext | None,
                          limit: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Open a connection to the first vetted address of `host` that answers; TLS verifies `host` itself.

    Every address is checked before any is tried, so a name with one internal address is refused
    whole (a resolver cannot steer the collector inward by ordering its answers).
    """
    addresses = await resolve_checked(host, port, allow_loopback=allow_loopback)
    last: OSError | None = None
    for addr in addresses:
        try:
            return await asyncio.open_connection(
                addr, port, ssl=ssl_context, server_hostname=host if ssl_context is not None else None, limit=limit)
        except ssl.SSLError:
            raise  # a certificate problem is the host's, not this address's
        except OSError as exc:
            last = exc
    assert last is not None
    raise last


