"""Persons register: timeline with sources, status as of any date, summary counts like seed 003."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.editorial import persons
from newsletter.models import AuditLog, Person
from tests.editorial import factories as fx
from tests.editorial.helpers import csrf_token_of

SRC = "https://odfoundation.example.org/report"


def _person(session: Session, name: str, *steps: tuple[str, date]) -> Person:
    p = persons.create_person(session, name=name, actor="test")
    for status, day in steps:
        persons.add_status(session, p, status=status, occurred_on=day, source_url=SRC, actor="test")
    return p


def test_status_counts_as_of_any_date(session: Session) -> None:
    for n in range(3):
        _person(session, f"Prisoner {n}", ("detained", date(2026, 1, 5)), ("convicted_prison", date(2026, 6, 1)))
    _person(session, "Suspended", ("charged", date(2026, 2, 1)), ("suspended_sentence", date(2026, 5, 1)))
    _person(session, "Natalia Ulasik", ("forced_psychiatric_placement", date(2026, 3, 1)))
    _person(session, "Released later", ("detained", date(2026, 1, 5)), ("released", date(2026, 9, 1)))
    _person(session, "No status yet")
    assert persons.status_counts(session, date(2026, 12, 1)) == [
        ("convicted_prison", "held in prison", 3),
        ("suspended_sentence", "received suspended sentences", 1),
        ("forced_psychiatric_placement", "forcibly held in a mental hospital", 1),
        ("released", "released", 1),
    ]
    assert persons.status_counts(session, date(2026, 2, 15)) == [
        ("detained", "detained", 4), ("charged", "charged", 1),
    ]
    assert persons.status_counts(session, date(2025, 12, 31)) == []
    assert persons.summary_sentence(persons.status_counts(session, date(2026, 3, 1))).startswith("4 people are detained")


def test_same_day_steps_take_the_one_recorded_last(session: Session) -> None:
    _person(session, "Same day", ("detained", date(2026, 4, 1)), ("released", date(2026, 4, 1)))
    assert persons.status_counts(session, date(2026, 4, 1)) == [("released", "released", 1)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"status": "vanished", "occurred_on": "2026-01-01", "source_url": SRC}, "is not one of"),
        ({"status": "detained", "occurred_on": "01.01.2026", "source_url": SRC}, "is not a date"),
        ({"status": "detained", "occurred_on": "2026-01-01"}, "give the link or the incident"),
        ({"status": "detained", "occurred_on": "2026-01-01", "source_url": "javascript:alert(1)"}, r"not an http\(s\) link"),
        ({"status": "detained", "occurred_on": "2026-01-01", "incident_id": 999999}, "there is no incident 999999"),
        ({"status": "detained", "occurred_on": None, "source_url": SRC}, "needs the date"),
    ],
)
def test_add_status_refuses_bad_input(session: Session, kwargs: dict, message: str) -> None:
    p = persons.create_person(session, name="X", actor="test")
    with pytest.raises(persons.PersonError, match=message):
        persons.add_status(session, p, actor="test", **kwargs)
    assert p.statuses == []


def test_person_pages_and_forms(editor_client: TestClient, session: Session) -> None:
    page = editor_client.get("/editor/persons/new")
    bad = editor_client.post("/editor/persons/", data={"csrf_token": csrf_token_of(page.text), "name": " ",
                                                        "city": "Oral", "consent": "name"}, follow_redirects=False)
    assert bad.status_code == 400 and "a person needs a name" in bad.text and 'value="Oral"' in bad.text
    created = editor_client.post("/editor/persons/", data={
        "csrf_token": csrf_token_of(page.text), "name": "Aigul Utepova", "alias": "A. U.", "city": "Nur-Sultan",
        "role": "journalist", "consent": "alias"}, follow_redirects=False)
    assert created.status_code == 303
    person = session.scalar(select(Person).where(Person.name == "Aigul Utepova"))
    assert person is not None and person.consent == "alias"
    inc = fx.incident(session, "Blogger placed in a clinic")
    url = f"/editor/persons/{person.id}"
    token = csrf_token_of(editor_client.get(url).text)
    step = editor_client.post(f"{url}/statuses", data={"csrf_token": token, "status": "forced_psychiatric_placement",
                                                       "occurred_on": "2020-11-23", "incident_id": f"#{inc.id}"},
                              follow_redirects=False)
    assert step.status_code == 303
    nosrc = editor_client.post(f"{url}/statuses", data={"csrf_token": token, "status": "released",
                                                        "occurred_on": "2020-12-11"}, follow_redirects=False)
    assert nosrc.status_code == 400 and "give the link or the incident" in nosrc.text
    assert 'value="2020-12-11"' in nosrc.text  # the form keeps what was typed
    editor_client.post(f"{url}/statuses", data={"csrf_token": token, "status": "released", "occurred_on": "2020-12-11",
                                                "source_url": SRC}, follow_redirects=False)
    shown = editor_client.get(url)
    assert '<strong id="current-status">released</strong>' in shown.text and f"#{inc.id}" in shown.text
    register = editor_client.get("/editor/persons/?as_of=2020-12-01")
    assert "forcibly held in a mental hospital" in register.text
    summary = editor_client.get("/editor/persons/summary?as_of=2020-12-01")
    assert "1 person is being forcibly held in a mental hospital." in summary.text
    bad_day = editor_client.get("/editor/persons/summary?as_of=yesterday")
    assert bad_day.status_code == 400 and "is not a date" in bad_day.text
    session.expire_all()
    entry = session.get(Person, person.id).statuses[0]
    deleted = editor_client.post(f"{url}/statuses/{entry.id}/delete", data={"csrf_token": token}, follow_redirects=False)
    assert deleted.status_code == 303
    wrong = editor_client.post(f"/editor/persons/{person.id + 1000}/statuses/{entry.id}/delete",
                               data={"csrf_token": token}, follow_redirects=False)
    assert wrong.status_code == 404
    actions = session.scalars(select(AuditLog.action).where(AuditLog.entity_type == "person")
                              .order_by(AuditLog.id)).all()
    assert actions == ["person.create", "person.status", "person.status", "person.status_delete"]


def test_spellings_are_added_with_suggestions_removed_and_refused_when_bad(editor_client: TestClient,
                                                                            session: Session) -> None:
    person = persons.create_person(session, name="Сауле Жаксылыкова", consent="none", actor="test")
    session.commit()
    url = f"/editor/persons/{person.id}"
    page = editor_client.get(url)
    assert page.status_code == 200 and "No other spelling yet." in page.text
    # Transliterations are suggested (ICAO passport style, 2021 Kazakh Latin) as one-click forms.
    assert 'name="spelling" value="Saule Zhaksylykova"' in page.text
    token = csrf_token_of(page.text)
    added = editor_client.post(f"{url}/spellings", data={"csrf_token": token, "spelling": "Saule Zhaksylykova"},
                               follow_redirects=False)
    assert added.status_code == 303
    typed = editor_client.post(f"{url}/spellings", data={"csrf_token": token, "spelling": " Zhaqsy\u00adlyqova  Saule "},
                               follow_redirects=False)
    assert typed.status_code == 303
    for bad, message in [("", "write the name as it appears"), ("saule zhaksylykova", "already has that spelling"),
                         ("x" * 301, "at most 300 characters")]:
        refused = editor_client.post(f"{url}/spellings", data={"csrf_token": token, "spelling": bad},
                                     follow_redirects=False)
        assert refused.status_code == 400 and message in refused.text
    session.expire_all()
    person = session.get(Person, person.id)
    assert [s.spelling for s in person.spellings] == ["Saule Zhaksylykova", "Zhaqsylyqova Saule"]
    assert 'value="Saule Zhaksylykova"' not in editor_client.get(url).text.split('id="spelling-list"')[1].split("</ul>")[1]
    first = person.spellings[0].id
    removed = editor_client.post(f"{url}/spellings/{first}/delete", data={"csrf_token": token}, follow_redirects=False)
    assert removed.status_code == 303
    missing = editor_client.post(f"{url}/spellings/{first}/delete", data={"csrf_token": token}, follow_redirects=False)
    assert missing.status_code == 404
    session.expire_all()
    assert [s.spelling for s in session.get(Person, person.id).spellings] == ["Zhaqsylyqova Saule"]
    logged = session.scalars(select(AuditLog).where(AuditLog.action.like("person.spelling%"))).all()
    assert [a.action for a in logged] == ["person.spelling_added", "person.spelling_added", "person.spelling_removed"]
    assert all("Zhaq" not in str(a.changes) and "Saule" not in str(a.changes) for a in logged)
