"""Desk pages for subscribers: list, filter and search, add, unsubscribe, the suppression list, CSV export.

The list is personal data of people who may be at risk (diplomats, journalists, activists' contacts):
editors see how many subscribers there are in each state and can add one; only admins see, search,
page through, unsubscribe or export addresses, and see the suppression list.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from newsletter.delivery import subscribers as subs
from newsletter.delivery.addresses import InvalidEmail
from newsletter.models import SUBSCRIBER_STATES, Subscriber
from newsletter.i18n import LANGUAGES
from newsletter.web.deps import get_session
from newsletter.web.editor.auth import CurrentAdmin, CurrentUser
from newsletter.web.editor.common import done, get_or_404, refused
from newsletter.web.errors import desk_error
from newsletter.web.security import verify_csrf
from newsletter.web.templating import render

router = APIRouter(include_in_schema=False)
F = Annotated[str, Form()]
PER_PAGE = 50


def _context(request: Request, session: Session) -> dict[str, Any]:
    base = {"states": SUBSCRIBER_STATES, "languages": LANGUAGES,
            "default_language": request.app.state.runtime.settings.language,
            "new": {"email": "", "name": "", "language": "", "documented": False}}
    if getattr(request.state, "user", None) is None or request.state.user.role != "admin":
        counts = subs.state_counts(session)
        return base | {"addresses": False, "counts": counts, "total": sum(counts.values()), "q": "", "state": ""}
    q = request.query_params
    state = q.get("state", "")
    query = q.get("q", "").strip()[:200]
    try:
        page_no = max(1, int(q.get("page", "1")))
    except ValueError:
        page_no = 1
    page = subs.list_subscribers(session, state=state or None, query=query or None, page=page_no, per_page=PER_PAGE)
    return base | {"addresses": True, "page": page, "counts": page.counts, "total": page.total,
                   "state": state if state in SUBSCRIBER_STATES else "", "q": query}


@router.get("/editor/subscribers/", response_class=HTMLResponse)
def subscribers_page(request: Request, user: CurrentUser, session: Session = Depends(get_session, scope="function")) -> HTMLResponse:
    return render(request, "editor/subscribers/list.html.j2", _context(request, session))


@router.post("/editor/subscribers/")
def subscribers_add(request: Request, user: CurrentUser, session: Session = Depends(get_session, scope="function"), csrf_token: F = "",
                    email: F = "", name: F = "", language: F = "", consent_documented: F = "") -> Response:
    verify_csrf(request, csrf_token)
    settings = request.app.state.runtime.settings
    try:
        sub = subs.add_by_editor(session, email=email, name=name.strip()[:200] or None,
                                 language=language or settings.language, consent_documented=consent_documented == "1",
                                 settings=settings, actor=user)
    except (InvalidEmail, ValueError) as exc:
        new = {"email": email[:320], "name": name[:200], "language": language, "documented": consent_documented == "1"}
        return refused(request, session, "editor/subscribers/list.html.j2", lambda: _context(request, session),
                       desk_error(exc), status_code=422, new=new)
    if user.role != "admin":  # editors do not get the address back in a listing
        return done("/editor/subscribers/", "created" if sub.state == "confirmed" else "invited")
    return done("/editor/subscribers/", "created" if sub.state == "confirmed" else "invited", q=sub.email)


@router.post("/editor/subscribers/{subscriber_id}/unsubscribe")
def subscribers_unsubscribe(request: Request, subscriber_id: int, user: CurrentAdmin,
                            session: Session = Depends(get_session, scope="function"), csrf_token: F = "") -> Response:
    verify_csrf(request, csrf_token)
    sub = get_or_404(session, Subscriber, subscriber_id, "subscriber")
    subs.unsubscribe_by_editor(session, sub, actor=user)
    return done("/editor/subscribers/", "unsubscribed", q=sub.email)


@router.get("/editor/subscribers/suppressions", response_class=HTMLResponse)
def suppressions_page(request: Request, user: CurrentAdmin, session: Session = Depends(get_session, scope="function")) -> HTMLResponse:
    query = request.query_params.get("q", "").strip()[:200]
    return render(request, "editor/subscribers/suppressions.html.j2",
                  {"rows": subs.list_suppressions(session, query=query or None), "q": query})


@router.get("/editor/subscribers/export.csv")
def subscribers_export(request: Request, admin: CurrentAdmin, session: Session = Depends(get_session, scope="function")) -> Response:
    """Admins only: the whole list is personal data of people who may be at risk."""
    return Response(subs.export_subscribers(session), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": 'attachment; filename="subscribers.csv"'})
