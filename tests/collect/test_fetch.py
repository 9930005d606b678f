"""Fetching politely and within bounds: conditional GET, redirects, Retry-After, backoff, limits, User-Agent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session

from newsletter.collect.outcome import CollectReport
from newsletter.collect.schedule import backoff_seconds, parse_retry_after
from newsletter.db import utcnow
from tests.collect.conftest import SourcesWriter, source_named
from tests.collect.feedserver import FeedServer, Reply, rss

FEED = rss([{"title": "Activist detained", "link": "https://o.example/1", "guid": "1", "description": "x"}])


def test_unchanged_feed_costs_one_304_and_no_parsing(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport], session: Session
) -> None:
    server.routes["/f.xml"] = Reply(body=FEED, etag='"v1"')
    write_sources([{"name": "f", "url": server.url("/f.xml")}])
    first = collect()
    assert first.fetched == 1 and first.new_incidents == 1
    assert source_named(session, "f").etag == '"v1"'
    second = collect()
    assert second.not_modified == 1 and second.fetched == 0 and second.seen == 0
    hits = server.hits("/f.xml")
    assert len(hits) == 2 and hits[1].headers.get("if-none-match") == '"v1"'


def test_last_modified_is_sent_back(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport], session: Session
) -> None:
    stamp = "Wed, 18 Nov 2026 10:00:00 GMT"
    server.routes["/lm.xml"] = lambda h: (
        Reply(304, headers={}) if h.headers.get("If-Modified-Since") == stamp
        else Reply(body=FEED, headers={"Content-Type": "application/rss+xml", "Last-Modified": stamp})
    )
    write_sources([{"name": "lm", "url": server.url("/lm.xml")}])
    collect()
    assert collect().not_modified == 1
    assert source_named(session, "lm").last_modified == stamp


def test_permanent_redirect_is_remembered_temporary_is_not(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport], session: Session
) -> None:
    server.routes["/old.xml"] = Reply(301, headers={"Location": "/new.xml"})
    server.routes["/new.xml"] = Reply(body=FEED)
    server.routes["/tmp.xml"] = Reply(302, headers={"Location": "/tmp-target.xml"})
    server.routes["/tmp-target.xml"] = Reply(body=rss([{"title": "Other", "link": "https://o.example/2", "guid": "2"}]))
    write_sources([{"name": "moved", "url": server.url("/old.xml")}, {"name": "temp", "url": server.url("/tmp.xml")}])
    assert collect().fetched == 2
    assert source_named(session, "moved").moved_to == server.url("/new.xml")
    assert source_named(session, "temp").moved_to is None
    collect()
    assert len(server.hits("/old.xml")) == 1, "a permanent redirect is followed once, then the new URL is used"
    assert len(server.hits("/tmp.xml")) == 2
    # the configured URL changing in the file forgets the remembered redirect
    write_sources([{"name": "moved", "url": server.url("/new.xml") + "?v=2"}, {"name": "temp", "url": server.url("/tmp.xml")}])
    collect()
    assert source_named(session, "moved").moved_to is None


def test_too_many_redirects(server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport],
                            session: Session) -> None:
    for i in range(8):
        server.routes[f"/r{i}.xml"] = Reply(302, headers={"Location": f"/r{i + 1}.xml"})
    write_sources([{"name": "chain", "url": server.url("/r0.xml")}])
    report = collect()
    assert report.failed and "redirects" in report.failed[0][1]


def test_user_agent_names_the_collector(server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport]) -> None:
    server.routes["/ua.xml"] = Reply(body=FEED)
    write_sources([{"name": "ua", "url": server.url("/ua.xml")}])
    collect()
    ua = server.hits("/ua.xml")[0].headers["user-agent"]
    assert ua.startswith("newsletter-collector/") and "http://127.0.0.1:8000" in ua


def test_errors_back_off_exponentially_and_success_resets(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport], session: Session
) -> None:
    server.routes["/flaky.xml"] = Reply(500, b"down", {"Content-Type": "text/plain"})
    write_sources([{"name": "flaky", "url": server.url("/flaky.xml"), "every": "10m"}])
    delays = []
    for _ in range(3):
        before = utcnow()
        collect()
        source = source_named(session, "flaky")
        delays.append((source.next_check_at - before).total_seconds())
    assert source.error_count == 3
    assert 590 <= delays[0] <= 610 and 1190 <= delays[1] <= 1210 and 2390 <= delays[2] <= 2410
    server.routes["/flaky.xml"] = Reply(body=FEED)
    collect()
    source = source_named(session, "flaky")
    assert source.error_count == 0 and source.last_error is None


def test_only_due_feeds_are_fetched_without_all(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport]
) -> None:
    server.routes["/due.xml"] = Reply(body=FEED)
    write_sources([{"name": "due", "url": server.url("/due.xml")}])
    assert collect(force_all=False).feeds_due == 1
    report = collect(force_all=False)
    assert report.feeds_due == 0 and report.feeds_total == 1
    assert collect(force_all=True).feeds_due == 1


def test_per_host_limit_is_respected(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport]
) -> None:
    for i in range(6):
        server.routes[f"/slow{i}.xml"] = Reply(body=rss([{"title": f"t{i}", "link": f"https://s.example/{i}", "guid": str(i)}]), delay=0.3)
    write_sources([{"name": f"slow{i}", "url": server.url(f"/slow{i}.xml")} for i in range(6)])
    report = collect()
    assert report.fetched == 6
    assert server.max_in_flight <= 4, "fetch_per_host defaults to 4"
    assert server.max_in_flight >= 2, "feeds are fetched concurrently"


def test_schedule_helpers() -> None:
    now = utcnow()
    assert backoff_seconds(600, 0) == 600 and backoff_seconds(600, 4) == 4800
    assert backoff_seconds(3600, 20) == 24 * 3600
    assert parse_retry_after("120", now) == 120
    later = now + timedelta(hours=2)
    assert 7190 <= (parse_retry_after(later.strftime("%a, %d %b %Y %H:%M:%S GMT"), now) or 0) <= 7200
    assert parse_retry_after("soon", now) is None


def test_due_feeds_are_claimed_so_a_concurrent_run_skips_them(runtime, write_sources: SourcesWriter, session: Session) -> None:
    from newsletter.collect.service import due_sources, sync_file

    write_sources([{"name": "a", "url": "https://a.example/feed"}, {"name": "b", "url": "https://b.example/feed"}])
    sync_file(runtime, runtime.settings.sources)
    with runtime.session() as first:
        assert len(due_sources(first, claim=True)) == 2
    with runtime.session() as second:
        assert due_sources(second, claim=True) == []
        assert len(due_sources(second, force_all=True)) == 2
    assert source_named(session, "a").next_check_at > utcnow() + timedelta(minutes=14)


def test_unchanged_errors_and_redirects_keep_the_connection_alive(server: FeedServer, runtime) -> None:
    """A 304, an error page or a redirect is read to its end, so the next feed of the host reuses the
    connection: an unchanged feed used to cost a new TCP (and, for real outlets, TLS) connection."""
    import asyncio

    from newsletter.collect.fetcher import Fetcher, FetchRequest

    server.routes["/a.xml"] = Reply(body=FEED, etag='"a"')
    server.routes["/b.xml"] = Reply(body=FEED, etag='"b"')
    server.routes["/gone.xml"] = Reply(410, b"gone for good", {"Content-Type": "text/plain"})
    server.routes["/busy.xml"] = Reply(503, b"<html>try later</html>" * 20, {"Content-Type": "text/html"})
    server.routes["/old.xml"] = Reply(301, b"moved", {"Location": "/a.xml", "Content-Type": "text/plain"})

    async def fetch_all() -> list[str]:
        async with Fetcher(runtime.settings) as fetcher:
            out = []
            for path, etag in (("/a.xml", '"a"'), ("/b.xml", '"b"'), ("/gone.xml", None), ("/busy.xml", None),
                               ("/old.xml", None), ("/b.xml", None)):
                result = await fetcher.fetch(FetchRequest(1, "f", server.url(path), etag))
                out.append(result.status)
            return out

    assert asyncio.run(fetch_all()) == ["not_modified", "not_modified", "gone", "error", "ok", "ok"]
    assert len(server.requests) == 7  # the redirect is followed
    assert len({seen.peer for seen in server.requests}) == 1, [s.peer for s in server.requests]


def test_an_unchanged_feed_keeps_its_warning_and_clears_its_errors(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport], session: Session
) -> None:
    """304s are stored in one UPDATE per batch: the same bookkeeping as a fetched feed's."""
    many = rss([{"title": f"Item {i}", "link": f"https://o.example/{i}", "guid": str(i), "description": "x"} for i in range(5)])
    server.routes["/capped.xml"] = Reply(body=many, etag='"c1"')
    server.routes["/flaky.xml"] = Reply(body=FEED, etag='"f1"')
    server.routes["/old.xml"] = Reply(301, b"", {"Location": "/new.xml"})
    server.routes["/new.xml"] = Reply(body=FEED, etag='"n1"')
    write_sources([{"name": "capped", "url": server.url("/capped.xml"), "max_entries": 2, "every": "10m"},
                   {"name": "flaky", "url": server.url("/flaky.xml")}, {"name": "moved", "url": server.url("/old.xml")}])
    collect()
    warning = source_named(session, "capped").last_error
    assert warning and warning.startswith("only the first 2 of 5 entries")
    flaky = source_named(session, "flaky")
    flaky.error_count, flaky.last_error = 2, "HTTP 500"
    session.commit()
    before = utcnow()
    report = collect()
    assert report.not_modified == 3
    session.expire_all()
    capped, flaky, moved = (source_named(session, n) for n in ("capped", "flaky", "moved"))
    assert capped.last_error == warning and capped.error_count == 0 and capped.etag == '"c1"'
    assert 590 <= (capped.next_check_at - before).total_seconds() <= 610
    assert capped.last_success_at >= before and capped.last_checked_at >= before
    assert flaky.error_count == 0 and flaky.last_error is None
    assert moved.moved_to == server.url("/new.xml") and moved.etag == '"n1"'


def test_idle_connections_beyond_the_limit_are_closed_least_recently_used_first() -> None:
    """Connections are kept alive per outlet, but at most `max_idle` of them wait idle: beyond that the
    least recently used one is closed, so a run over thousands of outlets holds few sockets."""
    import asyncio

    from newsletter.collect.client import Client
    from tests.collect.feedserver import feed_server

    with feed_server() as a, feed_server() as b, feed_server() as c:
        for srv in (a, b, c):
            srv.routes["/f.xml"] = Reply(body=FEED)

        async def run() -> list[int]:
            async with Client(allow_loopback=True, headers=[], connect_timeout=5, read_timeout=5, max_idle=2) as client:
                for srv in (a, b, a, c, a):
                    async with client.stream(srv.url("/f.xml")) as resp:
                        assert resp.status_code == 200
                        assert b"".join([chunk async for chunk in resp.chunks()]) == FEED
                return [port for _scheme, _host, port in client.idle_origins()]

        assert asyncio.run(run()) == [c.port, a.port]  # b, least recently used, was closed when c's was kept
        assert len({seen.peer for seen in a.requests}) == 1  # a's one connection served its three requests
