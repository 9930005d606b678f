"""The fast plain-RSS reader gives exactly what feedparser gives, and hands everything unusual to feedparser.

Each document is parsed twice through the whole parse step (parse_feed): once as the collector
does (fast reader first), once with the fast reader switched off (feedparser alone); the results
must be equal, field by field. The cases say which documents the fast reader must take (so its
speed is real) and which it must leave to feedparser.
"""

from __future__ import annotations

import dataclasses
import random
import sys
from pathlib import Path

import pytest

import newsletter.collect.plainrss as plainrss
from newsletter.collect.parser import ParsedFeed, parse_feed
from newsletter.collect.rules import FeedRules, GlobalRules

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from collect import make_feed  # noqa: E402  (the benchmark's feeds are the main fast-path case)

DATA = Path(__file__).parent / "data"
URL = "https://outlet.example/feeds/news.xml"
RSS_TYPE = {"content-type": "application/rss+xml; charset=utf-8"}
RULES = FeedRules(("detained", "court"), ("sport",), None, GlobalRules())


def _both(body: bytes, headers: dict[str, str], monkeypatch: pytest.MonkeyPatch,
          url: str = URL) -> tuple[ParsedFeed, ParsedFeed]:
    fast = parse_feed(body, headers, url, RULES)
    with monkeypatch.context() as m:
        m.setattr(plainrss, "read_plain_rss", lambda *a, **k: None)
        slow = parse_feed(body, headers, url, RULES)
    assert not slow.plain
    return fast, slow


def _same(fast: ParsedFeed, slow: ParsedFeed) -> None:
    assert dataclasses.replace(fast, seconds=0.0, plain=False) == dataclasses.replace(slow, seconds=0.0, plain=False)


def _rss(items: str, channel: str = "<title>Outlet</title><link>https://outlet.example/</link><language>kk</language>",
         decl: str = '<?xml version="1.0" encoding="utf-8"?>', root: str = '<rss version="2.0">') -> bytes:
    return f"{decl}{root}<channel>{channel}{items}</channel></rss>".encode("utf-8")


def _item(title: str = "Lawyer detained in Almaty", link: str = "https://outlet.example/news/1",
          guid: str = '<guid isPermaLink="false">n-1</guid>',
          description: str = "&lt;p&gt;The court &lt;a href=\"/docs/1\"&gt;ruled&lt;/a&gt;.&lt;/p&gt;",
          date: str = "Wed, 18 Nov 2026 10:01:00 +0600", extra: str = "") -> str:
    return (f"<item><title>{title}</title><link>{link}</link>{guid}<pubDate>{date}</pubDate>"
            f"<description>{description}</description>{extra}</item>")


TAKEN = {
    "plain": _rss(_item() + _item(title="Second", link="https://outlet.example/news/2", guid="<guid>n-2</guid>")),
    "entities and markup in the title": _rss(_item(title="Trial &lt;b&gt;postponed&lt;/b&gt; &amp; moved")),
    "cdata description": _rss(_item(description="<![CDATA[<p>Police <b>searched</b> the office.</p><script>x()</script>]]>")),
    "relative link and permalink guid": _rss(_item(link="/news/7?id=3&amp;amp;x=1", guid="<guid>/news/7</guid>")),
    "query string link": _rss(_item(link="https://outlet.example/n?a=1&amp;b=2&amp;c;d")),
    "double-encoded utf-8 title": _rss(_item(title="CafÃ© owner fined")),
    "cp1252 quotes": _rss(_item(title="&#147;Foreign agent&#148; law &#150; vote")),
    "cyrillic": _rss(_item(title="Задержан активист", description="Полиция задержала активиста &amp; журналиста.")),
    "empty fields": _rss("<item><title></title><link>https://o.example/x</link><description/></item>"),
    "no title, no guid, no date": _rss("<item><link>https://o.example/y</link><description>Only text.</description></item>"),
    "odd dates": _rss(_item(date="2026-11-18T10:00:00Z") + _item(date="not a date", link="https://o.example/2")
                      + _item(date="Wed, 18 Nov 2026 10:01:00 EST", link="https://o.example/3")),
    "whitespace around values": _rss(_item(title="\n   Spaced   title \n", link="  https://o.example/sp  ")),
    "javascript link": _rss(_item(link="javascript:alert(1)")),
    "atom self link, image and namespaces declared": _rss(
        _item(), channel='<title>Outlet</title><atom:link href="https://outlet.example/feed" rel="self" type="application/rss+xml"/>'
        '<image><title>Logo</title><url>https://outlet.example/l.png</url><link>https://outlet.example/</link></image>'
        "<link>https://outlet.example/</link>",
        root='<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/">'),
    "relative channel link": _rss(_item(), channel="<title>T &amp; Co</title><link>/home</link>"),
    "category, author, comments": _rss(_item(extra="<category>courts</category><author>desk@o.example (Desk)</author>"
                                             "<comments>/c/1</comments>")),
    "no declaration": _rss(_item(), decl=""),
}

LEFT = {
    "content:encoded": (_rss(_item(extra="<content:encoded><![CDATA[<p>Full</p>]]></content:encoded>"),
                             root='<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'), RSS_TYPE),
    "dc:date": (_rss(_item(extra="<dc:date>2026-11-18</dc:date>"), root='<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'),
                RSS_TYPE),
    "xml:base": (_rss(_item(), root='<rss version="2.0" xml:base="https://other.example/">'), RSS_TYPE),
    "xml:lang": (_rss(_item(), root='<rss version="2.0" xml:lang="ru">'), RSS_TYPE),
    "latin-1 declared": (_rss(_item(), decl='<?xml version="1.0" encoding="iso-8859-1"?>'), {"content-type": "application/rss+xml"}),
    "text/xml": (_rss(_item()), {"content-type": "text/xml"}),
    "content-language header": (_rss(_item()), {**RSS_TYPE, "content-language": "ru"}),
    "doctype": (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x "y">]>' + _rss(_item(title="&x;"), decl=""), RSS_TYPE),
    "comment in a title": (_rss(_item(title="A <!-- c --> B")), RSS_TYPE),
    "markup inside a field": (_rss(_item(title="A <b>B</b>")), RSS_TYPE),
    "repeated title": (_rss(_item(extra="<title>Again</title>")), RSS_TYPE),
    "missing link": (_rss("<item><title>T</title><guid>https://o.example/g</guid></item>"), RSS_TYPE),
    "typed description": (_rss(_item().replace("<description>", '<description type="text/plain">')), RSS_TYPE),
    "enclosure": (_rss(_item(extra='<enclosure url="https://o.example/a.mp3" length="1" type="audio/mpeg"/>')), RSS_TYPE),
    "rss 0.91": (_rss(_item(), root='<rss version="0.91">'), RSS_TYPE),
    "no items": (_rss(""), RSS_TYPE),
    "malformed": (_rss(_item()).replace(b"</channel>", b""), RSS_TYPE),
    "atom": (b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
             b'<entry><title>T</title><link href="/n/1"/><id>1</id><updated>2026-11-18T10:00:00Z</updated></entry></feed>',
             {"content-type": "application/atom+xml"}),
    "an element beside the channel": ((DATA / "plain.xml").read_bytes().replace(b'<rss version="2.0">', b'<rss version="2.0"><x/>'), RSS_TYPE),
}


@pytest.mark.parametrize("name", sorted(TAKEN))
def test_plain_rss_is_read_fast_and_exactly_as_feedparser_reads_it(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = _both(TAKEN[name], RSS_TYPE, monkeypatch)
    assert fast.plain, "the fast reader should have taken this feed"
    assert fast.error is None and fast.entries
    _same(fast, slow)


@pytest.mark.parametrize("name", sorted(LEFT))
def test_anything_unusual_is_left_to_feedparser(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    body, headers = LEFT[name]
    fast, slow = _both(body, headers, monkeypatch)
    assert not fast.plain
    _same(fast, slow)


@pytest.mark.parametrize("short", [True, False])
def test_the_benchmark_feeds_are_read_fast_and_identically(short: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(6):
        fast, slow = _both(make_feed(i, 50, short), RSS_TYPE, monkeypatch, url=f"http://127.0.0.1:8080/f{i}.xml")
        assert fast.plain and len(fast.entries) == 50
        _same(fast, slow)


@pytest.mark.parametrize("path", sorted(p.name for p in DATA.iterdir()))
def test_the_test_feeds_parse_the_same_either_way(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    body = (DATA / path).read_bytes()
    fast, slow = _both(body, {"content-type": "application/rss+xml"}, monkeypatch)
    _same(fast, slow)
    if path in ("plain.xml", "many_entries.xml"):
        assert fast.plain


def test_a_hostile_document_is_refused_by_both(monkeypatch: pytest.MonkeyPatch) -> None:
    """Entity expansion (billion laughs) never reaches lxml: a DOCTYPE goes to feedparser's bounded parser."""
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            b'<rss version="2.0"><channel><title>&lol2;</title><item><title>&lol2;</title><link>https://o.example/</link></item></channel></rss>')
    assert plainrss.read_plain_rss(bomb, RSS_TYPE, URL) is None
    fast, slow = _both(bomb, RSS_TYPE, monkeypatch)
    _same(fast, slow)


PIECES = ["&amp;", "&lt;b&gt;x&lt;/b&gt;", "<![CDATA[<i>x</i> & y]]>", "Ã©", "&#147;", "&#x9d;", "\u00a0", " ", "\n", "Россия",
          "&amp;amp;", "a;b", "&quot;", "mailto:x@y.example", "//cdn.example/x", "?q=1&amp;r=2", "#frag", "../up",
          "HTTP://UPPER.example/", "https://ex.ample/%zz", "ftp://x.example/", "data:text/html,hi", "\t", "😀", "\u0085",
          "\u2028", "detained", "sport", "&lt;p&gt;para&lt;/p&gt;", "&lt;a href='/r'&gt;l&lt;/a&gt;", "&lt;script&gt;x&lt;/script&gt;",
          "/rel/path", "x\r\ny", "&#13;"]
DATES = ["Wed, 18 Nov 2026 10:01:00 +0600", "18 Nov 2026", "2026-11-18", "Wed, 31 Feb 2026 10:00:00 GMT", "", " junk ",
         "Thu, 01 Jan 1970 00:00:00 GMT", "Sun, 18 Nov 2046 10:01:00 +0000", "Wed, 18 Nov 26 10:01 EDT"]


def _random_feed(rng: random.Random) -> bytes:
    """An RSS 2.0 document of the kind the fast reader takes, its fields made of awkward pieces."""
    def text() -> str:
        return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 4)))

    items = []
    for _ in range(rng.randint(1, 4)):
        parts = [f"<link>{rng.choice(['https://o.example/', '', '/n/', 'http://o.example/a?'])}{text()}</link>"]
        if rng.random() < 0.9:
            parts.append(f"<title>{text()}</title>")
        if rng.random() < 0.6:
            parts.append(f'<guid isPermaLink="{rng.choice(["true", "false", "TRUE"])}">{text()}</guid>'
                         if rng.random() < 0.5 else f"<guid>{text()}</guid>")
        if rng.random() < 0.8:
            parts.append(f"<pubDate>{rng.choice(DATES)}</pubDate>")
        if rng.random() < 0.9:
            parts.append(f"<description>{text()}{text()}</description>")
        rng.shuffle(parts)
        items.append("<item>" + "".join(parts) + "</item>")
    channel = f"<title>{text()}</title><link>{rng.choice(['https://o.example/', '/', ''])}{text()}</link>"
    if rng.random() < 0.5:
        channel += f"<language>{rng.choice(['ru', ' kk ', '', 'en-US'])}</language>"
    return _rss("".join(items), channel=channel)


def test_random_awkward_feeds_read_the_same_either_way(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(18)
    for _ in range(300):
        body = _random_feed(rng)
        fast, slow = _both(body, RSS_TYPE, monkeypatch, url=rng.choice([URL, "http://127.0.0.1:8080/f.xml"]))
        assert fast.plain, body
        _same(fast, slow)
