"""The triage queue and the incident page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from newsletter.editorial import persons as persons_service
from newsletter.editorial import related as related_service
from newsletter.editorial import search, service
from newsletter.editorial.sections import list_sections
from newsletter.flows import corrections as corrections_flow
from newsletter.flows import intake as intake_flow
from newsletter.i18n import N_
from newsletter.states import allowed
from newsletter.models import (
    DATE_PRECISIONS, INCIDENT_KINDS, INCIDENT_STATES, LOCATION_PRECISIONS, ORIGINS, PUBLIC_LINK_ORIGINS,
    PUBLICATION_LEVELS, Incident,
)
from newsletter.web.deps import get_session
from newsletter.web.editor.auth import CurrentUser
from newsletter.web.editor.common import done, get_or_404, query_dict, refused
from newsletter.web.errors import desk_error
from newsletter.web.security import verify_csrf
from newsletter.web.templating import render

router = APIRouter()
INCIDENT_TEMPLATE = "editor/incident.html.j2"


@router.get("/editor/triage", response_class=HTMLResponse, include_in_schema=False)
def triage(request: Request, user: CurrentUser, session: Session = Depends(get_session, scope="function")) -> HTMLResponse:
    intake_flow.score_pending(session)  # reports still waiting for their duplicates check, so none is missed
    filters, errors = search.parse_filters(query_dict(request))
    page = search.triage_page(session, filters)
    return render(request, "editor/triage.html.j2", {
        "page": page, "f": filters, "filter_errors": errors, "states": INCIDENT_STATES, "origins": ORIGINS,
        "sources": search.source_choices(session),
        "sections": list_sections(session),
    }, status_code=400 if errors else 200)


def incident_context(session: Session, incident: Incident, person_q: str = "") -> dict[str, Any]:
    record = service.incident_record(session, incident)
    return {
        "incident": incident,
        "sources": service.sources_of(session, incident),
        "sections": list_sections(session),
        "attachments": record.attachments,
        "submissions": record.submissions,
        "history": record.history,
        "allowed": allowed(incident),
        "body_html": Markup(service.sanitise_body(incident.body)),  # re-cleaned: never trust stored HTML
        "person_q": person_q,
        "person_matches": persons_service.search_persons(session, person_q) if person_q else [],
        "kinds": INCIDENT_KINDS, "publications": PUBLICATION_LEVELS, "date_precisions": DATE_PRECISIONS,
        "corrections_for": corrections_flow.for_incident(session, incident.id),
        "related": related_service.related_incidents(session, incident),
        "location_precisions": LOCATION_PRECISIONS, "public_link_origins": PUBLIC_LINK_ORIGINS, "status_labels": persons_service.STATUS_LABELS,
    }


@router.get("/editor/incidents/{incident_id}", response_class=HTMLResponse, include_in_schema=False)
def incident_page(request: Request, incident_id: int, user: CurrentUser, session: Session = Depends(get_session, scope="function"),
                  person_q: str = "") -> HTMLResponse:
    intake_flow.score_pending(session)  # reports still waiting for their duplicates check, so none is missed
    incident = get_or_404(session, Incident, incident_id, "incident")
    return render(request, INCIDENT_TEMPLATE, incident_context(session, incident, person_q.strip()[:200]))


@router.post("/editor/incidents/{incident_id}/edit", include_in_schema=False)
def edit_incident(
    request: Request, incident_id: int, user: CurrentUser, session: Session = Depends(get_session, scope="function"),
    csrf_token: Annotated[str, Form()] = "", title: Annotated[str, Form()] = "", summary: Annotated[str, Form()] = "",
    body: Annotated[str, Form()] = "", kind: Annotated[str, Form()] = "", occurred_on: Annotated[str, Form()] = "",
    date_precision: Annotated[str, Form()] = "day", city: Annotated[str, Form()] = "",
    region: Annotated[str, Form()] = "", country: Annotated[str, Form()] = "",
    location_precision: Annotated[str, Form()] = "city", publication: Annotated[str, Form()] = "",
) -> Response:
    verify_csrf(request, csrf_token)
    incident = get_or_404(session, Incident, incident_id, "incident")
    try:
        service.update_incident(session, incident, actor=user, title=title, summary=summary, body=body, kind=kind,
                                occurred_on=occurred_on, date_precision=date_precision, city=city, region=region,
                                country=country, location_precision=location_precision, publication=publication)
    except service.EditorialError as exc:
        return refused(request, session, INCIDENT_TEMPLATE, lambda: incident_context(session, incident), desk_error(exc))
    return done(f"/editor/incidents/{incident_id}", "saved")


@router.post("/editor/incidents/{incident_id}/sections", include_in_schema=False)
def incident_sections(request: Request, incident_id: int, user: CurrentUser, session: Session = Depends(get_session, scope="function"),
                      csrf_token: Annotated[str, Form()] = "",
                      section: Annotated[list[str], Form()] = []) -> Response:  # noqa: B006 - FastAPI copies defaults
    verify_csrf(request, csrf_token)
    incident = get_or_404(session, Incident, incident_id, "incident")
    try:
        service.set_sections(session, incident, section, actor=user)
    except service.EditorialError as exc:
        return refused(request, session, INCIDENT_TEMPLATE, lambda: incident_context(session, incident), desk_error(exc))
    return done(f"/editor/incidents/{incident_id}", "saved")


@router.post("/editor/incidents/{incident_id}/persons", include_in_schema=False)
def incident_persons(request: Request, incident_id: int, user: CurrentUser, session: Session = Depends(get_session, scope="function"),
                     csrf_token: Annotated[str, Form()] = "", person_id: Annotated[str, Form()] = "",
                     action: Annotated[str, Form()] = "link") -> Response:
    verify_csrf(request, csrf_token)
    incident = get_or_404(session, Incident, incident_id, "incident")
    current = [p.id for p in incident.persons]
    try:
        if not person_id.strip().isdigit():
            raise service.EditorialError(N_("choose a person to link (by id)"))
        pid = int(person_id)
        wanted = [*current, pid] if action == "link" else [i for i in current if i != pid]
        service.set_persons(session, incident, wanted, actor=user)
    except service.EditorialError as exc:
        return refused(request, session, INCIDENT_TEMPLATE, lambda: incident_context(session, incident), desk_error(exc))
    return done(f"/editor/incidents/{incident_id}", "saved")


@router.post("/editor/incidents/{incident_id}/links", include_in_schema=False)
def incident_links(request: Request, incident_id: int, user: CurrentUser, session: Session = Depends(get_session, scope="function"),
                   csrf_token: Annotated[str, Form()] = "", url: Annotated[str, Form()] = "",
                   title: Annotated[str, Form()] = "") -> Response:
    """Add a link as the editor's own: the only kind of typed link that may be published."""
    verify_csrf(request, csrf_token)
    incident = get_or_404(session, Incident, incident_id, "incident")
    try:
        service.add_link(session, incident, url, title, actor=user)
    except service.EditorialError as exc:
        return refused(request, session, INCIDENT_TEMPLATE, lambda: incident_context(session, incident), desk_error(exc))
    return done(f"/editor/incidents/{incident_id}", "saved")


@router.post("/editor/incidents/{incident_id}/related", include_in_schema=False)
def incident_related(request: Request, incident_id: int, user: CurrentUser,
                     session: Session = Depends(get_session, scope="function"), csrf_token: Annotated[str, Form()] = "",
                     other: Annotated[str, Form(max_length=200)] = "", action: Annotated[str, Form()] = "relate") -> Response:
    """Relate another incident (by number or external id) to this one, or remove the relation."""
    verify_csrf(request, csrf_token)
    incident = get_or_404(session, Incident, incident_id, "incident")
    try:
        target = related_service.find_incident(session, other)
        if action == "unrelate":
            related_service.unrelate(session, incident, target, actor=user)
        else:
            related_service.relate(session, incident, target, actor=user)
    except service.EditorialError as exc:
        return refused(request, session, INCIDENT_TEMPLATE, lambda: incident_context(session, incident), desk_error(exc))
    return done(f"/editor/incidents/{incident_id}", "saved")


@router.post("/editor/incidents/{incident_id}/decide", include_in_schema=False)
def decide(
    request: Request, incident_id: int, user: CurrentUser, session: Session = Depends(get_session, scope="function"),
    csrf_token: Annotated[str, Form()] = "", action: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "", question: Annotated[str, Form()] = "",
    duplicate_of: Annotated[str, Form()] = "", section: Annotated[list[str] | None, Form()] = None,
    set_sections: Annotated[str, Form()] = "",
) -> Response:
    verify_csrf(request, csrf_token)
    incident = get_or_404(session, Incident, incident_id, "incident")
    try:
        keep = service.incident_by_reference(session, duplicate_of) if action == "duplicate" else None
        sections = (section or []) if set_sections else None
        state = service.decide(session, incident, action, actor=user, reason=reason, question=question,
                               duplicate_of=keep, sections=sections)
    except service.EditorialError as exc:
        return refused(request, session, INCIDENT_TEMPLATE, lambda: incident_context(session, incident), desk_error(exc),
                       status_code=409)
    code = {"new": "reopened"}.get(state, state)
    return done(f"/editor/incidents/{incident_id}", code)
