"""The daily editors' digest: reports waiting for triage, feeds failing for a day, sends left for an editor.

It only goes out when there is something to act on, at most once per local day from the
scheduler, to every active desk user. It carries counts, feed names and links to the desk,
never the content of a report: mailboxes are less safe than the desk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from email.utils import parseaddr

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.issues.service import overdue_issues
from newsletter.models import Delivery, Incident, JobRun, Source, User
from newsletter.runtime import Runtime

FAILING_FOR = timedelta(days=1)


class NoDigest(Exception):
    """Nothing to send today; the message says why (the digest job records it as skipped)."""


class DigestFailed(Exception):
    """The digest did not reach every editor; the message is the whole story."""


@dataclass(frozen=True)
class FailingSource:
    name: str
    since: datetime | None  # last success, or None if it never worked
    error: str


@dataclass(frozen=True)
class OverdueIssue:
    number: int
    period: str
    scheduled_for: datetime  # in the organisation's time zone


@dataclass(frozen=True)
class FailedJob:
    job: str
    at: datetime
    error: str


@dataclass
class Digest:
    as_of: datetime  # in the organisation's time zone
    waiting: int = 0
    oldest_waiting: datetime | None = None
    failing_sources: list[FailingSource] = field(default_factory=list)
    overdue: list[OverdueIssue] = field(default_factory=list)
    failed_jobs: list[FailedJob] = field(default_factory=list)
    failed_deliveries: int = 0

    @property
    def worth_sending(self) -> bool:
        return bool(self.waiting or self.failing_sources or self.overdue or self.failed_jobs)


def failing_sources(session: Session, *, now: datetime) -> list[FailingSource]:
    """Enabled feeds still failing that have not worked for FAILING_FOR (or never, since added that long ago)."""
    cutoff = now - FAILING_FOR
    rows = session.scalars(
        select(Source).where(
            Source.kind == "feed", Source.enabled.is_(True), Source.error_count > 0,
            or_(Source.last_success_at <= cutoff, (Source.last_success_at.is_(None)) & (Source.created_at <= cutoff)),
        ).order_by(Source.name)
    )
    return [FailingSource(s.name, s.last_success_at, (s.last_error or "").splitlines()[0][:200] if s.last_error else "")
            for s in rows]


def build_digest(session: Session, *, settings: Settings, now: datetime) -> Digest:
    tz = settings.tz
    digest = Digest(as_of=now.astimezone(tz))
    waiting = (Incident.state == "new", Incident.relevant.is_(True))
    digest.waiting = session.scalar(select(func.count()).select_from(Incident).where(*waiting)) or 0
    oldest = session.scalar(select(func.min(Incident.created_at)).where(*waiting))
    digest.oldest_waiting = oldest.astimezone(tz) if oldest else None
    digest.failing_sources = failing_sources(session, now=now)
    digest.overdue = [OverdueIssue(i.number, i.period, i.scheduled_for.astimezone(tz))
                      for i in overdue_issues(session, settings=settings, now=now) if i.scheduled_for]
    since = now - timedelta(days=1)
    latest = (select(JobRun.job, func.max(JobRun.id).label("id"))
              .where(JobRun.outcome.in_(("ok", "skipped", "error", "missed")), JobRun.job != "digest")
              .group_by(JobRun.job).subquery())
    for run in session.scalars(select(JobRun).join(latest, JobRun.id == latest.c.id)
                               .where(JobRun.outcome == "error", JobRun.started_at >= since).order_by(JobRun.job)):
        digest.failed_jobs.append(FailedJob(run.job, run.started_at.astimezone(tz), run.detail.splitlines()[0][:200]))
    digest.failed_deliveries = session.scalar(
        select(func.count()).select_from(Delivery).where(Delivery.state.in_(("failed", "bounced")), Delivery.created_at >= since)
    ) or 0
    return digest


def already_sent_today(session: Session, *, settings: Settings, now: datetime) -> bool:
    midnight = datetime.combine(now.astimezone(settings.tz).date(), time(0), tzinfo=settings.tz)
    return session.scalar(
        select(func.count()).select_from(JobRun)
        .where(JobRun.job == "digest", JobRun.outcome == "ok", JobRun.started_at >= midnight, JobRun.detail.like("sent%"))
    ) > 0


def send_digest(runtime: Runtime, *, now: datetime, scheduled: bool = True) -> str:
    """Build and mail the digest; raise NoDigest when there is nothing to say (or it went out today already)."""
    from newsletter.delivery.smtp import send_sync
    from newsletter.delivery.transactional import render_mail, to_bytes

    settings = runtime.settings
    with runtime.session() as session:
        if scheduled and already_sent_today(session, settings=settings, now=now):
            raise NoDigest("today's digest was already sent")
        digest = build_digest(session, settings=settings, now=now)
        recipients = [(email, language) for email, language in session.execute(
            select(User.email, User.language).where(User.active.is_(True)).order_by(User.id))]
    if not digest.worth_sending:
        raise NoDigest("nothing waits for editors")
    if not recipients:
        raise NoDigest("nothing sent: there is no active desk user (add one with `newsletter users add`)")
    sender = parseaddr(settings.from_address)[1]
    context = {"digest": digest, "base_url": settings.base_url, "send_grace_minutes": settings.send_grace_minutes}
    failures = []
    for address, language in recipients:
        mail = render_mail(settings, "digest", address, context, language=language)  # the desk's language of the account
        try:
            send_sync(settings, sender, [address], to_bytes(settings, mail))
        except Exception as exc:  # noqa: BLE001 - smtplib raises many unrelated types; try every editor
            failures.append(type(exc).__name__)
    summary = (f"{digest.waiting} waiting for triage, {len(digest.failing_sources)} failing feed(s), "
               f"{len(digest.overdue)} overdue issue(s), {len(digest.failed_jobs)} failing job(s)")
    if failures:
        raise DigestFailed(f"digest not sent to {len(failures)} of {len(recipients)} editor(s) "
                           f"({', '.join(sorted(set(failures)))}) via {settings.smtp_url.split('@')[-1]}; {summary}")
    return f"sent to {len(recipients)} editor(s): {summary}"
