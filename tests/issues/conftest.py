"""Builders for the issues tests: incidents, persons and editors written to the test's real database."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.issues.service import draft_issue
from newsletter.models import Incident, IncidentSource, Issue, Person, Section, Source, User

# A protected person, city and link used across the consent tests; none may reach a public output.
PROTECTED_NAME = "Raigul Sadyrbaeva"
PROTECTED_CITY = "Semey"
INTERNAL_NAME = "Zhanmurat Ashtaev"
INTERNAL_CITY = "Zhanaozen"
PROTECTED_WORDS = [*PROTECTED_NAME.split(), PROTECTED_CITY, *INTERNAL_NAME.split(), INTERNAL_CITY, "Shamuratov", "Sadyrba",
                   "Isenova"]


def assert_no_protected_words(text: str, where: str = "output") -> None:
    for word in PROTECTED_WORDS:
        assert not re.search(re.escape(word), text, re.IGNORECASE), f"{word!r} leaked into {where}"


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
                incident.sources.append(IncidentSource(url=url, canonical_url=url, title=link_title, source=source(kind_),
                                                         origin=kind_))
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


@pytest.fixture
def consent_issue(session: Session, settings: Settings, make_incident, make_person) -> Issue:
    """One public, one anonymised and one internal incident, with protected people in all of them."""
    raigul = make_person(PROTECTED_NAME, consent="initials", role="human_rights_defender", city=PROTECTED_CITY,
                         region="Abai Region")
    aliya = make_person("Aliya Isenova", consent="alias", alias="Activist E.", city=PROTECTED_CITY, region="Abai Region")
    kuat = make_person("Kuat Shamuratov", consent="none", role="citizen")
    aya = make_person("Aya Sadvakasova", consent="name", role="human_rights_defender", city="Almaty")
    zhanmurat = make_person(INTERNAL_NAME, consent="name", city=INTERNAL_CITY)
    make_incident(
        "Raigul Sadyrbaeva and Aliya Isenova persecuted for monitoring a protest in Semey",
        summary="Raigul Sadyrbayeva, who has a disability, is held without medicines. Aliya Isenova is in "
                "hospital in Semey, handcuffed. Semey police refuse visits.",
        publication="anonymised", city=PROTECTED_CITY, region="Abai Region", persons=[raigul, aliya],
        section="persecution",
        links=[("https://news.example.org/2026/sadyrbaeva-isenova-semey", "Sadyrbaeva in Semey", "feed"),
               ("https://news.example.org/2026/monitors-persecuted", "Monitors of Raigul's protest persecuted", "feed"),
               ("https://volunteer.example.org/report/17", "Volunteer report", "volunteer"),
               ("https://editor.example.org/notes", "Editor link", "import")],
    )
    make_incident(
        "Aya Sadvakasova convicted; Kuat Shamuratov tried for calming a crowd",
        summary="Aya Sadvakasova was convicted under Article 274. Kuat Shamuratov urged people to calm down.",
        publication="public", city="Almaty", persons=[aya, kuat], section="persecution",
        links=[("https://news.example.org/aya-convicted", "Aya Sadvakasova convicted", "feed"),
               ("https://news.example.org/shamuratov-trial", "Trial", "feed")],
    )
    make_incident(
        f"{INTERNAL_NAME} beaten in {INTERNAL_CITY}", summary=f"{INTERNAL_NAME} was beaten in {INTERNAL_CITY}.",
        publication="internal", city=INTERNAL_CITY, persons=[zhanmurat], section="persecution",
        links=[("https://news.example.org/ashtaev", "Ashtaev", "feed")],
    )
    make_incident("Searches in two other towns", publication="internal", city="Uralsk")
    make_incident("Another search in the same town", publication="internal", city="uralsk ")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    issue.intro = "This week Raigul Sadyrbaeva, Aya Sadvakasova and Zhanmurat Ashtaev were persecuted."
    session.flush()
    return issue


@pytest.fixture(autouse=True)
def protected_names_are_log_canaries(no_canary_in_logs) -> None:  # type: ignore[no-untyped-def]
    """The protected people of these tests must never appear in a log record either (see tests/conftest.py)."""
    no_canary_in_logs.markers.extend([PROTECTED_NAME, INTERNAL_NAME, "Shamuratov", "Isenova"])
