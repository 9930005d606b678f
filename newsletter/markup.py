"""An item's text as editors write it (Markdown) and as readers get it (sanitised HTML, plain text).

A pure base module, so the issues domain (the snapshot), render (which re-cleans what it is given)
and the desk's preview share one definition of what Markdown may produce. It is deliberately
small: paragraphs, emphasis, links, lists, quotes and line breaks. Headings, images (a remote image
would be a third-party resource in every mailbox), code blocks, rules and raw HTML stay literal text,
so a `#` or an indented line in a news summary never turns into markup by surprise.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from newsletter.urls import without_tracking

TAGS = frozenset({"p", "br", "em", "strong", "a", "ul", "ol", "li", "blockquote"})
ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer"
FORMATS = ("plain", "markdown")

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable(
    ["code", "fence", "hr", "heading", "lheading", "html_block", "html_inline", "image", "backticks"])


def _untracked(tag: str, attribute: str, value: str) -> str:
    """Every href we let through loses its campaign and click-tracking parameters (urls.py's list)."""
    return without_tracking(value) if tag == "a" and attribute == "href" else value


_CLEANER = nh3.Cleaner(tags=set(TAGS), attributes={k: set(v) for k, v in ATTRIBUTES.items()},
                       url_schemes=set(URL_SCHEMES), link_rel=LINK_REL, strip_comments=True,
                       attribute_filter=_untracked)
_LINK = re.compile(r'<a href="([^"]*)"[^>]*>(.*?)</a>', re.S)


@dataclass(frozen=True)
class Rendered:
    """One text three ways: HTML for the email and the web, plain paragraphs for the text part and the
    consent check, and the link targets (checked too: a URL can carry a name)."""

    html: str
    text: str
    hrefs: list[str] = field(default_factory=list)


def clean(html: str) -> str:
    """The only HTML an item may carry, whoever produced it (render cleans the snapshot's again)."""
    return _CLEANER.clean(html).strip()


def render_markdown(source: str, *, words: Callable[[str], str] | None = None,
                    drop_link: Callable[[str], bool] | None = None) -> Rendered:
    """Markdown to sanitised HTML and to plain text (links show their words; the address is in `hrefs`).

    `words` rewrites the text the reader sees (the consent redactor replacing protected names), never
    the syntax, so a replaced name cannot break a link; `drop_link` unlinks targets that must not be
    published (an address naming a protected person), keeping the link's words.
    """
    tokens = _MD.parse(source or "")
    for token in tokens:
        if token.type == "inline" and token.children:
            token.children = _rewrite(token.children, words, drop_link)
    html = clean(_MD.renderer.render(tokens, _MD.options, {}))
    return Rendered(html, _plain(tokens), hrefs(html))


def _rewrite(children: list[Token], words: Callable[[str], str] | None,
             drop_link: Callable[[str], bool] | None) -> list[Token]:
    kept: list[Token] = []
    dropped_depth: list[bool] = []  # per open link: was it dropped?
    for child in children:
        if child.type == "link_open":
            drop = bool(drop_link and drop_link(str(child.attrGet("href") or "")))
            dropped_depth.append(drop)
            if drop:
                continue
        elif child.type == "link_close" and dropped_depth:
            if dropped_depth.pop():
                continue
        elif child.type == "text" and words is not None:
            child.content = words(child.content)
        kept.append(child)
    return kept


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>&!|~])")
_MD_LINE_START = re.compile(r"^(\s*)(?:([-+#>=])|(\d{1,9})([.)]))", re.M)
_BODY_LINK = re.compile(r'<a\s[^>]*?href="([^"]*)"[^>]*>(.*?)</a>', re.S | re.I)
_TAG = re.compile(r"<[^>]*>")


def escape_markdown(text: str) -> str:
    """Plain text as Markdown that renders to exactly these words: a drafted text turned Markdown (to
    carry its links) must not grow emphasis, lists or links out of a stray `*`, `-` or `1.`."""
    escaped = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_LINE_START.sub(lambda m: m.group(1) + ("\\" + m.group(2) if m.group(2)
                                                      else m.group(3) + "\\" + m.group(4)), escaped)


def body_links(html: str) -> list[tuple[str, str]]:
    """(words, address) of the absolute http(s) links of sanitised HTML (an incident's body), in order,
    addresses without tracking parameters; links without words or elsewhere than http(s) are left out."""
    out = []
    for m in _BODY_LINK.finditer(html or ""):
        url = _unescape(m.group(1)).strip()
        words = " ".join(html_lib.unescape(_TAG.sub("", m.group(2))).split())  # &#39; and &nbsp; too
        if words and urlsplit(url).scheme.lower() in ("http", "https") and urlsplit(url).netloc:
            out.append((words, without_tracking(url)))
    return out


def link_words(text: str, links: list[tuple[str, str]]) -> str | None:
    """Plain paragraphs as Markdown in which the words of each link (body_links) become that link, at
    their first place in the text; None when no link's words occur (the text then stays plain as it was).

    This is how a drafted item keeps the links its source text had ("Read the union's statement.")
    although drafting works on plain text.
    """
    paragraphs = text.split("\n\n")
    escaped = [escape_markdown(p) for p in paragraphs]
    placed = False
    for words, url in links:
        target = escape_markdown(words)
        for n, p in enumerate(escaped):
            at = _find_outside_links(p, target)
            if at >= 0:
                link = f"[{target}](<{url.replace('>', '%3E').replace('<', '%3C').replace(' ', '%20')}>)"
                escaped[n] = p[:at] + link + p[at + len(target):]
                placed = True
                break
    return "\n\n".join(escaped) if placed else None


def _find_outside_links(markdown: str, target: str) -> int:
    """The first place of `target` in Markdown made by link_words, outside any link already placed."""
    start = 0
    while True:
        at = markdown.find(target, start)
        if at < 0:
            return -1
        opened = markdown.rfind("[", 0, at)
        closed = markdown.rfind(")", 0, at)
        if opened < 0 or (markdown[opened - 1:opened] == "\\") or closed > opened:
            return at
        start = at + 1


def hrefs(html: str) -> list[str]:
    """The link targets of clean item HTML, in order."""
    return [_unescape(m.group(1)) for m in _LINK.finditer(html)]


def unlink(html: str, drop: Callable[[str], bool]) -> str:
    """Links whose target `drop` refuses become their words: an address that names a protected person
    (the snapshot), or another site than ours (the email links to our own site only, as for sources)."""
    return _LINK.sub(lambda m: m.group(2) if drop(_unescape(m.group(1))) else m.group(0), html)


def offsite(base_url: str) -> Callable[[str], bool]:
    """A test for links that leave the site at `base_url`."""
    ours = urlsplit(base_url).netloc.lower()
    return lambda href: urlsplit(href).netloc.lower() != ours


def _unescape(value: str) -> str:
    return value.replace("&amp;", "&").replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")


def _plain(tokens: list[Token]) -> str:
    """Paragraphs separated by blank lines; list items as paragraphs of their own with their marker."""
    paragraphs: list[str] = []
    lists: list[list[int]] = []  # per open list: [next number] for ordered, [] for bullets
    quote = 0
    marker = ""
    for token in tokens:
        if token.type == "bullet_list_open":
            lists.append([])
        elif token.type == "ordered_list_open":
            lists.append([int(token.attrGet("start") or 1)])
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif token.type == "list_item_open" and lists:
            current = lists[-1]
            if current:
                marker, current[0] = f"{current[0]}. ", current[0] + 1
            else:
                marker = "• "
            marker = "  " * (len(lists) - 1) + marker
        elif token.type == "blockquote_open":
            quote += 1
        elif token.type == "blockquote_close":
            quote -= 1
        elif token.type == "inline":
            words = " ".join(_inline_text(token).split())
            if words:
                paragraphs.append("> " * quote + marker + words)
                marker = ""
    return "\n\n".join(paragraphs)


def _inline_text(token: Token) -> str:
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)
