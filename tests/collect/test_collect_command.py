"""`newsletter collect` end to end: progress, summary, many feeds parsed on worker processes."""

from __future__ import annotations

import os
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.collect.outcome import CollectReport
from newsletter.models import Incident, IncidentSource
from tests.collect.conftest import SourcesWriter
from tests.collect.feedserver import FeedServer, Reply, rss


def _feed(i: int, n: int = 5) -> bytes:
    return rss([
        {"title": f"Outlet {i} report {j}: activist {i * 100 + j} detained", "link": f"https://o{i}.example/{j}",
         "guid": f"{i}-{j}", "description": f"&lt;p&gt;Report {j} of outlet {i}.&lt;/p&gt;",
         "pubDate": "Wed, 18 Nov 2026 10:00:00 +0600"}
        for j in range(n)
    ])


def test_collect_command_prints_a_summary_and_survives_a_failing_feed(
    server: FeedServer, write_sources: SourcesWriter, cli, session: Session
) -> None:
    server.routes["/ok.xml"] = Reply(body=_feed(1))
    server.routes["/down.xml"] = Reply(503, b"maintenance", {"Content-Type": "text/plain", "Retry-After": "60"})
    write_sources([{"name": "ok", "url": server.url("/ok.xml")}, {"name": "down", "url": server.url("/down.xml")}])
    out = " ".join(cli("collect", "--all").output.split())
    assert "failed down: HTTP 503" in out
    assert "2 feed(s)" in out and "1 fetched, 0 not modified, 1 failed" in out and "5 new incident(s)" in out
    assert "duplicates: 0 same link as another feed" in out
    again = " ".join(cli("collect").output.split())
    assert "no feed is due" in again
    assert session.scalar(select(func.count()).select_from(Incident)) == 5


def test_collect_with_explicit_sources_file(server: FeedServer, write_sources: SourcesWriter, cli, tmp_path) -> None:
    server.routes["/ok.xml"] = Reply(body=_feed(2, 2))
    path = write_sources([{"name": "elsewhere", "url": server.url("/ok.xml")}], path=tmp_path / "other.toml")
    out = " ".join(cli("collect", "--sources", str(path)).output.split())
    assert "1 fetched" in out and "2 new incident(s)" in out
    missing = cli("collect", "--sources", str(tmp_path / "nope.toml"), expect=2)
    assert "does not exist" in missing.output


def test_many_feeds_are_parsed_on_worker_processes(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport], session: Session
) -> None:
    feeds = []
    for i in range(10):
        server.routes[f"/f{i}.xml"] = Reply(body=_feed(i))
        feeds.append({"name": f"outlet {i}", "url": server.url(f"/f{i}.xml")})
    write_sources(feeds)
    progress: list[tuple[int, int]] = []
    report = collect(progress=lambda done, total, outcome: progress.append((done, total)))
    assert report.parse_processes == len(os.sched_getaffinity(0)) or len(os.sched_getaffinity(0)) == 1
    assert report.fetched == 10 and report.new_incidents == 50 and not report.failed
    assert progress[-1] == (10, 10) and len(progress) == 10
    # dates are normalised to UTC: 10:00 +0600 is 04:00 UTC
    published = session.scalars(select(IncidentSource.published_at)).first()
    assert published is not None and published.hour == 4 and published.utcoffset().total_seconds() == 0
    assert set(session.scalars(select(IncidentSource.origin))) == {"feed"}  # the only kind published unchecked


def test_feeds_enable_brings_back_a_gone_feed(
    server: FeedServer, write_sources: SourcesWriter, cli, session: Session
) -> None:
    server.routes["/gone.xml"] = Reply(410, b"gone", {"Content-Type": "text/plain"})
    write_sources([{"name": "gone", "url": server.url("/gone.xml")}])
    cli("collect", expect=1)  # its only feed failed
    assert "disabled" in cli("feeds").output
    assert "no feed named 'nope'" in cli("feeds", "enable", "nope", expect=1).output
    server.routes["/gone.xml"] = Reply(body=_feed(3, 1))
    cli("feeds", "enable", "gone")
    out = " ".join(cli("collect").output.split())
    assert "1 fetched" in out and "1 new incident(s)" in out


def test_collect_exits_1_when_every_feed_it_tried_failed(server: FeedServer, write_sources: SourcesWriter, cli,
                                                        session: Session) -> None:
    """For cron and monitoring: a run where nothing could be fetched is a failure, said in one line."""
    server.routes["/down.xml"] = Reply(503, b"maintenance", {"Content-Type": "text/plain"})
    server.routes["/broken.xml"] = Reply(404, b"not found", {"Content-Type": "text/plain"})
    write_sources([{"name": "down", "url": server.url("/down.xml")}, {"name": "broken", "url": server.url("/broken.xml")}])
    result = cli("collect", "--all", expect=1)
    lines = [line for line in result.output.splitlines() if "error:" in line]
    assert lines == ["error: all 2 feed(s) tried failed, nothing was collected (reasons above)"]
    # Nothing due is not a failure, and one feed succeeding is enough for exit 0.
    cli("collect")
    server.routes["/down.xml"] = Reply(body=_feed(3, 1))
    cli("collect", "--all")


def test_a_database_at_the_head_revision_is_not_migrated_again(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Every `newsletter collect` from cron migrates first; at the head revision that is one query, not alembic."""
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine, text

    from newsletter.db import _at_head, _single_head, alembic_config, upgrade

    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    assert [_single_head()] == ScriptDirectory.from_config(alembic_config(url)).get_heads()
    assert not _at_head(url)  # a new database
    upgrade(url)
    assert _at_head(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0014'"))
    assert not _at_head(url)  # one revision behind: alembic runs
    engine.dispose()


def test_fetching_waits_for_storing_when_too_many_feeds_are_pending(
    server: FeedServer, write_sources: SourcesWriter, collect: Callable[..., CollectReport], monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Parsed feeds wait in memory until stored: at most MAX_PENDING of them, however many feeds a run has."""
    import newsletter.collect.service as service

    monkeypatch.setattr(service, "MAX_PENDING", 2)
    monkeypatch.setattr(service, "BATCH", 1)
    for i in range(9):
        server.routes[f"/f{i}.xml"] = Reply(body=_feed(i, 2))
    write_sources([{"name": f"f{i}", "url": server.url(f"/f{i}.xml")} for i in range(9)])
    report = collect()
    assert report.fetched == 9 and report.new_incidents == 18
    assert server.max_in_flight <= 2
