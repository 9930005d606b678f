"""Feed health for `newsletter feeds` (and the desk): is each source alive, and how much does it bring?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.db import utcnow
from newsletter.models import IncidentSource, Source


@dataclass(frozen=True)
class FeedHealth:
    id: int
    name: str
    url: str
    moved_to: str | None
    enabled: bool
    disabled_reason: str | None
    last_success_at: datetime | None
    last_checked_at: datetime | None
    last_error: str | None
    error_count: int
    next_check_at: datetime | None
    entries_7d: int

    @property
    def state(self) -> str:
        if not self.enabled:
            return "disabled"
        if self.error_count:
            return "failing"
        if self.last_success_at is None:
            return "new"
        return "ok"


def feed_health(session: Session) -> list[FeedHealth]:
    since = utcnow() - timedelta(days=7)
    counts = dict(
        session.execute(
            select(IncidentSource.source_id, func.count())
            .where(IncidentSource.created_at >= since, IncidentSource.source_id.is_not(None))
            .group_by(IncidentSource.source_id)
        ).all()
    )
    sources = session.scalars(select(Source).where(Source.kind == "feed").order_by(Source.name))
    return [
        FeedHealth(
            s.id, s.name, s.url or "", s.moved_to, bool(s.enabled), s.disabled_reason, s.last_success_at,
            s.last_checked_at, s.last_error, s.error_count or 0, s.next_check_at, int(counts.get(s.id, 0)),
        )
        for s in sources
    ]


def enable_source(session: Session, name: str) -> Source:
    """Re-enable a source the collector disabled (410 Gone) after the operator checked it."""
    source = session.scalar(select(Source).where(Source.kind == "feed", Source.name == name))
    if source is None:
        raise LookupError(f"no feed named {name!r} (see `newsletter feeds`)")
    source.enabled = True
    source.disabled_reason = None
    source.error_count = 0
    source.next_check_at = None
    return source
