"""How the web app answers what went wrong: error pages on the desk, JSON on the API, a plain 500 page last.

Each known cause is fixed where it happens; these handlers make sure that whatever is left over
answers cleanly and that no log line carries a request's body, query, path values or an
exception's message (which can quote the data it choked on). Only the exception's type and the
route's template (never the raw path: it may hold a receipt code or token) are logged.

On the editors' desk (/editor/...) a browser gets an HTML page in the desk's layout for every refusal
(a missing or malformed id: 404, a CSRF failure or an admin page: 403, an unreadable form: 422), never
FastAPI's JSON; a client that asks only for JSON keeps JSON. A page answering a desk POST names the
page a reload should show (`request.state.reload_url`), and the desk's script puts that address in
the browser's history, so reloading a refused form never sends it again.
"""

from __future__ import annotations

import json
import logging
import smtplib
import socket
import ssl
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsletter.i18n import N_, Refusal, Said

log = logging.getLogger("newsletter.web")

SERVER_ERROR_PAGE = (
    "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Server error</title>"
    "<h1>Something went wrong on our side</h1><p>Nothing was stored from this request. Please try again later.</p>"
    "</html>"
)
_SAFE_ERROR_KEYS = ("type", "loc", "msg")


def route_label(scope: Scope) -> str:
    """The route's path template ("/receipt/{code}"), never the path as requested."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    return f"{scope.get('method', '')} {template or '(no route)'}".strip()


def safe_errors(errors: Any) -> list[dict[str, Any]]:
    """Validation errors without the offending input or its context (they can quote the report)."""
    out = []
    for err in errors:
        item = {k: err[k] for k in _SAFE_ERROR_KEYS if k in err}
        item["loc"] = [p if isinstance(p, int | str) else str(p) for p in item.get("loc", ())]
        if err.get("type") in ("string_unicode", "json_invalid"):
            item["msg"] = "not valid text (a broken character, e.g. half of an emoji?)" \
                if err.get("type") == "string_unicode" else "not valid JSON"
        out.append(item)
    return out


DESK_PREFIX = "/editor"
ERROR_TEMPLATE = "editor/error.html.j2"
# What a desk error page says when the exception carries only Starlette's stock phrase ("Not Found").
# Marked for the catalog: the error page translates them (and the status phrases below) into the desk's language.
DESK_MESSAGES = {
    400: N_("The request could not be read. Go back, reload the page and try again."),
    401: N_("Log in to the editors' desk first."),
    403: N_("You are not allowed to do this."),
    404: N_("There is no such page on the desk. The address may be mistyped, or what it named was deleted."),
    405: N_("This address cannot be used like this. Go back and use the page's buttons."),
    413: N_("What was sent is too large."),
    422: N_("The form could not be read: some fields are missing or too long."),
    429: N_("Too many requests at once. Wait a moment and try again."),
}
STATUS_PHRASES = (N_("Bad Request"), N_("Unauthorized"), N_("Forbidden"), N_("Not Found"), N_("Method Not Allowed"),
                  N_("Request Entity Too Large"), N_("Content Too Large"), N_("Unprocessable Entity"),
                  N_("Unprocessable Content"), N_("Too Many Requests"), N_("Error"), N_("The request was refused."))


def is_desk(request: Request) -> bool:
    path = request.url.path
    return path == DESK_PREFIX or path.startswith(DESK_PREFIX + "/")


def wants_html(request: Request) -> bool:
    """A browser (or any client that does not ask for JSON alone) gets pages; API clients keep JSON."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept or "application/json" not in accept


def desk_error_page(request: Request, status_code: int, message: object, *, fields: list[str] | None = None,
                    headers: dict[str, str] | None = None) -> Response:
    """The desk's layout around a title, a sentence and the way on; the message is ours, never the input."""
    from newsletter.web.templating import render

    try:
        title = HTTPStatus(status_code).phrase
    except ValueError:
        title = "Error"
    _reload_desk_user(request)
    context = {"status": status_code, "title": title, "message": message, "fields": fields or []}
    return render(request, ERROR_TEMPLATE, context, status_code=status_code, headers=headers)


def _reload_desk_user(request: Request) -> None:
    """The layout shows who is logged in, but the request's session was rolled back and closed when the
    exception left the route, so its User is detached and expired: read the few fields again."""
    from types import SimpleNamespace

    from newsletter.editorial.users import get_user

    user_id = getattr(request.state, "user_id", None)
    if getattr(request.state, "user", None) is None:
        return
    request.state.user = None
    if user_id is None:
        return
    with request.app.state.runtime.sessions() as session:
        fresh = get_user(session, user_id)
        if fresh is not None:
            request.state.user = SimpleNamespace(id=fresh.id, email=fresh.email, role=fresh.role)


def _stock_phrase(detail: Any, status_code: int) -> bool:
    try:
        return detail is None or detail == HTTPStatus(status_code).phrase
    except ValueError:
        return detail is None


async def http_error(request: Request, exc: Exception) -> Response:
    """Desk pages get an HTML page for every 4xx; redirects, the API and the public pages keep their answers."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code < 400 or not is_desk(request) or not wants_html(request):
        return await http_exception_handler(request, exc)
    detail: object = exc.detail
    refusal = getattr(exc, "refusal", None)
    if isinstance(refusal, Refusal) and str(refusal):
        detail = desk_error(refusal)
    elif _stock_phrase(detail, exc.status_code) or not isinstance(detail, str):
        detail = DESK_MESSAGES.get(exc.status_code, N_("The request was refused."))
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() != "content-type"}
    return desk_error_page(request, exc.status_code, detail, headers=headers or None)


NUMERIC_VALUE_OUT_OF_RANGE = "22003"  # PostgreSQL's SQLSTATE for a number its column type cannot hold


async def number_too_large(request: Request, exc: Exception) -> Response:
    """An id beyond what the database can hold ("/editor/incidents/99999999999999999999": SQLite cannot even
    bind it, PostgreSQL answers "out of range") names nothing: a 404 page on the desk. Anything else, and
    anywhere else, stays an unexpected error."""
    if isinstance(exc, DataError) and getattr(exc.orig, "sqlstate", None) != NUMERIC_VALUE_OUT_OF_RANGE:
        raise exc
    if is_desk(request) and wants_html(request):
        return desk_error_page(request, 404, DESK_MESSAGES[404])
    raise exc


def field_label(loc: list[Any]) -> str:
    """"body → title" for the page: where the problem is, never what was typed."""
    return " → ".join(str(p) for p in loc[1:] or loc)


async def validation_error(request: Request, exc: Exception) -> Response:
    """422 with field locations and messages only; ASCII-escaped so that any character can be answered.

    On the desk a browser gets a page instead: a malformed id in the path ("/editor/incidents/abc") names
    nothing that exists, so it is a 404 like a missing one; a form that cannot be read is a 422."""
    errors = safe_errors(exc.errors() if isinstance(exc, RequestValidationError) else [])
    if is_desk(request) and wants_html(request):
        if any(e.get("loc") and e["loc"][0] == "path" for e in errors):
            return desk_error_page(request, 404, DESK_MESSAGES[404])
        fields = [f"{field_label(e.get('loc', []))}: {e.get('msg', '')}" for e in errors]
        return desk_error_page(request, 422, DESK_MESSAGES[422], fields=fields)
    body = json.dumps({"detail": errors}, ensure_ascii=True)
    return Response(body, status_code=422, media_type="application/json")


def page_after_post(scope: Scope) -> str:
    """The desk page a reload of a POST's answer should show: the longest start of the POST's path that
    answers GET ("/editor/incidents/5/edit" -> "/editor/incidents/5"), else the dashboard."""
    app = scope.get("app")
    routes = getattr(getattr(app, "router", None), "routes", [])
    parts = str(scope.get("path", "")).rstrip("/").split("/")
    while len(parts) > 2:
        base = "/".join(parts)
        for candidate in (base, base + "/"):
            probe = {"type": "http", "path": candidate, "method": "GET", "root_path": "", "path_params": {}}
            if any(route.matches(probe)[0] == Match.FULL for route in routes):
                return candidate
        parts.pop()
    return DESK_PREFIX + "/"


class DeskReloadUrl:
    """Puts `reload_url` on the request state of every desk request that is not a GET (see page_after_post)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") not in ("GET", "HEAD") \
                and str(scope.get("path", "")).startswith(DESK_PREFIX + "/"):
            scope.setdefault("state", {})["reload_url"] = page_after_post(scope)
        await self.app(scope, receive, send)


class DeskRefusal(StarletteHTTPException):
    """An HTTP refusal on the desk (404: "There is no section 7.") whose words are a catalog message: the
    detail stays the English sentence (JSON clients, logs), the desk page shows it in the account's language."""

    def __init__(self, status_code: int, message: str, /, **params: Any) -> None:
        self.refusal = Refusal(message, **params)
        super().__init__(status_code=status_code, detail=str(self.refusal))

    @classmethod
    def of(cls, status_code: int, exc: BaseException) -> "DeskRefusal":
        """Another refusal's words (catalog ones kept) as an HTTP refusal."""
        made = cls(status_code, "")
        made.refusal = Refusal.of(exc)
        made.detail = str(made.refusal)
        return made


class DeskError:
    """A refusal as a desk page shows it, translated when the page renders (web.templating binds the
    account's language then; a handler runs before it knows it): an exception with a catalog message
    (issues.errors.IssueError.desk_message) in that language, any other by its English words."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __str__(self) -> str:
        words = getattr(self.exc, "desk_message", None)
        return words() if callable(words) else str(self.exc)

    def __bool__(self) -> bool:
        return bool(str(self.exc))

    def __contains__(self, part: str) -> bool:
        return part in str(self)


def desk_error(exc: BaseException) -> DeskError:
    """What a desk page says about a refusal, in the reader's language where the message has a translation."""
    return DeskError(exc)


def mail_error_words(exc: BaseException) -> str:
    """What a refused or failed SMTP conversation means, in English words (see mail_error_said)."""
    return mail_error_said(exc).english()


def mail_error_said(exc: BaseException) -> Said:
    """What a refused or failed SMTP conversation means, in words the desk shows in the account's language:
    smtplib's errors carry (code, bytes) tuples whose repr ("{'a@b': (550, b'5.1.1 ...')}") tells an editor
    nothing. The relay's own reply is quoted as it came."""
    def reply(code: int, message: bytes | str) -> str:
        text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
        return f"{code} {' '.join(text.split())}".strip()

    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = "; ".join(f"{address} ({reply(*answer)})" for address, answer in exc.recipients.items())
        if len(exc.recipients) == 1:
            return Said(N_("the mail relay refused the address: %(refused)s"), refused=refused)
        return Said(N_("the mail relay refused the addresses: %(refused)s"), refused=refused)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return Said(N_("the mail relay refused the sender address %(sender)s (%(reply)s)"), sender=exc.sender,
                    reply=reply(exc.smtp_code, exc.smtp_error))
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return Said(N_("the mail relay did not accept the user name and password of NEWSLETTER_SMTP_URL (%(reply)s)"),
                    reply=reply(exc.smtp_code, exc.smtp_error))
    if isinstance(exc, smtplib.SMTPDataError):
        return Said(N_("the mail relay refused the message (%(reply)s)"), reply=reply(exc.smtp_code, exc.smtp_error))
    if isinstance(exc, smtplib.SMTPResponseException):
        return Said(N_("the mail relay answered %(reply)s"), reply=reply(exc.smtp_code, exc.smtp_error))
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return Said(N_("the mail relay closed the connection before the message was sent"))
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return Said(N_("the mail relay does not support what NEWSLETTER_SMTP_URL asks for (STARTTLS or a login)"))
    if isinstance(exc, ConnectionRefusedError):
        return Said(N_("the mail relay refused the connection: is it running, and is NEWSLETTER_SMTP_URL right?"))
    if isinstance(exc, TimeoutError | socket.timeout):
        return Said(N_("the mail relay did not answer in time"))
    if isinstance(exc, socket.gaierror):
        return Said(N_("the mail relay's host name (NEWSLETTER_SMTP_URL) could not be found"))
    if isinstance(exc, ssl.SSLError):
        return Said(N_("the TLS connection to the mail relay failed (%(reason)s)"), reason=exc.reason or "no reason given")
    if isinstance(exc, OSError) and exc.strerror:
        return Said(N_("the mail relay could not be reached (%(reason)s)"), reason=exc.strerror)
    return Said(N_("the mail relay could not be reached (%(reason)s)"), reason=type(exc).__name__)


class LastResort:
    """Outermost app middleware: an unexpected exception is answered with a plain 500 page and logged
    as its type and route only. It is not re-raised, so the server never prints its traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # noqa: BLE001 - the last line of defence catches everything
            log.error("unhandled %s on %s", type(exc).__name__, route_label(scope))
            if started:
                return  # the answer is already on its way; the client sees a cut response
            response = Response(SERVER_ERROR_PAGE, status_code=500, media_type="text/html; charset=utf-8",
                                headers={"cache-control": "no-store"})
            await response(scope, receive, send)


def install(app: FastAPI) -> None:
    """Add the handlers to the app (call after every other middleware so LastResort is outermost)."""
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(OverflowError, number_too_large)
    app.add_exception_handler(DataError, number_too_large)
    app.add_middleware(DeskReloadUrl)
    app.add_middleware(LastResort)
