"""Jobs under a controllable clock: failures are logged and retried without stopping the others,
missed runs follow the documented policy, and the send grace leaves late issues to an editor."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from newsletter.models import Issue, JobRun
from newsletter.flows import jobs
from newsletter.clock import ManualClock
from newsletter.flows.status import gather
from newsletter.scheduler import Scheduler
from tests.scheduler.helpers import UTC, Recorder, add_subscribers, make_issue, runs, simulate, spec

T0 = datetime(2026, 11, 20, 7, 59, 30, tzinfo=UTC)


def daily_at_eight(settings, now):  # noqa: ANN001, ANN201 - a Schedule builder
    from newsletter.triggers import LocalTimeTrigger

    return jobs.Schedule(LocalTimeTrigger(hour=8, minute=0, timezone=settings.tz), "daily 08:00", polling=False)


def test_a_failing_job_is_logged_retried_and_does_not_stop_the_others(make_runtime, session, caplog) -> None:
    rt = make_runtime()
    flaky = Recorder(fail=lambda n: n <= 2)
    steady = Recorder()
    clock = ManualClock(T0)
    sched = Scheduler(rt, clock=clock, inline=True, lease_seconds=600, registry={
        "flaky": spec("flaky", flaky, daily_at_eight, grace=timedelta(hours=1), retry=True),
        "steady": spec("steady", steady, jobs.every(1)),
    })
    caplog.set_level(logging.INFO, logger="newsletter.jobs")
    sched.start()
    simulate(sched, clock, T0 + timedelta(minutes=30))
    sched.shutdown()

    start = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    # Failed at 08:00, retried 1 min later, failed again, retried 5 min after that and succeeded.
    assert flaky.calls == [start, start + timedelta(minutes=1), start + timedelta(minutes=6)]
    flaky_runs = runs(session, "flaky")
    assert [r.outcome for r in flaky_runs] == ["error", "error", "ok"]
    assert flaky_runs[0].detail.startswith("RuntimeError: planned failure on call 1")
    assert "Traceback" in flaky_runs[0].detail
    # The other job kept running every minute throughout.
    assert len(steady.calls) == 31 and all(r.outcome == "ok" for r in runs(session, "steady"))
    lines = [r.getMessage() for r in caplog.records if r.name == "newsletter.jobs"]
    assert sum(1 for line in lines if line.startswith("job flaky error")) == 2
    assert sum(1 for line in lines if line.startswith("job flaky ok")) == 1
    assert sum(1 for line in lines if line.startswith("job steady ok")) == 31
    assert any(r.levelno == logging.ERROR and "planned failure on call 1" in r.getMessage() for r in caplog.records)


def test_retries_stop_after_the_last_delay_until_the_next_regular_run(make_runtime, session) -> None:
    rt = make_runtime()
    broken = Recorder(fail=lambda n: True)
    clock = ManualClock(T0)
    sched = Scheduler(rt, clock=clock, inline=True, lease_seconds=600,
                      registry={"broken": spec("broken", broken, daily_at_eight, grace=timedelta(hours=1), retry=True)})
    sched.start()
    simulate(sched, clock, T0 + timedelta(hours=20))
    sched.shutdown()
    assert len(broken.calls) == 1 + len(jobs.RETRY_DELAYS)
    gaps = [(b - a).total_seconds() for a, b in zip(broken.calls, broken.calls[1:])]
    assert gaps == list(jobs.RETRY_DELAYS)


def test_downtime_coalesces_missed_runs_into_one(make_runtime, session) -> None:
    rt = make_runtime()
    body = Recorder()
    clock = ManualClock(T0)
    registry = {"poll": spec("poll", body, jobs.every(1)),
                "daily": spec("daily", Recorder(), daily_at_eight, grace=timedelta(hours=2))}
    first = Scheduler(rt, clock=clock, inline=True, lease_seconds=60, registry=registry)
    first.start()
    simulate(first, clock, T0 + timedelta(seconds=10))
    first.shutdown()  # the machine goes down for 50 minutes, over the daily run at 08:00
    clock.advance(minutes=50)
    second = Scheduler(rt, clock=clock, inline=True, lease_seconds=60, registry=registry)
    second.start()
    second.tick()
    second.shutdown()
    assert len(body.calls) == 2  # once before, once (not 50 times) after
    assert [r.outcome for r in runs(session, "daily")] == ["ok"]  # 50 min late, within its 2 h grace


def test_a_scheduled_issue_later_than_the_grace_is_left_for_an_editor(make_runtime, session, smtp) -> None:
    rt = make_runtime(smtp_url=smtp.url, send_grace_minutes=60)
    now = datetime.now(UTC)
    make_issue(session, scheduled_for=now - timedelta(hours=3), number=1, period="2026-W43")
    make_issue(session, scheduled_for=now - timedelta(minutes=20), number=2, period="2026-W44")
    add_subscribers(session, 4)
    clock = ManualClock(now)
    sched = Scheduler(rt, clock=clock, inline=True, registry={"send": jobs.JOBS["send"]})
    sched.start()
    sched.tick()
    sched.shutdown()

    session.expire_all()
    states = dict(session.execute(select(Issue.number, Issue.state)).all())
    assert states == {1: "scheduled", 2: "sent"}  # 20 min late: sent; 3 h late: waits
    assert len(smtp.messages) == 4
    assert all("2026-W44" in m.message["Message-ID"] for m in smtp.messages)
    detail = runs(session, "send")[-1].detail
    assert "left for an editor" in detail and "issue 1 (2026-W43) was due 3 h ago" in detail
    status = gather(rt, now=now)
    assert status.overdue and status.overdue[0].startswith("issue 1 (2026-W43)")
    assert "1 scheduled issue(s) left for an editor" in status.problems


def test_an_issue_that_cannot_be_sent_does_not_hold_back_the_others(make_runtime, session, smtp) -> None:
    rt = make_runtime(smtp_url=smtp.url)
    now = datetime.now(UTC)
    make_issue(session, scheduled_for=now - timedelta(minutes=2), number=1, period="2026-W43", frozen=False)  # no items
    make_issue(session, scheduled_for=now - timedelta(minutes=1), number=2, period="2026-W44")
    add_subscribers(session, 2)
    result = jobs.run_job(jobs.JOBS["send"], jobs.JobContext(rt, ManualClock(now)))
    assert result.outcome == "error"
    assert result.detail.startswith("issue 1 (2026-W43): ApprovalError: issue 1 has no items to publish")
    assert "issue 2 (2026-W44): 2 sent" in result.detail
    assert len(smtp.messages) == 2


def test_an_interrupted_send_is_resumed_whatever_the_delay(make_runtime, session, smtp) -> None:
    rt = make_runtime(smtp_url=smtp.url, send_grace_minutes=10)
    now = datetime.now(UTC)
    make_issue(session, scheduled_for=now - timedelta(days=2), state="sending")
    add_subscribers(session, 3)
    clock = ManualClock(now)
    sched = Scheduler(rt, clock=clock, inline=True, registry={"retry": jobs.JOBS["retry"], "send": jobs.JOBS["send"]})
    sched.start()
    sched.tick()
    sched.shutdown()
    assert len(smtp.messages) == 3
    assert "now sent" in runs(session, "retry")[-1].detail


def test_a_changed_setting_reschedules_the_job(make_runtime, session) -> None:
    rt = make_runtime(draft_weekday="fri", draft_time="09:00")
    clock = ManualClock(T0)
    registry = {"draft": spec("draft", Recorder(), jobs.draft_schedule, grace=jobs.DRAFT_GRACE)}
    first = Scheduler(rt, clock=clock, inline=True, registry=registry)
    first.start()
    first.tick()
    first.shutdown()
    later = make_runtime(draft_weekday="mon", draft_time="07:30")
    second = Scheduler(later, clock=clock, inline=True, registry=registry)
    second.start()
    second.tick()
    job = second.store.get("draft")
    second.shutdown()
    assert job is not None and job.schedule == "mon 07:30 UTC"
    assert job.next_run_time == datetime(2026, 11, 23, 7, 30, tzinfo=UTC)


def test_jobs_run_by_hand_are_recorded_like_scheduled_ones(cli, session) -> None:
    result = cli("jobs", "run", "collect")
    assert "job collect skipped" in result.output
    assert [(r.job, r.outcome) for r in session.scalars(select(JobRun))] == [("collect", "skipped")]
    assert session.scalar(select(JobRun.finished_at)) is not None


def test_unknown_job_is_a_clear_error(cli) -> None:
    result = cli("jobs", "run", "colect", expect=1)
    assert "no job named 'colect'" in result.output and "collect, draft, send" in result.output


def test_a_failing_job_by_hand_exits_non_zero_and_says_why(cli) -> None:
    result = cli("jobs", "run", "bounces", expect=1)
    assert "job bounces error" in result.output and "NEWSLETTER_IMAP_URL is not set" in result.output


def test_real_draft_job_drafts_the_running_week_idempotently(make_runtime, session) -> None:
    rt = make_runtime(timezone="Europe/Berlin")
    clock = ManualClock(datetime(2026, 11, 20, 8, 0, tzinfo=UTC))
    ctx = jobs.JobContext(rt, clock)
    first = jobs.run_job(jobs.JOBS["draft"], ctx)
    second = jobs.run_job(jobs.JOBS["draft"], ctx)
    assert first.outcome == second.outcome == "ok"
    assert "(2026-W47)" in first.detail
    assert session.scalar(select(Issue.period)) == "2026-W47"
    assert len(session.scalars(select(Issue)).all()) == 1
    session.execute(Issue.__table__.update().values(state="approved"))
    third = jobs.run_job(jobs.JOBS["draft"], ctx)
    assert third.outcome == "skipped" and "approved" in third.detail
