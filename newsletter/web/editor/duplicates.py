"""Duplicate candidates side by side, with one-click merge or dismiss."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from newsletter.editorial import duplicates
from newsletter.editorial.service import EditorialError
from newsletter.flows import intake as intake_flow
from newsletter.i18n import N_
from newsletter.web.deps import get_session
from newsletter.web.editor.auth import CurrentUser
from newsletter.web.editor.common import done, refused
from newsletter.web.errors import desk_error
from newsletter.web.security import verify_csrf
from newsletter.web.templating import render

router = APIRouter()
TEMPLATE = "editor/duplicates.html.j2"


def _context(session: Session, page: int = 1) -> dict[str, Any]:
    return {"candidates": duplicates.open_candidates(session, offset=(page - 1) * 50),
            "total": duplicates.open_count(session), "page": page}


@router.get("/editor/duplicates", response_class=HTMLResponse, include_in_schema=False)
def list_candidates(request: Request, user: CurrentUser, session: Session = Depends(get_session, scope="function"),
                    page: int = 1) -> HTMLResponse:
    intake_flow.score_pending(session)  # reports still waiting for their duplicates check, so none is missed
    return render(request, TEMPLATE, _context(session, max(page, 1)))


@router.post("/editor/duplicates/{candidate_id}/merge", include_in_schema=False)
def merge(request: Request, candidate_id: int, user: CurrentUser, session: Session = Depends(get_session, scope="function"),
          csrf_token: Annotated[str, Form()] = "", keep: Annotated[str, Form()] = "") -> Response:
    verify_csrf(request, csrf_token)
    try:
        if not keep.isdigit():
            raise EditorialError(N_("choose which incident to keep"))
        duplicates.merge_candidate(session, candidate_id, int(keep), actor=user)
    except EditorialError as exc:
        return refused(request, session, TEMPLATE, lambda: _context(session), desk_error(exc), status_code=409)
    return done("/editor/duplicates", "merged")


@router.post("/editor/duplicates/{candidate_id}/dismiss", include_in_schema=False)
def dismiss(request: Request, candidate_id: int, user: CurrentUser, session: Session = Depends(get_session, scope="function"),
            csrf_token: Annotated[str, Form()] = "") -> Response:
    verify_csrf(request, csrf_token)
    try:
        duplicates.dismiss_candidate(session, candidate_id, actor=user)
    except EditorialError as exc:
        return refused(request, session, TEMPLATE, lambda: _context(session), desk_error(exc), status_code=409)
    return done("/editor/duplicates", "dismissed")
