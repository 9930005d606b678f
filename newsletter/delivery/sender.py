"""The async SMTP sender: several connections draining the outbox, with a group-committing recorder.

Exactly-once, as far as SMTP allows: a row is committed as `sending` before its SMTP transaction
and as `sent` right after the server's 250. A connection sends its next message only after the
outcome of the previous one is committed, so if the process dies (even by SIGKILL) at most ONE
message per connection can have been accepted by the server without being marked sent. That
row is re-sent after a restart, with the same deterministic Message-ID (see service.message_id),
so the copy is recognisable and deduplicated by mail stores that key on Message-ID. The same
holds for a connection lost after the message body was sent but before the server's reply.
Outcomes of all connections are written in one transaction per round (group commit), so the
database is not the bottleneck.

Faults: a row-level temporary refusal (450/451/452, a dropped connection) postpones that row with
growing backoff; a relay-level refusal (421, a refused connection once the relay had answered)
pauses the whole run with a growing pause and gives the rows back WITHOUT counting an attempt.
The run waits for postponed rows up to settings.send_wait_seconds and then ends, leaving them
pending for `newsletter send` or the scheduler's retry job. The rows a run holds have their lease
renewed, so no sender (this one included) ever takes them twice. Database calls ride out a short
outage (settings.db_retry_seconds).
"""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from aiosmtplib import (
    SMTP,
    SMTPConnectError,
    SMTPDataError,
    SMTPException,
    SMTPRecipientRefused,
    SMTPResponseException,
    SMTPSenderRefused,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)

from newsletter.db import retry_transient, utcnow
from newsletter.delivery import outbox
from newsletter.delivery.message import EditionFactory, MessageFactory, Recipient
from newsletter.delivery.outbox import Job, Outcome
from newsletter.delivery.smtp import async_client, smtp_target
from newsletter.runtime import Runtime

log = logging.getLogger(__name__)
T = TypeVar("T")
HARD_BOUNCE_DATA_CODES = (550, 551, 553)
MAX_CONNECT_FAILURES = 4


class SendAborted(Exception):
    """The run cannot go on (relay unreachable, sender address refused); nothing is lost, rows stay pending."""


@dataclass
class SendStats:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    paused: int = 0
    bounced_subscribers: int = 0
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started


class RateLimiter:
    """Evenly spaced sends across all connections (settings.send_rate per second; 0 = no limit)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next = time.monotonic()

    async def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        slot = max(self.next, now)
        self.next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


class Sender:
    """One run over one issue's outbox; build with the pieces, then `asyncio.run(sender.run())`."""

    def __init__(self, runtime: Runtime, issue_id: int, factory: MessageFactory | EditionFactory,
                 message_id: Callable[[int], str], *, claimer: str,
                 progress: Callable[[SendStats], None] | None = None, store: Any = outbox) -> None:
        s = runtime.settings
        self.store = store  # the outbox table's functions: issue deliveries, or correction notices
        self.runtime = runtime
        self.settings = s
        self.issue_id = issue_id
        self.factory = factory
        self.message_id = message_id
        self.claimer = claimer
        self.progress = progress
        self.target = smtp_target(s)
        self.connections = s.send_connections
        self.lease = timedelta(seconds=s.send_lease_seconds)
        # Never hold more claimed rows than a rate-limited run can send well within the lease.
        batch = s.send_batch_size
        if s.send_rate > 0:
            batch = max(1, min(batch, int(s.send_rate * s.send_lease_seconds / 4)))
        self.batch = batch
        self.stats = SendStats()
        self.fatal: str | None = None
        self.pause_until = 0.0  # monotonic; the relay asked us to stay away until then
        self.pause_until_wall: datetime | None = None
        self.pause_reason: str | None = None
        self.pauses = 0
        self.ever_connected = False
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-db")
        self._pending: list[tuple[Outcome, asyncio.Future[None]]] = []

    # ------------------------------------------------------------ database, one thread

    async def _in_db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        def once() -> T:
            with self.runtime.session() as session:
                return fn(session, *args, **kwargs)

        def call() -> T:
            return retry_transient(once, budget=self.settings.db_retry_seconds)

        return await asyncio.get_running_loop().run_in_executor(self._db, call)

    async def _in_db_fast(self, fn: Callable[..., T], *args: Any) -> T:
        def once() -> T:
            with self.runtime.engine.begin() as conn:
                return fn(conn, *args)

        def call() -> T:
            return retry_transient(once, budget=self.settings.db_retry_seconds)

        return await asyncio.get_running_loop().run_in_executor(self._db, call)

    # ------------------------------------------------------------ run

    async def run(self) -> SendStats:
        self.queue: asyncio.Queue[Job | None] = asyncio.Queue()
        self.stop = asyncio.Event()
        self.recorded = asyncio.Event()
        self.wakeup = asyncio.Event()
        self.inflight = 0
        self.limiter = RateLimiter(self.settings.send_rate)
        self.connect_failures = 0
        self._install_sigterm()
        recorder = asyncio.create_task(self._recorder())
        heartbeat = asyncio.create_task(self._heartbeat())
        workers = [asyncio.create_task(self._worker(n)) for n in range(self.connections)]
        try:
            await self._feed()
            for _ in workers:
                self.queue.put_nowait(None)
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)
            self.closing = True
            self.wakeup.set()
            await asyncio.gather(recorder, return_exceptions=True)
            self._db.shutdown(wait=True)
            self.stats.finished = time.monotonic()
        if self.fatal:
            raise SendAborted(self.fatal)
        return self.stats

    def _install_sigterm(self) -> None:
        if threading.current_thread() is threading.main_thread():
            try:
                asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self.stop.set)
            except (NotImplementedError, RuntimeError):
                pass

    async def _feed(self) -> None:
        low_water = max(self.connections * 2, self.batch // 2)
        self.last_progress = time.monotonic()
        while not self.stop.is_set():
            if self._paused() and self.inflight == 0:
                await self._sleep_or_stop(self.pause_until - time.monotonic())
                continue
            if self.queue.qsize() < low_water and not self._paused():
                jobs = await self._in_db(self.store.claim, self.issue_id, self.claimer, limit=self.batch, lease=self.lease)
                for job in jobs:
                    self.inflight += 1
                    self.queue.put_nowait(job)
                if jobs:
                    continue
                if self.inflight == 0:
                    await self._in_db(self.store.drop_unsendable, self.issue_id)
                    due = await self._in_db(self.store.next_retry_at, self.issue_id)
                    if due is None:
                        return
                    wait = (due - utcnow()).total_seconds()
                    if time.monotonic() + wait > self.last_progress + self.settings.send_wait_seconds:
                        return  # nothing delivered for send_wait_seconds: the retry job takes over
                    await self._sleep_or_stop(min(max(wait, 0.05), 5.0))
                    continue
            self.recorded.clear()
            await self._sleep_or_stop(1.0, event=self.recorded)

    async def _heartbeat(self) -> None:
        """Renew the lease of every row we hold, a third of the lease apart."""
        interval = max(1.0, self.lease.total_seconds() / 3)
        while True:
            await asyncio.sleep(interval)
            try:
                await self._in_db(self.store.renew, self.issue_id, self.claimer)
            except Exception as exc:  # noqa: BLE001 - the recorder reports a lasting database failure
                log.warning("could not renew the send lease: %s", type(exc).__name__)

    # ------------------------------------------------------------ relay-wide pause

    def _paused(self) -> bool:
        return time.monotonic() < self.pause_until

    def _pause(self, reason: str) -> None:
        """The relay refused us as a whole: stay away from it, longer each time, and spend no row's attempts."""
        if self._paused():
            return
        self.pauses += 1
        self.stats.paused += 1
        base, cap = self.settings.send_backoff_seconds, self.settings.send_backoff_max_seconds
        seconds = min(base * 2.0 ** (self.pauses - 1), max(cap, base))
        self.pause_until = time.monotonic() + seconds
        self.pause_until_wall = utcnow() + timedelta(seconds=seconds)
        self.pause_reason = reason
        log.warning("SMTP relay %s refused the connection (%s): pausing all sending for %.0f s",
                    self.target.display, reason, seconds)

    def _release(self, job: Job) -> Outcome:
        """Give a job back; during a relay pause it waits for the pause's end, with the reason shown."""
        if self._paused():
            return Outcome(job, "release", not_before=self.pause_until_wall, error=self.pause_reason)
        return Outcome(job, "release")

    async def _sleep_or_stop(self, seconds: float, event: asyncio.Event | None = None) -> None:
        waiters = [asyncio.ensure_future(self.stop.wait())]
        if event is not None:
            waiters.append(asyncio.ensure_future(event.wait()))
        _, pending = await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for w in waiters:
            w.cancel()

    # ------------------------------------------------------------ recorder (group commit)

    async def _submit(self, outcome: Outcome) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((outcome, future))
        self.wakeup.set()
        await future

    async def _recorder(self) -> None:
        self.closing = False
        while True:
            await self.wakeup.wait()
            self.wakeup.clear()
            batch, self._pending = self._pending, []
            if not batch:
                if self.closing:
                    return
                continue
            states: dict[int, str] = {}
            try:
                outcomes = [o for o, _ in batch]
                if all(o.kind == "sent" for o in outcomes):
                    await self._in_db_fast(self.store.record_sent, outcomes)
                else:
                    states = await self._in_db(self.store.record, outcomes, settings=self.settings)
            except BaseException as exc:  # the workers must learn that their outcome is not stored
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                self.fatal = self.fatal or f"could not record sends in the database: {type(exc).__name__}: {exc}"
                self.stop.set()
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for outcome, fut in batch:
                self._count(outcome, states.get(outcome.job.delivery_id))
                if not fut.done():
                    fut.set_result(None)
            self.inflight -= len(batch)
            self.recorded.set()
            if self.progress:
                self.progress(self.stats)

    def _count(self, o: Outcome, state: str | None) -> None:
        """Count what the outbox now says about the row, not what the relay said."""
        if o.kind == "sent":
            self.stats.sent += 1
            self.last_progress = time.monotonic()
            self.pauses = 0  # the relay takes mail again: the next pause starts short
        elif o.kind == "retry" and state == "pending":
            self.stats.retried += 1
        elif state == "failed":
            self.stats.failed += 1

    # ------------------------------------------------------------ workers (one SMTP connection each)

    async def _worker(self, n: int) -> None:
        client: SMTP | None = None
        used = 0
        try:
            while True:
                job = await self.queue.get()
                if job is None:
                    return
                if self.stop.is_set() or self._paused():
                    await _quit(client)
                    client = None
                    await self._submit(self._release(job))
                    continue
                if client is None or used >= self.settings.messages_per_connection:
                    await _quit(client)
                    client = await self._connect()
                    used = 0
                    if client is None:
                        await self._submit(self._release(job))
                        continue
                await self.limiter.wait()
                outcome, keep = await self._send_one(client, job)
                used += 1
                if not keep or not client.is_connected:
                    await _quit(client)
                    client = None
                await self._submit(outcome)
        finally:
            await _quit(client)

    async def _connect(self) -> SMTP | None:
        while not self.stop.is_set() and not self._paused():
            client = async_client(self.target, timeout=self.settings.smtp_timeout)
            try:
                await client.connect()
            except (SMTPException, OSError) as exc:
                if self.ever_connected:
                    # The relay answered before, so this is a refusal (throttling, a restart), not a
                    # wrong address: pause everyone rather than burn each row's attempts.
                    self._pause(f"relay unreachable: {_describe(exc)}")
                    return None
                self.connect_failures += 1
                if self.connect_failures >= MAX_CONNECT_FAILURES:
                    self.fatal = f"cannot connect to the SMTP server {self.target.display}: {_describe(exc)}"
                    self.stop.set()
                    return None
                await self._sleep_or_stop(min(5.0, 0.25 * 2 ** self.connect_failures))
                continue
            self.connect_failures = 0
            self.ever_connected = True
            _large_send_buffer(client)
            return client
        return None

    async def _send_one(self, client: SMTP, job: Job) -> tuple[Outcome, bool]:
        """Returns the outcome and whether the connection is still usable."""
        mid = self.message_id(job.delivery_id)
        data = self.factory.build_wire(Recipient(job.email, job.name, job.token, job.language), mid)
        try:
            await transact(client, self.factory.from_address, job.email, data)
        except SMTPResponseException as exc:
            if exc.code == 421:  # "service not available, closing": the relay, not this reader
                client.close()
                self._pause(f"{exc.code} {exc.message}")
                return self._release(job), False
            return await self._refused(client, job, mid, exc)
        except (SMTPServerDisconnected, SMTPTimeoutError, SMTPConnectError, ConnectionError, OSError) as exc:
            return Outcome(job, "retry", error=f"connection lost: {_describe(exc)}"), False
        return Outcome(job, "sent", message_id=mid), True

    async def _refused(self, client: SMTP, job: Job, mid: str, exc: SMTPResponseException) -> tuple[Outcome, bool]:
        """A reply other than 421 refused this message: 5xx ends the row, 4xx postpones it."""
        await _reset(client)
        text = f"{exc.code} {exc.message}"
        permanent = 500 <= exc.code < 600
        if isinstance(exc, SMTPSenderRefused) and permanent:
            self.fatal = f"the SMTP server refused the sender address {self.factory.from_address}: {text}"
            self.stop.set()
            return Outcome(job, "release"), False
        if not permanent:
            return Outcome(job, "retry", error=text), True
        bounce = isinstance(exc, SMTPRecipientRefused) or exc.code in HARD_BOUNCE_DATA_CODES
        return Outcome(job, "failed", message_id=mid, error=text, hard_bounce=bounce), True


async def transact(client: SMTP, sender: str, recipient: str, data: bytes) -> None:
    """MAIL, RCPT and DATA for one message; `data` is what follows DATA, already dot-stuffed and ending
    with the "." line (MessageFactory.build_wire).

    aiosmtplib's sendmail() runs two regular expressions over every message (line endings and
    dot-stuffing) and its mail()/rcpt() parse both addresses with the email package each time, which
    together cost more than building the message: here plain addresses go out as they are (anything
    unusual still through aiosmtplib's quoting) and the body through the protocol's public
    write/read_response, stuffed once per run by the factory.
    """
    options = [f"SIZE={len(data)}".encode("ascii")] if client.supports_extension("size") else []
    if client.is_ehlo_or_helo_needed or not (_plain_address(sender) and _plain_address(recipient)):
        await client.mail(sender, options=[o.decode("ascii") for o in options])
        await client.rcpt(recipient)
    else:
        reply = await client.execute_command(b"MAIL", b"FROM:<" + sender.encode("ascii") + b">", *options)
        if reply.code != 250:
            raise SMTPSenderRefused(reply.code, reply.message, sender)
        reply = await client.execute_command(b"RCPT", b"TO:<" + recipient.encode("ascii") + b">")
        if reply.code not in (250, 251):
            raise SMTPRecipientRefused(reply.code, reply.message, recipient)
    reply = await client.execute_command(b"DATA")
    if reply.code != 354:
        raise SMTPDataError(reply.code, reply.message)
    protocol = client.protocol
    if protocol is None:
        raise SMTPServerDisconnected("Connection lost")
    protocol.write(data)
    reply = await protocol.read_response(timeout=client.timeout)
    if reply.code != 250:
        raise SMTPDataError(reply.code, reply.message)


_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+\Z")


def _plain_address(address: str) -> bool:
    """An ASCII addr-spec that needs no quoting in MAIL/RCPT (what normalize_email gives for nearly all)."""
    return _PLAIN_ADDRESS.match(address) is not None


def _large_send_buffer(client: SMTP) -> None:
    """Let a whole message fit in the kernel buffer, so one write() needs no extra wake-ups."""
    transport = client.protocol.transport if client.protocol is not None else None
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1024 * 1024)
        except OSError:
            pass


async def _reset(client: SMTP) -> None:
    """Clear a half-done envelope so the connection can carry the next message."""
    try:
        await client.rset()
    except (SMTPException, OSError):
        client.close()


async def _quit(client: SMTP | None) -> None:
    if client is None or not client.is_connected:
        return
    try:
        await asyncio.wait_for(client.quit(), timeout=5)
    except (SMTPException, OSError, asyncio.TimeoutError):
        client.close()


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
