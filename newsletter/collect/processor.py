"""Write one feed's fetch and parse result into the database: incidents, their sources, the feed's health.

Plain functions on a session; they never commit (the run commits per batch of feeds, with a
savepoint per feed so one feed's database error loses only that feed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, union_all, update
from sqlalchemy.orm import Session

from newsletter.collect.dedupe import Identity, NearDuplicateIndex, content_hash, identities
from newsletter.collect.fetcher import FetchResult
from newsletter.collect.outcome import FeedOutcome
from newsletter.collect.parser import ParsedEntry, ParsedFeed
from newsletter.collect.sanitizer import excerpt, to_text
from newsletter.collect.schedule import next_check, parse_retry_after
from newsletter.incidents import NewIncident, NewLink, add_links, create_incidents
from newsletter.models import DuplicateCandidate, Incident, IncidentSource, Source

MAX_CANDIDATES = 5


def record_failure(source: Source, error: str, now: datetime, *, retry_after: str | None = None, gone: bool = False) -> None:
    """Count an error, back off, and for 410 Gone disable the source (only an operator re-enables it)."""
    source.error_count = (source.error_count or 0) + 1
    source.last_error = error[:2000]
    source.last_checked_at = now
    if gone:
        source.enabled = False
        source.disabled_reason = f"{error} (seen {now:%Y-%m-%d %H:%M} UTC)"[:500]
    source.next_check_at = next_check(now, source.poll_interval, source.error_count, parse_retry_after(retry_after, now))


def _success(source: Source, result: FetchResult, now: datetime, warning: str | None) -> None:
    source.error_count = 0
    source.last_error = warning
    source.last_checked_at = now
    source.last_success_at = now
    if result.moved_to:
        source.moved_to = result.moved_to[:2000]
    source.etag = (result.etag or None) and result.etag[:500]
    source.last_modified = (result.last_modified or None) and result.last_modified[:100]
    source.next_check_at = next_check(now, source.poll_interval, 0)


def store_result(
    session: Session,
    source: Source,
    result: FetchResult,
    parsed: ParsedFeed | None,
    *,
    now: datetime,
    near: NearDuplicateIndex | None,
) -> FeedOutcome:
    """Apply one feed's result; `near` is the run's near-duplicate index (None to skip that step)."""
    outcome = FeedOutcome(source.id, source.name, "failed")
    if result.status == "gone":
        record_failure(source, result.error or "HTTP 410 Gone", now, gone=True)
        outcome.status, outcome.error = "gone", result.error
        return outcome
    if result.status == "error":
        record_failure(source, result.error or "unknown error", now, retry_after=result.retry_after)
        outcome.error = result.error
        return outcome
    if result.status == "not_modified":
        # the body is the one parsed last time: a warning about it still holds
        _success(source, result, now, source.last_error if not source.error_count else None)
        outcome.status = "not_modified"
        return outcome
    assert parsed is not None
    if parsed.error:
        record_failure(source, parsed.error, now)
        outcome.error = parsed.error
        return outcome
    if parsed.title and not source.title:
        source.title = parsed.title
    if parsed.site_url and not source.site_url:
        source.site_url = parsed.site_url
    store_entries(session, source, parsed, outcome, now=now, near=near)
    _success(source, result, now, parsed.warning)
    outcome.status = "fetched"
    outcome.warning = parsed.warning
    return outcome


def store_unchanged(session: Session, results: list[FetchResult], *, now: datetime) -> list[FeedOutcome]:
    """Record a batch of 304 Not Modified answers in one executemany, without loading ORM objects.

    The same change as store_result makes for each (health reset, validators kept, next check),
    written as plain UPDATEs: an unchanged feed is most feeds of most runs, and loading and flushing
    a Source object for each cost more than its whole conditional request.
    """
    if not results:
        return []
    by_id = {r.request.source_id: r for r in results}
    table = Source.__table__
    rows = session.execute(
        select(table.c.id, table.c.name, table.c.error_count, table.c.last_error, table.c.poll_interval, table.c.moved_to)
        .where(table.c.id.in_(list(by_id)))
    )
    params = []
    outcomes = []
    for source_id, name, error_count, last_error, poll_interval, moved_to in rows:
        result = by_id[source_id]
        params.append({
            "b_id": source_id, "error_count": 0,
            # the body is the one parsed last time: a warning about it still holds
            "last_error": last_error if not error_count else None,
            "last_checked_at": now, "last_success_at": now,
            "moved_to": result.moved_to[:2000] if result.moved_to else moved_to,
            "etag": (result.etag or None) and result.etag[:500],
            "last_modified": (result.last_modified or None) and result.last_modified[:100],
            "next_check_at": next_check(now, poll_interval, 0),
        })
        outcomes.append(FeedOutcome(source_id, name, "not_modified"))
    if params:
        session.execute(update(table).where(table.c.id == bindparam("b_id")), params)
    return outcomes


def _key(ident: Identity) -> tuple[str, str]:
    if ident.guid:
        return ("guid", ident.guid)
    if ident.link:
        return ("link", ident.link)
    return ("hash", ident.content_hash)


def store_entries(
    session: Session, source: Source, parsed: ParsedFeed, outcome: FeedOutcome, *, now: datetime, near: NearDuplicateIndex | None
) -> None:
    entries = parsed.entries
    idents = identities(entries)
    unique: dict[tuple[str, str], tuple[ParsedEntry, Identity]] = {}
    for entry, ident in zip(entries, idents):
        key = _key(ident)
        if key in unique:
            outcome.seen += 1
        else:
            unique[key] = (entry, ident)
    if not unique:
        return
    items = list(unique.values())
    known = _known_in_feed(session, source.id, [i for _, i in items])
    fresh: list[tuple[ParsedEntry, Identity]] = []
    changed: list[tuple[ParsedEntry, Row[Any]]] = []
    for entry, ident in items:
        row = (
            (ident.guid and known.get(("guid", ident.guid)))
            or (ident.link and known.get(("link", ident.link)))
            or known.get(("hash", ident.content_hash))
        )
        if row is None:
            fresh.append((entry, ident))
        else:
            outcome.seen += 1
            if row.content_hash != entry.content_hash:
                changed.append((entry, row))
    _apply_changes(session, changed, outcome, now)
    if not fresh:
        return
    elsewhere = _known_links(session, [i.link for _, i in fresh if i.link])
    new_rows: list[tuple[ParsedEntry, Identity]] = []
    attach: list[tuple[ParsedEntry, int]] = []
    for entry, ident in fresh:
        target = elsewhere.get(ident.link) if ident.link else None
        if target is not None:
            attach.append((entry, target))
        else:
            new_rows.append((entry, ident))
    language = source.language or parsed.language
    incident_ids = create_incidents(session, [
        NewIncident("feed", _incident_values(entry, language), links=[_feed_link(source.id, entry)]) for entry, _ in new_rows
    ], now=now)
    add_links(session, [(iid, _feed_link(source.id, entry)) for entry, iid in attach], now=now)
    outcome.new += len(new_rows)
    outcome.irrelevant += sum(1 for entry, _ in new_rows if not entry.relevant)
    outcome.excluded += sum(1 for entry, _ in new_rows if entry.excluded_by)
    outcome.same_link += len(attach)
    _promote_attached(session, attach)
    if near is not None:
        outcome.near_duplicates += _near_duplicates(session, near, [(e, i) for (e, _), i in zip(new_rows, incident_ids)], now)


def _feed_link(source_id: int, entry: ParsedEntry) -> NewLink:
    return NewLink("feed", url=entry.link, title=entry.title, source_id=source_id, canonical=entry.canonical_url,
                   guid=entry.guid, content_hash=entry.content_hash, published_at=entry.published_at)


def _incident_values(entry: ParsedEntry, language: str | None) -> dict[str, object]:
    return {
        "title": entry.title, "summary": entry.summary, "body": entry.body, "state": "new",
        "publication": "public", "language": language,
        "occurred_on": entry.published_at.date() if entry.published_at else None, "date_precision": "day",
        "location_precision": "country", "matched_keywords": list(entry.matched), "relevant": entry.relevant,
        "suggested_section": entry.suggested_section, "content_hash": entry.content_hash,
    }


# Built once: a statement object memoizes its cache key, and building and keying these per feed
# cost more than running them (two per fetched feed, thousands of entries' keys each run).
_COLUMNS = (IncidentSource.id, IncidentSource.incident_id, IncidentSource.source_id, IncidentSource.guid,
            IncidentSource.canonical_url, IncidentSource.content_hash)
# Three lookups that each walk an index to the few rows asked for, whatever the feed's history: a
# source_id = ? AND (... OR ...) filter walked every link the feed ever brought (16 ms a fetch at
# 20,000 links). The link part leaves source_id out of its WHERE, or SQLite would prefer that index
# again; rows of other feeds under the same URL are dropped after.
_IN_FEED = union_all(
    select(*_COLUMNS).where(IncidentSource.source_id == bindparam("source_id"),
                            IncidentSource.guid.in_(bindparam("guids", expanding=True))),
    select(*_COLUMNS).where(IncidentSource.canonical_url.in_(bindparam("links", expanding=True))),
    select(*_COLUMNS).where(IncidentSource.source_id == bindparam("source_id"),
                            IncidentSource.content_hash.in_(bindparam("hashes", expanding=True))),
)
_ELSEWHERE = (
    select(IncidentSource.canonical_url, Incident.id, Incident.merged_into_id)
    .join(Incident, Incident.id == IncidentSource.incident_id)
    .where(IncidentSource.canonical_url.in_(bindparam("links", expanding=True)))
    .order_by(IncidentSource.id)
)

_ATTACHED = select(Incident).where(Incident.id.in_(bindparam("ids", expanding=True)))


def _known_in_feed(session: Session, source_id: int, idents: list[Identity]) -> dict[tuple[str, str], Row[Any]]:
    """This feed's stored links with these keys, as plain rows: a re-fetched feed's entries are mostly
    known already, and loading an ORM object for each cost more than the rest of the check."""
    rows = session.execute(_IN_FEED, {
        "source_id": source_id, "hashes": [i.content_hash for i in idents],
        "guids": [i.guid for i in idents if i.guid], "links": [i.link for i in idents if i.link],
    })
    known: dict[tuple[str, str], Row[Any]] = {}
    for row in sorted(rows, key=lambda r: r.id):  # the oldest link first, whichever lookup found it
        if row.source_id != source_id:
            continue
        for key in (("guid", row.guid), ("link", row.canonical_url), ("hash", row.content_hash)):
            if key[1]:
                known.setdefault(key, row)  # type: ignore[arg-type]
    return known


def _known_links(session: Session, links: list[str]) -> dict[str, int]:
    """Incidents other feeds already brought under these canonical URLs (following merges)."""
    if not links:
        return {}
    found: dict[str, int] = {}
    for url, iid, merged in session.execute(_ELSEWHERE, {"links": links}):
        found.setdefault(url, merged or iid)
    return found


def _apply_changes(session: Session, changed: list[tuple[ParsedEntry, Row[Any]]], outcome: FeedOutcome, now: datetime) -> None:
    """An entry edited by its publisher updates the incident while no editor has touched it yet."""
    for entry, found in changed:
        row = session.get(IncidentSource, found.id)
        if row is None:
            continue
        previous = row.content_hash
        row.content_hash = entry.content_hash
        row.title = entry.title
        incident = session.get(Incident, row.incident_id)
        if incident is None or incident.state != "new" or incident.origin != "feed" or len(incident.sources) > 1:
            continue
        old_text = to_text(incident.body, sanitized=True)
        if content_hash(incident.title, old_text) != previous:
            continue  # an editor changed the title or text: theirs wins
        if incident.summary == excerpt(old_text) or not incident.summary:
            incident.summary = entry.summary
        incident.title, incident.body = entry.title, entry.body
        incident.content_hash = entry.content_hash
        incident.matched_keywords = list(entry.matched)
        incident.relevant = entry.relevant
        incident.updated_at = now
        outcome.updated += 1


def _promote_attached(session: Session, attach: list[tuple[ParsedEntry, int]]) -> None:
    """A relevant report of a link another feed judged irrelevant makes the incident relevant."""
    relevant = [(entry, iid) for entry, iid in attach if entry.relevant or entry.matched]
    if not relevant:
        return
    # one query for the feed's attached entries, not one per entry
    loaded = {i.id: i for i in session.scalars(_ATTACHED, {"ids": list({iid for _, iid in relevant})})}
    for entry, iid in relevant:
        incident = loaded.get(iid)
        if incident is None:
            continue
        merged = list(dict.fromkeys([*(incident.matched_keywords or []), *entry.matched]))
        if merged != (incident.matched_keywords or []):
            incident.matched_keywords = merged
        if entry.relevant and not incident.relevant and not entry.excluded_by:
            incident.relevant = True


def _near_duplicates(session: Session, near: NearDuplicateIndex, created: list[tuple[ParsedEntry, int]], now: datetime) -> int:
    rows = []
    for entry, iid in created:
        if not entry.relevant:
            continue
        normal = entry.normal_title or None
        for other, score in near.match(entry.title, entry.words, normal=normal)[:MAX_CANDIDATES]:
            rows.append({"incident_id": iid, "other_id": other, "score": score, "method": "title", "state": "open", "created_at": now})
        near.add(iid, entry.title, entry.words, normal=normal)
    if rows:
        session.execute(insert(DuplicateCandidate.__table__), rows)
    return len(rows)
