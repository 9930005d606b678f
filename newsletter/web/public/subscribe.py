"""Reader pages: /subscribe (double opt-in), /confirm/{token}, /unsubscribe[/{token}] (RFC 8058 one-click).

GET never changes anything (mail scanners follow links); confirming and unsubscribing are POSTs.
The one-click POST of RFC 8058 comes from the reader's mail provider without our cookie, so it is
authorised by the unguessable token in the URL alone; the page's own button goes through CSRF.
The two forms that take an address answer a subscriber and a stranger with the same page, at once:
their mail leaves after the response, capped per address and per client (mail_later.py).
/preferences/{token} lets a reader choose the edition (language) they receive; the link is in every issue.

Pages speak the language newsletter.web.language chose (?lang=, else Accept-Language); pages reached
by a subscriber's token speak the subscriber's language unless ?lang= asks otherwise, and every mail
goes out in the subscriber's language.
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
from newsletter.i18n import _
from newsletter.models import Subscriber
from newsletter.web.language import bind, chosen_explicitly, language_name
from newsletter.web.deps import get_session
from newsletter.web.security import verify_csrf
from newsletter.web.templating import render

router = APIRouter(include_in_schema=False)


def _languages(request: Request) -> dict[str, str]:
    """The languages a reader can choose, each named in its own language."""
    return {code: language_name(code) for code in subs.reader_choices(request.app.state.runtime.settings)}


def _default_edition(request: Request) -> str:
    """The page's language when a reader can choose it, else the default edition."""
    choices = subs.reader_choices(request.app.state.runtime.settings)
    lang = getattr(request.state, "language", None)
    return lang if lang in choices else choices[0]


def _action(path: str, request: Request) -> str:
    """A form's target that keeps an explicit ?lang= across its POST."""
    lang = chosen_explicitly(request)
    return f"{path}?lang={lang}" if lang else path


def _for_subscriber(request: Request, sub: Subscriber | None) -> None:
    """A page reached by a subscriber's token speaks their language (unless ?lang= asks otherwise)."""
    if sub is not None:
        bind(request, sub.language)


def _message(request: Request, title: str, text: str, *, status_code: int = 200, link: tuple[str, str] | None = None) -> HTMLResponse:
    """A page of one message; `title`, `text` and the link's label come already translated."""
    return render(request, "subscribe/message.html.j2", {"title": title, "text": text, "link": link}, status_code=status_code)


def _too_many(request: Request, wait: float) -> HTMLResponse:
    return _message(request, _("Please wait"), _("Too many requests from your connection in a short time. "
                                                  "Wait %(s)s seconds and try again.", s=int(wait)), status_code=429)


def _form_page(request: Request, values: dict[str, str], *, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    return render(request, "subscribe/form.html.j2", {"languages": _languages(request), "error": error,
                                                      "values": values, "action": _action("/subscribe", request)},
                  status_code=status_code)


def _problem(request: Request, exc: Exception, email: str, language: str) -> str:
    """The reader's words, in the page's language, for a refused address or language."""
    if isinstance(exc, InvalidEmail):
        return _("'%(value)s' is not an email address. Check it for typos and try again.", value=email.strip()[:80])
    choices = subs.reader_choices(request.app.state.runtime.settings)
    return _("'%(value)s' is not a language of this newsletter; choose one of %(choices)s.", value=language[:16],
             choices=", ".join(choices))


@router.get("/subscribe")
def subscribe_form(request: Request) -> HTMLResponse:
    return _form_page(request, {"email": "", "language": _default_edition(request)})


@router.post("/subscribe")
def subscribe_post(request: Request, email: str = Form(""), language: str = Form(""), csrf_token: str = Form(""),
                   session: Session = Depends(get_session, scope="function")) -> HTMLResponse:
    verify_csrf(request, csrf_token)
    wait = client_wait(request)
    if wait is not None:
        return _too_many(request, wait)
    settings = request.app.state.runtime.settings
    mails = mail_after_response(request, session)
    language = language or _default_edition(request)
    try:
        if language not in subs.reader_choices(settings):
            raise ValueError(language)
        subs.subscribe(session, email=email, language=language, source="web form", settings=settings)
    except (InvalidEmail, ValueError) as exc:
        chosen = language if language in subs.reader_choices(settings) else _default_edition(request)
        return _form_page(request, {"email": email[:320], "language": chosen},
                          error=_problem(request, exc, email, language), status_code=422)
    response = _message(request, _("Check your inbox"),
                        _("If this address is not subscribed yet, we have sent it a confirmation link. "
                          "Nothing is sent until you follow it."))
    response.background = mails
    return response


def _token_problem(request: Request, exc: TokenInvalid) -> HTMLResponse:
    if isinstance(exc, TokenExpired):
        return _message(request, _("This confirmation link has expired"),
                        _("For your safety, confirmation links only work for a limited time. "
                          "Subscribe again and we will send you a new link."), status_code=410,
                        link=(_action("/subscribe", request), _("Subscribe again")))
    return _message(request, _("This link is not valid"),
                    _("The link may be incomplete: some mail programs cut long links. "
                      "Copy the whole link from the email, or subscribe again."), status_code=404,
                    link=(_action("/subscribe", request), _("Subscribe")))


def _confirming(session: Session, request: Request, token: str) -> Subscriber | None:
    """The subscriber a valid confirmation link names (None when it names nobody); raises TokenInvalid."""
    settings = request.app.state.runtime.settings
    return subs.by_token(session, read_confirm_token(settings.secret, token, settings.confirm_token_max_age))


@router.get("/confirm/{token}")
def confirm_page(request: Request, token: str, session: Session = Depends(get_session, scope="function")) -> HTMLResponse:
    try:
        _for_subscriber(request, _confirming(session, request, token))
    except TokenInvalid as exc:
        return _token_problem(request, exc)
    return render(request, "subscribe/confirm.html.j2", {"token": token, "action": _action(f"/confirm/{token}", request)})


@router.post("/confirm/{token}")
def confirm_post(request: Request, token: str, csrf_token: str = Form(""),
                 session: Session = Depends(get_session, scope="function")) -> HTMLResponse:
    verify_csrf(request, csrf_token)
    try:
        sub = subs.confirm(session, token, settings=request.app.state.runtime.settings)
    except TokenInvalid as exc:
        return _token_problem(request, exc)
    _for_subscriber(request, sub)
    return _message(request, _("You are subscribed"),
                    _("Thank you. The next issue will reach you by email. Every issue carries a link to unsubscribe "
                      "at once and a link to choose its language."),
                    link=("/issues/", _("Read past issues")))


@router.get("/unsubscribe")
def unsubscribe_help(request: Request) -> HTMLResponse:
    return render(request, "subscribe/unsubscribe_request.html.j2", {"value": "", "action": _action("/unsubscribe", request)})


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
        return render(request, "subscribe/unsubscribe_request.html.j2", {
            "value": email[:320], "error": _problem(request, exc, email, ""), "action": _action("/unsubscribe", request)}, status_code=422)
    mails = mail_after_response(request, session)
    sub = subs.find(session, address)
    if sub is not None and sub.state in ("pending", "confirmed"):
        link = f"{settings.base_url}/unsubscribe/{sub.token}"
        send_after_commit(session, settings, render_mail(settings, "unsubscribe", sub.email, {"unsubscribe_url": link},
                                                         language=sub.language))
    response = _message(request, _("Check your inbox"),
                        _("If this address is subscribed, we have sent it a link that unsubscribes it with one click."))
    response.background = mails
    return response


@router.get("/unsubscribe/{token}")
def unsubscribe_page(request: Request, token: str, session: Session = Depends(get_session, scope="function")) -> HTMLResponse:
    sub = subs.by_token(session, token)
    if sub is None:
        return _bad_link(request)
    _for_subscriber(request, sub)
    return render(request, "subscribe/unsubscribe.html.j2", {"token": token, "done": sub.state == "unsubscribed",
                                                             "action": _action(f"/unsubscribe/{token}", request)})


def _bad_link(request: Request) -> HTMLResponse:
    return _message(request, _("This link is not valid"), _("Copy the whole link from the email, or ask for a new one."),
                    status_code=404, link=(_action("/unsubscribe", request), _("Get a new unsubscribe link")))


@router.post("/unsubscribe/{token}")
def unsubscribe_post(request: Request, token: str, csrf_token: str | None = Form(None),
                     one_click: str | None = Form(None, alias="List-Unsubscribe"),
                     session: Session = Depends(get_session, scope="function")) -> Response:
    if one_click != "One-Click":
        verify_csrf(request, csrf_token)
    try:
        sub = subs.unsubscribe(session, token)
    except TokenInvalid:
        return _bad_link(request)
    _for_subscriber(request, sub)
    return _message(request, _("You are unsubscribed"),
                    _("You will receive no more issues. We keep your address only on our do-not-mail list, so that "
                      "no import can ever add it again."),
                    link=(_action("/subscribe", request), _("Changed your mind? Subscribe again")))


@router.get("/preferences/{token}")
def preferences_page(request: Request, token: str, session: Session = Depends(get_session, scope="function")) -> HTMLResponse:
    """The reader's page to choose the edition they receive; reached from the link in every issue."""
    sub = subs.by_token(session, token)
    if sub is None:
        return _bad_link(request)
    _for_subscriber(request, sub)
    return _preferences(request, sub, token)


@router.post("/preferences/{token}")
def preferences_post(request: Request, token: str, language: str = Form(""), csrf_token: str = Form(""),
                     session: Session = Depends(get_session, scope="function")) -> HTMLResponse:
    verify_csrf(request, csrf_token)
    sub = subs.by_token(session, token)
    if sub is None:
        return _bad_link(request)
    if sub.state == "unsubscribed":
        _for_subscriber(request, sub)
        return _preferences(request, sub, token)
    try:
        subs.change_language(session, sub, language, settings=request.app.state.runtime.settings)
    except ValueError as exc:
        _for_subscriber(request, sub)
        return _preferences(request, sub, token, error=_problem(request, exc, "", language), status_code=422)
    bind(request, sub.language)  # the answer already speaks the chosen language
    return _preferences(request, sub, token, notice=_(
        "Saved. From the next issue on, you receive the edition in %(language)s.", language=language_name(sub.language)))


def _preferences(request: Request, sub: Subscriber, token: str, *, notice: str | None = None, error: str | None = None,
                 status_code: int = 200) -> HTMLResponse:
    return render(request, "subscribe/preferences.html.j2", {
        "token": token, "languages": _languages(request), "current": sub.language, "state": sub.state,
        "notice": notice, "error": error, "action": f"/preferences/{token}",
    }, status_code=status_code)
