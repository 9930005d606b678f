"""The delivery domain's entry points: the outbox, mailing a rendered issue, subscribers, bounces.

Delivery knows nothing of issues' states or of rendering: newsletter.flows.send freezes and renders
the issue, hands the rendered message here, and moves the issue to `sent` when the outbox is done.

No tracking of any kind happens here or anywhere in delivery: no open pixels, no rewritten links,
no per-reader engagement records. The only per-reader data kept is what sending needs (the
outbox row) and what consent law requires (when and how someone subscribed or left).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from newsletter import audit
from newsletter.config import Settings
from newsletter.db import DatabaseUnavailable, retry_transient
from newsletter.delivery import notices, outbox, subscribers
from newsletter.delivery.addresses import normalize_email
from newsletter.delivery.bounces import BounceReport, process_messages
from newsletter.delivery.message import EditionFactory, MessageFactory, Recipient, RenderedLike, address_domain
from newsletter.delivery.sender import SendAborted, Sender, SendStats
from newsletter.delivery.smtp import send_sync
from newsletter.delivery.tokens import message_id_tag
from newsletter.models import Issue, Subscriber
from newsletter.runtime import Runtime
from newsletter.states import DELIVERY_FINAL

__all__ = [
    "DatabaseUnavailable", "DeliverySummary", "SendAborted", "SendReport", "begin_report", "confirm", "deliver",
    "delivery_summary", "drop_untried", "enqueue", "export_subscribers", "finish_report", "import_subscribers", "message_id",
    "process_bounces", "requeue_failed", "send_test", "subscribe", "undelivered", "unsubscribe",
    "NoticeReport", "deliver_notices", "enqueue_notices", "notice_counts", "notice_message_id", "unfinished_notices",
]

T = TypeVar("T")
RATE_MIN_SECONDS = 2.0  # below this (or RATE_MIN_MESSAGES) a rate is noise, not a figure
RATE_MIN_MESSAGES = 20


@dataclass
class SendReport:
    issue: str
    total: int = 0
    enqueued: int = 0
    sent: int = 0
    failed: int = 0
    retried: int = 0
    already_done: int = 0
    remaining: int = 0
    elapsed: float = 0.0
    issue_state: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    requeued: int = 0
    paused: int = 0
    next_retry: datetime | None = None
    undelivered: dict[str, dict[str, int]] = field(default_factory=dict)  # failed|postponed -> reason -> n

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def pace(self) -> str:
        """How long the run took, with a rate only when it means something: a handful of messages in a
        fraction of a second gives "142 msg/s over 0.0s", which says nothing about the relay."""
        if self.elapsed < RATE_MIN_SECONDS or self.sent < RATE_MIN_MESSAGES:
            return f"in {self.elapsed:.1f}s"
        return f"{self.rate:.0f} msg/s over {self.elapsed:.1f}s"

    @property
    def undelivered_count(self) -> int:
        """Rows that did not reach the relay: failed for good, or waiting for a retry. Rows another live
        sender holds right now are its business, not undelivered."""
        return self.counts.get("failed", 0) + self.counts.get("pending", 0)


def message_id(settings: Settings, issue: Issue | int, period: str, delivery_id: int) -> str:
    """Deterministic per delivery: a re-send after a crash carries the same Message-ID as the first copy."""
    issue_id = issue if isinstance(issue, int) else issue.id
    tag = message_id_tag(settings.secret, issue_id, delivery_id)
    return f"<{period}.{issue_id}.{delivery_id}.{tag}@{address_domain(settings.from_address)}>"


def run_coroutine(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, also when the caller's thread already runs an event loop (an async web handler,
    Playwright's sync API in tests): then the send runs on its own loop in a helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller below
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="newsletter-send")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@dataclass
class DeliverySummary:
    """What the outbox says about one issue, for the desk: counts and why rows were not delivered."""

    counts: dict[str, int]
    undelivered: dict[str, dict[str, int]]
    requeueable: int


def delivery_summary(session: Session, issue_id: int) -> DeliverySummary:
    counts = outbox.counts(session, issue_id)
    return DeliverySummary(counts, outbox.undelivered(session, issue_id), outbox.requeueable(session, issue_id))


def requeue_failed(session: Session, issue_id: int, *, actor: Any) -> int:
    """An editor's deliberate retry of failed deliveries (readers still subscribed): they become pending,
    so the scheduler's retry job (or `newsletter send`) sends them. The issue's state is the flow's business."""
    requeued = outbox.requeue_failed(session, issue_id)
    if requeued:
        audit.record(session, actor=actor, action="deliveries.requeued", entity_type="issue", entity_id=issue_id,
                     changes={"requeued": requeued})
    return requeued


def drop_untried(session: Session, issue_id: int) -> int:
    """A cancelled send leaves no queued row behind (none of them was attempted)."""
    return outbox.drop_untried(session, issue_id)


def enqueue(session: Session, issue_id: int) -> int:
    """One pending row per confirmed, non-suppressed subscriber not queued yet; rows of readers who left go."""
    added = outbox.enqueue(session, issue_id)
    outbox.drop_unsendable(session, issue_id)
    return added


def begin_report(session: Session, issue_id: int, *, period: str, enqueued: int = 0, requeued: int = 0) -> SendReport:
    """The report of a send about to start: what the outbox holds and what is final already."""
    before = outbox.counts(session, issue_id)
    report = SendReport(issue=period, enqueued=enqueued, requeued=requeued, counts=before)
    report.already_done = sum(before.get(s, 0) for s in DELIVERY_FINAL)
    report.total = sum(before.values())
    return report


def undelivered(runtime: Runtime, issue_id: int) -> dict[str, dict[str, int]]:
    with runtime.session() as session:
        return outbox.undelivered(session, issue_id)


def deliver(runtime: Runtime, issue_id: int, email: RenderedLike, report: SendReport, *,
            progress: Callable[[SendStats, int], None] | None = None,
            editions: Mapping[str, RenderedLike] | None = None, default_edition: str = "") -> SendReport:
    """Mail the rendered issue to every row of the outbox that is due, exactly once; counts go into `report`.

    Safe to run again at any time, from several processes or machines at once (they share the
    outbox). Raises SendAborted when the relay or the database stops the run; what this run holds is
    given back on the way out.
    `editions` (language -> rendered email, besides `email`, the `default_edition`): each row gets its
    subscriber's language's edition, else the default one; the row stays one per issue and subscriber.
    """
    settings = runtime.settings
    factory: MessageFactory | EditionFactory = (
        EditionFactory({default_edition: email, **editions}, default_edition, settings) if editions
        else MessageFactory(email, settings))
    claimer = outbox.worker_id()
    total = report.total

    def on_progress(stats: SendStats) -> None:
        if progress:
            progress(stats, total)

    sender = Sender(runtime, issue_id, factory, lambda did: message_id(settings, issue_id, report.issue, did),
                    claimer=claimer, progress=on_progress)
    try:
        stats = run_coroutine(sender.run())
    finally:
        _release(runtime, issue_id, claimer)
    report.sent, report.failed, report.retried, report.elapsed = stats.sent, stats.failed, stats.retried, stats.elapsed
    report.paused = stats.paused
    return report


def _release(runtime: Runtime, issue_id: int, claimer: str) -> None:
    """Give back what this run still holds, even on the way out of a failure; if the database is
    gone for good the rows come back when their lease ends (or at once, once this process exits)."""
    def release() -> None:
        with runtime.session() as session:
            outbox.release(session, issue_id, claimer)

    try:
        retry_transient(release, budget=runtime.settings.db_retry_seconds)
    except DatabaseUnavailable:
        pass


# ---------------------------------------------------------------- correction notices


@dataclass
class NoticeReport:
    """One run over a correction's notice outbox: what it sent now, and what the outbox says after."""

    correction_id: int
    enqueued: int = 0
    sent: int = 0
    failed: int = 0
    retried: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def remaining(self) -> int:
        return self.counts.get("pending", 0) + self.counts.get("sending", 0)


def notice_message_id(settings: Settings, correction_id: int, notice_id: int) -> str:
    """Deterministic per notice row, so a re-send after a crash is recognisable as the same message."""
    tag = message_id_tag(settings.secret, -correction_id, notice_id)
    return f"<correction.{correction_id}.{notice_id}.{tag}@{address_domain(settings.from_address)}>"


def enqueue_notices(session: Session, correction_id: int, issue_id: int) -> int:
    """Queue the notice of a correction for every reader the corrected issue was sent to who can still be mailed."""
    added = notices.enqueue(session, correction_id, issue_id)
    notices.drop_unsendable(session, correction_id)
    return added


def unfinished_notices(session: Session) -> list[int]:
    """Corrections whose notice still has rows to send (waiting for a retry, or left by a crashed sender)."""
    return notices.unfinished(session)


def notice_counts(session: Session, correction_id: int) -> dict[str, int]:
    return notices.counts(session, correction_id)


def deliver_notices(runtime: Runtime, correction_id: int, email: RenderedLike, report: NoticeReport, *,
                    editions: Mapping[str, RenderedLike] | None = None, default_edition: str = "") -> NoticeReport:
    """Mail a rendered correction notice to every due row of its outbox, exactly once (the issue Sender's rules).
    `editions` (language -> rendered notice, besides `email`, the `default_edition`'s): each reader gets
    their language's, else the default one; still one notice per reader."""
    settings = runtime.settings
    claimer = outbox.worker_id()
    factory: MessageFactory | EditionFactory = (
        EditionFactory({default_edition: email, **editions}, default_edition, settings) if editions
        else MessageFactory(email, settings))
    sender = Sender(runtime, correction_id, factory,
                    lambda nid: notice_message_id(settings, correction_id, nid), claimer=claimer, store=notices)
    try:
        stats = run_coroutine(sender.run())
    finally:
        def release() -> None:
            with runtime.session() as session:
                notices.release(session, correction_id, claimer)

        try:
            retry_transient(release, budget=settings.db_retry_seconds)
        except DatabaseUnavailable:
            pass
    report.sent, report.failed, report.retried = stats.sent, stats.failed, stats.retried
    return report


def finish_report(session: Session, issue_id: int, report: SendReport) -> SendReport:
    """Read the outbox's final word into the report: counts, rows still to go, reasons, the next retry."""
    report.counts = outbox.counts(session, issue_id)
    report.remaining = report.counts.get("pending", 0) + report.counts.get("sending", 0)
    report.undelivered = outbox.undelivered(session, issue_id)
    report.next_retry = outbox.next_retry_at(session, issue_id) if report.remaining else None
    return report


def send_test(settings: Settings, email: RenderedLike, addresses: list[str]) -> list[str]:
    """Send a rendered issue as readers will get it to a few addresses; no Delivery row is touched.

    Returns the normalised addresses; raises ValueError for a bad address and OSError/smtplib
    errors when the relay refuses.
    """
    to = [normalize_email(a) for a in addresses]
    factory = MessageFactory(email, settings, subject_prefix="[TEST] ")
    sender = parseaddr(settings.from_address)[1]
    for address in to:
        send_sync(settings, sender, [address], factory.build(Recipient(address, None, None), factory.random_message_id()))
    return to


# ---------------------------------------------------------------- subscribers (contract names)


def subscribe(session: Session, *, email: str, language: str, source: str, settings: Settings,
              name: str | None = None) -> Subscriber:
    return subscribers.subscribe(session, email=email, language=language, source=source, settings=settings, name=name)


def confirm(session: Session, token: str, *, settings: Settings) -> Subscriber:
    return subscribers.confirm(session, token, settings=settings)


def unsubscribe(session: Session, token: str) -> Subscriber:
    return subscribers.unsubscribe(session, token)


def import_subscribers(session: Session, path: Path | str, *, source: str | None = None,
                       settings: Settings | None = None) -> subscribers.ImportReport:
    return subscribers.import_subscribers(session, path, source=source, settings=settings)


def export_subscribers(session: Session) -> str:
    return subscribers.export_subscribers(session)


def process_bounces(session: Session, messages: Any, *, settings: Settings) -> BounceReport:
    return process_messages(session, messages, settings=settings)
