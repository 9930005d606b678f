"""The issue's templates: filters and error reporting over the one factory (newsletter.templating).

Templates are looked up by path from the template root ("email/issue/body.mjml.j2",
"web/archive/issue.html.j2"), so a user overrides a single file by placing one with the same path
in `settings.templates_dir`. Strings go through newsletter.i18n, bound to the issue's language with
`use_language` for the duration of one render, so one cached environment serves every language.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlsplit

from babel.dates import format_date, format_skeleton
from jinja2 import Environment

from newsletter import templating
from newsletter.config import Settings
from newsletter.i18n import _ as translate
from newsletter.i18n import babel_locale, current_locale, text_direction, use_language
from newsletter.i18n import ngettext as translate_plural

__all__ = ["RenderError", "babel_locale", "format_day", "host", "paragraphs", "render_environment",
           "render_template", "text_direction", "translate", "translate_plural", "underline", "use_language", "wrap"]


class RenderError(Exception):
    """A template could not be rendered; the message names the template and the cause."""


def format_day(value: date | None, precision: str = "day") -> str:
    """A date as readers expect it in the issue's language, no more precise than what is known."""
    if value is None:
        return ""
    locale = current_locale()
    if precision == "month":
        return format_skeleton("yMMMM", value, locale=locale)
    if precision == "week":
        return translate("week of %(date)s", date=format_date(value, "long", locale=locale))
    return format_date(value, "long", locale=locale)


def paragraphs(text: str | None) -> list[str]:
    """Plain text split on blank lines; single line breaks inside a paragraph become spaces."""
    if not text:
        return []
    blocks = text.replace("\r\n", "\n").replace("\r", "\n").split("\n\n")
    return [" ".join(block.split()) for block in blocks if block.strip()]


def wrap(text: str, width: int = 72, indent: str = "", first: str | None = None) -> str:
    """Fill one paragraph for the plain-text part; words (and so URLs) are never broken.

    A greedy fill: textwrap gives the same result for plain prose but costs ten times as much,
    and a 40-item issue wraps about 130 paragraphs.
    """
    lines: list[str] = []
    line = indent if first is None else first
    empty = True
    for word in text.split():
        if not empty and len(line) + 1 + len(word) > width:
            lines.append(line)
            line, empty = indent + word, False
        elif empty:
            line, empty = line + word, False
        else:
            line += " " + word
    if empty:
        return ""
    lines.append(line)
    return "\n".join(lines)


def host(url: str) -> str:
    """The host of a link, shown next to it so readers know where it leads before they click."""
    netloc = urlsplit(url).netloc
    return netloc.rsplit("@", 1)[-1].removeprefix("www.")


def underline(text: str, char: str = "-") -> str:
    return f"{text}\n{char * max(len(text), 3)}"


FILTERS = {"format_day": format_day, "paragraphs": paragraphs, "wrap": wrap, "underline": underline, "host": host}


def render_environment(settings: Settings) -> Environment:
    """The shared environment for these settings' template folders (built once per folder list)."""
    return templating.environment(settings, templating.ISSUE, filters=FILTERS)


def _template_position(exc: BaseException) -> str:
    """Where in which template file it failed: Jinja rewrites tracebacks to point at template lines."""
    lineno = getattr(exc, "lineno", None)
    filename = getattr(exc, "filename", None)
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            filename, lineno = tb.tb_frame.f_code.co_filename, tb.tb_lineno
        tb = tb.tb_next
    return f"{filename} line {lineno}" if filename and lineno else ""


def render_template(settings: Settings, name: str, context: dict[str, Any]) -> str:
    try:
        return render_environment(settings).get_template(name).render(context)
    except Exception as exc:  # noqa: BLE001 - any template error becomes one clear message
        where = _template_position(exc)
        raise RenderError(f"template {name}{f' ({where})' if where else ''}: {type(exc).__name__}: {exc}") from exc
