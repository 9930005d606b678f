"""Desk sessions and the dependencies that guard every /editor/ route.

Usage in any desk router::

    from newsletter.web.editor.auth import require_admin, require_user

    @router.get("/editor/things/")
    def things(request: Request, user: User = Depends(require_user)) -> HTMLResponse: ...

`require_user` returns the logged-in, active `User` and stores it on `request.state.user` (the desk
layout shows it). Anonymous requests for pages get a 303 to `/editor/login?next=<path>`; requests
that only accept JSON get 401. `require_admin` answers 403 to editors.

The session lives in a cookie signed with settings.secret (itsdangerous), HttpOnly, SameSite=Lax,
Path=/editor, expiring after SESSION_MAX_AGE. It binds a fingerprint of the password hash, so a
password change ends every open session of that user; disabling a user ends them at once too.
"""

from __future__ import annotations

import hashlib
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from newsletter.editorial import users
from newsletter.models import User
from newsletter.web.deps import get_session
from newsletter.web.security import verify_csrf
from newsletter.web.templating import render

SESSION_COOKIE = "desk_session"
SESSION_MAX_AGE = 12 * 3600
LOGIN_PATH = "/editor/login"
HOME_PATH = "/editor/"

router = APIRouter()


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.runtime.settings.secret, salt="newsletter.desk-session")


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _secure(request: Request) -> bool:
    return request.app.state.runtime.settings.base_url.startswith("https://")


def start_session(request: Request, response: Response, user: User) -> None:
    token = _serializer(request).dumps({"u": user.id, "f": _fingerprint(user)})
    response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_MAX_AGE, path="/editor", httponly=True,
                        samesite="lax", secure=_secure(request))


def end_session(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/editor", httponly=True, samesite="lax", secure=_secure(request))


def current_user(request: Request, session: Session) -> User | None:
    """The user of a valid, unexpired session cookie, or None."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        data = _serializer(request).loads(raw, max_age=SESSION_MAX_AGE)
    except BadSignature:
        return None
    user = session.get(User, data.get("u")) if isinstance(data, dict) and isinstance(data.get("u"), int) else None
    if user is None or not user.active or data.get("f") != _fingerprint(user):
        return None
    return user


def safe_next(target: str | None) -> str:
    """Only ever redirect back into the desk, never to another site."""
    if not target:
        return HOME_PATH
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/editor") or "\\" in target or target.startswith("//"):
        return HOME_PATH
    if target.startswith((LOGIN_PATH, "/editor/logout")):
        return HOME_PATH
    return target


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept or "application/json" not in accept


def require_user(request: Request, session: Session = Depends(get_session, scope="function")) -> User:
    """FastAPI dependency: the logged-in user, or a redirect to the login page (401 for JSON clients)."""
    user = current_user(request, session)
    if user is not None:
        request.state.user = user
        return user
    if not _wants_html(request):
        raise HTTPException(status_code=401, detail="Log in to the editors' desk first.")
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    next_path = safe_next(target) if request.method in ("GET", "HEAD") else HOME_PATH
    raise HTTPException(status_code=303, detail="Log in first.",
                        headers={"Location": f"{LOGIN_PATH}?next={quote(next_path, safe='/')}"})


def require_admin(user: User = Depends(require_user)) -> User:
    """FastAPI dependency: the logged-in admin; editors get 403."""
    if user.role != "admin":
        raise HTTPException(status_code=403, detail="This part of the desk is for admins only.")
    return user


CurrentUser = Annotated[User, Depends(require_user)]
CurrentAdmin = Annotated[User, Depends(require_admin)]


@router.get("/editor/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(request: Request, session: Session = Depends(get_session, scope="function"), next: str = "") -> Response:  # noqa: A002
    if current_user(request, session) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "editor/login.html.j2", {"next": safe_next(next), "email": "", "error": None})


@router.post("/editor/login", response_class=HTMLResponse, include_in_schema=False)
def login(
    request: Request,
    session: Session = Depends(get_session, scope="function"),
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",  # noqa: A002
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    verify_csrf(request, csrf_token)
    try:
        user = users.authenticate(session, email=email, password=password)
    except users.LoginFailed as exc:
        ctx = {"next": safe_next(next), "email": email, "error": str(exc)}
        return render(request, "editor/login.html.j2", ctx, status_code=400)
    response = RedirectResponse(safe_next(next), status_code=303)
    start_session(request, response, user)
    return response


@router.post("/editor/logout", include_in_schema=False)
def logout(request: Request, user: CurrentUser, session: Session = Depends(get_session, scope="function"),
           csrf_token: Annotated[str, Form()] = "") -> Response:
    verify_csrf(request, csrf_token)
    users.record_logout(session, user)
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    end_session(request, response)
    return response
