"""The plan of next run times in the database: readable without unpickling, kept across an upgrade
from APScheduler's own job store, and a job still running when it is due again is not started twice."""

from __future__ import annotations

import json
import logging
import pickle
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import insert, select

from newsletter.clock import ManualClock
from newsletter.flows import jobs
from newsletter.scheduler import Scheduler
from newsletter.triggers import jobs_table, next_runs
from tests.scheduler.helpers import UTC, Recorder, runs, spec

FRIDAY_0900 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _draft(body: Recorder) -> dict[str, jobs.JobSpec]:
    return {"draft": spec("draft", body, jobs.draft_schedule, grace=jobs.DRAFT_GRACE)}


def test_the_plan_holds_schedules_as_json_and_next_runs_reads_it(make_runtime) -> None:
    rt = make_runtime(draft_weekday="fri", draft_time="09:00")
    sched = Scheduler(rt, clock=ManualClock(FRIDAY_0900 - timedelta(hours=1)), inline=True,
                      registry={"draft": jobs.JOBS["draft"], "send": jobs.JOBS["send"]})
    sched.start()
    sched._hold_lease(sched.clock.now())  # become active and declare the jobs
    sched.shutdown()
    with rt.engine.connect() as conn:
        states = dict(conn.execute(select(jobs_table.c.id, jobs_table.c.job_state)).all())
    assert {k: json.loads(v) for k, v in states.items()} == {
        "draft": {"schedule": "fri 09:00 UTC"}, "send": {"schedule": "every 1 min"}}
    assert next_runs(rt.engine) == {"draft": FRIDAY_0900, "send": FRIDAY_0900 - timedelta(hours=1)}


def _legacy_row(rt, job_id: str, next_run: datetime) -> None:  # noqa: ANN001
    """A row as APScheduler's SQLAlchemyJobStore left it: a pickle the new loop must never unpickle."""
    with rt.engine.begin() as conn:
        conn.execute(insert(jobs_table).values(id=job_id, next_run_time=next_run.timestamp(),
                                               job_state=pickle.dumps({"version": 1, "id": job_id})))


def test_a_missed_run_planned_by_the_old_job_store_still_runs_after_the_upgrade(make_runtime, session) -> None:
    rt = make_runtime(draft_weekday="fri", draft_time="09:00")
    _legacy_row(rt, "draft", FRIDAY_0900)  # the upgrade's downtime spans Friday 09:00
    body = Recorder()
    clock = ManualClock(FRIDAY_0900 + timedelta(hours=3))
    sched = Scheduler(rt, clock=clock, inline=True, registry=_draft(body))
    sched.start()
    sched.tick()
    planned = sched.store.get("draft")
    sched.shutdown()
    assert body.calls == [clock.now()]  # 3 h late, within the draft's grace of 24 h
    assert [r.outcome for r in runs(session, "draft")] == ["ok"]
    assert planned is not None and planned.schedule == "fri 09:00 UTC"
    assert planned.next_run_time == FRIDAY_0900 + timedelta(days=7)


def test_an_old_row_off_the_current_schedule_is_planned_afresh(make_runtime, session) -> None:
    rt = make_runtime(draft_weekday="fri", draft_time="09:00")
    _legacy_row(rt, "draft", FRIDAY_0900 - timedelta(minutes=30))  # planned when the draft was at 08:30
    body = Recorder()
    sched = Scheduler(rt, clock=ManualClock(FRIDAY_0900 - timedelta(minutes=10)), inline=True, registry=_draft(body))
    sched.start()
    sched.tick()
    planned = sched.store.get("draft")
    sched.shutdown()
    assert body.calls == []
    assert planned is not None and planned.next_run_time == FRIDAY_0900


def test_a_job_still_running_when_due_again_is_not_started_twice(make_runtime, session, caplog) -> None:
    rt = make_runtime()
    release, started = threading.Event(), threading.Event()
    calls: list[datetime] = []

    def slow(ctx: jobs.JobContext) -> str:
        calls.append(ctx.clock.now())
        started.set()
        release.wait(30)
        return "done"

    clock = ManualClock(FRIDAY_0900)
    sched = Scheduler(rt, clock=clock, registry={"slow": spec("slow", slow, jobs.every(1))})  # jobs in threads
    caplog.set_level(logging.INFO, logger="newsletter.scheduler")
    sched.start()
    try:
        sched.tick()
        assert started.wait(10)
        clock.advance(minutes=1)
        sched.tick()  # due again while the first run goes on
        release.set()
        _wait_for_threads("job-slow")
        clock.advance(minutes=1)
        sched.tick()
        _wait_for_threads("job-slow")
    finally:
        release.set()
        sched.shutdown()
    assert calls == [FRIDAY_0900, FRIDAY_0900 + timedelta(minutes=2)]
    assert [r.outcome for r in runs(session, "slow")] == ["ok", "ok"]
    assert any("job slow is still running; its run due at 2026-11-20T09:01:00" in r.getMessage() for r in caplog.records)


def _wait_for_threads(name: str) -> None:
    deadline = time.monotonic() + 10
    while any(t.name == name for t in threading.enumerate()):
        assert time.monotonic() < deadline, f"thread {name} still running"
        time.sleep(0.02)
