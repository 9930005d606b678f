"""Jinja environment for web pages: user template folder first, bundled templates second.

Strings go through gettext callables that read the request's language from a context variable,
so one shared environment serves every language.
"""

from __future__ import annotations

import gettext
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from newsletter.config import Settings

translations: ContextVar[gettext.NullTranslations] = ContextVar("translations", default=gettext.NullTranslations())
current_language: ContextVar[str] = ContextVar("current_language", default="en")


def _gettext(message: str, **variables: Any) -> str:
    text = translations.get().gettext(message)
    return text % variables if variables else text


def _ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = translations.get().ngettext(singular, plural, n)
    return text % ({"num": n} | variables)


def make_environment(settings: Settings) -> Environment:
    loader = ChoiceLoader([FileSystemLoader(str(d / "web")) for d in settings.template_dirs])
    env = Environment(
        loader=loader,
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["settings"] = settings
    env.globals["current_language"] = current_language.get
    env.filters["local_time"] = lambda value: local_time(value, settings)
    return env


def local_time(value: datetime | None, settings: Settings) -> str:
    """A stored (UTC) time in the organisation's zone, with the zone said: the desk takes schedule
    times in that zone, so it shows them in it too."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M %Z")


def render(request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200,
           headers: dict[str, str] | None = None) -> HTMLResponse:
    """Render a page with the request, its CSRF token and the current language in the context."""
    from newsletter.web.security import csrf_token

    env: Environment = request.app.state.templates
    ctx = {"request": request, "csrf_token": csrf_token(request), "lang": current_language.get()}
    ctx.update(context or {})
    html = env.get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status_code, headers=headers)
