"""Editorial actions on incidents: edit, tag, link persons, decide, merge. Every change is audited.

Functions take the caller's session and never commit (one transaction per request or command).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import nh3
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from newsletter.i18n import N_, Refusal, Words
from newsletter import audit
from newsletter.states import IllegalTransition, allowed, transition
from newsletter.db import get_row
from newsletter.urls import canonical_url
from newsletter.models import (
    DATE_PRECISIONS, INCIDENT_KINDS, LOCATION_PRECISIONS, PUBLIC_LINK_ORIGINS, PUBLICATION_LEVELS, Attachment, AuditLog,
    CaseStatus, DuplicateCandidate, Incident, IncidentSource, Person, Section, Submission, SubmissionMessage, User,
)

BODY_TAGS = {"p", "br", "a", "strong", "em", "b", "i", "ul", "ol", "li", "blockquote", "h3", "h4"}
AUDIT_TEXT_LIMIT = 2000
MAX_TITLE = 500
MAX_TEXT = 50_000


class EditorialError(Refusal, ValueError):
    """An editorial change was refused; the message says why and is safe to show."""


def _clip(value: Any) -> Any:
    if isinstance(value, str) and len(value) > AUDIT_TEXT_LIMIT:
        return value[:AUDIT_TEXT_LIMIT] + "…"
    return value


def sanitise_body(html: str) -> str:
    return nh3.clean(html or "", tags=BODY_TAGS, attributes={"a": {"href", "title"}},
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow")


def _choice(name: str, value: str | None, allowed: tuple[str, ...], *, optional: bool = False) -> str | None:
    if value in (None, "") and optional:
        return None
    if value not in allowed:
        raise EditorialError(N_("%(field)s: '%(value)s' is not one of %(choices)s"), field=Words(name), value=value,
                             choices=", ".join(allowed))
    return value


def update_incident(session: Session, incident: Incident, *, actor: User | str, **fields: Any) -> dict[str, Any]:
    """Edit the editor-owned fields; returns (and audits) what changed. Nothing changes if a value is invalid."""
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "title":
            value = (value or "").strip()
            if not value:
                raise EditorialError(N_("title: an incident needs a title"))
            if len(value) > MAX_TITLE:
                raise EditorialError(N_("title: at most %(n)s characters"), n=MAX_TITLE)
        elif name == "summary":
            value = (value or "").strip()
            if len(value) > MAX_TEXT:
                raise EditorialError(N_("summary: at most %(n)s characters"), n=MAX_TEXT)
        elif name == "body":
            if len(value or "") > MAX_TEXT * 4:
                raise EditorialError(N_("body: at most %(n)s characters"), n=MAX_TEXT * 4)
            value = sanitise_body(value or "")
        elif name == "publication":
            value = _choice(N_("publication level"), value, PUBLICATION_LEVELS)
        elif name == "kind":
            value = _choice(N_("kind"), value, INCIDENT_KINDS, optional=True)
        elif name == "date_precision":
            value = _choice(N_("date precision"), value, DATE_PRECISIONS)
        elif name == "location_precision":
            value = _choice(N_("location precision"), value, LOCATION_PRECISIONS)
        elif name == "occurred_on":
            if value not in (None, "") and not isinstance(value, date):
                try:
                    value = date.fromisoformat(str(value))
                except ValueError:
                    raise EditorialError(N_("date: '%(value)s' is not a date (use YYYY-MM-DD)"), value=value) from None
            value = value or None
        elif name in ("city", "region", "country"):
            value = (value or "").strip()[:200] or None
        else:
            raise EditorialError(N_("%(field)s: not an editable field"), field=name)
        clean[name] = value
    changes = {name: {"from": _clip(getattr(incident, name)), "to": _clip(value)}
               for name, value in clean.items() if getattr(incident, name) != value}
    for name, value in clean.items():
        setattr(incident, name, value)
    if changes:
        session.flush()
        audit.record(session, actor=actor, action="incident.edit", entity_type="incident", entity_id=incident.id,
                     changes=changes)
    return changes


def set_sections(session: Session, incident: Incident, slugs: Iterable[str], *, actor: User | str) -> Incident:
    """Put the incident into exactly these sections (by slug); unknown slugs are refused."""
    wanted = list(dict.fromkeys(s.strip() for s in slugs if s and s.strip()))
    sections = list(session.scalars(select(Section).where(Section.slug.in_(wanted)))) if wanted else []
    missing = sorted(set(wanted) - {s.slug for s in sections})
    if missing:
        raise EditorialError(N_("unknown section(s): %(list)s"), list=", ".join(missing))
    before = [s.slug for s in incident.sections]
    sections.sort(key=lambda s: (s.position, s.id))
    after = [s.slug for s in sections]
    if sorted(before) == sorted(after):
        return incident
    incident.sections = sections
    session.flush()
    audit.record(session, actor=actor, action="incident.sections", entity_type="incident", entity_id=incident.id,
                 changes={"sections": {"from": before, "to": after}})
    return incident


MAX_LINK_URL = 2000
_URL_FORBIDDEN = set(" \t\r\n<>\"'`\\")


def add_link(session: Session, incident: Incident, url: str, title: str = "", *, actor: User | str) -> IncidentSource:
    """Add a link as the editor's own (origin `editor`), the only way a typed link becomes publishable.

    Links from volunteers, partners and imports are never published (they may lead back to the
    person who sent them); an editor who has checked such a link re-adds it here on purpose.
    """
    url = (url or "").strip()
    title = " ".join((title or "").split())
    if not url:
        raise EditorialError(N_("link: give the address (https://...)"))
    if len(url) > MAX_LINK_URL:
        raise EditorialError(N_("link: at most %(n)s characters"), n=MAX_LINK_URL)
    if len(title) > MAX_TITLE:
        raise EditorialError(N_("link title: at most %(n)s characters"), n=MAX_TITLE)
    try:
        parts = urlsplit(url)
        canonical = canonical_url(url)
    except ValueError:
        parts, canonical = None, ""
    if (parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname
            or any(c in _URL_FORBIDDEN for c in url) or any(ord(c) < 32 for c in url)):
        raise EditorialError(N_("link: not a web address (it must start with https:// or http://, without spaces or quotes)"))
    for existing in incident.sources:
        if existing.canonical_url == canonical and existing.origin in PUBLIC_LINK_ORIGINS:
            raise EditorialError(N_("link: this incident already has this link as a publishable one"))
    link = IncidentSource(incident_id=incident.id, url=url, canonical_url=canonical, title=title or None, origin="editor")
    session.add(link)
    session.flush()
    session.expire(incident, ["sources"])
    audit.record(session, actor=actor, action="incident.link_added", entity_type="incident", entity_id=incident.id,
                 changes={"link": link.id, "origin": "editor"})
    return link


def set_persons(session: Session, incident: Incident, person_ids: Iterable[int], *, actor: User | str) -> Incident:
    """Link exactly these persons to the incident."""
    ids = list(dict.fromkeys(int(i) for i in person_ids))
    persons = list(session.scalars(select(Person).where(Person.id.in_(ids)))) if ids else []
    missing = sorted(set(ids) - {p.id for p in persons})
    if missing:
        raise EditorialError(N_("unknown person id(s): %(list)s"), list=", ".join(map(str, missing)))
    before = sorted(p.id for p in incident.persons)
    after = sorted(p.id for p in persons)
    if before == after:
        return incident
    incident.persons = persons
    session.flush()
    audit.record(session, actor=actor, action="incident.persons", entity_type="incident", entity_id=incident.id,
                 changes={"persons": {"from": before, "to": after}})
    return incident


def ask_volunteer(session: Session, incident: Incident, question: str, *, actor: User | str) -> Incident:
    """Move to needs_info and put the question on the volunteer's receipt page (as an editor message)."""
    question = (question or "").strip()
    submissions = list(session.scalars(select(Submission).where(Submission.incident_id == incident.id)))
    if not submissions:
        raise EditorialError(N_("only volunteer reports can be asked for more information: this incident has no receipt"))
    if len(question) > 5000:
        raise EditorialError(N_("the question is too long: at most 5000 characters"))
    transition(session, incident, "needs_info", actor=actor, question=question)
    for submission in submissions:
        session.add(SubmissionMessage(submission_id=submission.id, author="editor", text=question))
    session.flush()
    return incident


def merge_incidents(session: Session, duplicate: Incident, keep: Incident, *, actor: User | str) -> Incident:
    """Fold `duplicate` into `keep`: sources, persons, sections, keywords, files and case references move;
    the duplicate is marked `duplicate` (merged_into=keep). Returns `keep`."""
    if duplicate.id == keep.id:
        raise EditorialError(N_("an incident cannot be merged into itself"))
    if keep.state == "duplicate":
        raise EditorialError(N_("incident %(id)s is itself a duplicate of %(other)s; merge into that one"), id=keep.id, other=keep.merged_into_id)
    if "duplicate" not in allowed(duplicate):
        raise EditorialError(N_("incident %(id)s is '%(state)s' and cannot be marked as a duplicate"), id=duplicate.id, state=duplicate.state)
    known_urls = {s.canonical_url or s.url for s in keep.sources if (s.canonical_url or s.url)}
    moved_sources = []
    for source in list(duplicate.sources):
        key = source.canonical_url or source.url
        if key and key in known_urls:
            continue
        source.incident = keep
        known_urls.add(key)
        moved_sources.append(source.id)
    added_persons = [p for p in duplicate.persons if p not in keep.persons]
    keep.persons.extend(added_persons)
    added_sections = [s for s in duplicate.sections if s not in keep.sections]
    keep.sections.extend(added_sections)
    keywords = list(dict.fromkeys([*(keep.matched_keywords or []), *(duplicate.matched_keywords or [])]))
    if keywords != (keep.matched_keywords or []):
        keep.matched_keywords = keywords
    session.flush()
    files = session.execute(update(Attachment).where(Attachment.incident_id == duplicate.id)
                            .values(incident_id=keep.id)).rowcount
    session.execute(update(CaseStatus).where(CaseStatus.incident_id == duplicate.id).values(incident_id=keep.id))
    _settle_candidates(session, duplicate, keep)
    try:
        transition(session, duplicate, "duplicate", actor=actor, merged_into=keep)
    except IllegalTransition as exc:
        raise EditorialError.of(exc) from None
    session.expire(keep, ["sources"])
    audit.record(session, actor=actor, action="incident.merge", entity_type="incident", entity_id=keep.id,
                 changes={"merged": duplicate.id, "sources": moved_sources, "persons": [p.id for p in added_persons],
                          "sections": [s.slug for s in added_sections], "attachments": files})
    return keep


def _settle_candidates(session: Session, duplicate: Incident, keep: Incident) -> None:
    """The pair becomes `merged`; other open pairs of the duplicate now concern the kept incident."""
    rows = session.scalars(select(DuplicateCandidate).where(
        DuplicateCandidate.state == "open",
        or_(DuplicateCandidate.incident_id == duplicate.id, DuplicateCandidate.other_id == duplicate.id)))
    pairs = {(c.incident_id, c.other_id) for c in session.scalars(select(DuplicateCandidate).where(
        or_(DuplicateCandidate.incident_id == keep.id, DuplicateCandidate.other_id == keep.id)))}
    for cand in rows:
        other = cand.other_id if cand.incident_id == duplicate.id else cand.incident_id
        if other == keep.id:
            cand.state = "merged"
            continue
        pair = (keep.id, other)
        if pair in pairs or pair[::-1] in pairs:
            cand.state = "dismissed"
        else:
            cand.incident_id, cand.other_id = pair
            pairs.add(pair)
    session.flush()


def decide(session: Session, incident: Incident, action: str, *, actor: User | str, reason: str = "",
           question: str = "", duplicate_of: Incident | None = None, sections: list[str] | None = None) -> str:
    """Apply one triage decision; returns the resulting state. Refusals raise EditorialError."""
    try:
        if action == "accept":
            if "accepted" not in allowed(incident):
                raise IllegalTransition(N_("incident %(id)s cannot go from '%(current)s' to '%(to)s'"), id=incident.id,
                                        current=Words(incident.state), to=Words("accepted"))
            if sections is not None:
                set_sections(session, incident, sections, actor=actor)
            transition(session, incident, "accepted", actor=actor)
        elif action == "reject":
            transition(session, incident, "rejected", actor=actor, reason=reason.strip())
        elif action == "needs_info":
            if not question.strip():
                raise EditorialError(N_("asking for more information needs a question for the volunteer"))
            ask_volunteer(session, incident, question, actor=actor)
        elif action == "duplicate":
            if duplicate_of is None:
                raise EditorialError(N_("a duplicate must name an existing incident to merge into"))
            merge_incidents(session, incident, duplicate_of, actor=actor)
        elif action == "reopen":
            transition(session, incident, "new", actor=actor, reason=reason.strip() or None)
        else:
            raise EditorialError(N_("unknown action '%(action)s'"), action=action)
    except IllegalTransition as exc:
        raise EditorialError.of(exc) from None
    return incident.state


def sources_of(session: Session, incident: Incident) -> list[IncidentSource]:
    return list(session.scalars(select(IncidentSource).where(IncidentSource.incident_id == incident.id)
                                .order_by(IncidentSource.id)))


def incident_by_reference(session: Session, ref: str) -> Incident:
    """The incident an editor names in a form ("123" or "#123"); refused with the words they typed."""
    number = (ref or "").strip().lstrip("#")
    incident = get_row(session, Incident, int(number)) if number.isascii() and number.isdigit() else None
    if incident is None:
        raise EditorialError(N_("duplicate of: '%(ref)s' is not the number of an existing incident"), ref=ref)
    return incident


@dataclass
class IncidentRecord:
    """What the incident page shows beside the incident: its files, the volunteer's submissions, its history."""

    attachments: list[Attachment]
    submissions: list[Submission]
    history: list[AuditLog]


def incident_record(session: Session, incident: Incident, *, history: int = 50) -> IncidentRecord:
    """The incident's files and submissions, and its newest `history` audit rows."""
    return IncidentRecord(
        attachments=list(session.scalars(select(Attachment).where(Attachment.incident_id == incident.id)
                                         .order_by(Attachment.id))),
        submissions=list(session.scalars(select(Submission).where(Submission.incident_id == incident.id))),
        history=list(session.scalars(select(AuditLog).where(AuditLog.entity_type == "incident",
                                                            AuditLog.entity_id == incident.id)
                                     .order_by(AuditLog.id.desc()).limit(history))),
    )
