"""Rendering a web page: the app's environment (from newsletter.templating) with the request's context.

The language of the page is the one newsletter.web.language chose for this request (request.state.language:
the middleware's choice, or a route's re-choice for a known person); it is bound around the rendering
because a route's dependencies (the desk account) run in contexts of their own.
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
    from newsletter.web.language import chosen_explicitly, switch_links
    from newsletter.web.security import csrf_token

    env: Environment = request.app.state.templates
    lang = getattr(request.state, "language", None) or i18n.current_language()
    with i18n.use_language(lang):
        ctx = {"request": request, "csrf_token": csrf_token(request), "lang": lang,
               "dir": i18n.text_direction(lang), "language_links": switch_links(request, lang),
               "lang_param": chosen_explicitly(request)}
        ctx.update(context or {})
        html = env.get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status_code, headers=(headers or {}) | {"Content-Language": lang})
