"""Collector messages tell the truth: no false encoding warning for UTF-16/32 feeds with a byte-order mark,
well-formed feeds served as text/plain are read, and the entry cap is a setting (per feed in sources.toml)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.collect.outcome import CollectReport
from newsletter.models import Incident, IncidentSource
from tests.collect.conftest import SourcesWriter, source_named
from tests.collect.feedserver import FeedServer, Reply

DATA = Path(__file__).parent / "data"
TITLES = {"Задержан активист в Алматы", "Обыск у журналиста в Шымкенте"}


def _serve(server: FeedServer, name: str, content_type: str) -> str:
    server.routes[f"/{name}"] = Reply(body=(DATA / name).read_bytes(), headers={"Content-Type": content_type})
    return server.url(f"/{name}")


def _titles(session: Session, source_id: int) -> set[str]:
    return set(session.scalars(select(Incident.title).join(IncidentSource, IncidentSource.incident_id == Incident.id)
                               .where(IncidentSource.source_id == source_id)))


@pytest.mark.parametrize(("name", "content_type"), [
    ("utf16_bom.xml", "application/rss+xml"),
    ("utf16be_bom.xml", "application/rss+xml"),
    ("utf32_bom.xml", "application/xml"),
    # The byte-order mark wins over a wrong charset in the HTTP header (as XML and browsers have it).
    ("utf16_bom.xml", "application/rss+xml; charset=utf-8"),
])
def test_utf16_and_utf32_with_a_bom_raise_no_false_warning(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport], session: Session,
    name: str, content_type: str,
) -> None:
    write_sources([{"name": "steppe", "url": _serve(server, name, content_type)}])
    report = collect()
    assert report.failed == [] and report.warnings == [], (report.failed, report.warnings)
    source = source_named(session, "steppe")
    assert source.title == "Степные права — мониторинг"
    assert _titles(session, source.id) == TITLES


def test_a_declaration_contradicting_the_bom_is_reported(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport], session: Session,
) -> None:
    write_sources([{"name": "steppe", "url": _serve(server, "utf16_bom_declared_latin1.xml", "application/xml")}])
    report = collect()
    assert report.warnings == [("steppe", "declared encoding ISO-8859-1 contradicts the byte-order mark; decoded as UTF-16")]
    assert _titles(session, source_named(session, "steppe").id) == TITLES


@pytest.mark.parametrize("content_type", ["text/plain", "text/plain; charset=utf-8", "application/octet-stream"])
def test_well_formed_feed_served_as_text_plain_is_read_without_complaint(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport], session: Session,
    content_type: str,
) -> None:
    write_sources([{"name": "plain", "url": _serve(server, "plain.xml", content_type)}])
    report = collect()
    assert report.failed == [] and report.warnings == [], (report.failed, report.warnings)
    assert _titles(session, source_named(session, "plain").id) == TITLES


def test_plain_text_that_is_no_feed_is_still_refused(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport], session: Session,
) -> None:
    server.routes["/notes.txt"] = Reply(body=b"Meeting notes: nothing here is XML.\n", headers={"Content-Type": "text/plain"})
    write_sources([{"name": "notes", "url": server.url("/notes.txt")}])
    report = collect()
    assert len(report.failed) == 1 and report.failed[0][1].startswith("not a feed")


def _count(session: Session, name: str) -> int:
    return session.scalar(select(func.count()).select_from(IncidentSource)
                          .where(IncidentSource.source_id == source_named(session, name).id)) or 0


def test_entry_cap_defaults_to_500_and_says_how_to_raise_it(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport], session: Session,
) -> None:
    write_sources([{"name": "big", "url": _serve(server, "many_entries.xml", "application/rss+xml")}])
    report = collect()
    assert report.warnings == [("big", "only the first 500 of 620 entries were read "
                                       "(raise NEWSLETTER_COLLECT_MAX_ENTRIES, or max_entries for this feed in sources.toml)")]
    assert _count(session, "big") == 500


def test_entry_cap_setting_and_per_feed_override(
    server: FeedServer, write_sources: SourcesWriter, make_runtime, session: Session,
) -> None:
    from newsletter.collect.service import run_collect

    url = _serve(server, "many_entries.xml", "application/rss+xml")
    rt = make_runtime(collect_max_entries=1000)
    write_sources([{"name": "big", "url": url}, {"name": "capped", "url": url + "?c", "max_entries": 20}])
    server.routes["/many_entries.xml?c"] = server.routes["/many_entries.xml"]
    report = run_collect(rt, force_all=True)
    assert report.failed == []
    assert report.warnings == [("capped", "only the first 20 of 620 entries were read "
                                          "(raise NEWSLETTER_COLLECT_MAX_ENTRIES, or max_entries for this feed in sources.toml)")]
    assert _count(session, "big") == 620
    assert source_named(session, "capped").max_entries == 20


def test_bad_max_entries_in_sources_file_is_named(write_sources: SourcesWriter, cli) -> None:
    write_sources([{"name": "big", "url": "https://big.example/feed.xml", "max_entries": 0}])
    out = " ".join(cli("feeds", "sync", expect=1).output.split())
    assert "field 'max_entries': must be a whole number from 1 to 100000" in out
