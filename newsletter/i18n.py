"""Languages, translation catalogs and the one gettext of the whole program.

One catalog folder (newsletter/locale, Babel) and one set of context variables: the web layer binds
a request's language with `activate`, rendering binds an issue's language with `use_language`, and
services, templates and labels all translate through `_` / `ngettext`, whoever bound the language.
Context variables keep concurrent requests (threads, tasks) from seeing each other's language.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.core import negotiate_locale
from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
LANGUAGES: dict[str, str] = {"en": "English", "ru": "Русский"}
DEFAULT_LANGUAGE = "en"
RTL_LANGUAGES = frozenset({"ar", "arc", "ckb", "dv", "fa", "he", "ks", "ku", "ps", "sd", "ug", "ur", "yi"})

_translations: ContextVar[gettext.NullTranslations] = ContextVar("translations", default=gettext.NullTranslations())
_language: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


@lru_cache(maxsize=32)
def translations_for(language: str) -> gettext.NullTranslations:
    """The catalog of a language tag; no catalog (or English, the source language) translates nothing."""
    if language == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    return Translations.load(str(LOCALE_DIR), [language], domain=DOMAIN)


@lru_cache(maxsize=32)
def babel_locale(language: str) -> Locale:
    """The Babel locale for a language tag, English when Babel does not know it."""
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale("en")


def text_direction(language: str) -> str:
    return "rtl" if language.split("-")[0].split("_")[0].lower() in RTL_LANGUAGES else "ltr"


def catalog_languages() -> set[str]:
    """Languages that have a catalog folder (the source language needs none)."""
    if not LOCALE_DIR.is_dir():
        return set()
    return {d.name for d in LOCALE_DIR.iterdir() if (d / "LC_MESSAGES").is_dir()}


def choose_language(requested: str | None, accept_language: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """`requested` (a ?lang= switch) wins when supported; then the browser's Accept-Language; then `default`."""
    if requested:
        code = requested.strip().lower()[:8].split("-")[0]
        if code in LANGUAGES:
            return code
    return negotiate_language(accept_language, list(LANGUAGES), default if default in LANGUAGES else DEFAULT_LANGUAGE)


def negotiate_language(accept_language: str | None, available: list[str], default: str) -> str:
    """The best of `available` for a browser's Accept-Language (q-values honoured, "ru-RU" matches "ru",
    a garbled header ignored), else `default`."""
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
        found = negotiate_locale([tag for _q, tag in preferred], available, sep="_")
        if found:
            return found
    return default


def activate(language: str) -> gettext.NullTranslations:
    """Bind a page language for the rest of this request (its context); one without a catalog means English."""
    language = language if language in LANGUAGES or language in catalog_languages() else DEFAULT_LANGUAGE
    catalog = translations_for(language)
    _translations.set(catalog)
    _language.set(language)
    return catalog


@contextmanager
def use_language(language: str) -> Iterator[None]:
    """Bind any language tag (an issue's edition) for the duration of a block, then restore the caller's."""
    t1 = _translations.set(translations_for(language))
    t2 = _language.set(language)
    try:
        yield
    finally:
        _translations.reset(t1)
        _language.reset(t2)


def current_language() -> str:
    return _language.get()


def current_locale() -> Locale:
    """The Babel locale of the bound language (dates, numbers)."""
    return babel_locale(_language.get())


def _(message: str, **variables: Any) -> str:
    """Translate into the bound language; `%(name)s` placeholders are filled after translation."""
    text = _translations.get().gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    """The form for `n` in the bound language (Russian has three); `%(num)d` is `n`."""
    text = _translations.get().ngettext(singular, plural, n)
    return text % ({"num": n} | variables)


def N_(message: str) -> str:  # noqa: N802 - the conventional name extractors look for
    """Mark a string for extraction; it is translated later, where it is shown."""
    return message


def NP_(singular: str, plural: str) -> tuple[str, str]:  # noqa: N802 - like N_, for a plural pair
    """Mark a singular/plural pair for extraction as one plural message; `ngettext` translates it later."""
    return singular, plural



# ---------------------------------------------------------------- refusals in the reader's language


class Refusal(Exception):
    """An exception whose message is a catalog msgid with %(name)s values (`raise SectionError(N_("a section
    with the slug '%(slug)s' already exists"), slug=slug)`): str(exc) stays the English sentence (logs, the
    command line, tests), `desk_message()` is the same sentence in the language bound when it is shown
    (the desk page renders after the route ran, in the account's language). A domain's error class mixes it
    in (`class SectionError(Refusal, ValueError)`); a message made with an f-string still works, in English."""

    def __init__(self, message: str = "", /, **params: Any) -> None:
        self.msgid = message
        self.params = params
        super().__init__(message % {k: english(v) for k, v in params.items()} if params else message)

    def desk_message(self) -> str:
        """The message in the bound language (the catalog's words, the same values)."""
        return translated(self.msgid, self.params)

    @classmethod
    def of(cls, exc: BaseException) -> "Refusal":
        """This class of error carrying another's message, its catalog words kept when it has them."""
        if isinstance(exc, Refusal):
            return cls(exc.msgid, **exc.params)
        words = getattr(exc, "desk_message", None)
        return cls(Shown(str(exc), words) if callable(words) else str(exc))


def desk_words(exc: BaseException) -> str:
    """An exception's message in the bound language when it has catalog words, else its English str()."""
    words = getattr(exc, "desk_message", None)
    return words() if callable(words) else str(exc)


def translated(msgid: str, params: dict[str, Any]) -> str:
    """A msgid and its values in the bound language; values that are catalog words are translated too."""
    if isinstance(msgid, Shown):
        return msgid.words()
    shown = {k: _value(v) for k, v in params.items()}
    return _(msgid, **shown) if shown else _(msgid)


def _value(value: Any) -> Any:
    if isinstance(value, Said):
        return str(value)
    if isinstance(value, Phrase):
        return translated(value.msgid, value.params)
    if isinstance(value, Words):
        return _(value)
    if isinstance(value, Phrases):
        return value.sep.join(str(_value(v)) for v in value)
    return value


def english(value: Any) -> Any:
    """A value as the English sentence shows it (a Said in its source words, anything else as it is)."""
    return value.english() if isinstance(value, Said) else value


class Said:
    """A sentence that says itself in the language bound when it is shown: a desk route builds its notice
    before the page binds the account's language, the template's str() translates it. `english()` is
    the source sentence (logs, the command line). With `plural` and `n`, the form for n (`%(num)d` is n)."""

    __slots__ = ("msgid", "params", "plural", "n")

    def __init__(self, msgid: str, /, plural: str | None = None, n: int | None = None, **params: Any) -> None:
        self.msgid, self.plural, self.n, self.params = msgid, plural, n, params

    def english(self) -> str:
        values = {k: english(v) for k, v in self.params.items()}
        if self.plural is not None and self.n is not None:
            return (self.msgid if self.n == 1 else self.plural) % ({"num": self.n} | values)
        return self.msgid % values if values else self.msgid

    def __str__(self) -> str:
        if self.plural is not None and self.n is not None:
            return ngettext(self.msgid, self.plural, self.n, **{k: _value(v) for k, v in self.params.items()})
        return translated(self.msgid, self.params)

    def __bool__(self) -> bool:
        return bool(self.msgid)


class Shown(str):
    """An English message that knows how to say itself in the bound language (another exception's
    desk_message), so wrapping that exception keeps its translation."""

    words: Any

    def __new__(cls, english: str, words: Any) -> "Shown":
        made = super().__new__(cls, english)
        made.words = words
        return made


class Words(str):
    """A parameter that is itself a catalog message (a state, "draft"; a field, "title"): translated with the sentence."""

    __slots__ = ()


class Phrase(str):
    """A parameter that is a sentence of its own with values (one reason among several)."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, /, **params: Any) -> "Phrase":
        made = super().__new__(cls, msgid % params if params else msgid)
        made.msgid, made.params = msgid, params
        return made


class Phrases(tuple[Phrase, ...]):
    """Several phrases joined by `sep` (in English as in the desk's language): reasons, named items."""

    sep: str

    def __new__(cls, phrases: Sequence[Phrase], sep: str = "; ") -> "Phrases":
        made = super().__new__(cls, phrases)
        made.sep = sep
        return made

    def __str__(self) -> str:
        return self.sep.join(self)
