"""The persons register: list, summary by status as of a date, a person's page and case timeline."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from newsletter.db import utcnow
from newsletter.editorial import persons
from newsletter.editorial.persons import PersonError
from newsletter.i18n import N_
from newsletter.models import CASE_STATUSES, PERSON_CONSENT, PERSON_ROLES, CaseStatus, Person
from newsletter.web.deps import get_session
from newsletter.web.editor.auth import CurrentUser
from newsletter.web.editor.common import done, get_or_404, refused
from newsletter.web.errors import DeskRefusal, desk_error
from newsletter.web.security import verify_csrf
from newsletter.web.templating import render

router = APIRouter()
PERSON_TEMPLATE = "editor/person.html.j2"
CHOICES = {"statuses": CASE_STATUSES, "roles": PERSON_ROLES, "consents": PERSON_CONSENT,
           "status_labels": persons.STATUS_LABELS, "consent_labels": persons.CONSENT_LABELS}


def _as_of(raw: str) -> tuple[date, object]:
    if not raw:
        return utcnow().date(), None
    try:
        return date.fromisoformat(raw), None
    except ValueError:
        return utcnow().date(), desk_error(PersonError(N_("as of: '%(value)s' is not a date (use YYYY-MM-DD); showing today"),
                                                       value=raw[:40]))


@router.get("/editor/persons/", response_class=HTMLResponse, include_in_schema=False)
def register(request: Request, user: CurrentUser, session: Session = Depends(get_session, scope="function"), q: str = "",
             status: str = "", city: str = "", as_of: str = "") -> HTMLResponse:
    day, error = _as_of(as_of)
    if status and status not in CASE_STATUSES:
        error, status = desk_error(PersonError(N_("status: unknown status '%(value)s'"), value=status[:40])), ""
    rows = persons.register(session, as_of=day, q=q.strip()[:200] or None, status=status or None,
                            city=city.strip()[:200] or None)
    return render(request, "editor/persons.html.j2", {"rows": rows, "q": q, "status": status, "city": city,
                                                      "as_of": day, "error": error, **CHOICES},
                  status_code=400 if error else 200)


@router.get("/editor/persons/summary", response_class=HTMLResponse, include_in_schema=False)
def summary(request: Request, user: CurrentUser, session: Session = Depends(get_session, scope="function"),
            as_of: str = "") -> HTMLResponse:
    day, error = _as_of(as_of)
    counts = persons.status_counts(session, day)
    return render(request, "editor/persons_summary.html.j2", {
        "as_of": day, "counts": counts, "total": sum(c for _s, _l, c in counts),
        "sentence": persons.summary_sentence(counts), "error": error}, status_code=400 if error else 200)


@router.get("/editor/persons/new", response_class=HTMLResponse, include_in_schema=False)
def new_person(request: Request, user: CurrentUser) -> HTMLResponse:
    return render(request, "editor/person_new.html.j2", {"values": {"consent": "none"}, **CHOICES})


PersonForm = Annotated[str, Form()]


@router.post("/editor/persons/", include_in_schema=False)
def create_person(request: Request, user: CurrentUser, session: Session = Depends(get_session, scope="function"),
                  csrf_token: PersonForm = "", name: PersonForm = "", alias: PersonForm = "", city: PersonForm = "",
                  region: PersonForm = "", country: PersonForm = "", role: PersonForm = "",
                  consent: PersonForm = "none", notes: PersonForm = "") -> Response:
    verify_csrf(request, csrf_token)
    values = {"name": name, "alias": alias, "city": city, "region": region, "country": country, "role": role,
              "consent": consent, "notes": notes}
    try:
        person = persons.create_person(session, actor=user, **values)
    except persons.PersonError as exc:
        return refused(request, session, "editor/person_new.html.j2", lambda: {"values": values, **CHOICES}, desk_error(exc))
    return done(f"/editor/persons/{person.id}", "created")


def person_context(session: Session, person: Person) -> dict[str, Any]:
    today = utcnow().date()
    current = next((s for s in sorted(person.statuses, key=lambda s: (s.occurred_on, s.id), reverse=True)
                    if s.occurred_on <= today), None)
    return {"person": person, "current": current, "today": today,
            "suggestions": persons.suggested_spellings(person), **CHOICES}


@router.get("/editor/persons/{person_id}", response_class=HTMLResponse, include_in_schema=False)
def person_page(request: Request, person_id: int, user: CurrentUser,
                session: Session = Depends(get_session, scope="function")) -> HTMLResponse:
    person = get_or_404(session, Person, person_id, "person")
    return render(request, PERSON_TEMPLATE, person_context(session, person))


@router.post("/editor/persons/{person_id}/edit", include_in_schema=False)
def edit_person(request: Request, person_id: int, user: CurrentUser, session: Session = Depends(get_session, scope="function"),
                csrf_token: PersonForm = "", name: PersonForm = "", alias: PersonForm = "", city: PersonForm = "",
                region: PersonForm = "", country: PersonForm = "", role: PersonForm = "",
                consent: PersonForm = "", notes: PersonForm = "") -> Response:
    verify_csrf(request, csrf_token)
    person = get_or_404(session, Person, person_id, "person")
    try:
        persons.update_person(session, person, actor=user, name=name, alias=alias, city=city, region=region,
                              country=country, role=role, consent=consent, notes=notes)
    except persons.PersonError as exc:
        return refused(request, session, PERSON_TEMPLATE, lambda: person_context(session, person), desk_error(exc))
    return done(f"/editor/persons/{person_id}", "saved")


@router.post("/editor/persons/{person_id}/statuses", include_in_schema=False)
def add_status(request: Request, person_id: int, user: CurrentUser, session: Session = Depends(get_session, scope="function"),
               csrf_token: PersonForm = "", status: PersonForm = "", occurred_on: PersonForm = "",
               article: PersonForm = "", note: PersonForm = "", source_url: PersonForm = "",
               incident_id: PersonForm = "") -> Response:
    verify_csrf(request, csrf_token)
    person = get_or_404(session, Person, person_id, "person")
    try:
        ref = incident_id.strip().lstrip("#")
        if ref and not ref.isdigit():
            raise persons.PersonError(N_("source: '%(value)s' is not an incident number"), value=incident_id)
        persons.add_status(session, person, status=status, occurred_on=occurred_on or None, actor=user,
                           article=article, note=note, source_url=source_url, incident_id=int(ref) if ref else None)
    except persons.PersonError as exc:
        return refused(request, session, PERSON_TEMPLATE, lambda: person_context(session, person), desk_error(exc),
                       form={"status": status, "occurred_on": occurred_on, "article": article, "note": note,
                             "source_url": source_url, "incident_id": incident_id})
    return done(f"/editor/persons/{person_id}", "saved")


@router.post("/editor/persons/{person_id}/statuses/{status_id}/delete", include_in_schema=False)
def delete_status(request: Request, person_id: int, status_id: int, user: CurrentUser,
                  session: Session = Depends(get_session, scope="function"), csrf_token: PersonForm = "") -> Response:
    verify_csrf(request, csrf_token)
    entry = get_or_404(session, CaseStatus, status_id, "case status")
    if entry.person_id != person_id:
        raise DeskRefusal(404, N_("Person %(person)s has no case status %(status)s."), person=person_id, status=status_id)
    persons.delete_status(session, entry, actor=user)
    return done(f"/editor/persons/{person_id}", "deleted")


@router.post("/editor/persons/{person_id}/spellings", include_in_schema=False)
def add_spelling(request: Request, person_id: int, user: CurrentUser, session: Session = Depends(get_session, scope="function"),
                 csrf_token: PersonForm = "", spelling: PersonForm = "") -> Response:
    verify_csrf(request, csrf_token)
    person = get_or_404(session, Person, person_id, "person")
    try:
        persons.add_spelling(session, person, spelling, actor=user)
    except persons.PersonError as exc:
        return refused(request, session, PERSON_TEMPLATE, lambda: person_context(session, person), desk_error(exc),
                       form={"spelling": spelling[:300]})
    return done(f"/editor/persons/{person_id}", "saved")


@router.post("/editor/persons/{person_id}/spellings/{spelling_id}/delete", include_in_schema=False)
def remove_spelling(request: Request, person_id: int, spelling_id: int, user: CurrentUser,
                    session: Session = Depends(get_session, scope="function"), csrf_token: PersonForm = "") -> Response:
    verify_csrf(request, csrf_token)
    person = get_or_404(session, Person, person_id, "person")
    try:
        persons.remove_spelling(session, person, spelling_id, actor=user)
    except persons.PersonError as exc:
        raise DeskRefusal.of(404, exc) from None
    return done(f"/editor/persons/{person_id}", "deleted")
