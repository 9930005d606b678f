"""A fault-injecting SMTP relay on loopback (aiosmtpd): refusals at MAIL, RCPT and DATA, a provider's
"421 and close after N messages, then refuse for T seconds", stalls, dropped connections, slowness.

Every accepted message is kept as (recipient, Message-ID), so a test can assert that each reader got
exactly one copy.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from tests.support.net import free_port

# (stage "MAIL" | "RCPT" | "DATA", recipient or "", attempt number of that recipient at this stage) -> reply
Rule = Callable[[str, str, int], str | None]


@dataclass
class FaultyRelay:
    rule: Rule | None = None
    throttle_after: int | None = None  # after this many accepted messages ...
    throttle_seconds: float = 0.0  # ... answer 421 and close, and refuse connections for this long
    stall: Callable[[str, int], float] | None = None  # seconds to sit silent before answering DATA
    drop: Callable[[str, int], bool] | None = None  # close the connection instead of answering DATA
    delay: float = 0.0  # per message: a slow relay
    seen: list[tuple[str, str]] = field(default_factory=list)
    attempts: Counter[str] = field(default_factory=Counter)  # DATA commands per recipient
    rcpt_attempts: Counter[str] = field(default_factory=Counter)
    refused_connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _accepted_since_throttle: int = 0
    _throttled_until: float = 0.0

    # ---- server side

    def throttled(self) -> bool:
        return time.monotonic() < self._throttled_until

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:  # noqa: N802
        reply = self.rule("MAIL", "", 0) if self.rule else None
        if reply:
            return reply
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:  # noqa: N802
        with self.lock:
            self.rcpt_attempts[address] += 1
            n = self.rcpt_attempts[address]
        reply = self.rule("RCPT", address, n) if self.rule else None
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        rcpt = envelope.rcpt_tos[0]
        with self.lock:
            self.attempts[rcpt] += 1
            n = self.attempts[rcpt]
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.stall is not None and (seconds := self.stall(rcpt, n)):
            await asyncio.sleep(seconds)
        if self.drop is not None and self.drop(rcpt, n):
            server.transport.abort()
            return "250 never seen"
        if self.throttle_after is not None and self._accepted_since_throttle >= self.throttle_after:
            self._throttled_until = time.monotonic() + self.throttle_seconds
            self._accepted_since_throttle = 0
            asyncio.get_running_loop().call_later(0.01, server.transport.close)
            return "421 4.7.0 Too many messages, slow down"
        reply = self.rule("DATA", rcpt, n) if self.rule else None
        if reply:
            return reply
        head = bytes(envelope.content).split(b"\r\n\r\n", 1)[0]
        with self.lock:
            self.seen.append((rcpt, str(message_from_bytes(head + b"\r\n\r\n")["Message-ID"])))
            self._accepted_since_throttle += 1
        return "250 OK"

    # ---- what a test asserts

    def per_recipient(self) -> Counter[str]:
        return Counter(r for r, _ in self.seen)


class _ThrottlingSMTP(SMTP):
    """Refuses a new connection with a 421 greeting while the relay is throttled, as providers do."""

    def __init__(self, relay: FaultyRelay, **kwargs: Any) -> None:
        super().__init__(relay, **kwargs)
        self.relay = relay

    async def _handle_client(self) -> None:
        if self.relay.throttled():
            self.relay.refused_connections += 1
            await self.push("421 4.7.0 Too many connections, try again later")
            self.transport.close()
            return
        await super()._handle_client()


class _Controller(Controller):
    def __init__(self, relay: FaultyRelay, port: int) -> None:
        super().__init__(relay, hostname="127.0.0.1", port=port)
        self.relay = relay

    def factory(self) -> SMTP:
        return _ThrottlingSMTP(self.relay, **self.SMTP_kwargs)


@contextmanager
def faulty_relay(**options: Any) -> Iterator[tuple[str, FaultyRelay]]:
    """Yields (smtp URL, relay); the options are FaultyRelay's fields."""
    relay = FaultyRelay(**options)
    port = free_port()
    controller = _Controller(relay, port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", relay
    finally:
        controller.stop()
