"""Parsing fetched bytes: formats, dates in UTC, relative links, encodings, hostile documents."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from newsletter.collect.parser import parse_feed
from newsletter.collect.rules import FeedRules

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="kk" xml:base="https://ngo.example/kz/">
  <title>NGO</title><link href="https://ngo.example/"/>
  <entry><title type="html">Trial &lt;b&gt;postponed&lt;/b&gt;</title><link href="news/7"/><id>tag:ngo.example,2026:7</id>
    <updated>2026-11-18T23:30:00-05:00</updated>
    <content type="html">&lt;p&gt;See &lt;a href="../docs/verdict.pdf"&gt;the verdict&lt;/a&gt;.&lt;/p&gt;</content></entry>
  <entry><title>Plain one</title><link href="https://ngo.example/kz/news/8"/><id>8</id>
    <content type="text">A &lt;b&gt; is not markup here.

Second paragraph.</content></entry>
</feed>"""


def test_atom_dates_links_language() -> None:
    feed = parse_feed(ATOM, {"content-type": "application/atom+xml"}, "https://ngo.example/feed", FeedRules())
    assert feed.error is None and feed.title == "NGO" and feed.language == "kk"
    first, second = feed.entries
    assert first.title == "Trial postponed"
    assert first.link == "https://ngo.example/kz/news/7"
    assert first.published_at == datetime(2026, 11, 19, 4, 30, tzinfo=timezone.utc)
    assert 'href="https://ngo.example/docs/verdict.pdf"' in first.body
    assert first.guid == "tag:ngo.example,2026:7"
    assert "&lt;b&gt;" in second.body and "<b>" not in second.body
    assert second.published_at is None


def test_configured_language_wins() -> None:
    assert parse_feed(ATOM, {}, "https://ngo.example/feed", FeedRules(), language="ru").language == "ru"


def test_charset_from_http_header_is_used() -> None:
    body = '<?xml version="1.0"?><rss version="2.0"><channel><title>Т</title><item><title>Суд над блогером</title></item></channel></rss>'
    feed = parse_feed(body.encode("koi8-r"), {"content-type": "application/rss+xml; charset=koi8-r"}, "https://x.example/", FeedRules())
    assert feed.warning is None and feed.entries[0].title == "Суд над блогером"


def test_absurd_dates_are_dropped() -> None:
    body = (b'<rss version="2.0"><channel><title>t</title><item><title>a</title><pubDate>Mon, 01 Jan 2091 00:00:00 GMT</pubDate></item>'
            b"<item><title>b</title><pubDate>Mon, 01 Jan 1900 00:00:00 GMT</pubDate></item></channel></rss>")
    feed = parse_feed(body, {}, "https://x.example/", FeedRules())
    assert [e.published_at for e in feed.entries] == [None, None]


def test_quadratic_blowup_entities_stay_bounded() -> None:
    entity = "x" * 50_000
    body = (f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "{entity}">]><rss version="2.0"><channel><title>t</title>'
            + "<item><title>" + "&a;" * 2000 + "</title></item></channel></rss>").encode()
    started = time.monotonic()
    feed = parse_feed(body, {}, "https://x.example/", FeedRules())
    assert time.monotonic() - started < 10
    assert all(len(e.title) <= 500 for e in feed.entries)


def test_non_http_links_are_dropped() -> None:
    body = b'<rss version="2.0"><channel><title>t</title><item><title>a</title><link>javascript:alert(1)</link></item></channel></rss>'
    entry = parse_feed(body, {}, "https://x.example/", FeedRules()).entries[0]
    assert entry.link is None and entry.canonical_url is None
