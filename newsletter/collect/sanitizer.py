"""Entry HTML made safe with nh3: no scripts, event handlers, javascript: URLs, iframes, styles or images.

Images are dropped as well: showing them on the desk would load third-party resources.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import nh3

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "cite", "code", "dd", "div", "dl", "dt", "em", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
}
DROP_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "noscript", "template", "svg", "math", "form", "select", "textarea", "button"}
URL_SCHEMES = {"http", "https", "mailto"}

_CLEANER = nh3.Cleaner(
    tags=TAGS,
    clean_content_tags=DROP_WITH_CONTENT,
    attributes={"a": {"href", "title"}, "abbr": {"title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}},
    url_schemes=URL_SCHEMES,
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
)
_TEXT = nh3.Cleaner(tags=set(), clean_content_tags=DROP_WITH_CONTENT, attributes={})
_HREF = re.compile(r'href="([^"]*)"')
_BLOCK_END = re.compile(r"</(p|div|li|h[2-6]|blockquote|tr|dd|dt|pre)>|<br\s*/?>", re.IGNORECASE)
_SPACE = re.compile(r"[ \t\r\f\v\u00a0]+")
_LINES = re.compile(r"\s*\n\s*")
_ODD_SPACE = re.compile(r"[\t\r\f\v\u00a0]")  # what _SPACE changes besides runs of two or more spaces


_ABSOLUTE = re.compile(r"(?i)^https?://[^/?#\s]")
_TAG = re.compile(r"<[^>]*>")


# A path from the site's root that urljoin only prefixes with the base's origin (no dot segments,
# empty segments, query, fragment or parameters): most links inside entries ("/tag/courts").
_ROOT_PATH = re.compile(r"/(?:[A-Za-z0-9\-_~:@!$&'()*+,=%]+(?:\.[A-Za-z0-9\-_~:@!$&'()*+,=%]*)*/?)*")
_DOTS = re.compile(r"/\.\.?(?:/|$)")


@lru_cache(maxsize=256)
def _origin(base: str) -> str | None:
    """scheme://host[:port] of an http(s) base URL as urljoin writes it, else None."""
    try:
        parts = urlsplit(base)
    except ValueError:
        return None
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def absolute_url(value: str, base: str | None) -> str | None:
    """Resolve a link against its base; None unless the result is http(s) or mailto."""
    value = value.strip()
    if _ABSOLUTE.match(value):
        return value  # the common case, without urljoin's cost
    if base and value[:1] == "/" and _ROOT_PATH.fullmatch(value) and not _DOTS.search(value):
        origin = _origin(base)
        if origin is not None:
            return origin + value  # what urljoin gives, without its cost (a link or more per paragraph)
    try:
        url = urljoin(base, value) if base else value
        return url if urlsplit(url).scheme.lower() in URL_SCHEMES else None
    except ValueError:  # e.g. "//[not-an-address]/": a broken link, not a reason to drop the whole feed
        return None


def sanitize_html(fragment: str, base: str | None) -> str:
    """Clean an entry's HTML and make its links absolute."""
    if not fragment:
        return ""
    cleaned = _CLEANER.clean(fragment)
    if "href=" not in cleaned:
        return cleaned.strip()

    def fix(match: re.Match[str]) -> str:
        url = absolute_url(html.unescape(match.group(1)), base)
        return f'href="{html.escape(url, quote=True)}"' if url else 'href="#"'

    return _HREF.sub(fix, cleaned).strip()


def to_text(fragment: str, *, sanitized: bool = False) -> str:
    """Plain text of an HTML fragment: paragraphs on their own lines, entities decoded.

    `sanitized=True` is for sanitize_html() output: well-formed, no scripts or comments, so
    dropping the tags is enough and a second nh3 pass is saved.
    """
    if not fragment:
        return ""
    if "<" not in fragment and "&" not in fragment:
        text = fragment
    else:
        marked = _BLOCK_END.sub("\\g<0>\n", fragment)  # a template, not a function: no Python call per match
        text = html.unescape(_TAG.sub("", marked) if sanitized else _TEXT.clean(marked))
    # Each step is skipped when it cannot change the text (most entries: single spaces, one paragraph).
    if "  " in text or _ODD_SPACE.search(text):
        text = _SPACE.sub(" ", text)
    # Stripping first leaves the same text: _LINES only rewrites whitespace, and whitespace at either end
    # goes anyway; a one-line text then needs no _LINES pass at all.
    text = text.strip()
    return _LINES.sub("\n", text) if "\n" in text else text


def one_line(text: str, limit: int) -> str:
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"


def excerpt(text: str, limit: int = 600) -> str:
    """The first sentences of a text, at most `limit` characters, cut at a sentence or word end."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    window = flat[:limit]
    end = max(window.rfind(". "), window.rfind("! "), window.rfind("? "))
    if end > limit // 3:
        return window[: end + 1]
    return one_line(flat, limit)
