"""Jinja environment for rendering: the user's template folder first, the bundled templates second.

Templates are looked up by path from the template root ("email/issue/body.mjml.j2",
"web/archive/issue.html.j2"), so a user overrides a single file by placing one with the same path
in `settings.templates_dir`. Strings go through gettext bound to the issue's language for the
duration of one render, so one cached environment serves every language.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from newsletter.config import PROJECT_ROOT, Settings

LOCALE_DIR = PROJECT_ROOT / "newsletter" / "locale"
RTL_LANGUAGES = frozenset({"ar", "arc", "ckb", "dv", "fa", "he", "ks", "ku", "ps", "sd", "ug", "ur", "yi"})

_translations: ContextVar[gettext.NullTranslations] = ContextVar("render_translations", default=gettext.NullTranslations())
_locale: ContextVar[Locale] = ContextVar("render_locale", default=Locale("en"))


class RenderError(Exception):
    """A template could not be rendered; the message names the template and the cause."""


@lru_cache(maxsize=32)
def _catalog(language: str) -> gettext.NullTranslations:
    return gettext.translation("messages", localedir=str(LOCALE_DIR), languages=[language], fallback=True)


@lru_cache(maxsize=32)
def babel_locale(language: str) -> Locale:
    """The Babel locale for a language tag, English when Babel does not know it."""
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale("en")


def text_direction(language: str) -> str:
    return "rtl" if language.split("-")[0].split("_")[0].lower() in RTL_LANGUAGES else "ltr"


@contextmanager
def use_language(language: str) -> Iterator[None]:
    """Bind translations and date formats to `language` while rendering one issue."""
    t1 = _translations.set(_catalog(language))
    t2 = _locale.set(babel_locale(language))
    try:
        yield
    finally:
        _translations.reset(t1)
        _locale.reset(t2)


def translate(message: str, **variables: Any) -> str:
    text = _translations.get().gettext(message)
    return text % variables if variables else text


def translate_plural(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = _translations.get().ngettext(singular, plural, n)
    return text % ({"num": n} | variables)


def format_day(value: date | None, precision: str = "day") -> str:
    """A date as readers expect it in the issue's language, no more precise than what is known."""
    if value is None:
        return ""
    locale = _locale.get()
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


@lru_cache(maxsize=8)
def _environment(template_dirs: tuple[Path, ...]) -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in template_dirs]),
        autoescape=select_autoescape(enabled_extensions=("html", "xml", "mjml", "html.j2", "mjml.j2", "xml.j2"),
                                     default_for_string=False, default=False),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=True,
    )
    env.install_gettext_callables(translate, translate_plural, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(format_day=format_day, paragraphs=paragraphs, wrap=wrap, underline=underline, host=host)
    return env


def render_environment(settings: Settings) -> Environment:
    """The shared environment for these settings' template folders (built once per folder list)."""
    return _environment(tuple(Path(d).resolve() for d in settings.template_dirs))


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
