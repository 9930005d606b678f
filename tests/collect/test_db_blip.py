"""A PostgreSQL restart in the middle of `newsletter collect`: the run rides it out, stores every
entry once, leaves no feed held, and prints its summary without a traceback. When the database stays
away longer than NEWSLETTER_DB_RETRY_SECONDS, the command ends with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.db import utcnow
from newsletter.models import Incident, Source
from tests.collect.conftest import SourcesWriter
from tests.collect.feedserver import FeedServer, Reply, rss

NEWSLETTER = str(Path(sys.executable).parent / "newsletter")
FEEDS = 40


def _feed(i: int) -> bytes:
    return rss([{"title": f"Outlet {i} report {j}: activist {i * 100 + j} detained", "link": f"https://o{i}.example/{j}",
                 "guid": f"{i}-{j}", "description": f"Report {j} of outlet {i}.",
                 "pubDate": "Wed, 18 Nov 2026 10:00:00 +0600"} for j in range(3)])


def test_a_postgresql_restart_mid_collect_stores_everything_once(
    db_backend: str, pg_server, server: FeedServer, write_sources: SourcesWriter, session: Session
) -> None:
    if db_backend != "postgresql" or pg_server is None or pg_server.datadir is None:
        pytest.skip("restarts the test's own PostgreSQL cluster")
    feeds = []
    for i in range(FEEDS):
        # Staggered answers spread the stores over ~2 s, so the restart falls in the middle.
        server.routes[f"/f{i}.xml"] = Reply(body=_feed(i), delay=0.04 * i)
        feeds.append({"name": f"outlet {i}", "url": server.url(f"/f{i}.xml")})
    write_sources(feeds)
    env = {**os.environ, "NEWSLETTER_DB_RETRY_SECONDS": "30", "NEWSLETTER_FETCH_TIMEOUT": "20",
           "NEWSLETTER_FETCH_PER_HOST": str(FEEDS)}
    proc = subprocess.Popen([NEWSLETTER, "collect"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while session.scalar(select(func.count()).select_from(Incident)) < 15 and time.monotonic() < deadline:
        time.sleep(0.05)
    pg_server.restart()
    out = proc.communicate(timeout=120)[0].decode()
    session.close()  # its connection died with the restart; a new one is checked out (pool_pre_ping)
    assert proc.returncode == 0, out
    assert "Traceback" not in out
    assert f"{FEEDS} fetched" in " ".join(out.split())
    assert session.scalar(select(func.count()).select_from(Incident)) == FEEDS * 3
    # Every feed's result was stored: none is left held by the run's claim.
    assert session.scalar(select(func.count()).select_from(Source).where(Source.last_success_at.is_(None))) == 0


def test_a_database_gone_for_longer_than_the_budget_ends_collect_with_one_line(
    db_backend: str, pg_server, server: FeedServer, write_sources: SourcesWriter, session: Session, cli
) -> None:
    if db_backend != "postgresql" or pg_server is None or pg_server.datadir is None:
        pytest.skip("stops the test's own PostgreSQL cluster")
    feeds = []
    for i in range(6):
        server.routes[f"/f{i}.xml"] = Reply(body=_feed(i), delay=1.0 + 0.1 * i)
        feeds.append({"name": f"outlet {i}", "url": server.url(f"/f{i}.xml")})
    write_sources(feeds)
    env = {**os.environ, "NEWSLETTER_DB_RETRY_SECONDS": "1"}
    proc = subprocess.Popen([NEWSLETTER, "collect"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    claimed = select(func.count()).select_from(Source).where(Source.next_check_at > utcnow() + timedelta(minutes=5))
    while session.scalar(claimed) < 6 and time.monotonic() < deadline:
        time.sleep(0.05)  # wait until the run has claimed the feeds; their answers are still on the way
    session.close()
    opts = pg_server.halt()
    try:
        out = proc.communicate(timeout=60)[0].decode()
    finally:
        pg_server.resume(opts)
    assert proc.returncode == 1, out
    assert "Traceback" not in out
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) <= 2 and "collect stopped: the database is unreachable" in out, out
    session.close()
    # The feeds it could not store were claimed while the database was away; they are held for the
    # claim lease (the release needs the database too) and the next run after that fetches them.
    assert session.scalar(select(func.count()).select_from(Incident)) == 0
