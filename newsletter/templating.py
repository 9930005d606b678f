"""The one Jinja environment factory: the user's template folder first, the bundled templates second.

Datasette's model: every environment looks templates up through a ChoiceLoader over
`settings.template_dirs`, so a user overrides a single file (a web page, the issue email, the
confirmation mail) by placing one with the same path in their folder. Three kinds of output need
three escaping and whitespace rules, so callers name their `Kind`; everything else (the loader,
gettext through newsletter.i18n, the `local_time` filter) is the same for all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.dates import format_datetime
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, Undefined, select_autoescape

from newsletter import i18n, vocabulary
from newsletter.config import Settings

Filters = Mapping[str, Callable[..., Any]]


@dataclass(frozen=True)
class Kind:
    """How one family of templates is rendered; `folder` is its place below each template folder."""

    name: str
    folder: str
    autoescape_extensions: tuple[str, ...] | None  # None: escape everything (web pages)
    strict: bool  # StrictUndefined: a misspelt variable fails the render instead of printing nothing
    keep_trailing_newline: bool
    auto_reload: bool = True


# Web pages of the app (volunteer, reader and editor pages): templates/web/, everything escaped.
PAGES = Kind("pages", "web", None, strict=False, keep_trailing_newline=False)
# The issue's outputs (email, text, archive page, feed): templates/, escaped by extension.
ISSUE = Kind("issue", "", ("html", "xml", "mjml", "html.j2", "mjml.j2", "xml.j2"), strict=True,
             keep_trailing_newline=True)
# One-off mails to one person (confirmation, unsubscribe, digest): templates/email/<name>/.
MAIL = Kind("mail", "email", ("html.j2",), strict=True, keep_trailing_newline=True)


def local_time(value: datetime | None, tz: tzinfo) -> str:
    """A stored (UTC) time in the organisation's zone, with the zone said: the desk takes schedule
    times in that zone, so it shows them in it too."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def _folders(settings: Settings, kind: Kind) -> tuple[str, ...]:
    return tuple(str(Path(d).resolve() / kind.folder) if kind.folder else str(Path(d).resolve())
                 for d in settings.template_dirs)


def _build(folders: tuple[str, ...], kind: Kind, tz: tzinfo, filters: Filters) -> Environment:
    if kind.autoescape_extensions is None:
        autoescape = select_autoescape(default=True, default_for_string=True)
    else:
        autoescape = select_autoescape(enabled_extensions=kind.autoescape_extensions,
                                       default_for_string=False, default=False)
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(d) for d in folders]),
        autoescape=autoescape,
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined if kind.strict else Undefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=kind.keep_trailing_newline,
        auto_reload=kind.auto_reload,
    )
    env.install_gettext_callables(i18n._, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["current_language"] = i18n.current_language
    # A date and time with month and day names in the bound language (a CLDR pattern: "dd MMMM HH:mm").
    env.globals["format_datetime"] = lambda value, pattern: format_datetime(value, pattern, locale=i18n.current_locale())
    # Human words for stored codes ("needs info", not "needs_info") on every page that shows them.
    env.globals["state_label"] = vocabulary.state_label
    env.globals["origin_label"] = vocabulary.origin_label
    env.filters["local_time"] = lambda value: local_time(value, tz)
    env.filters.update(filters)
    return env


def make_environment(settings: Settings, kind: Kind = PAGES, *, filters: Filters | None = None) -> Environment:
    """A new environment for these settings; web pages also see `settings` as a global.

    The web app builds one per app; rendering and mail use `environment`, which shares one per
    template folder list.
    """
    env = _build(_folders(settings, kind), kind, settings.tz, filters or {})
    if kind is PAGES:
        env.globals["settings"] = settings
    return env


@lru_cache(maxsize=16)
def _shared(folders: tuple[str, ...], kind: Kind, tz: tzinfo,
            filters: tuple[tuple[str, Callable[..., Any]], ...]) -> Environment:
    return _build(folders, kind, tz, dict(filters))


def environment(settings: Settings, kind: Kind, *, filters: Filters | None = None) -> Environment:
    """The shared environment of a kind for these template folders (built once, templates cached).

    It binds no Settings object (several may share the folders): templates get what they need in
    their context.
    """
    return _shared(_folders(settings, kind), kind, settings.tz, tuple(sorted((filters or {}).items())))
