"""Security headers on every response and CSRF protection for every state-changing form.

CSRF uses a signed double-submit token: a random value in an HttpOnly, SameSite=Strict cookie
and an HMAC of it in the form. The cookie is the only one the public pages set.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsletter.i18n import N_

CSRF_COOKIE = "csrf"
CSRF_FIELD = "csrf_token"

SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "cross-origin-opener-policy": "same-origin",
}
NO_STORE_PREFIXES = ("/submit", "/receipt", "/api/", "/editor", "/subscribe", "/confirm", "/unsubscribe")


def _sign(secret: str, value: str) -> str:
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The form token for this request's CSRF cookie (the middleware makes sure the cookie exists)."""
    value = request.scope.get("csrf_cookie_value") or ""
    return _sign(request.app.state.runtime.settings.secret, value)


def verify_csrf(request: Request, token: str | None) -> None:
    """Refuse a state-changing request whose form token does not match its cookie."""
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not token:
        raise HTTPException(status_code=403, detail=N_("Missing security token. Reload the page and try again."))
    expected = _sign(request.app.state.runtime.settings.secret, cookie)
    if not hmac.compare_digest(expected, token):
        raise HTTPException(status_code=403, detail=N_("Invalid security token. Reload the page and try again."))


class SecurityMiddleware:
    """Adds security headers, no-store on private paths, and issues the CSRF cookie when missing."""

    def __init__(self, app: ASGIApp, *, secure_cookies: bool) -> None:
        self.app = app
        self.secure_cookies = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie = _read_cookie(scope, CSRF_COOKIE)
        new_cookie = None
        if not cookie or len(cookie) != 43:
            cookie = new_cookie = secrets.token_urlsafe(32)
        scope["csrf_cookie_value"] = cookie
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                if path.startswith(NO_STORE_PREFIXES) and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                if new_cookie:
                    attrs = f"{CSRF_COOKIE}={new_cookie}; Path=/; HttpOnly; SameSite=Strict"
                    if self.secure_cookies:
                        attrs += "; Secure"
                    headers.append((b"set-cookie", attrs.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _read_cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name:
                    return v
    return None
