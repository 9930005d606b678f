"""Builders for the issues tests: incidents, persons and editors written to the test's real database."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.models import Incident, IncidentSource, Person, Section, Source, User

# A protected person, city and link used across the consent tests; none may reach a public output.
PROTECTED_NAME = "Raigul Sadyrbaeva"
PROTECTED_CITY = "Semey"
INTERNAL_NAME = "Zhanmurat Ashtaev"
INTERNAL_CITY = "Zhanaozen"


@pytest.fixture
def make_incident(session: Session) -> Callable[..., Incident]:
    sources: dict[str, Source] = {}

    def source(kind: str) -> Source:
        if kind not in sources:
            found = session.scalar(select(Source).where(Source.name == f"test {kind}"))
            sources[kind] = found or Source(name=f"test {kind}", kind=kind,
                                            url=f"https://{kind}.example.org/feed.xml" if kind == "feed" else None)
        return sources[kind]

    def build(title: str = "Activist detained", *, summary: str = "", occurred_on: date | None = date(2026, 11, 18),
              publication: str = "public", state: str = "accepted", city: str | None = None,
              region: str | None = None, country: str | None = "Kazakhstan", persons: Sequence[Person] = (),
              links: Sequence[tuple[str, str, str]] = (), section: str | None = None, kind: str | None = None,
              **extra: Any) -> Incident:
        sections = [session.scalar(select(Section).where(Section.slug == section))] if section else []
        incident = Incident(title=title, summary=summary, occurred_on=occurred_on, publication=publication,
                            state=state, city=city, region=region, country=country, kind=kind, origin="editor",
                            persons=list(persons), sections=sections, **extra)
        session.add(incident)
        with session.no_autoflush:
            for url, link_title, kind_ in links:
                incident.sources.append(IncidentSource(url=url, canonical_url=url, title=link_title, source=source(kind_)))
        session.flush()
        return incident

    return build


@pytest.fixture
def make_person(session: Session) -> Callable[..., Person]:
    def build(name: str, *, consent: str = "name", alias: str | None = None, role: str = "activist",
              city: str | None = None, region: str | None = None, country: str | None = "Kazakhstan") -> Person:
        person = Person(name=name, consent=consent, alias=alias, role=role, city=city, region=region, country=country)
        session.add(person)
        session.flush()
        return person

    return build


@pytest.fixture
def make_editor(session: Session) -> Callable[[str], User]:
    def build(email: str, *, active: bool = True) -> User:
        user = User(email=email, password_hash="not-a-login", role="editor", active=active)
        session.add(user)
        session.flush()
        return user

    return build
