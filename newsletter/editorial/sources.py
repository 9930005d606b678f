"""Admin control of sources: enable or disable polling. Feeds themselves are defined in sources.toml
(collect owns that); a disable here is kept with its reason and audited."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.i18n import N_, Refusal
from newsletter import audit
from newsletter.models import IncidentSource, Source, User


class SourceError(Refusal, ValueError):
    """A source change was refused; the message says why."""


def list_sources(session: Session) -> list[tuple[Source, int]]:
    """Every source with the number of incidents it reported."""
    counts = dict(session.execute(select(IncidentSource.source_id, func.count(func.distinct(IncidentSource.incident_id)))
                                  .group_by(IncidentSource.source_id)).all())
    rows = session.scalars(select(Source).order_by(Source.enabled.desc(), Source.name))
    return [(s, int(counts.get(s.id, 0))) for s in rows]


def set_enabled(session: Session, source_id: int, enabled: bool, *, reason: str = "", actor: User | str) -> Source:
    source = session.get(Source, source_id)
    if source is None:
        raise SourceError(N_("there is no source %(id)s"), id=source_id)
    reason = (reason or "").strip()[:500]
    if source.enabled == enabled:
        return source
    changes = {"enabled": {"from": source.enabled, "to": enabled}}
    source.enabled = enabled
    source.disabled_reason = None if enabled else (reason or "disabled by an admin")
    if enabled:
        source.error_count = 0
        source.next_check_at = None
    audit.record(session, actor=actor, action="source.enable" if enabled else "source.disable", entity_type="source",
                 entity_id=source.id, changes=changes, note=reason)
    return source

