"""Rendering a web page: the app's environment (from newsletter.templating) with the request's context.

The language of the page is whatever newsletter.i18n has bound for this request.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from newsletter import i18n


def render(request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200,
           headers: dict[str, str] | None = None) -> HTMLResponse:
    """Render a page with the request, its CSRF token and the current language in the context."""
    from newsletter.web.security import csrf_token

    env: Environment = request.app.state.templates
    ctx = {"request": request, "csrf_token": csrf_token(request), "lang": i18n.current_language()}
    ctx.update(context or {})
    html = env.get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status_code, headers=headers)
