"""The triage queue: filters, full-text search and paging over incidents.

Full text uses the index built by migration 0004 (FTS5 on SQLite, a tsvector side table on
PostgreSQL), with the same rules on both: every word of the query must occur in the title, summary
or body (no stemming, since reports come in several languages); a word ending in `*` matches as a
prefix ("detain*" finds "detained", "задерж*" finds "задержан").

Pages are fetched with one row more than shown instead of counting every match: an exact count of
a common word costs a pass over all its matches, while the page only needs the newest fifty.
A text search first asks the index for up to PROBE_LIMIT + 1 matches (cheap on both backends). A rare
query then fetches exactly those incidents by key; a common one is checked while walking the queue
newest first. Both databases misjudge prefix queries otherwise (PostgreSQL by 100x on a rare prefix).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.orm import Session

from newsletter.models import (
    INCIDENT_STATES, ORIGINS, Incident, IncidentSource, Section, Source, incident_sections,
)

PER_PAGE = 50
PROBE_LIMIT = 2_000  # text matches up to which fetching each one beats walking the queue newest first
MAX_QUERY_WORDS = 12
_WORD = re.compile(r"([^\W_]+)(\*?)", re.UNICODE)  # letters and digits, as both indexes tokenise


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
    state_default: bool = False  # no state asked for: `new`, or any state when searching for words

    @property
    def more_filters(self) -> bool:
        """Whether a filter beyond words, state and origin is set (the desk then shows them open)."""
        return any(v not in (None, False) for v in (
            self.source_id, self.section, self.occurred_from, self.occurred_to, self.received_from,
            self.received_to, self.city, self.keyword, self.include_irrelevant or None))

    def query_args(self, **override: Any) -> dict[str, str]:
        """The filters as query-string arguments (for paging links), without empty values."""
        values = {
            "state": None if self.state_default else self.state or "all", "origin": self.origin, "source": self.source_id, "section": self.section,
            "occurred_from": self.occurred_from, "occurred_to": self.occurred_to,
            "received_from": self.received_from, "received_to": self.received_to, "city": self.city,
            "keyword": self.keyword, "q": self.q, "irrelevant": "1" if self.include_irrelevant else None,
            "page": self.page if self.page > 1 else None,
        }
        values.update(override)
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


@dataclass
class TriageRow:
    """What the queue shows of one incident: a few columns, not the whole row with its body."""

    id: int
    title: str
    state: str
    origin: str
    publication: str
    occurred_on: date | None
    city: str | None
    matched_keywords: list[str]
    section_titles: list[str] = field(default_factory=list)
    source_names: list[str] = field(default_factory=list)


@dataclass
class TriagePage:
    items: list[TriageRow]
    filters: TriageFilters
    has_next: bool
    per_page: int = PER_PAGE
    errors: list[str] = field(default_factory=list)

    @property
    def first(self) -> int:
        return (self.filters.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0

    @property
    def has_previous(self) -> bool:
        return self.filters.page > 1

    @property
    def total_label(self) -> str:
        """Exact on the last page; otherwise "more than N"."""
        return f"more than {self.last:,}" if self.has_next else f"{self.last:,}"


def _date(name: str, value: str | None, errors: list[str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"{name}: '{value}' is not a date (use YYYY-MM-DD)")
        return None


def source_choices(session: Session) -> list[tuple[int, str]]:
    """The sources the queue can be filtered by, as (id, name), by name."""
    return [(sid, name) for sid, name in session.execute(select(Source.id, Source.name).order_by(Source.name))]


def parse_filters(params: dict[str, str]) -> tuple[TriageFilters, list[str]]:
    """Read filters from query parameters; invalid values are dropped and reported, the rest still apply."""
    errors: list[str] = []
    f = TriageFilters()
    state = (params.get("state") or "").strip()
    q = (params.get("q") or "").strip()
    if not state:
        # An editor who types words looks for an incident wherever it is in the workflow, not only
        # in the new queue; without words the queue opens on what waits for triage.
        f.state_default = True
        f.state = None if q else "new"
    elif state == "all":
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


def fts_terms(q: str) -> list[tuple[str, bool]]:
    """(word, is_prefix) pairs of a query; anything but word characters and a trailing * is ignored."""
    return [(w.lower(), bool(star)) for w, star in _WORD.findall(q)][:MAX_QUERY_WORDS]


# Letters to Python that SQLite's unicode61 tokenizer (Unicode 6.1 tables) takes for separators: New Tai
# Lue vowel signs and two Vedic signs, once combining marks. The index (detail=none, migration 0023)
# cannot match a phrase, so a query word is split where the tokenizer splits it, into words that must
# all occur. tests/editorial/test_search.py derives this set from the installed SQLite.
_FTS5_SEPARATORS = re.compile("[\u19b0-\u19c0\u19c8\u19c9\u1cf2\u1cf3]+")


def _fts5_tokens(word: str) -> list[tuple[str, bool]]:
    """The index's tokens of one query word, each with whether it is the word's last (a prefix `*` goes there)."""
    parts = [p for p in _FTS5_SEPARATORS.split(word) if p]
    return [(p, i == len(parts) - 1) for i, p in enumerate(parts)]


def _fulltext(stmt: Select[Any], session: Session, q: str) -> Select[Any]:
    words = fts_terms(q)
    if not words:
        return stmt
    if session.get_bind().dialect.name == "postgresql":
        query = " & ".join(f"{w}:*" if prefix else w for w, prefix in words)
        matching = (select(text("incident_id")).select_from(text("incidents_fts"))
                    .where(text("document @@ to_tsquery('simple', :fts_query)").bindparams(fts_query=query)))
        walk_key: Any = Incident.id
    else:
        match = " ".join(f'"{part}"' + ("*" if prefix and last else "")
                         for w, prefix in words for part, last in _fts5_tokens(w))
        matching = (select(text("rowid")).select_from(text("incidents_fts"))
                    .where(text("incidents_fts MATCH :fts_query").bindparams(fts_query=match)))
        walk_key = Incident.id + 0  # hides the primary key so SQLite walks (state, created_at) newest first
    found = session.scalars(matching.limit(PROBE_LIMIT + 1)).all()
    if len(found) <= PROBE_LIMIT:
        return stmt.where(Incident.id.in_(list(found)))
    return stmt.where(walk_key.in_(matching))


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
        stmt = stmt.where(Incident.id.in_(
            select(IncidentSource.incident_id).where(IncidentSource.source_id == f.source_id)))
    if f.section:
        stmt = stmt.where(Incident.id.in_(
            select(incident_sections.c.incident_id).join(Section, Section.id == incident_sections.c.section_id)
            .where(Section.slug == f.section)))
    if f.occurred_from:
        stmt = stmt.where(Incident.occurred_on >= f.occurred_from)
    if f.occurred_to:
        stmt = stmt.where(Incident.occurred_on <= f.occurred_to)
    if f.received_from:
        stmt = stmt.where(Incident.created_at >= _start_of(f.received_from))
    if f.received_to:
        stmt = stmt.where(Incident.created_at < _start_of(f.received_to + timedelta(days=1)))
    if f.city:
        # Case variants instead of lower(city), so the city index stays usable.
        variants = {f.city, f.city.lower(), f.city.upper(), f.city.title(), f.city.capitalize()}
        stmt = stmt.where(Incident.city.in_(sorted(variants)))
    if f.keyword:
        stmt = _keyword(stmt, session, f.keyword)
    if f.q:
        stmt = _fulltext(stmt, session, f.q)
    return stmt


LIST_COLUMNS = (Incident.id, Incident.title, Incident.state, Incident.origin, Incident.publication,
                Incident.occurred_on, Incident.city, Incident.matched_keywords)


def triage_page(session: Session, f: TriageFilters, *, per_page: int = PER_PAGE) -> TriagePage:
    """One page of the queue, newest first; sections and source names come in two small follow-up queries."""
    rows = session.execute(
        build_query(session, f).with_only_columns(*LIST_COLUMNS)
        .order_by(Incident.created_at.desc(), Incident.id.desc())
        .offset((f.page - 1) * per_page).limit(per_page + 1)
    ).all()
    items = {r.id: TriageRow(*r[:7], matched_keywords=list(r.matched_keywords or [])) for r in rows[:per_page]}
    if items:
        for incident_id, title in session.execute(
                select(incident_sections.c.incident_id, Section.title)
                .join(Section, Section.id == incident_sections.c.section_id)
                .where(incident_sections.c.incident_id.in_(items)).order_by(Section.position, Section.id)):
            items[incident_id].section_titles.append(title)
        for incident_id, name in session.execute(
                select(IncidentSource.incident_id, Source.name).join(Source, Source.id == IncidentSource.source_id)
                .where(IncidentSource.incident_id.in_(items)).distinct().order_by(Source.name)):
            items[incident_id].source_names.append(name)
    return TriagePage(items=list(items.values()), filters=f, has_next=len(rows) > per_page, per_page=per_page)
