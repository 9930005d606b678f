"""One way to create an incident, whatever brought it: a feed entry, a volunteer's form, a partner's
API call, an import file.

Every intake path calls `create_incidents`, so the guarantees live in one place: an origin the
model allows, every link with the origin that decides whether it may ever be published, canonical
URLs for the same-link dedupe, the full-text index (kept by the database's trigger on INSERT), and
the persons linked. It writes plain INSERT statements, not a unit-of-work flush: intake is the hot
path (hundreds of volunteer posts a second, tens of thousands of feed entries a run), where a flush
costs two to three times the CPU. Part of the base layer: collect, submissions and the import call
it without importing each other. Never commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Insert, Select, Table, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsletter.models import INCIDENT_STATES, LINK_ORIGINS, ORIGINS, Incident, IncidentSource, Source, incident_persons
from newsletter.urls import canonical_url

__all__ = ["NewLink", "NewIncident", "create_incidents", "add_links", "allocate_ids", "channel_source"]

# A state an incident can be created in: `duplicate` needs a merge target, which only the desk sets.
CREATABLE_STATES = tuple(s for s in INCIDENT_STATES if s != "duplicate")

# (database URL, source name) -> Source.id of a channel's row, once seen committed. Channel rows are
# never deleted, and looking one up on every volunteer post cost a query per post.
_channel_ids: dict[tuple[str, str], int] = {}


class NewLink(NamedTuple):
    """A link that reports an incident; `origin` (LINK_ORIGINS) decides whether it may be published.

    (Named tuples, not dataclasses: the collector makes tens of thousands a run, and a frozen
    dataclass costs several times as much to build.)
    """

    origin: str
    url: str | None = None
    title: str | None = None
    source_id: int | None = None
    canonical: str | None = None  # computed from `url` when not given
    guid: str | None = None
    content_hash: str | None = None
    published_at: datetime | None = None


class NewIncident(NamedTuple):
    """An incident to create: its origin, its column values (title required), links and persons."""

    origin: str
    values: Mapping[str, Any]
    links: Sequence[NewLink] = ()
    person_ids: Sequence[int] = ()


def create_incidents(session: Session, new: Sequence[NewIncident], *, now: datetime | None = None) -> list[int]:
    """Insert incidents with their links and persons; return their ids in the order given.

    One incident takes one INSERT ... RETURNING; a batch takes its keys in one step (allocate_ids)
    and one executemany, because RETURNING makes SQLite insert row by row. `now`, when given, is
    every row's created_at and updated_at unless the values carry their own.
    Raises ValueError for an origin, state or link origin the model does not allow.
    """
    if not new:
        return []
    rows = [_row(item, now) for item in new]
    table: Table = Incident.__table__  # type: ignore[assignment]
    if len(rows) == 1:
        ids = [session.execute(insert(table).returning(table.c.id), rows[0]).scalar_one()]
    else:
        ids = allocate_ids(session, table, len(rows))
        # executemany needs one set of keys per statement: rows that leave different columns to
        # their defaults go in separate statements (the collector's rows all have the same keys).
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for iid, row in zip(ids, rows):
            groups.setdefault(tuple(row), []).append(row)
            row["id"] = iid  # after the key: `row` is this function's own copy
        for batch in groups.values():
            session.execute(_insert(table), batch)
    add_links(session, [(iid, link) for iid, item in zip(ids, new) for link in item.links], now=now)
    persons = [{"incident_id": iid, "person_id": pid} for iid, item in zip(ids, new) for pid in dict.fromkeys(item.person_ids)]
    if persons:
        session.execute(_insert(incident_persons), persons)
    return ids


def add_links(session: Session, links: Sequence[tuple[int, NewLink]], *, now: datetime | None = None) -> None:
    """Attach links to incidents (new or existing) in one executemany, each with its origin."""
    if not links:
        return
    rows = []
    for incident_id, link in links:
        if link.origin not in LINK_ORIGINS:
            raise ValueError(f"link origin {link.origin!r} is not one of {', '.join(LINK_ORIGINS)}")
        canon = link.canonical if link.canonical is not None or not link.url else canonical_url(link.url)
        row: dict[str, Any] = {
            "incident_id": incident_id, "source_id": link.source_id, "origin": link.origin, "url": link.url,
            "canonical_url": canon, "guid": link.guid, "title": link.title, "content_hash": link.content_hash,
            "published_at": link.published_at,
        }
        if now is not None:
            row["created_at"] = now
        rows.append(row)
    session.execute(_insert(IncidentSource.__table__), rows)  # type: ignore[arg-type]


def _row(item: NewIncident, now: datetime | None) -> dict[str, Any]:
    if item.origin not in ORIGINS:
        raise ValueError(f"incident origin {item.origin!r} is not one of {', '.join(ORIGINS)}")
    row = dict(item.values)
    if not row.get("title"):
        raise ValueError("an incident needs a title")
    if row.setdefault("state", "new") not in CREATABLE_STATES:
        raise ValueError(f"an incident cannot be created in state {row['state']!r}")
    row["origin"] = item.origin
    if now is not None:
        row.setdefault("created_at", now)
        row.setdefault("updated_at", now)
    return row


def allocate_ids(session: Session, table: Table, count: int) -> list[int]:
    """Primary keys for a batch insert without RETURNING, which SQLite would run one row at a time.

    PostgreSQL hands out sequence values; SQLite is safe with max(id) because every transaction
    holds the write lock from BEGIN IMMEDIATE (see newsletter.db.make_engine).
    """
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"), {"t": table.name, "n": count}
        )
        return [int(r[0]) for r in rows]
    start = session.execute(_max_id(table)).scalar_one() + 1
    return list(range(start, start + count))


@lru_cache(maxsize=16)
def _insert(table: Table) -> Insert:
    """Built once per table (see _max_id)."""
    return insert(table)


@lru_cache(maxsize=16)
def _max_id(table: Table) -> Select[tuple[int]]:
    """Built once per table: building and keying the statement cost more than running it."""
    return select(func.coalesce(func.max(table.c.id), 0))


def channel_source(session: Session, kind: str, name: str) -> int:
    """The Source row standing for an intake channel (created on first use), remembered per database.

    Only an id read back from the database is remembered: one created here may still roll back.
    """
    key = (session.get_bind().url.render_as_string(hide_password=True), name)
    cached = _channel_ids.get(key)
    if cached is not None:
        return cached
    source_id = session.scalar(select(Source.id).where(Source.name == name))
    if source_id is not None:
        _channel_ids[key] = source_id
        return source_id
    try:
        with session.begin_nested():
            source = Source(kind=kind, name=name, enabled=True)
            session.add(source)
        return source.id
    except IntegrityError:
        found = session.scalar(select(Source.id).where(Source.name == name))
        assert found is not None
        return found
