"""Small helpers shared by the desk's route modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from newsletter.db import get_row
from newsletter.i18n import N_, Words
from newsletter.web.errors import DeskRefusal
from newsletter.web.templating import render


def done(url: str, code: str, **query: Any) -> RedirectResponse:
    """Redirect after a successful POST; the layout shows the fixed notice for `code`."""
    args = {k: v for k, v in query.items() if v not in (None, "")} | {"done": code}
    sep = "&" if "?" in url else "?"
    return RedirectResponse(f"{url}{sep}{urlencode(args)}", status_code=303)


def refused(request: Request, session: Session, template: str, context: Callable[[], dict[str, Any]], message: object,
            *, status_code: int = 400, **extra: Any) -> HTMLResponse:
    """Undo the request's partial work, rebuild the page's context and show it again with the reason
    (`desk_error(exc)`: the refusal in the account's language, translated when the page renders)."""
    session.rollback()
    return render(request, template, {**context(), **extra, "error": message}, status_code=status_code)


# The records a desk 404 names ("There is no section 7."), in the catalog so the page names them in its language.
RECORD_WORDS = (N_("incident"), N_("person"), N_("section"), N_("subscriber"), N_("user"), N_("case status"))


def get_or_404(session: Session, model: type, ident: int, what: str) -> Any:
    """The row the path names, or a 404 page that says what is missing."""
    obj = get_row(session, model, ident)
    if obj is None:
        raise DeskRefusal(404, N_("There is no %(what)s %(id)s."), what=Words(what), id=ident)
    return obj


def query_dict(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items()}
