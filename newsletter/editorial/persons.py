"""Persons of concern and their dated case timelines; counts by current status as of any date.

A person's status on a day is the latest timeline entry on or before that day, so the summary of a
past week can be reproduced exactly ("17 people are being held in prison, 8 have received
suspended sentences ...", as in the seed report 003).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from newsletter.i18n import N_, Refusal
from newsletter import audit, vocabulary
from newsletter.consent import clean as clean_text
from newsletter.consent import suggest_spellings
from newsletter.models import (
    CASE_STATUSES, PERSON_CONSENT, PERSON_ROLES, CaseStatus, Incident, Person, PersonSpelling, User,
)
from newsletter.vocabulary import CASE_STATUS_LABELS, PERSON_CONSENT_LABELS, status_label, status_summary

# One vocabulary for the desk, the issue and the volunteer pages (newsletter.vocabulary).
STATUS_LABELS = CASE_STATUS_LABELS
ROLE_LABELS = vocabulary.ROLE_LABELS
CONSENT_LABELS = PERSON_CONSENT_LABELS
PERSON_FIELDS = ("name", "alias", "city", "region", "country", "role", "consent", "notes")


class PersonError(Refusal, ValueError):
    """A change to the register was refused; the message says why."""


@dataclass
class PersonRow:
    person: Person
    status: str | None
    since: date | None

    @property
    def label(self) -> str:
        return status_label(self.status) if self.status else "no status recorded"


def _clean_fields(fields: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in PERSON_FIELDS:
            raise PersonError(N_("%(field)s: not a field of a person"), field=name)
        value = (value or "").strip() if isinstance(value, str) or value is None else value
        if name == "name":
            if not value:
                raise PersonError(N_("name: a person needs a name (or the alias used for them)"))
            if len(value) > 300:
                raise PersonError(N_("name: at most 300 characters"))
        elif name == "alias":
            value = value[:300] or None
        elif name in ("city", "region", "country"):
            value = value[:200] or None
        elif name == "role":
            if value and value not in PERSON_ROLES:
                raise PersonError(N_("role: '%(value)s' is not one of %(choices)s"), value=value, choices=", ".join(PERSON_ROLES))
            value = value or None
        elif name == "consent":
            if value not in PERSON_CONSENT:
                raise PersonError(N_("consent: '%(value)s' is not one of %(choices)s"), value=value, choices=", ".join(PERSON_CONSENT))
        elif name == "notes" and len(value) > 20_000:
            raise PersonError(N_("notes: at most 20000 characters"))
        clean[name] = value
    return clean


def create_person(session: Session, *, actor: User | str, **fields: Any) -> Person:
    fields.setdefault("consent", "none")
    clean = _clean_fields(fields)
    if "name" not in clean:
        raise PersonError(N_("name: a person needs a name (or the alias used for them)"))
    person = Person(**clean)
    session.add(person)
    session.flush()
    audit.record(session, actor=actor, action="person.create", entity_type="person", entity_id=person.id,
                 changes={k: v for k, v in clean.items() if k != "notes"})
    return person


def update_person(session: Session, person: Person, *, actor: User | str, **fields: Any) -> dict[str, Any]:
    clean = _clean_fields(fields)
    changes = {k: {"from": getattr(person, k), "to": v} for k, v in clean.items() if getattr(person, k) != v}
    for k, v in clean.items():
        setattr(person, k, v)
    if changes:
        session.flush()
        audit.record(session, actor=actor, action="person.update", entity_type="person", entity_id=person.id,
                     changes=changes)
    return changes


def add_status(session: Session, person: Person, *, status: str, occurred_on: date | str | None, actor: User | str,
               article: str | None = None, note: str = "", source_url: str | None = None,
               incident_id: int | None = None) -> CaseStatus:
    """Add a dated step to the case; each step must say where it is known from (a link or an incident)."""
    if status not in CASE_STATUSES:
        raise PersonError(N_("status: '%(value)s' is not one of %(choices)s"), value=status, choices=", ".join(CASE_STATUSES))
    if isinstance(occurred_on, str):
        try:
            occurred_on = date.fromisoformat(occurred_on.strip())
        except ValueError:
            raise PersonError(N_("date: '%(value)s' is not a date (use YYYY-MM-DD)"), value=occurred_on) from None
    if occurred_on is None:
        raise PersonError(N_("date: each step of a case needs the date it happened"))
    source_url = (source_url or "").strip() or None
    if source_url:
        parts = urlsplit(source_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(source_url) > 2000:
            raise PersonError(N_("source: '%(value)s' is not an http(s) link"), value=source_url[:100])
    if incident_id is not None and session.get(Incident, incident_id) is None:
        raise PersonError(N_("source: there is no incident %(id)s"), id=incident_id)
    if not source_url and incident_id is None:
        raise PersonError(N_("source: give the link or the incident this step is known from"))
    entry = CaseStatus(person_id=person.id, status=status, occurred_on=occurred_on,
                       article=(article or "").strip()[:100] or None, note=(note or "").strip(),
                       source_url=source_url, incident_id=incident_id,
                       created_by_id=actor.id if isinstance(actor, User) else None)
    session.add(entry)
    session.flush()
    session.expire(person, ["statuses"])
    audit.record(session, actor=actor, action="person.status", entity_type="person", entity_id=person.id,
                 changes={"status": status, "occurred_on": occurred_on, "article": entry.article,
                          "source_url": source_url, "incident": incident_id})
    return entry


def delete_status(session: Session, entry: CaseStatus, *, actor: User | str) -> None:
    """Remove a mistaken step; the audit log keeps what it said."""
    audit.record(session, actor=actor, action="person.status_delete", entity_type="person", entity_id=entry.person_id,
                 changes={"status": entry.status, "occurred_on": entry.occurred_on, "source_url": entry.source_url,
                          "incident": entry.incident_id})
    person_id = entry.person_id
    session.delete(entry)
    session.flush()
    person = session.get(Person, person_id)
    if person is not None:
        session.expire(person, ["statuses"])


def _latest(as_of: date):  # type: ignore[no-untyped-def]
    """Subquery: each person's latest status on or before `as_of` (ties: the entry recorded last)."""
    return CaseStatus.latest_as_of(as_of)


def status_counts(session: Session, as_of: date) -> list[tuple[str, str, int]]:
    """(status, label, count) of persons by their status on `as_of`, largest group first."""
    latest = _latest(as_of)
    rows = session.execute(select(latest.c.status, func.count()).group_by(latest.c.status)).all()
    order = {s: i for i, s in enumerate(CASE_STATUSES)}
    result = [(status, status_label(status), int(count)) for status, count in rows if status in STATUS_LABELS]
    return sorted(result, key=lambda r: (-r[2], order[r[0]]))


def summary_sentence(counts: list[tuple[str, str, int]]) -> str:
    """'17 people are being held in prison; 1 person has received a suspended sentence.' (seed 003's words)"""
    return status_summary((status, count) for status, _label, count in counts)


def register(session: Session, *, as_of: date, q: str | None = None, status: str | None = None,
             city: str | None = None, limit: int = 500) -> list[PersonRow]:
    """The register with each person's status on `as_of`, filtered by name/alias, status and city."""
    latest = _latest(as_of)
    stmt = (select(Person, latest.c.status, latest.c.occurred_on)
            .outerjoin(latest, latest.c.person_id == Person.id).order_by(Person.name, Person.id).limit(limit))
    if q:
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(Person.name).like(like), func.lower(Person.alias).like(like)))
    if status:
        stmt = stmt.where(latest.c.status == status)
    if city:
        stmt = stmt.where(func.lower(Person.city) == city.strip().lower())
    return [PersonRow(person, st, since) for person, st, since in session.execute(stmt).all()]


def search_persons(session: Session, q: str, limit: int = 20) -> list[Person]:
    like = f"%{(q or '').strip().lower()}%"
    return list(session.scalars(select(Person).where(or_(func.lower(Person.name).like(like),
                                                         func.lower(Person.alias).like(like)))
                                .order_by(Person.name).limit(limit)))


# ---------------------------------------------------------------- spellings

SPELLING_MAX = 300


def add_spelling(session: Session, person: Person, spelling: str, *, actor: User | str) -> PersonSpelling:
    """Another spelling of the person's name (other script, transliteration); the consent engine hides it too.

    The audit record notes that a spelling was added, not the spelling (the log is no place for names).
    """
    value = clean_text(spelling or "").strip()
    value = " ".join(value.split())
    if not value:
        raise PersonError(N_("spelling: write the name as it appears in the other script or transliteration"))
    if len(value) > SPELLING_MAX:
        raise PersonError(N_("spelling: at most %(n)s characters"), n=SPELLING_MAX)
    if value.casefold() in {s.casefold() for s in person.all_spellings}:
        raise PersonError(N_("spelling: this person already has that spelling"))
    entry = PersonSpelling(spelling=value)
    person.spellings.append(entry)
    session.flush()
    audit.record(session, actor=actor, action="person.spelling_added", entity_type="person", entity_id=person.id,
                 changes={"spellings": len(person.spellings)})
    return entry


def remove_spelling(session: Session, person: Person, spelling_id: int, *, actor: User | str) -> None:
    entry = next((s for s in person.spellings if s.id == spelling_id), None)
    if entry is None:
        raise PersonError(N_("spelling: person %(id)s has no spelling %(sid)s"), id=person.id, sid=spelling_id)
    person.spellings.remove(entry)
    session.flush()
    audit.record(session, actor=actor, action="person.spelling_removed", entity_type="person", entity_id=person.id,
                 changes={"spellings": len(person.spellings)})


def suggested_spellings(person: Person) -> list[str]:
    """Transliterations of the name and of each spelling that the person does not have yet."""
    have = {s.casefold() for s in person.all_spellings}
    found: list[str] = []
    for name in person.all_spellings:
        for suggestion in suggest_spellings(name):
            if suggestion.casefold() not in have and suggestion not in found:
                found.append(suggestion)
    return found[:8]
