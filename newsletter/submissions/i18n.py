"""Translations of the volunteer pages and messages (Babel catalogs in newsletter/locale/).

The service layer translates its messages through `_`, which reads the language of the current
request from a context variable; the web layer sets it once per request with `activate`.
"""

from __future__ import annotations

import gettext
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.core import negotiate_locale
from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
LANGUAGES: dict[str, str] = {"en": "English", "ru": "Русский"}
DEFAULT_LANGUAGE = "en"

_active: ContextVar[gettext.NullTranslations] = ContextVar("submissions_translations", default=gettext.NullTranslations())


@lru_cache(maxsize=None)
def translations_for(language: str) -> gettext.NullTranslations:
    if language == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    return Translations.load(str(LOCALE_DIR), [language], domain=DOMAIN)


def choose_language(requested: str | None, accept_language: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """`requested` (a ?lang= switch) wins when supported; then the browser's Accept-Language; then `default`."""
    if requested:
        code = requested.strip().lower()[:8].split("-")[0]
        if code in LANGUAGES:
            return code
    if accept_language:
        preferred = []
        for part in accept_language.split(",")[:20]:
            tag, _sep, params = part.strip().partition(";")
            q = 1.0
            if params.strip().startswith("q="):
                try:
                    q = float(params.strip()[2:])
                except ValueError:
                    q = 0.0
            if tag and q > 0:
                preferred.append((q, tag.strip().replace("-", "_")))
        preferred.sort(key=lambda item: -item[0])
        found = negotiate_locale([tag for _q, tag in preferred], list(LANGUAGES), sep="_")
        if found:
            return found
    return default if default in LANGUAGES else DEFAULT_LANGUAGE


def activate(language: str) -> gettext.NullTranslations:
    """Make `language` the one `_` translates into for the rest of this request (context)."""
    catalog = translations_for(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    _active.set(catalog)
    return catalog


def _(message: str, **variables: Any) -> str:
    text = _active.get().gettext(message)
    return text % variables if variables else text


def N_(message: str) -> str:  # noqa: N802 - the conventional name extractors look for
    """Mark a string for extraction; it is translated later, where it is shown."""
    return message
