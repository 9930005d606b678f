"""The real domain jobs, run the way the scheduler runs them (in a worker thread, recorded)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from newsletter.models import Incident
from newsletter.flows import jobs
from newsletter.clock import SystemClock
from newsletter.flows.status import gather
from tests.scheduler.helpers import UTC, runs
from tests.support.servers import serve_directory

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Test outlet</title><link>https://outlet.example/</link><description>d</description>
<item><title>Activist detained after a picket</title><link>https://outlet.example/a</link><guid>a</guid>
<pubDate>{date}</pubDate><description>Police detained an activist.</description></item>
<item><title>Journalist's flat searched</title><link>https://outlet.example/b</link><guid>b</guid>
<pubDate>{date}</pubDate><description>A search took place.</description></item>
</channel></rss>"""


def _in_thread(spec: jobs.JobSpec, ctx: jobs.JobContext) -> jobs.RunResult:
    out: list[jobs.RunResult] = []
    thread = threading.Thread(target=lambda: out.append(jobs.run_job(spec, ctx)))
    thread.start()
    thread.join(timeout=120)
    return out[0]


def test_collect_job_fetches_due_feeds_each_at_its_own_interval(runtime, session, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    date = (datetime.now(UTC) - timedelta(hours=2)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    (site / "feed.xml").write_text(RSS.format(date=date))
    with serve_directory(site) as base:
        runtime.settings.sources.write_text(
            f'[[feed]]\nname = "Outlet"\nurl = "{base}/feed.xml"\nevery = "30m"\n\n'
            f'[[feed]]\nname = "Gone away"\nurl = "{base}/missing.xml"\nevery = "30m"\n'
        )
        ctx = jobs.JobContext(runtime, SystemClock())
        first = _in_thread(jobs.JOBS["collect"], ctx)
        second = _in_thread(jobs.JOBS["collect"], ctx)
    assert first.outcome == "ok", first.detail
    assert first.detail.startswith("2 of 2 feed(s) due: 1 fetched, 0 not modified, 1 failed; 2 new incident(s)")
    assert second.outcome == "skipped" and second.detail == "no feed due (2 enabled)"
    assert session.scalar(select(func.count()).select_from(Incident)) == 2
    assert [r.outcome for r in runs(session, "collect")] == ["ok", "skipped"]
    status = gather(runtime, now=datetime.now(UTC))
    states = {s.name: s.state for s in status.sources}
    assert states == {"Outlet": "ok", "Gone away": "failing"}
    assert status.failing_for_a_day == []  # failing, but not yet for a day


def test_draft_job_picks_up_accepted_incidents_of_the_week(runtime, session) -> None:
    from newsletter.models import Section

    section = session.scalar(select(Section).where(Section.slug == "persecution"))
    now = datetime.now(UTC)
    session.add(Incident(title="Activist detained", summary="Detained after a picket.", origin="editor",
                         state="accepted", occurred_on=now.astimezone(runtime.settings.tz).date(), sections=[section]))
    session.flush()
    result = _in_thread(jobs.JOBS["draft"], jobs.JobContext(runtime, SystemClock()))
    assert result.outcome == "ok", result.detail
    assert "drafted with 1 item(s)" in result.detail
