"""Feeds may not reach internal addresses (server-side request forgery), unless loopback is allowed."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from newsletter.collect.guard import address_problem
from newsletter.collect.service import run_collect
from newsletter.runtime import Runtime
from tests.collect.conftest import SourcesWriter, source_named
from tests.collect.feedserver import FeedServer, Reply, rss


@pytest.fixture
def strict_runtime(runtime: Runtime) -> Iterator[Runtime]:
    """The same database with the production default: loopback feeds refused."""
    rt = Runtime(runtime.settings.model_copy(update={"allow_loopback_feeds": False}))
    yield rt
    rt.close()


def test_internal_addresses_are_refused_without_a_request(
    server: FeedServer, write_sources: SourcesWriter, strict_runtime: Runtime, session: Session
) -> None:
    server.routes["/f.xml"] = Reply(body=rss([{"title": "x", "link": "https://o.example/1", "guid": "1"}]))
    write_sources([
        {"name": "loopback", "url": server.url("/f.xml")},
        {"name": "private", "url": "http://10.0.0.7/feed.xml"},
        {"name": "metadata", "url": "http://169.254.169.254/latest/meta-data/"},
        {"name": "ipv6 loopback", "url": "http://[::1]:9/feed.xml"},
        {"name": "localhost", "url": "http://localhost:9/feed.xml"},
    ])
    report = run_collect(strict_runtime, force_all=True)
    assert len(report.failed) == 5
    assert server.hits("/f.xml") == [], "the refused feed must not even be requested"
    assert "loopback address" in (source_named(session, "loopback").last_error or "")
    assert "private address" in (source_named(session, "private").last_error or "")
    assert "link-local address" in (source_named(session, "metadata").last_error or "")
    assert "refused" in (source_named(session, "localhost").last_error or "")


def test_redirect_to_an_internal_address_is_refused(
    server: FeedServer, write_sources: SourcesWriter, runtime: Runtime, session: Session
) -> None:
    server.routes["/jump.xml"] = Reply(302, headers={"Location": "http://192.168.1.1/admin"})
    write_sources([{"name": "jump", "url": server.url("/jump.xml")}])
    report = run_collect(runtime, force_all=True)
    assert report.failed and "192.168.1.1 is a private address" in report.failed[0][1]


def test_only_http_and_https(write_sources: SourcesWriter, runtime: Runtime) -> None:
    write_sources([{"name": "file", "url": "file:///etc/passwd"}, {"name": "gopher", "url": "gopher://example.org/"}])
    report = run_collect(runtime, force_all=True)
    assert report.feeds_due == 0
    assert len(report.sources_errors) == 2 and all("not an http(s) URL" in e for e in report.sources_errors)


@pytest.mark.parametrize(("address", "allowed", "problem"), [
    ("127.0.0.1", True, None), ("127.0.0.1", False, "loopback"), ("::1", False, "loopback"),
    ("10.1.2.3", True, "private"), ("172.16.0.1", True, "private"), ("192.168.0.1", True, "private"),
    ("169.254.169.254", True, "link-local"), ("fe80::1", True, "link-local"), ("fd00::1", True, "private"),
    ("0.0.0.0", True, "unspecified"), ("100.64.0.1", True, "reserved"), ("224.0.0.1", True, "multicast"),
    ("::ffff:10.0.0.1", True, "private"), ("93.184.216.34", False, None), ("2606:4700::1111", False, None),
])
def test_address_classification(address: str, allowed: bool, problem: str | None) -> None:
    assert address_problem(ipaddress.ip_address(address), allow_loopback=allowed) == problem
