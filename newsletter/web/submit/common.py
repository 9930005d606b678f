"""What every volunteer-facing route shares: language, rate limits, body size limits, one transaction."""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import InterfaceError, InternalError, OperationalError
from sqlalchemy.orm import Session
from starlette.types import Message, Receive

from newsletter.runtime import Runtime
from newsletter import i18n
from newsletter.submissions.ratelimit import RateLimiter
from newsletter.web import templating

T = TypeVar("T")
_limiter_lock = threading.Lock()
_sqlite_locks: dict[str, threading.Lock] = {}
API_RATE_FACTOR = 10  # a partner tool relays many volunteers, so its token gets ten times the per-client rate
MULTIPART_OVERHEAD = 256 * 1024


def use_language(request: Request) -> str:
    """Pick the page language (?lang= switch, else the browser's Accept-Language) and bind it for this request."""
    from newsletter.web.language import bind

    return bind(request)


def limiter(request: Request, name: str = "submit") -> RateLimiter:
    """One in-memory limiter per app and purpose, created on first use."""
    state = request.app.state
    attr = f"{name}_limiter"
    found = getattr(state, attr, None)
    if found is None:
        with _limiter_lock:
            found = getattr(state, attr, None)
            if found is None:
                per_minute = request.app.state.runtime.settings.submit_rate_per_minute
                found = RateLimiter(per_minute * (API_RATE_FACTOR if name == "api" else 1))
                setattr(state, attr, found)
    return found


def client_key(request: Request) -> str:
    """The address used only as the (HMAC-ed, in-memory) rate-limit key; never stored or logged."""
    return request.client.host if request.client else "unknown"


log = logging.getLogger(__name__)


class NotStored(Exception):
    """The database could not take the write (down, restarting, full, read-only). The caller gives the
    volunteer their words back with a 503; nothing about the report is logged, only the error's type."""


# Errors of the database itself, not of the report: OperationalError covers a refused or lost
# connection, a full disk and a read-only SQLite file; InternalError a read-only PostgreSQL
# transaction (a standby); InterfaceError a connection the driver already lost.
STORAGE_ERRORS = (OperationalError, InterfaceError, InternalError)


def not_stored_message() -> str:
    return i18n._("Your report was NOT saved: we cannot store reports at the moment. Your text is kept "
                  "below. Please try again in a few minutes.")


async def in_transaction(request: Request, work: Callable[[Session], T]) -> T:
    """Run `work` in a worker thread inside one transaction committed BEFORE the response is built,
    so a receipt is only ever shown for a report that is stored."""
    runtime: Runtime = request.app.state.runtime
    lock = _write_lock(runtime)

    def run() -> T:
        if lock is None:
            with runtime.session() as session:
                return work(session)
        with lock, runtime.session() as session:
            return work(session)

    try:
        return await run_in_threadpool(run)
    except STORAGE_ERRORS as exc:
        # The exception's text can carry the statement's parameters (the report's words): never log it.
        reason = type(getattr(exc, "orig", None) or exc).__name__
        log.warning("a volunteer's write was not stored: the database refused it (%s); answered 503", reason)
        raise NotStored(reason) from None


def _write_lock(runtime: Runtime) -> threading.Lock | None:
    """SQLite takes one writer at a time; writers of this process queue on a lock instead of in
    SQLite's busy handler, which sleeps in steps of up to 100 ms and ruins the tail latency."""
    if not runtime.settings.is_sqlite:
        return None
    with _limiter_lock:
        return _sqlite_locks.setdefault(runtime.settings.database_url, threading.Lock())


class BodyTooLarge(Exception):
    """The request body went over its limit while being read."""


def body_limit(request: Request) -> int:
    settings = request.app.state.runtime.settings
    if request.url.path.startswith("/api/"):
        return settings.max_submission_bytes * 4 // 3 + MULTIPART_OVERHEAD  # base64 inside JSON
    return settings.max_submission_bytes + MULTIPART_OVERHEAD


def _limited(receive: Receive, limit: int, scope: dict[str, Any]) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                scope["body_too_large"] = True
                raise BodyTooLarge()
        return message

    return wrapped


def too_large_response(request: Request) -> Response:
    from newsletter.submissions.attachments import human_size

    settings = request.app.state.runtime.settings
    message = i18n._("The report is too large: at most %(limit)s including files.",
                     limit=human_size(settings.max_submission_bytes))
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": message}, status_code=413)
    return templating.render(request, "submit/problem.html.j2", {"title": i18n._("Too large"), "message": message},
                             status_code=413)


class LimitedRoute(APIRoute):
    """Refuses bodies over the submission limit, by Content-Length up front or while streaming."""

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            if request.method in ("GET", "HEAD"):
                return await original(request)
            use_language(request)
            limit = body_limit(request)
            length = request.headers.get("content-length", "")
            if length.isdigit() and int(length) > limit:
                return too_large_response(request)
            limited = Request(request.scope, _limited(request.receive, limit, request.scope))
            try:
                return await original(limited)
            except Exception:
                if request.scope.get("body_too_large"):
                    return too_large_response(request)
                raise

        return handler

