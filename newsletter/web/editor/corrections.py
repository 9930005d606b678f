"""Desk routes for corrections: file one on a published item (issue page or incident page), mail its notice.

Handlers parse the form and call newsletter.flows.corrections; a refusal shows the issue page again
with the reason (400 for a bad request, 409 for an issue that was never published), never a 500.
The notice is mailed after the correction's commit; a relay that is down loses nothing (the button,
or `newsletter corrections notify ISSUE`, continues where it stopped).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.flows import corrections as flow
from newsletter.i18n import LANGUAGES, N_, Said
from newsletter.issues.corrections import CorrectionError, CorrectionNotAllowed
from newsletter.runtime import Runtime
from newsletter.web.deps import get_runtime, get_session, get_settings
from newsletter.web.editor.auth import CurrentUser
from newsletter.web.editor.issues import _issue, _page
from newsletter.web.errors import DeskRefusal, desk_error, mail_error_said
from newsletter.web.security import verify_csrf
from newsletter.web.templating import render

router = APIRouter()
Csrf = Annotated[str, Form()]


def _refused(request: Request, session: Session, settings: Settings, issue_id: int, exc: Exception) -> Response:
    session.rollback()
    status = 409 if isinstance(exc, CorrectionNotAllowed) else 400
    return _page(request, session, settings, _issue(session, issue_id), error=desk_error(exc), status_code=status)


def _mail(request: Request, session: Session, settings: Settings, runtime: Runtime, issue_id: int,
          correction_id: int, user: object) -> Response | None:
    """Mail the notice now; on a relay or database failure show why (nothing is lost)."""
    from newsletter.flows.send import DatabaseUnavailable, SendAborted

    try:
        flow.notify_correction(runtime, correction_id, actor=user)  # type: ignore[arg-type]
    except (SendAborted, DatabaseUnavailable, OSError) as exc:
        return _page(request, session, settings, _issue(session, issue_id), status_code=503,
                     error=Said(N_("the correction is filed, but its notice could not be mailed now (%(why)s); nothing "
                                   "is lost: press the button again later"),
                                why=mail_error_said(exc) if isinstance(exc, OSError) else desk_error(exc)))
    return None


@router.post("/editor/issues/{issue_id}/corrections", include_in_schema=False)
def file_correction(request: Request, issue_id: int, user: CurrentUser, csrf_token: Csrf = "",
                    incident: Annotated[str, Form(max_length=200)] = "", text: Annotated[str, Form(max_length=20000)] = "",
                    notify: Annotated[str, Form(max_length=5)] = "", back: Annotated[str, Form(max_length=20)] = "issue",
                    session: Session = Depends(get_session, scope="function"), settings: Settings = Depends(get_settings),
                    runtime: Runtime = Depends(get_runtime)) -> Response:
    """File a correction (audited, consent-checked); the archive is re-rendered after the commit."""
    verify_csrf(request, csrf_token)
    issue = _issue(session, issue_id)
    try:
        row = flow.file(session, issue, incident_ref=incident, text=text, actor=user, settings=settings,
                        notify=bool(notify))
        correction_id, incident_id = row.id, row.incident_id
    except CorrectionError as exc:
        return _refused(request, session, settings, issue_id, exc)
    except Exception as exc:
        from newsletter.render import ArchiveWriteError, InvalidSnapshot, RenderError

        if isinstance(exc, (InvalidSnapshot, RenderError, ArchiveWriteError)):
            return _refused(request, session, settings, issue_id, exc)
        raise
    if notify:
        failed = _mail(request, session, settings, runtime, issue_id, correction_id, user)
        if failed is not None:
            return failed
    if back == "incident" and incident_id is not None:
        return RedirectResponse(f"/editor/incidents/{incident_id}?done=correction_filed#corrections", status_code=303)
    return RedirectResponse(f"/editor/issues/{issue_id}?done=correction_filed#correction-{correction_id}",
                            status_code=303)


@router.post("/editor/corrections/{correction_id}/notify", include_in_schema=False)
def notify(request: Request, correction_id: int, user: CurrentUser, csrf_token: Csrf = "",
           session: Session = Depends(get_session, scope="function"), settings: Settings = Depends(get_settings),
           runtime: Runtime = Depends(get_runtime)) -> Response:
    """Mail one correction once to every reader of its issue who is still subscribed (nothing twice)."""
    verify_csrf(request, csrf_token)
    try:
        issue_id = flow.issue_of(session, correction_id).id
    except CorrectionError:
        raise DeskRefusal(404, N_("There is no correction %(id)s."), id=correction_id) from None
    session.commit()  # hold no transaction while mailing
    failed = _mail(request, session, settings, runtime, issue_id, correction_id, user)
    if failed is not None:
        return failed
    return RedirectResponse(f"/editor/issues/{issue_id}?done=correction_notified#correction-{correction_id}",
                            status_code=303)


def _correction_page(request: Request, session: Session, settings: Settings, correction_id: int, *,
                     error: object = None, form: dict[str, str] | None = None, status_code: int = 200) -> HTMLResponse:
    try:
        page = flow.translation_page(session, correction_id, settings)
        issue = flow.issue_of(session, correction_id)
    except CorrectionError:
        raise DeskRefusal(404, N_("There is no correction %(id)s."), id=correction_id) from None
    return render(request, "editor/corrections/page.html.j2", {
        "active": "issues", "page": page, "issue": issue, "language_names": LANGUAGES, "form": form or {},
        "error": error,
    }, status_code=status_code)


@router.get("/editor/corrections/{correction_id}", response_class=HTMLResponse, include_in_schema=False)
def correction_page(request: Request, correction_id: int, user: CurrentUser,
                    session: Session = Depends(get_session, scope="function"),
                    settings: Settings = Depends(get_settings)) -> HTMLResponse:
    """A correction's original words and its words in each further edition (the form to translate it)."""
    return _correction_page(request, session, settings, correction_id)


@router.post("/editor/corrections/{correction_id}/translations/{lang}", include_in_schema=False)
def translate(request: Request, correction_id: int, lang: str, user: CurrentUser, csrf_token: Csrf = "",
              text: Annotated[str, Form(max_length=20000)] = "",
              session: Session = Depends(get_session, scope="function"),
              settings: Settings = Depends(get_settings)) -> Response:
    """Save the correction's words in one further edition (empty: not translated); the archive follows after the commit."""
    verify_csrf(request, csrf_token)
    try:
        correction = flow.get(session, correction_id)
    except CorrectionError:
        raise DeskRefusal(404, N_("There is no correction %(id)s."), id=correction_id) from None
    try:
        flow.translate(session, correction, lang, text, actor=user, settings=settings)
    except Exception as exc:
        from newsletter.render import ArchiveWriteError, InvalidSnapshot, RenderError

        if not isinstance(exc, (CorrectionError, InvalidSnapshot, RenderError, ArchiveWriteError)):
            raise
        session.rollback()
        status = 409 if isinstance(exc, ArchiveWriteError) else 400
        return _correction_page(request, session, settings, correction_id, error=desk_error(exc),
                                form={lang[:16]: text}, status_code=status)
    return RedirectResponse(f"/editor/corrections/{correction_id}?done=saved#correction-{lang}-h", status_code=303)
