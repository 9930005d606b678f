"""The language of a page: which one, bound for the request, and the links of the language switch.

Order of choice: a `?lang=xx` switch (a link, or a hidden field that carries it across a form's
POST); then a known person's own setting (a subscriber reached by token, a desk account); then the
browser's Accept-Language, negotiated by Babel against the languages we can show; then the default
edition's. Nothing is stored for it: no cookie, no log line (a volunteer's language can say who
they are), and the switch is plain same-site links.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.datastructures import Headers, QueryParams
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsletter import i18n
from newsletter.config import Settings

STATE_KEY = "language"


def page_languages(settings: Settings) -> list[str]:
    """The languages pages and mails can be shown in: the configured editions first (the default one
    leading), then any other language with a catalog (a volunteer may write in Russian to an English-only
    newsletter). A configured language without a catalog yet (Kazakh before its translation lands)
    would show English under its name: it is left out until its catalog exists."""
    shown = {i18n.DEFAULT_LANGUAGE, *i18n.catalog_languages()}
    found = [lang for lang in settings.editions if lang in shown]
    found += sorted(shown - set(found) - ({i18n.DEFAULT_LANGUAGE} if found else set()))
    return found


def default_page_language(settings: Settings) -> str:
    return page_languages(settings)[0]


def language_name(code: str) -> str:
    """A language's name in itself ("Русский", "Қазақ тілі"), as a switch shows it."""
    if code in i18n.LANGUAGES:
        return i18n.LANGUAGES[code]
    name = i18n.babel_locale(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def requested(settings: Settings, value: str | None) -> str | None:
    """A `?lang=` value when it names a language we show, else None (anything else is ignored)."""
    if not value:
        return None
    code = value.strip().lower()[:16].replace("_", "-").split("-")[0]
    return code if code in page_languages(settings) else None


def negotiate(settings: Settings, lang_param: str | None, accept_language: str | None,
              preferred: str | None = None) -> str:
    """The page language in the order of the module docstring."""
    available = page_languages(settings)
    chosen = requested(settings, lang_param)
    if chosen:
        return chosen
    if preferred and preferred in available:
        return preferred
    return i18n.negotiate_language(accept_language, available, available[0])


def bind(request: Request, preferred: str | None = None) -> str:
    """Re-choose the page language with a known person's setting (`preferred`) and bind it for the rest
    of this request: the handler's own messages and the page it renders (web.templating reads it)."""
    settings: Settings = request.app.state.runtime.settings
    lang = negotiate(settings, request.query_params.get("lang"), request.headers.get("accept-language"), preferred)
    request.state.language = lang
    i18n.activate(lang)
    return lang


def chosen_explicitly(request: Request) -> str | None:
    """The `?lang=` of this request when valid: a form keeps it across its POST in a hidden field."""
    return requested(request.app.state.runtime.settings, request.query_params.get("lang"))


@dataclass(frozen=True)
class SwitchLink:
    code: str
    name: str
    url: str
    current: bool


def switch_links(request: Request, current: str) -> list[SwitchLink]:
    """Links to this same page in every other language we show (none when only one is configured).

    The path and its query are kept; only `lang` changes. Relative links: nothing leaves the site."""
    settings: Settings = request.app.state.runtime.settings
    languages = page_languages(settings)
    if len(languages) < 2:
        return []
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("lang", "done")]
    links = []
    for code in languages:
        query = urlencode([*params, ("lang", code)])
        links.append(SwitchLink(code, language_name(code), f"{request.url.path}?{query}", code == current))
    return links


class LanguageMiddleware:
    """Binds the negotiated page language for every request before any route runs (so error pages,
    the login page and the volunteer form all follow it) and says which headers chose it (`Vary`),
    so a shared cache never serves a Russian page to an English reader. Routes that know the person
    (a token, a desk account) re-bind with `bind(request, their_language)`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings: Settings = scope["app"].state.runtime.settings
        params = QueryParams(scope.get("query_string", b""))
        lang = negotiate(settings, params.get("lang"), Headers(scope=scope).get("accept-language"))
        scope.setdefault("state", {})[STATE_KEY] = lang
        i18n.activate(lang)

        async def send_with_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _v in headers}
                if b"vary" not in names:
                    headers.append((b"vary", b"Accept-Language"))
                else:
                    headers = [(k, v + b", Accept-Language") if k.lower() == b"vary" and b"accept-language" not in v.lower()
                               else (k, v) for k, v in headers]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_vary)
