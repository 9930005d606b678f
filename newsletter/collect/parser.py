"""Feed bytes -> entries, with feedparser on the fetched bytes (it never fetches anything itself).

Runs in worker processes when there are many feeds, so everything CPU-bound per entry happens
here: encoding repair, parsing, sanitising, plain text, hashing, relevance and title words.
Inputs and outputs are plain picklable values.
"""

from __future__ import annotations

import calendar
import codecs
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from newsletter.collect.dedupe import content_hash, normalise_title, significant_words
from newsletter.collect.rules import FeedRules, judge
from newsletter.collect.sanitizer import absolute_url, excerpt, one_line, sanitize_html, to_text
from newsletter.urls import canonical_url

MAX_ENTRIES = 500  # the default of NEWSLETTER_COLLECT_MAX_ENTRIES
# A byte-order mark names the encoding for certain (XML 1.0 appendix F); UTF-32 LE before UTF-16 LE.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
         (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"), (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"))
_TEXT_DECL = re.compile(r"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']", re.IGNORECASE)
# Servers that do not know .xml/.rss send feeds as text/plain or octet-stream; the bytes still say XML.
_GENERIC_TYPES = ("text/plain", "application/octet-stream")
_XML_START = re.compile(rb"^(\xef\xbb\xbf)?\s*<(\?xml|rss[\s>]|feed[\s>]|rdf:RDF[\s>])")
_XML_DECL = re.compile(rb"^(\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']", re.IGNORECASE)
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_OLDEST = datetime(1990, 1, 1, tzinfo=timezone.utc)
_HTTP_URL = re.compile(r"(?i)https?://")  # urlsplit would say scheme http(s): most links, without its cost


class ParsedEntry(NamedTuple):
    """One entry, ready to store. A named tuple: the storing process unpickles tens of thousands of
    these a run from the parse workers, and a tuple unpickles in half the time of a slotted dataclass."""

    guid: str | None
    link: str | None
    canonical_url: str | None
    title: str
    summary: str
    body: str
    published_at: datetime | None
    content_hash: str
    matched: tuple[str, ...]
    relevant: bool
    excluded_by: str | None
    suggested_section: str | None
    words: tuple[str, ...]  # for near-duplicates: only a relevant entry is compared, so others carry ()
    normal_title: str = ""  # the title as near-duplicates compare it ("" when not relevant)


@dataclass(slots=True)
class ParsedFeed:
    entries: list[ParsedEntry] = field(default_factory=list)
    title: str | None = None
    site_url: str | None = None
    language: str | None = None
    error: str | None = None  # the feed could not be used at all
    warning: str | None = None  # the feed was used, but something is wrong with it
    seconds: float = 0.0
    plain: bool = False  # read by the fast plain-RSS reader (lxml) rather than feedparser


def _declared_encoding(body: bytes, headers: dict[str, str]) -> str | None:
    m = _CHARSET.search(headers.get("content-type", ""))
    if m:
        return m.group(1)
    m = _XML_DECL.match(body[:512])
    return m.group(2).decode("ascii") if m else None


def _as_utf8(text: str, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """Text re-encoded as UTF-8 with a declaration and Content-Type that say so."""
    text = re.sub(r"^(\ufeff)?\s*<\?xml[^>]*\?>", '<?xml version="1.0" encoding="utf-8"?>', text, count=1)
    fixed = dict(headers)
    ctype = headers.get("content-type", "application/xml").split(";", 1)[0]
    fixed["content-type"] = f"{ctype}; charset=utf-8"
    return text.encode("utf-8"), fixed


def _from_bom(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str], str | None] | None:
    """A UTF-16/UTF-32 feed with a byte-order mark, as UTF-8; None without such a mark or when it lies."""
    for bom, codec, label in _BOMS:
        if body.startswith(bom):
            try:
                text = body.decode(codec)
            except UnicodeDecodeError:
                return None
            m = _TEXT_DECL.match(text)
            declared = m.group(1) if m else None
            family = label.replace("-", "").lower()
            warning = None
            if declared and not declared.replace("-", "").replace("_", "").lower().startswith(family):
                warning = f"declared encoding {declared} contradicts the byte-order mark; decoded as {label}"
            fixed_body, fixed_headers = _as_utf8(text, headers)
            return fixed_body, fixed_headers, warning
    return None


def repair_encoding(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str], str | None]:
    """If the declared (or default UTF-8) encoding cannot decode the bytes, detect the real one and re-encode as UTF-8.

    A UTF-16/UTF-32 byte-order mark settles the question first: the ASCII-only declaration check
    cannot read such a document's declaration and used to call a correct feed wrongly declared.
    """
    from_bom = _from_bom(body, headers)
    if from_bom is not None:
        return from_bom
    declared = _declared_encoding(body, headers) or "utf-8"
    try:
        body.decode(declared)
        return body, headers, None
    except LookupError:
        pass
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes  # only for a wrongly declared feed: not at every command's start

    best = from_bytes(body[:200_000]).best()
    if best is None or best.encoding is None:
        return body, headers, None
    try:
        text = body.decode(best.encoding, errors="replace")
    except LookupError:
        return body, headers, None
    fixed_body, fixed = _as_utf8(text, headers)
    return fixed_body, fixed, f"declared encoding {declared} is wrong; decoded as {best.encoding}"


def _xml_media_type(body: bytes, headers: dict[str, str]) -> dict[str, str]:
    """Call a generic Content-Type (text/plain, octet-stream) XML when the bytes are XML, keeping its charset."""
    ctype, _sep, params = headers.get("content-type", "").partition(";")
    if ctype.strip().lower() not in _GENERIC_TYPES or not _XML_START.match(body[:1024]):
        return headers
    return {**headers, "content-type": "application/xml" + (f";{params}" if params else "")}


def _when(entry: Any, now: datetime) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                when = datetime.fromtimestamp(calendar.timegm(value), tz=timezone.utc)
            except (OverflowError, ValueError, TypeError):
                continue
            if _OLDEST <= when <= now + timedelta(days=1):
                return when
    return None


def _looks_like_html(body: bytes, headers: dict[str, str]) -> bool:
    head = body[:2048].lower()
    return "html" in headers.get("content-type", "").lower() or b"<html" in head or b"<!doctype html" in head


def parse_feed(body: bytes, headers: dict[str, str], url: str, rules: FeedRules, language: str | None = None,
               max_entries: int = MAX_ENTRIES) -> ParsedFeed:
    """Parse one feed's bytes; never raises for the feed's own faults (they come back as error/warning)."""
    started = time.process_time()
    try:
        result = _parse(body, headers, url, rules, language, max_entries)
    except Exception as exc:  # a parser crash on hostile input must stay this feed's problem
        result = ParsedFeed(error=f"parser failed: {type(exc).__name__}: {exc}"[:500])
    result.seconds = time.process_time() - started
    return result


def _parse(body: bytes, headers: dict[str, str], url: str, rules: FeedRules, language: str | None,
           max_entries: int = MAX_ENTRIES) -> ParsedFeed:
    if not body.strip():
        return ParsedFeed(error="empty response body")
    # here, not at the top: a run whose feeds are all unchanged never parses
    from newsletter.collect.plainrss import read_plain_rss

    body, headers, warning = repair_encoding(body, headers)
    headers = _xml_media_type(body, headers)
    response_headers = {**headers, "content-location": headers.get("content-location", url)}
    # Plain UTF-8 RSS 2.0 is read with lxml, exactly as feedparser reads it; everything else by feedparser.
    d = read_plain_rss(body, response_headers, url) if warning is None else None
    plain = d is not None
    if d is None:
        import feedparser

        d = feedparser.parse(body, response_headers=response_headers, sanitize_html=False, resolve_relative_uris=False)
    entries_raw = d.get("entries", [])
    if not entries_raw and (d.get("bozo") or not d.get("version")):
        if _looks_like_html(body, headers) and not d.get("version"):
            return ParsedFeed(error=f"not a feed: got an HTML page ({headers.get('content-type', 'no content-type')})")
        if d.get("bozo"):
            return ParsedFeed(error=f"not a feed: malformed XML: {d.get('bozo_exception')}"[:500])
        return ParsedFeed(error="not a feed: no RSS, Atom or RDF document found")
    if d.get("bozo"):
        exc = d.get("bozo_exception")
        kind = type(exc).__name__
        if "Encoding" not in kind:
            warning = f"malformed feed, {len(entries_raw)} entries recovered: {exc}"[:500]
    feed_info = d.get("feed", {})
    site = feed_info.get("link")
    feed_lang = language or (feed_info.get("language") or None)
    now = datetime.now(timezone.utc)
    entries = []
    for e in entries_raw[:max_entries]:
        entries.append(_entry(e, url, rules, now))
    if len(entries_raw) > max_entries:
        warning = warning or (f"only the first {max_entries} of {len(entries_raw)} entries were read "
                              "(raise NEWSLETTER_COLLECT_MAX_ENTRIES, or max_entries for this feed in sources.toml)")
    return ParsedFeed(
        entries=entries,
        title=one_line(to_text(feed_info.get("title", "")), 500) or None,
        site_url=absolute_url(site, url) if site else None,
        language=(feed_lang or None) and str(feed_lang)[:16],
        warning=warning,
        plain=plain,
    )


def _entry(e: Any, feed_url: str, rules: FeedRules, now: datetime) -> ParsedEntry:
    link_raw = e.get("link") or ""
    link = absolute_url(link_raw, feed_url) if link_raw else None
    if link and not _HTTP_URL.match(link) and urlsplit(link).scheme not in ("http", "https"):
        link = None
    contents = e.get("content") or []
    if contents:
        raw_html = "\n".join(c.get("value", "") for c in contents)
        ctype = contents[0].get("type", "text/html")
        base = contents[0].get("base") or link or feed_url
    else:
        raw_html = e.get("summary", "") or ""
        ctype = (e.get("summary_detail") or {}).get("type", "text/html")
        base = link or feed_url
    if ctype == "text/plain":
        raw_html = "<p>" + raw_html.replace("&", "&amp;").replace("<", "&lt;").replace("\n\n", "</p><p>") + "</p>"
    body = sanitize_html(raw_html, base)
    text = to_text(body, sanitized=True)
    title = one_line(to_text(e.get("title", "") or ""), 500) or one_line(text, 80) or "(untitled)"
    summary_src = to_text(e.get("summary", "") or "") if contents else text
    guid = (e.get("id") or "").strip()[:1000] or None
    digest = content_hash(title, text)
    verdict = judge(rules, f"{title}\n{text}")
    return ParsedEntry(
        guid=guid,
        link=link[:2000] if link else None,
        canonical_url=canonical_url(link)[:2000] if link else None,
        title=title,
        summary=excerpt(summary_src or text),
        body=body,
        published_at=_when(e, now),
        content_hash=digest,
        matched=verdict.matched,
        relevant=verdict.relevant,
        excluded_by=verdict.excluded_by,
        suggested_section=verdict.suggested_section,
        # Computed here, in the parse workers, rather than in the process that stores (the run's bottleneck).
        words=significant_words(title, text) if verdict.relevant else (),
        normal_title=normalise_title(title) if verdict.relevant else "",
    )
