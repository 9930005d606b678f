"""The signed-in person's own account page: the language the desk speaks to them.

Any account (editor or admin) sets its own; admins can also set it for others on the users page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from newsletter.editorial import users
from newsletter.i18n import _
from newsletter.web.deps import get_session
from newsletter.web.editor.auth import CurrentUser
from newsletter.web.editor.common import done
from newsletter.web.language import bind, language_name, page_languages
from newsletter.web.security import verify_csrf
from newsletter.web.templating import render

router = APIRouter()


def desk_languages(request: Request) -> dict[str, str]:
    """The languages the desk can speak (each with a catalog), named in themselves."""
    return {code: language_name(code) for code in page_languages(request.app.state.runtime.settings)}


@router.get("/editor/account", response_class=HTMLResponse, include_in_schema=False)
def account_page(request: Request, user: CurrentUser) -> HTMLResponse:
    return render(request, "editor/account.html.j2", {"languages": desk_languages(request), "current": user.language or ""})


@router.post("/editor/account", include_in_schema=False)
def account_save(request: Request, user: CurrentUser, session: Session = Depends(get_session, scope="function"),
                 csrf_token: Annotated[str, Form()] = "", language: Annotated[str, Form(max_length=16)] = "") -> Response:
    verify_csrf(request, csrf_token)
    try:
        users.set_language(session, user, language, actor=user, available=desk_languages(request))
    except users.UserError:
        session.rollback()
        return render(request, "editor/account.html.j2", {
            "languages": desk_languages(request), "current": user.language or "",
            "error": _("Choose one of the offered languages.")}, status_code=422)
    bind(request, user.language)
    return done("/editor/account", "saved")
