"""With a controllable clock, the weekly draft and a scheduled send fire at the right local time across DST."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from newsletter.flows import jobs
from newsletter.clock import ManualClock
from newsletter.scheduler import Scheduler
from sqlalchemy import select

from newsletter.models import Issue
from tests.scheduler.helpers import UTC, Recorder, add_subscribers, make_issue, runs, simulate, spec

BERLIN = ZoneInfo("Europe/Berlin")


def test_weekly_draft_fires_at_nine_local_before_and_after_autumn_change(make_runtime, session) -> None:
    rt = make_runtime(timezone="Europe/Berlin", draft_weekday="fri", draft_time="09:00")
    body = Recorder()
    clock = ManualClock(datetime(2026, 10, 5, 12, 0, tzinfo=UTC))
    sched = Scheduler(rt, clock=clock, inline=True, lease_seconds=86400,
                      registry={"draft": spec("draft", body, jobs.draft_schedule, grace=jobs.DRAFT_GRACE)})
    sched.start()
    simulate(sched, clock, datetime(2026, 11, 8, tzinfo=UTC))
    sched.shutdown()

    local = [c.astimezone(BERLIN) for c in body.calls]
    assert [d.date().isoformat() for d in local] == ["2026-10-09", "2026-10-16", "2026-10-23", "2026-10-30", "2026-11-06"]
    assert all((d.hour, d.minute, d.weekday()) == (9, 0, 4) for d in local)
    # The same local time is a different instant once summer time has ended.
    assert [c.hour for c in body.calls] == [7, 7, 7, 8, 8]
    assert [r.outcome for r in runs(session, "draft")] == ["ok"] * 5


def test_draft_in_the_repeated_hour_runs_once_and_in_the_skipped_hour_runs_once(make_runtime, session) -> None:
    rt = make_runtime(timezone="Europe/Berlin", draft_weekday="sun", draft_time="02:30")
    body = Recorder()
    clock = ManualClock(datetime(2026, 10, 20, tzinfo=UTC))
    sched = Scheduler(rt, clock=clock, inline=True, lease_seconds=86400,
                      registry={"draft": spec("draft", body, jobs.draft_schedule, grace=jobs.DRAFT_GRACE)})
    sched.start()
    simulate(sched, clock, datetime(2026, 11, 2, tzinfo=UTC))
    autumn = list(body.calls)
    clock.set(datetime(2027, 3, 23, tzinfo=UTC))  # as after months of downtime
    simulate(sched, clock, datetime(2027, 4, 5, tzinfo=UTC))
    sched.shutdown()

    # 2026-10-25 02:30 happens twice in Berlin; APScheduler's CronTrigger would fire at both.
    assert [c.isoformat() for c in autumn] == ["2026-10-25T00:30:00+00:00", "2026-11-01T01:30:00+00:00"]
    spring = [c for c in body.calls if c.year == 2027]
    # 2027-03-28 02:30 does not exist in Berlin: it runs once, at 03:30 summer time.
    assert [c.astimezone(BERLIN).strftime("%m-%d %H:%M") for c in spring] == ["03-28 03:30", "04-04 02:30"]
    # The runs missed while down were coalesced into one, which was too late (grace 24 h) to run.
    outcomes = [r.outcome for r in runs(session, "draft")]
    assert outcomes == ["ok", "ok", "missed", "ok", "ok"]
    assert "2027-03-21" in runs(session, "draft")[2].detail


def test_scheduled_send_goes_out_at_the_scheduled_local_minute_after_spring_change(make_runtime, session, smtp) -> None:
    rt = make_runtime(timezone="Europe/Berlin", smtp_url=smtp.url, send_grace_minutes=60)
    # An editor scheduled Monday 08:00 Berlin time, the day after the clocks went forward.
    make_issue(session, scheduled_for=datetime(2027, 3, 29, 8, 0, tzinfo=BERLIN))
    add_subscribers(session, 3)
    observed: list[tuple[datetime, int]] = []
    real = jobs.JOBS["send"]

    def watched(ctx: jobs.JobContext) -> str:
        observed.append((ctx.clock.now(), len(smtp.messages)))
        return real.body(ctx)

    clock = ManualClock(datetime(2027, 3, 29, 5, 50, tzinfo=UTC))
    sched = Scheduler(rt, clock=clock, inline=True, lease_seconds=3600,
                      registry={"send": replace(real, body=watched)})
    sched.start()
    simulate(sched, clock, datetime(2027, 3, 29, 6, 5, tzinfo=UTC))
    sched.shutdown()

    assert len(smtp.messages) == 3
    assert sorted(r for m in smtp.messages for r in m.rcpt_tos) == [f"reader{i}@example.org" for i in range(3)]
    before = [n for t, n in observed if t < datetime(2027, 3, 29, 6, 0, tzinfo=UTC)]
    assert before and set(before) == {0}  # nothing left before 08:00 local (06:00 UTC)
    sent_run = next(r for r in runs(session, "send") if r.outcome == "ok")
    assert sent_run.started_at == datetime(2027, 3, 29, 6, 0, tzinfo=UTC)
    assert "3 sent" in sent_run.detail and "now sent" in sent_run.detail
    session.expire_all()
    assert session.scalar(select(Issue.state)) == "sent"
