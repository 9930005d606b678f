"""The triage queue: filters, full-text search and paging over incidents.

Full text uses the index built by migration 0004 (FTS5 on SQLite, a tsvector side table on
PostgreSQL). Every word of the query must match the start of a word in the title, summary or body,
so "detain" finds "detained" in any language, without stemming rules for each one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import Select, exists, func, select, text
from sqlalchemy.orm import Session, selectinload

from newsletter.models import (
    INCIDENT_STATES, ORIGINS, Incident, IncidentSource, Section, incident_sections,
)

PER_PAGE = 50
COUNT_CAP = 10_000
MAX_QUERY_WORDS = 12
_WORD = re.compile(r"\w+", re.UNICODE)


class FilterError(ValueError):
    """A filter value that cannot be used; the message names it."""


@dataclass
class TriageFilters:
    """What the editor asked for; built from the query string by `parse_filters`."""

    state: str | None = "new"
    origin: str | None = None
    source_id: int | None = None
    section: str | None = None
    occurred_from: date | None = None
    occurred_to: date | None = None
    received_from: date | None = None
    received_to: date | None = None
    city: str | None = None
    keyword: str | None = None
    q: str | None = None
    include_irrelevant: bool = False
    page: int = 1

    def query_args(self, **override: Any) -> dict[str, str]:
        """The filters as query-string arguments (for paging links), without empty values."""
        values = {
            "state": self.state or "all", "origin": self.origin, "source": self.source_id, "section": self.section,
            "occurred_from": self.occurred_from, "occurred_to": self.occurred_to,
            "received_from": self.received_from, "received_to": self.received_to, "city": self.city,
            "keyword": self.keyword, "q": self.q, "irrelevant": "1" if self.include_irrelevant else None,
            "page": self.page if self.page > 1 else None,
        }
        values.update(override)
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


@dataclass
class TriagePage:
    items: list[Incident]
    filters: TriageFilters
    total: int  # capped at COUNT_CAP + 1: shown as "10,000+"
    per_page: int = PER_PAGE
    errors: list[str] = field(default_factory=list)

    @property
    def has_next(self) -> bool:
        return self.filters.page * self.per_page < self.total

    @property
    def has_previous(self) -> bool:
        return self.filters.page > 1

    @property
    def total_label(self) -> str:
        return f"{COUNT_CAP:,}+" if self.total > COUNT_CAP else f"{self.total:,}"


def _date(name: str, value: str | None, errors: list[str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"{name}: '{value}' is not a date (use YYYY-MM-DD)")
        return None


def parse_filters(params: dict[str, str]) -> tuple[TriageFilters, list[str]]:
    """Read filters from query parameters; invalid values are dropped and reported, the rest still apply."""
    errors: list[str] = []
    f = TriageFilters()
    state = (params.get("state") or "new").strip()
    if state == "all":
        f.state = None
    elif state in INCIDENT_STATES:
        f.state = state
    else:
        errors.append(f"state: unknown state '{state}'")
    origin = (params.get("origin") or "").strip()
    if origin and origin not in ORIGINS:
        errors.append(f"origin: unknown origin '{origin}'")
    else:
        f.origin = origin or None
    source = (params.get("source") or "").strip()
    if source:
        if source.isdigit():
            f.source_id = int(source)
        else:
            errors.append(f"source: '{source}' is not a source id")
    f.section = (params.get("section") or "").strip() or None
    f.occurred_from = _date("from", params.get("occurred_from"), errors)
    f.occurred_to = _date("to", params.get("occurred_to"), errors)
    f.received_from = _date("received from", params.get("received_from"), errors)
    f.received_to = _date("received to", params.get("received_to"), errors)
    f.city = (params.get("city") or "").strip()[:200] or None
    f.keyword = (params.get("keyword") or "").strip()[:200] or None
    f.q = (params.get("q") or "").strip()[:500] or None
    f.include_irrelevant = params.get("irrelevant") in ("1", "on", "true")
    page = (params.get("page") or "1").strip()
    f.page = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
    if page and f.page == 1 and page != "1":
        errors.append(f"page: '{page}' is not a page number")
    return f, errors


def fts_terms(q: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(q)][:MAX_QUERY_WORDS]


def _fulltext(stmt: Select[Any], session: Session, q: str) -> Select[Any]:
    words = fts_terms(q)
    if not words:
        return stmt
    if session.get_bind().dialect.name == "postgresql":
        query = " & ".join(f"{w}:*" for w in words)
        return stmt.where(Incident.id.in_(
            select(text("incident_id")).select_from(text("incidents_fts"))
            .where(text("document @@ to_tsquery('simple', :fts_query)").bindparams(fts_query=query))
        ))
    match = " ".join('"' + w.replace('"', '""') + '"*' for w in words)
    return stmt.where(Incident.id.in_(
        select(text("rowid")).select_from(text("incidents_fts")).where(text("incidents_fts MATCH :fts_query").bindparams(fts_query=match))
    ))


def _keyword(stmt: Select[Any], session: Session, keyword: str) -> Select[Any]:
    if session.get_bind().dialect.name == "postgresql":
        clause = text("EXISTS (SELECT 1 FROM json_array_elements_text(incidents.matched_keywords) AS k(v) "
                      "WHERE lower(k.v) = lower(:keyword))").bindparams(keyword=keyword)
    else:
        clause = text("EXISTS (SELECT 1 FROM json_each(incidents.matched_keywords) AS k "
                      "WHERE lower(k.value) = lower(:keyword))").bindparams(keyword=keyword)
    return stmt.where(clause)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def build_query(session: Session, f: TriageFilters) -> Select[Any]:
    stmt = select(Incident)
    if f.state:
        stmt = stmt.where(Incident.state == f.state)
    if not f.include_irrelevant:
        stmt = stmt.where(Incident.relevant.is_(True))
    if f.origin:
        stmt = stmt.where(Incident.origin == f.origin)
    if f.source_id:
        stmt = stmt.where(exists().where(IncidentSource.incident_id == Incident.id,
                                         IncidentSource.source_id == f.source_id))
    if f.section:
        stmt = stmt.where(exists().where(
            incident_sections.c.incident_id == Incident.id, incident_sections.c.section_id == Section.id,
            Section.slug == f.section))
    if f.occurred_from:
        stmt = stmt.where(Incident.occurred_on >= f.occurred_from)
    if f.occurred_to:
        stmt = stmt.where(Incident.occurred_on <= f.occurred_to)
    if f.received_from:
        stmt = stmt.where(Incident.created_at >= _start_of(f.received_from))
    if f.received_to:
        stmt = stmt.where(Incident.created_at < _start_of(f.received_to + timedelta(days=1)))
    if f.city:
        stmt = stmt.where(func.lower(Incident.city) == f.city.lower())
    if f.keyword:
        stmt = _keyword(stmt, session, f.keyword)
    if f.q:
        stmt = _fulltext(stmt, session, f.q)
    return stmt


def triage_page(session: Session, f: TriageFilters, *, per_page: int = PER_PAGE) -> TriagePage:
    """One page of the queue, newest first, with its sources and sections loaded for the list."""
    stmt = build_query(session, f)
    total = session.scalar(select(func.count()).select_from(
        stmt.with_only_columns(Incident.id).limit(COUNT_CAP + 1).subquery())) or 0
    items = session.scalars(
        stmt.options(selectinload(Incident.sections), selectinload(Incident.sources).selectinload(IncidentSource.source))
        .order_by(Incident.created_at.desc(), Incident.id.desc())
        .offset((f.page - 1) * per_page).limit(per_page)
    ).all()
    return TriagePage(items=list(items), filters=f, total=total, per_page=per_page)

