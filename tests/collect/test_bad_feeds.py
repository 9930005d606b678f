"""Every bad feed from issue 3, served by a real loopback server in ONE run: each is recorded as that
feed's error (or warning, when entries could still be read) while the good feeds are collected."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.collect.outcome import CollectReport
from newsletter.db import utcnow
from newsletter.models import Incident, IncidentSource
from tests.collect.conftest import FETCH_TIMEOUT, MAX_BYTES, SourcesWriter, source_named
from tests.collect.feedserver import FeedServer, Reply, gzip_bomb, rss

LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 2 else "") + ";") * 10}">'.encode() for i in range(2, 10)
    )
    + b']><rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>'
    + b"<link>https://laughs.example/1</link></item></channel></rss>"
)
GOOD = rss([
    {"title": "Activist detained in Almaty", "link": "https://good.example/1", "guid": "g1",
     "description": "Police detained an activist.", "pubDate": "Wed, 18 Nov 2026 10:00:00 +0300"},
    {"title": "Journalist summoned for questioning", "link": "https://good.example/2", "guid": "g2",
     "description": "A journalist was summoned."},
])
WRONG_ENCODING = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Новости</title>'
    "<item><title>Задержан активист в Алматы</title><link>https://enc.example/1</link>"
    "<description>Полиция задержала активиста по статье 174.</description></item></channel></rss>"
).encode("cp1251")
HOSTILE = rss([{
    "title": "Entry with a payload", "link": "https://hostile.example/1", "guid": "h1",
    "description": "&lt;p onclick=&quot;steal()&quot;&gt;Read &lt;a href=&quot;javascript:alert(1)&quot;&gt;this&lt;/a&gt;"
                   " and &lt;a href=&quot;/more&quot;&gt;more&lt;/a&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
                   "&lt;iframe src=&quot;https://evil.example/&quot;&gt;&lt;/iframe&gt;"
                   "&lt;img src=&quot;https://tracker.example/p.gif&quot;&gt;&lt;span style=&quot;color:red&quot;&gt;red&lt;/span&gt;&lt;/p&gt;",
}], link="https://hostile.example/")
REPEATED_GUIDS = rss([
    {"title": f"Court hearing number {i}", "link": f"https://rep.example/{i}", "guid": "same-guid", "description": f"Hearing {i}."}
    for i in range(3)
])
MISSING_GUIDS = rss([
    {"title": f"Search at the home of activist {i}", "link": f"https://miss.example/{i}", "description": f"Search {i}."}
    for i in range(3)
])

CASES: dict[str, tuple[Reply, str]] = {
    # name: (what the server answers, text expected in the feed's last_error)
    "malformed": (Reply(body=b'<?xml version="1.0"?><rss version="2.0"><channel><title>Broken</title>'
                            b"<item><title>One</title><link>https://mal.example/1</link></itemm></channel></rss>"), "malformed"),
    "not xml": (Reply(body=b"just some text, not a feed"), "not a feed"),
    "wrong encoding": (Reply(body=WRONG_ENCODING, headers={"Content-Type": "application/rss+xml"}), "declared encoding utf-8 is wrong"),
    "html page": (Reply(body=b"<!DOCTYPE html><html><head><title>Home</title></head><body><h1>Hi</h1></body></html>",
                        headers={"Content-Type": "text/html; charset=utf-8"}), "HTML page"),
    "empty": (Reply(body=b""), "empty response body"),
    "too large": (Reply(body=b"<rss>" + b"x" * (MAX_BYTES + 10) + b"</rss>"), "exceeds the limit"),
    "gzip bomb": (Reply(body=b"", headers={"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"}), "after decompression"),
    "billion laughs": (Reply(body=LAUGHS), "malformed"),
    "never answers": (Reply(hang=True), "timeout"),
    "redirect loop": (Reply(301, headers={"Location": "/redirect-loop-b"}), "redirect loop"),
    "404": (Reply(404, b"nope", {"Content-Type": "text/plain"}), "HTTP 404"),
    "410": (Reply(410, b"gone", {"Content-Type": "text/plain"}), "HTTP 410"),
    "429": (Reply(429, b"slow down", {"Content-Type": "text/plain", "Retry-After": "7200"}), "HTTP 429"),
    "500": (Reply(500, b"boom", {"Content-Type": "text/plain"}), "HTTP 500"),
}


def _path(name: str) -> str:
    return "/" + name.replace(" ", "-") + ".xml"


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return gzip_bomb(64 * 1024 * 1024)


def test_each_bad_feed_is_its_own_error_and_the_rest_succeeds(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport], session: Session, bomb: bytes
) -> None:
    for name, (reply, _) in CASES.items():
        server.routes[_path(name)] = reply
    server.routes[_path("gzip bomb")].body = bomb
    server.routes["/redirect-loop-b"] = Reply(301, headers={"Location": _path("redirect loop")})
    for name, body in {"good": GOOD, "hostile": HOSTILE, "repeated guids": REPEATED_GUIDS, "missing guids": MISSING_GUIDS}.items():
        server.routes[_path(name)] = Reply(body=body)
    names = [*CASES, "good", "hostile", "repeated guids", "missing guids"]
    write_sources([{"name": n, "url": server.url(_path(n))} for n in names])

    started = time.monotonic()
    report = collect()
    elapsed = time.monotonic() - started

    assert elapsed < FETCH_TIMEOUT + 15, "a hanging feed must not hold up the run beyond its timeout"
    failed = dict(report.failed)
    for name, (_, expected) in CASES.items():
        source = source_named(session, name)
        assert source.last_error and expected.lower() in source.last_error.lower(), (name, source.last_error)
    hard_failures = set(CASES) - {"malformed", "wrong encoding", "billion laughs"}
    assert set(failed) == hard_failures
    for name in hard_failures:
        assert source_named(session, name).error_count == 1
    assert report.fetched == 7  # good, hostile, repeated, missing + the three recovered with a warning

    good = source_named(session, "good")
    assert good.error_count == 0 and good.last_error is None and good.last_success_at is not None
    assert good.next_check_at is not None and good.next_check_at > utcnow() + timedelta(minutes=50)

    gone = source_named(session, "410")
    assert gone.enabled is False and "410" in (gone.disabled_reason or "")
    limited = source_named(session, "429")
    assert limited.next_check_at is not None and limited.next_check_at >= utcnow() + timedelta(seconds=7000)

    # recovered feeds: entries kept, text decoded correctly
    enc = session.scalar(select(Incident).join(IncidentSource).where(IncidentSource.url == "https://enc.example/1"))
    assert enc is not None and enc.title == "Задержан активист в Алматы"
    laughs = session.scalar(select(Incident).join(IncidentSource).where(IncidentSource.url == "https://laughs.example/1"))
    assert laughs is not None and len(laughs.title) < 100, "entities must not be expanded"

    # hostile HTML is neutralised, relative links made absolute
    hostile = session.scalar(select(Incident).join(IncidentSource).where(IncidentSource.url == "https://hostile.example/1"))
    assert hostile is not None
    body = hostile.body
    for bad in ("<script", "onclick", "javascript:", "<iframe", "<img", "style=", "tracker.example", "evil.example"):
        assert bad not in body, bad
    assert 'href="https://hostile.example/more"' in body
    assert "Read" in body and "red" in body

    # repeated GUIDs do not collapse different entries; missing GUIDs fall back to links
    rep = session.scalars(select(IncidentSource).where(IncidentSource.source_id == source_named(session, "repeated guids").id)).all()
    assert len(rep) == 3
    miss = session.scalars(select(IncidentSource).where(IncidentSource.source_id == source_named(session, "missing guids").id)).all()
    assert len(miss) == 3

    # a second run stores nothing twice
    session.commit()
    again = collect()
    assert again.new_incidents == 0
    assert again.seen >= 3 + 3 + 2
