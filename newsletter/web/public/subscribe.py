"""Reader pages: /subscribe (double opt-in), /confirm/{token}, /unsubscribe[/{token}] (RFC 8058 one-click).

GET never changes anything (mail scanners follow links); confirming and unsubscribing are POSTs.
The one-click POST of RFC 8058 comes from the reader's mail provider without our cookie, so it is
authorised by the unguessable token in the URL alone; the page's own button goes through CSRF.
The two forms that take an address answer a subscriber and a stranger with the same page, at once:
their mail leaves after the response, capped per address and per client (mail_later.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from newsletter.delivery import subscribers as subs
from newsletter.delivery.addresses import InvalidEmail, normalize_email
from newsletter.delivery.tokens import TokenExpired, TokenInvalid, read_confirm_token
from newsletter.delivery.transactional import render_mail, send_after_commit
from newsletter.web.public.mail_later import client_wait, mail_after_response
from newsletter.i18n import LANGUAGES
from newsletter.web.deps import get_session
from newsletter.web.security import verify_csrf
from newsletter.web.templating import render

router = APIRouter(include_in_schema=False)


def _languages(request: Request) -> dict[str, str]:
    default = request.app.state.runtime.settings.language
    return LANGUAGES if default in LANGUAGES else {default: default, **LANGUAGES}


def _message(request: Request, title: str, text: str, *, status_code: int = 200, link: tuple[str, str] | None = None) -> HTMLResponse:
    return render(request, "subscribe/message.html.j2", {"title": title, "text": text, "link": link}, status_code=status_code)


def _too_many(request: Request, wait: float) -> HTMLResponse:
    return _message(request, "Please wait", f"Too many requests from your connection in a short time. "
                    f"Wait {int(wait)} seconds and try again.", status_code=429)


@router.get("/subscribe")
def subscribe_form(request: Request) -> HTMLResponse:
    settings = request.app.state.runtime.settings
    return render(request, "subscribe/form.html.j2", {"languages": _languages(request),
                                                      "values": {"email": "", "language": settings.language}})


@router.post("/subscribe")
def subscribe_post(request: Request, email: str = Form(""), language: str = Form(""), csrf_token: str = Form(""),
                   session: Session = Depends(get_session, scope="function")) -> HTMLResponse:
    verify_csrf(request, csrf_token)
    wait = client_wait(request)
    if wait is not None:
        return _too_many(request, wait)
    settings = request.app.state.runtime.settings
    mails = mail_after_response(request, session)
    try:
        subs.subscribe(session, email=email, language=language or settings.language, source="web form", settings=settings)
    except (InvalidEmail, ValueError) as exc:
        return render(request, "subscribe/form.html.j2", {
            "languages": _languages(request), "error": str(exc),
            "values": {"email": email[:320], "language": language},
        }, status_code=422)
    response = _message(request, "Check your inbox",
                        "If this address is not subscribed yet, we have sent it a confirmation link. "
                        "Nothing is sent until you follow it.")
    response.background = mails
    return response


def _token_problem(request: Request, exc: TokenInvalid) -> HTMLResponse:
    if isinstance(exc, TokenExpired):
        return _message(request, "This confirmation link has expired",
                        "For your safety, confirmation links only work for a limited time. "
                        "Subscribe again and we will send you a new link.", status_code=410,
                        link=("/subscribe", "Subscribe again"))
    return _message(request, "This link is not valid",
                    "The link may be incomplete: some mail programs cut long links. "
                    "Copy the whole link from the email, or subscribe again.", status_code=404,
                    link=("/subscribe", "Subscribe"))


@router.get("/confirm/{token}")
def confirm_page(request: Request, token: str) -> HTMLResponse:
    settings = request.app.state.runtime.settings
    try:
        read_confirm_token(settings.secret, token, settings.confirm_token_max_age)
    except TokenInvalid as exc:
        return _token_problem(request, exc)
    return render(request, "subscribe/confirm.html.j2", {"token": token})


@router.post("/confirm/{token}")
def confirm_post(request: Request, token: str, csrf_token: str = Form(""),
                 session: Session = Depends(get_session, scope="function")) -> HTMLResponse:
    verify_csrf(request, csrf_token)
    try:
        subs.confirm(session, token, settings=request.app.state.runtime.settings)
    except TokenInvalid as exc:
        return _token_problem(request, exc)
    return _message(request, "You are subscribed",
                    "Thank you. The next issue will reach you by email. Every issue carries a link to unsubscribe at once.",
                    link=("/issues/", "Read past issues"))


@router.get("/unsubscribe")
def unsubscribe_help(request: Request) -> HTMLResponse:
    return render(request, "subscribe/unsubscribe_request.html.j2", {"value": ""})


@router.post("/unsubscribe")
def unsubscribe_request(request: Request, email: str = Form(""), csrf_token: str = Form(""),
                        session: Session = Depends(get_session, scope="function")) -> HTMLResponse:
    """Mail the reader their own unsubscribe link; the answer is the same whether or not they are subscribed."""
    verify_csrf(request, csrf_token)
    wait = client_wait(request)
    if wait is not None:
        return _too_many(request, wait)
    settings = request.app.state.runtime.settings
    try:
        address = normalize_email(email)
    except InvalidEmail as exc:
        return render(request, "subscribe/unsubscribe_request.html.j2", {"value": email[:320], "error": str(exc)},
                      status_code=422)
    mails = mail_after_response(request, session)
    sub = subs.find(session, address)
    if sub is not None and sub.state in ("pending", "confirmed"):
        link = f"{settings.base_url}/unsubscribe/{sub.token}"
        send_after_commit(session, settings, render_mail(settings, "unsubscribe", sub.email, {"unsubscribe_url": link}))
    response = _message(request, "Check your inbox",
                        "If this address is subscribed, we have sent it a link that unsubscribes it with one click.")
    response.background = mails
    return response


@router.get("/unsubscribe/{token}")
def unsubscribe_page(request: Request, token: str, session: Session = Depends(get_session, scope="function")) -> HTMLResponse:
    sub = subs.by_token(session, token)
    if sub is None:
        return _message(request, "This link is not valid",
                        "Copy the whole link from the email, or ask for a new one.", status_code=404,
                        link=("/unsubscribe", "Get a new unsubscribe link"))
    return render(request, "subscribe/unsubscribe.html.j2", {"token": token, "done": sub.state == "unsubscribed"})


@router.post("/unsubscribe/{token}")
def unsubscribe_post(request: Request, token: str, csrf_token: str | None = Form(None),
                     one_click: str | None = Form(None, alias="List-Unsubscribe"),
                     session: Session = Depends(get_session, scope="function")) -> Response:
    if one_click != "One-Click":
        verify_csrf(request, csrf_token)
    try:
        subs.unsubscribe(session, token)
    except TokenInvalid:
        return _message(request, "This link is not valid", "Copy the whole link from the email, or ask for a new one.",
                        status_code=404, link=("/unsubscribe", "Get a new unsubscribe link"))
    return _message(request, "You are unsubscribed",
                    "You will receive no more issues. We keep your address only on our do-not-mail list, so that "
                    "no import can ever add it again.", link=("/subscribe", "Changed your mind? Subscribe again"))
