"""Arrange incidents, sources and candidates for the desk tests (committed, so the app sees them)."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.models import DuplicateCandidate, Incident, IncidentSource, Section, Source  # noqa: F401 - re-exported

_n = itertools.count(1)


def source(session: Session, name: str, **kw: Any) -> Source:
    src = Source(name=name, url=kw.pop("url", f"https://{name.lower().replace(' ', '-')}.example.org/feed.xml"), **kw)
    session.add(src)
    session.flush()
    return src


def incident(session: Session, title: str, *, src: Source | None = None, url: str | None = None,
             sections: list[str] = (), created_at: datetime | None = None, **kw: Any) -> Incident:  # type: ignore[assignment]
    inc = Incident(title=title, origin=kw.pop("origin", "feed" if src else "editor"), **kw)
    if created_at is not None:
        inc.created_at = created_at
    if sections:
        inc.sections = list(session.scalars(select(Section).where(Section.slug.in_(list(sections)))))
    if src is not None or url is not None:
        link = url or f"https://news.example.org/{next(_n)}"
        inc.sources.append(IncidentSource(source=src, url=link, canonical_url=link, title=title,
                                          origin="feed" if src is not None else "editor"))
    session.add(inc)
    session.flush()
    return inc


def candidate(session: Session, a: Incident, b: Incident, score: float = 0.93) -> DuplicateCandidate:
    cand = DuplicateCandidate(incident_id=a.id, other_id=b.id, score=score, method="fuzzy")
    session.add(cand)
    session.flush()
    return cand


DAY = date(2026, 11, 18)
