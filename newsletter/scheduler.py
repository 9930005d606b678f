"""APScheduler 3 wiring: the job store in the project's database, a database lease, and our clock.

What each job does and the missed-run policy live in newsletter.flows.jobs; this module only
decides *when* and *whether this process* runs them:

- Jobs are kept by APScheduler's SQLAlchemyJobStore in the table `apscheduler_jobs`, so their
  next run times survive restarts and a missed run is noticed after downtime.
- Only the process holding the `scheduler` lease (newsletter.ops.lease) looks at due jobs.
  It renews the lease every third of its lifetime; any number of other schedulers wait and
  take over once the holder stops renewing. A scheduler that becomes active re-declares the
  jobs (keeping persisted next run times unless a setting changed their schedule) and runs the
  polling jobs at once.
- APScheduler 3 reads the wall clock directly in its processing loop and its executors; this
  scheduler asks an injectable Clock instead, so tests can move time (across DST changes too).
- Jobs run in daemon threads: stopping the process never waits for a long send, which the
  outbox lets any later run complete without duplicates.
"""

from __future__ import annotations

import logging
import math
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timezone

from apscheduler.executors.base import BaseExecutor, MaxInstancesReachedError
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import text

from newsletter.flows import jobs
from newsletter.ops.clock import Clock, SystemClock
from newsletter.ops.lease import Lease
from newsletter.runtime import Runtime

log = logging.getLogger("newsletter.scheduler")

JOBS_TABLE = "apscheduler_jobs"
RETRY_SUFFIX = ".retry"
STORE_RETRY_SECONDS = 10.0


def scheduled_job(name: str) -> None:
    """What the job store refers to. The scheduler's executor runs the job itself with its runtime
    and clock; called any other way this runs the job by hand with settings from the environment."""
    runtime = Runtime()
    try:
        jobs.run_by_hand(runtime, name)
    finally:
        runtime.close()


class JobExecutor(BaseExecutor):
    """Hands due jobs to `runner`, each in a daemon thread (or inline, for deterministic tests)."""

    def __init__(self, runner: Callable[[Job, list[datetime]], None], *, inline: bool = False) -> None:
        super().__init__()
        self._runner = runner
        self._inline = inline

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        def target() -> None:
            try:
                self._runner(job, run_times)
            except BaseException:  # noqa: BLE001 - reported, never allowed to kill the scheduler
                self._run_job_error(job.id, *sys.exc_info()[1:])
            else:
                self._run_job_success(job.id, [])

        if self._inline:
            target()
        else:
            threading.Thread(target=target, name=f"job-{job.id}", daemon=True).start()


class Scheduler(BaseScheduler):
    """One scheduler process. `run()` blocks until stop(); tests drive it with `tick()` and a ManualClock."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        clock: Clock | None = None,
        lease_seconds: float = 60.0,
        registry: dict[str, jobs.JobSpec] | None = None,
        inline: bool = False,
        holder: str | None = None,
    ) -> None:
        super().__init__(timezone=runtime.settings.tz,
                         job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        self.runtime = runtime
        self.clock = clock or SystemClock()
        self.registry = registry or jobs.JOBS
        self.lease = Lease(runtime.engine, ttl=lease_seconds, holder=holder)
        self.renew_every = lease_seconds / 3
        self.active = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.store = SQLAlchemyJobStore(engine=runtime.engine, tablename=JOBS_TABLE)
        self.add_jobstore(self.store, "default")
        self.add_executor(JobExecutor(self._execute, inline=inline), "default")

    # ---------------------------------------------------------------- APScheduler hooks

    def wakeup(self) -> None:
        self._wake.set()

    def shutdown(self, wait: bool = False) -> None:
        """Stop scheduling and give the lease up, so a waiting scheduler takes over at once."""
        if self.state != STATE_STOPPED:
            super().shutdown(wait=wait)
        if self.active:
            try:
                self.lease.release()
            except Exception as exc:  # noqa: BLE001 - the lease then simply expires
                log.warning("could not release the scheduler lease: %s", exc)
            self.active = False
            log.info("scheduler %s stopped and released the lease", self.lease.holder)
        self._wake.set()

    def _process_jobs(self) -> float | None:
        return self.tick()

    # ---------------------------------------------------------------- the loop

    def run(self, install_signals: bool = True) -> None:
        """Block: wait for the lease, then run due jobs, until SIGTERM/SIGINT or stop()."""
        # Our own lines say what APScheduler's INFO lines say, with the outcome; keep its warnings.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: self.stop())
        log.info("scheduler %s started (lease %.0fs); waiting to become the active one", self.lease.holder,
                 self.lease.ttl.total_seconds())
        self.start()
        try:
            while not self._stop.is_set():
                self._wake.clear()
                wait = self.tick()
                if self._stop.is_set():
                    break
                self.clock.sleep(wait, self._wake)
        finally:
            self.shutdown()

    def stop(self) -> None:
        """Ask run() to finish (safe from a signal handler or another thread)."""
        self._stop.set()
        self._wake.set()

    def tick(self) -> float:
        """Hold (or wait for) the lease, submit due jobs; seconds until it should be called again."""
        if self.state == STATE_STOPPED or self._stop.is_set():
            return self.renew_every
        now = self.clock.now()
        if not self._hold_lease(now):
            return self.renew_every
        try:
            next_run = self._submit_due(now)
        except Exception as exc:  # noqa: BLE001 - the database may be briefly unreachable
            log.warning("could not read due jobs: %s", exc)
            return min(STORE_RETRY_SECONDS, self.renew_every)
        if next_run is None:
            return self.renew_every
        return min(max((next_run - self.clock.now()).total_seconds(), 0.0), self.renew_every)

    def _hold_lease(self, now: datetime) -> bool:
        was_active = self.active
        try:
            self.active = self.lease.renew(now) if was_active else self.lease.acquire(now)
        except Exception as exc:  # noqa: BLE001 - without the database nobody can be sure to hold it
            log.warning("scheduler lease could not be checked: %s", exc)
            self.active = False
        if self.active and not was_active:
            log.info("scheduler %s is now the active scheduler", self.lease.holder)
            try:
                interrupted = jobs.mark_interrupted(self.runtime, holder=self.lease.holder, now=now)
                if interrupted:
                    log.warning("%d job run(s) of a previous scheduler were interrupted (see `newsletter status`)",
                                interrupted)
                self.declare_jobs(now)
            except Exception as exc:  # noqa: BLE001 - try again on the next tick; the lease is still ours
                log.warning("could not declare the jobs: %s", exc)
                self.active = False
        elif was_active and not self.active:
            log.warning("scheduler %s lost the lease; standing by", self.lease.holder)
        return self.active

    def declare_jobs(self, now: datetime) -> None:
        """Put the enabled jobs in the store, keeping persisted run times unless the schedule changed."""
        wanted = {spec.name: spec for spec in jobs.enabled_jobs(self.runtime.settings, self.registry)}
        for spec in wanted.values():
            schedule = spec.schedule(self.runtime.settings, now)
            label = f"{spec.name}: {schedule.text}"
            existing = self.store.lookup_job(spec.name)
            if existing is not None and existing.name == label:
                if schedule.polling:
                    self.modify_job(spec.name, next_run_time=now)
                continue
            first = now if schedule.polling else schedule.trigger.get_next_fire_time(None, now)
            self.add_job(scheduled_job, schedule.trigger, args=[spec.name], id=spec.name, name=label,
                         replace_existing=True, next_run_time=first)
            log.info("job %s scheduled %s; next run %s", spec.name, schedule.text, first.isoformat() if first else "never")
        for job in self.store.get_all_jobs():
            base = job.id.removesuffix(RETRY_SUFFIX)
            if base not in wanted:
                self.store.remove_job(job.id)
                log.info("job %s removed from the schedule", job.id)

    def _submit_due(self, now: datetime) -> datetime | None:
        executor = self._lookup_executor("default")
        with self._jobstores_lock:
            for job in self.store.get_due_jobs(now):
                run_times = job._get_run_times(now)
                run_times = run_times[-1:] if run_times and job.coalesce else run_times
                if not run_times:
                    continue
                # Move the job on before running it, so that a job which re-adds itself (a retry) is not
                # then overwritten; APScheduler never re-runs an interrupted job either way.
                following = job.trigger.get_next_fire_time(run_times[-1], now)
                try:
                    if following:
                        job._modify(next_run_time=following)
                        self.store.update_job(job)
                    else:
                        self.store.remove_job(job.id)
                except JobLookupError:
                    continue  # removed meanwhile
                try:
                    executor.submit_job(job, run_times)
                except MaxInstancesReachedError:
                    log.info("job %s is still running; its run due at %s is skipped", job.id, run_times[-1].isoformat())
            return self.store.get_next_run_time()

    # ---------------------------------------------------------------- running one job

    def _execute(self, job: Job, run_times: list[datetime]) -> None:
        name = job.args[0]
        spec = self.registry.get(name)
        if spec is None:
            log.warning("job %s is not known to this version; ignored", name)
            return
        if not self.active:
            log.warning("job %s not run: this scheduler is no longer the active one", name)
            return
        due = run_times[-1]
        now = self.clock.now()
        if spec.grace is not None and now - due > spec.grace:
            jobs.record_missed(self.runtime, spec, due, now)
            return
        result = jobs.run_job(spec, jobs.JobContext(self.runtime, self.clock, scheduled_for=due, holder=self.lease.holder))
        if result.outcome == "error" and spec.retry:
            self._schedule_retry(spec, job, due)

    def _schedule_retry(self, spec: jobs.JobSpec, job: Job, due: datetime) -> None:
        delay = jobs.retry_delay(self.runtime, spec.name)
        if delay is None:
            log.error("job %s failed %d times in a row; no more retries until its next regular run",
                      spec.name, len(jobs.RETRY_DELAYS) + 1)
            return
        now = self.clock.now()
        when = now + delay
        regular = job.trigger.get_next_fire_time(due, now)
        if regular is not None and regular <= when:
            return  # the next regular run comes first
        self.add_job(scheduled_job, DateTrigger(run_date=when, timezone=self.timezone), args=[spec.name],
                     id=spec.name + RETRY_SUFFIX, name=f"{spec.name}: retry", replace_existing=True, next_run_time=when)
        log.info("job %s will be retried at %s", spec.name, when.isoformat(timespec="seconds"))


def next_runs(runtime: Runtime) -> dict[str, datetime | None]:
    """Next run time of every job in the store, read from the table without unpickling the jobs."""
    with runtime.engine.connect() as conn:
        rows = conn.execution_options(sqlite_begin="DEFERRED").execute(
            text(f"SELECT id, next_run_time FROM {JOBS_TABLE}")).all()
    return {
        row.id: datetime.fromtimestamp(row.next_run_time, timezone.utc)
        if row.next_run_time is not None and not math.isnan(row.next_run_time) else None
        for row in rows
    }


def serve_forever(runtime: Runtime, *, lease_seconds: float = 60.0) -> None:
    """`newsletter scheduler`: run until SIGTERM/SIGINT."""
    Scheduler(runtime, lease_seconds=lease_seconds).run()


