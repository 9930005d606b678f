"""Sending an issue: the issues domain freezes it, render makes the message, delivery mails it.

The order is the contract: freeze the snapshot and move the issue to `sending` (one transaction),
render the email from the frozen snapshot, hand it to delivery's outbox, and once every delivery
is final move the issue to `sent`. Delivery never reads or changes an issue's state itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from newsletter.db import DatabaseUnavailable, retry_transient
from newsletter.delivery import service as delivery
from newsletter.delivery.addresses import normalize_email
from newsletter.delivery.sender import SendAborted, SendStats
from newsletter.delivery.service import SendReport
from newsletter.delivery.message import edition_of
from newsletter.flows.issues import snapshot_for
from newsletter.issues.editions import default_language, edition_languages
from newsletter.config import Settings
from newsletter.delivery.subscribers import sendable_by_language
from newsletter.issues.service import (
    SendRefused, mark_sent, resume_sending, send_now, start_sending, unschedule_issue,
)
from newsletter.models import Issue, User
from newsletter.render import RenderedEmail, render_email
from newsletter.runtime import Runtime
from newsletter.states import ISSUE_GONE_OUT

__all__ = ["DatabaseUnavailable", "SendAborted", "SendPlan", "SendRefused", "SendReport", "cancel_scheduled", "queue_now",
           "requeue_failed", "run_send", "send_plan", "send_test"]


@dataclass(frozen=True)
class EditionLine:
    """Readers of one language and the edition they get (theirs, else the default one)."""

    language: str
    readers: int
    edition: str


@dataclass(frozen=True)
class SendPlan:
    """What a send of this issue would do now: who gets which edition, and what is queued already."""

    editions: list[EditionLine]
    queued: int
    languages: list[str] = field(default_factory=list)  # the issue's editions, the default first

    @property
    def readers(self) -> int:
        return sum(line.readers for line in self.editions)

    @property
    def by_edition(self) -> dict[str, int]:
        """Readers per edition, every edition listed (0 included), the default first."""
        counts = dict.fromkeys(self.languages, 0)
        for line in self.editions:
            counts[line.edition] = counts.get(line.edition, 0) + line.readers
        return counts


def send_plan(session: Session, issue: Issue, settings: Settings | None = None) -> SendPlan:
    """For the desk's confirmation page: confirmed, non-suppressed readers per language, and the edition each
    language gets (the rule delivery applies per row: the reader's language's edition, else the default)."""
    languages = sent_editions(issue, settings) if settings is not None else [issue.language]
    default = languages[0]
    editions = [EditionLine(language, n, edition_of(language, dict.fromkeys(languages), default))
                for language, n in sendable_by_language(session).items()]
    return SendPlan(editions, sum(delivery.delivery_summary(session, issue.id).counts.values()), languages)


def sent_editions(issue: Issue, settings: Settings) -> list[str]:
    """The editions a send of this issue mails: the frozen ones once frozen, else those it would freeze."""
    if issue.snapshot is not None:
        return [default_language(issue, settings), *(issue.edition_snapshots or {})]
    return edition_languages(issue, settings)


def rendered_editions(snapshot: dict[str, Any] | None, further: dict[str, Any] | None,
                      settings: Settings) -> tuple[RenderedEmail, dict[str, RenderedEmail]]:
    """The default edition's email and each further edition's, rendered once per run (MJML is the slow part)."""
    return (render_email(snapshot or {}, settings),
            {lang: render_email(data, settings) for lang, data in (further or {}).items()})


def queue_now(session: Session, issue: Issue, *, settings: Settings, actor: User | str) -> int:
    """"Send now" from the desk, without sending inside the request: freeze the issue, queue one outbox row
    per reader and make the issue due at once; the scheduler's send job picks it up within a minute
    (or `newsletter send` does). Returns the rows queued; 0 for a second press (nothing changes). The issue
    row is locked first, so two presses at the same moment queue and audit once."""
    session.refresh(issue, with_for_update=True)
    if not send_now(session, issue, settings=settings, actor=actor):
        return 0
    return delivery.enqueue(session, issue.id)


def cancel_scheduled(session: Session, issue: Issue, *, actor: User | str) -> int:
    """Take back a scheduled (or sent-now) send that has not started: the issue is approved again and the
    rows queued for it go. The issue row is locked first, so a send job starting at that moment either
    finishes taking it (and the cancel is refused: it is sending) or finds it approved."""
    session.refresh(issue, with_for_update=True)
    unschedule_issue(session, issue, actor=actor)
    return delivery.drop_untried(session, issue.id)


def requeue_failed(session: Session, issue: Issue, *, actor: User | str) -> int:
    """An editor's deliberate retry: failed deliveries of still-subscribed readers become pending and a
    sent issue `sending` again, so the scheduler's retry job (or `newsletter send`) sends them."""
    requeued = delivery.requeue_failed(session, issue.id, actor=actor)
    if requeued:
        resume_sending(session, issue, actor=actor)
    return requeued


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

    def prepare() -> tuple[SendReport, Any, str]:
        with runtime.session() as session:
            current = session.get(Issue, issue.id)
            if current is None:
                raise SendRefused(f"issue id {issue.id} does not exist")
            requeued = 0
            if retry_failed and current.state in ISSUE_GONE_OUT:
                requeued = requeue_failed(session, current, actor=actor)
            enqueued = delivery.enqueue(session, current.id) if start_sending(session, current, settings=settings) else 0
            report = delivery.begin_report(session, current.id, period=current.period, enqueued=enqueued,
                                           requeued=requeued)
            return report, (current.snapshot, current.edition_snapshots, default_language(current, settings)), \
                current.state

    report, (snapshot, further, default), state = retry_transient(prepare, budget=budget)
    if state == "sent":
        report.issue_state = state
        report.undelivered = retry_transient(lambda: delivery.undelivered(runtime, issue.id), budget=budget)
        return report
    email, editions = rendered_editions(snapshot, further, settings)
    delivery.deliver(runtime, issue.id, email, report, progress=progress, editions=editions, default_edition=default)

    def finish() -> None:
        with runtime.session() as session:
            current = session.get(Issue, issue.id)
            assert current is not None
            delivery.finish_report(session, current.id, report)
            if report.remaining == 0:
                mark_sent(session, current, counts=report.counts)
            report.issue_state = current.state

    retry_transient(finish, budget=budget)
    return report


def send_test(runtime: Runtime, issue: Issue, to: list[str], *, lang: str | None = None) -> list[str]:
    """Send the issue (the `lang` edition; default: the default one) as readers will get it to a few
    addresses; no Delivery row is touched.

    A draft is rendered from a fresh (unsaved) snapshot; a frozen issue from its snapshot.
    Returns the normalised addresses it was sent to; raises ValueError for a bad address,
    ConsentViolation for an issue that cannot go out, OSError/smtplib errors when the relay refuses.
    """
    settings = runtime.settings
    addresses = [normalize_email(a) for a in to]
    with runtime.session() as session:
        current = session.get(Issue, issue.id)
        assert current is not None
        snapshot, _frozen = snapshot_for(session, current, settings=settings, lang=lang)
    return delivery.send_test(settings, render_email(snapshot, settings), addresses)
