"""The web app's last line of defence against server errors that would log or echo a volunteer's words.

Each known cause is fixed where it happens; these handlers make sure that whatever is left over
answers cleanly and that no log line carries a request's body, query, path values or an
exception's message (which can quote the data it choked on). Only the exception's type and the
route's template (never the raw path: it may hold a receipt code or token) are logged.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


async def validation_error(request: Request, exc: Exception) -> Response:
    """422 with field locations and messages only; ASCII-escaped so that any character can be answered."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    body = json.dumps({"detail": safe_errors(errors)}, ensure_ascii=True)
    return Response(body, status_code=422, media_type="application/json")


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
    app.add_middleware(LastResort)
