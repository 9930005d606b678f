"""The delivery domain's entry points (the contract other domains, the CLI and the scheduler call).

No tracking of any kind happens here or anywhere in delivery: no open pixels, no rewritten links,
no per-reader engagement records. The only per-reader data kept is what sending needs (the
outbox row) and what consent law requires (when and how someone subscribed or left).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from newsletter import audit
from newsletter.config import Settings
from newsletter.db import DatabaseUnavailable, retry_transient, utcnow
from newsletter.delivery import outbox, subscribers
from newsletter.delivery.addresses import normalize_email
from newsletter.delivery.bounces import BounceReport, process_messages
from newsletter.delivery.message import MessageFactory, Recipient, address_domain
from newsletter.delivery.sender import SendAborted, Sender, SendStats
from newsletter.delivery.smtp import send_sync
from newsletter.delivery.tokens import message_id_tag
from newsletter.models import Issue, Subscriber
from newsletter.runtime import Runtime

__all__ = [
    "DatabaseUnavailable", "DeliverySummary", "SendAborted", "SendRefused", "SendReport", "confirm", "delivery_summary", "requeue_failed", "export_subscribers", "import_subscribers",
    "message_id", "process_bounces", "run_send", "send_test", "subscribe", "unsubscribe",
]

SENDABLE_STATES = ("approved", "scheduled", "sending")
T = TypeVar("T")


class SendRefused(Exception):
    """The issue cannot be sent in its current state; the message says what to do."""


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


def _render(snapshot: dict[str, Any], settings: Settings) -> Any:
    from newsletter.render import render_email

    return render_email(snapshot, settings)


@dataclass
class DeliverySummary:
    """What the outbox says about one issue, for the desk: counts and why rows were not delivered."""

    counts: dict[str, int]
    undelivered: dict[str, dict[str, int]]
    requeueable: int


def delivery_summary(session: Session, issue_id: int) -> DeliverySummary:
    counts = outbox.counts(session, issue_id)
    return DeliverySummary(counts, outbox.undelivered(session, issue_id), outbox.requeueable(session, issue_id))


def requeue_failed(session: Session, issue: Issue, *, actor: Any) -> int:
    """An editor's deliberate retry of failed deliveries (readers still subscribed): they become pending
    and the issue `sending` again, so the scheduler's retry job (or `newsletter send`) sends them."""
    requeued = outbox.requeue_failed(session, issue.id)
    if requeued:
        audit.record(session, actor=actor, action="deliveries.requeued", entity_type="issue", entity_id=issue.id,
                     changes={"requeued": requeued})
        if issue.state == "sent":
            audit.record(session, actor=actor, action="issue.sending", entity_type="issue", entity_id=issue.id,
                         changes={"state": audit.change("sent", "sending")})
            issue.state = "sending"
    return requeued


def _prepare(session: Session, issue_id: int, settings: Settings, *, retry_failed: bool = False,
             actor: str = "sender") -> tuple[Issue, int, int]:
    from newsletter.issues.service import freeze_snapshot

    issue = session.get(Issue, issue_id)
    if issue is None:
        raise SendRefused(f"issue id {issue_id} does not exist")
    requeued = 0
    if retry_failed and issue.state in ("sending", "sent"):
        requeued = requeue_failed(session, issue, actor=actor)
    if issue.state == "sent":
        return issue, 0, 0
    if issue.state not in SENDABLE_STATES:
        raise SendRefused(f"issue {issue.number} ({issue.period}) is {issue.state}: an editor must approve it before it is sent")
    freeze_snapshot(session, issue, settings=settings)
    if issue.state != "sending":
        audit.record(session, actor="sender", action="issue.sending", entity_type="issue", entity_id=issue.id,
                     changes={"state": audit.change(issue.state, "sending")})
        issue.state = "sending"
    added = outbox.enqueue(session, issue.id)
    outbox.drop_unsendable(session, issue.id)
    return issue, added, requeued


def run_send(runtime: Runtime, issue: Issue, *, progress: Callable[[SendStats, int], None] | None = None,
             retry_failed: bool = False, actor: str = "sender") -> SendReport:
    """Send an approved issue to every confirmed, non-suppressed subscriber exactly once.

    Safe to run again at any time, from several processes or machines at once (they share the
    outbox); an interrupted run is simply run again. The issue becomes `sent` when every row is final;
    while a row can still be delivered (within its retry horizon) it stays `sending`.
    `retry_failed` puts failed rows of still-subscribed readers back in the queue first (an editor's
    deliberate choice, e.g. after the relay's quota was raised). A database that goes away for a
    moment is ridden out (settings.db_retry_seconds); longer, DatabaseUnavailable says so.
    """
    settings = runtime.settings
    budget = settings.db_retry_seconds

    def prepare() -> tuple[SendReport, dict[str, int], Any, str, str]:
        with runtime.session() as session:
            current, added, requeued = _prepare(session, issue.id, settings, retry_failed=retry_failed, actor=actor)
            rep = SendReport(issue=current.period, enqueued=added, requeued=requeued)
            return rep, outbox.counts(session, current.id), current.snapshot, current.period, current.state

    report, before, snapshot, period, state = retry_transient(prepare, budget=budget)
    report.already_done = sum(before.get(s, 0) for s in outbox.FINAL_STATES)
    report.total = sum(before.values())
    if state == "sent":
        report.issue_state, report.counts = state, before
        report.undelivered = retry_transient(lambda: _undelivered(runtime, issue.id), budget=budget)
        return report
    factory = MessageFactory(_render(snapshot or {}, settings), settings)
    claimer = outbox.worker_id()
    total = report.total

    def on_progress(stats: SendStats) -> None:
        if progress:
            progress(stats, total)

    sender = Sender(runtime, issue.id, factory, lambda did: message_id(settings, issue.id, period, did),
                    claimer=claimer, progress=on_progress)
    try:
        stats = run_coroutine(sender.run())
    finally:
        _release(runtime, issue.id, claimer)
    report.sent, report.failed, report.retried, report.elapsed = stats.sent, stats.failed, stats.retried, stats.elapsed
    report.paused = stats.paused
    retry_transient(lambda: _finish(runtime, issue.id, report), budget=budget)
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


def _undelivered(runtime: Runtime, issue_id: int) -> dict[str, dict[str, int]]:
    with runtime.session() as session:
        return outbox.undelivered(session, issue_id)


def _finish(runtime: Runtime, issue_id: int, report: SendReport) -> None:
    """Read the outbox's final word into the report; the issue is `sent` only when no row can still go."""
    with runtime.session() as session:
        current = session.get(Issue, issue_id)
        assert current is not None
        report.counts = outbox.counts(session, current.id)
        report.remaining = report.counts.get("pending", 0) + report.counts.get("sending", 0)
        report.undelivered = outbox.undelivered(session, current.id)
        report.next_retry = outbox.next_retry_at(session, current.id) if report.remaining else None
        if report.remaining == 0 and current.state == "sending":
            current.state = "sent"
            current.sent_at = utcnow()
            audit.record(session, actor="sender", action="issue.sent", entity_type="issue", entity_id=current.id,
                         changes={k: v for k, v in report.counts.items()})
        report.issue_state = current.state


def send_test(runtime: Runtime, issue: Issue, to: list[str]) -> list[str]:
    """Send the issue as readers will get it to a few addresses; no Delivery row is touched.

    A draft is rendered from a fresh (unsaved) snapshot; a frozen issue from its snapshot.
    Returns the normalised addresses it was sent to; raises ValueError for a bad address and
    OSError/smtplib errors when the relay refuses.
    """
    from newsletter.issues.snapshot import build_snapshot

    settings = runtime.settings
    addresses = [normalize_email(a) for a in to]
    with runtime.session() as session:
        current = session.get(Issue, issue.id)
        assert current is not None
        snapshot = current.snapshot or build_snapshot(session, current, settings=settings)
    factory = MessageFactory(_render(snapshot, settings), settings, subject_prefix="[TEST] ")
    sender = parseaddr(settings.from_address)[1]
    for address in addresses:
        send_sync(settings, sender, [address], factory.build(Recipient(address, None, None), factory.random_message_id()))
    return addresses


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
