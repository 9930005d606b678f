"""Desk sessions and the dependencies that guard every /editor/ route.

Usage in any desk router::

    from newsletter.web.editor.auth import require_admin, require_user

    @router.get("/editor/things/")
    def things(request: Request, user: User = Depends(require_user)) -> HTMLResponse: ...

`require_user` returns the logged-in, active `User` and stores it on `request.state.user` (the desk
layout shows it). Anonymous requests for pages get a 303 to `/editor/login?next=<path>`; requests
that only accept JSON get 401. `require_admin` answers 403 to editors.

The session cookie (HttpOnly, SameSite=Lax, Path=/editor) holds a random token; the database keeps
its hash (newsletter.editorial.sessions), so logout, a password change, disabling the account or an
admin's "sign out everywhere" end it server-side, and a copied cookie stops working with it. A
session also ends after settings.session_idle_minutes without a request, and at the latest
settings.session_max_hours after login. Time comes from the runtime's clock (tests move it).

Failed logins are throttled per email (editorial.auth) and per client (here, in memory only: the
client address is only ever an HMAC key of the rate limiter, never stored or logged).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from newsletter.editorial import auth, users
from newsletter.models import User
from newsletter.submissions.ratelimit import RateLimiter
from newsletter.i18n import N_, _
from newsletter.web.deps import get_session
from newsletter.web.language import bind
from newsletter.web.security import verify_csrf
from newsletter.web.templating import render

SESSION_COOKIE = "desk_session"
LOGIN_PATH = "/editor/login"
HOME_PATH = "/editor/"

router = APIRouter()
_state_lock = threading.Lock()


def _now(request: Request) -> datetime:
    return request.app.state.runtime.clock.now()


def _idle(request: Request) -> timedelta:
    return timedelta(minutes=request.app.state.runtime.settings.session_idle_minutes)


def _lifetime(request: Request) -> timedelta:
    return timedelta(hours=request.app.state.runtime.settings.session_max_hours)


def _secure(request: Request) -> bool:
    return request.app.state.runtime.settings.base_url.startswith("https://")


def _app_state(request: Request, name: str, build: Callable[[], object]) -> object:
    """One throttle object per app, created on first use."""
    state = request.app.state
    found = getattr(state, name, None)
    if found is None:
        with _state_lock:
            found = getattr(state, name, None)
            if found is None:
                found = build()
                setattr(state, name, found)
    return found


def unknown_email_throttle(request: Request) -> auth.UnknownEmailThrottle:
    return _app_state(request, "unknown_email_throttle", auth.UnknownEmailThrottle)  # type: ignore[return-value]


def client_login_limiter(request: Request) -> RateLimiter:
    """Failed logins per client; counted under a keyed hash of the address that lives one minute."""
    runtime = request.app.state.runtime
    return _app_state(request, "login_limiter", lambda: RateLimiter(  # type: ignore[return-value]
        runtime.settings.login_failures_per_minute, clock=lambda: runtime.clock.now().timestamp()))


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def start_session(request: Request, response: Response, session: Session, user: User) -> None:
    token = users.start_session(session, user, now=_now(request), lifetime=_lifetime(request),
                                replacing=request.cookies.get(SESSION_COOKIE))
    response.set_cookie(SESSION_COOKIE, token, max_age=int(_lifetime(request).total_seconds()), path="/editor",
                        httponly=True, samesite="lax", secure=_secure(request))


def end_session(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/editor", httponly=True, samesite="lax", secure=_secure(request))


def current_user(request: Request, session: Session) -> User | None:
    """The user of a live session cookie, or None."""
    return users.session_user(session, request.cookies.get(SESSION_COOKIE), now=_now(request), idle=_idle(request),
                              lifetime=_lifetime(request))


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


async def require_user(request: Request, session: Session = Depends(get_session, scope="function")) -> User:
    """FastAPI dependency: the logged-in user, or a redirect to the login page (401 for JSON clients).

    Async on purpose: it runs in the request's own task, so the account's language it binds reaches
    the route (a sync dependency runs in a copied context, and the route would not see it); the
    database work still runs in a worker thread."""
    user = await run_in_threadpool(current_user, request, session)
    if user is not None:
        if user.language:
            bind(request, user.language)  # the account's language: the route's messages and its page
        request.state.user = user
        request.state.user_id = user.id  # readable after the session is gone (the error pages' layout)
        return user
    if not _wants_html(request):
        raise HTTPException(status_code=401, detail=N_("Log in to the editors' desk first."))
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    next_path = safe_next(target) if request.method in ("GET", "HEAD") else HOME_PATH
    raise HTTPException(status_code=303, detail=N_("Log in first."),
                        headers={"Location": f"{LOGIN_PATH}?next={quote(next_path, safe='/')}"})


def require_admin(user: User = Depends(require_user)) -> User:
    """FastAPI dependency: the logged-in admin; editors get 403."""
    if user.role != "admin":
        raise HTTPException(status_code=403, detail=N_("This part of the desk is for admins only."))
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
    limiter = client_login_limiter(request)
    try:
        wait = limiter.blocked(_client(request))
        if wait is not None:
            auth.verify_password(None, password)  # the same work as any other refusal
            raise users.LoginThrottled(int(wait))
        user = users.authenticate(session, email=email, password=password, unknown=unknown_email_throttle(request),
                                  now=_now(request))
    except users.LoginFailed as exc:
        if not isinstance(exc, users.LoginThrottled):
            limiter.hit(_client(request))
        ctx = {"next": safe_next(next), "email": email, "error": _login_message(exc)}
        return render(request, "editor/login.html.j2", ctx, status_code=400)
    response = RedirectResponse(safe_next(next), status_code=303)
    start_session(request, response, session, user)
    return response


def _login_message(exc: users.LoginFailed) -> str:
    """The two refusals of a login, in the page's language; neither says whether the account exists."""
    if isinstance(exc, users.LoginThrottled):
        return _("Too many failed logins. Wait %(s)s seconds and try again.", s=exc.wait)
    return _("Wrong email or password.")


@router.post("/editor/logout", include_in_schema=False)
def logout(request: Request, user: CurrentUser, session: Session = Depends(get_session, scope="function"),
           csrf_token: Annotated[str, Form()] = "") -> Response:
    verify_csrf(request, csrf_token)
    users.record_logout(session, user, request.cookies.get(SESSION_COOKIE), now=_now(request))
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    end_session(request, response)
    return response
