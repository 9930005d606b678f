"""The scheduler's loop: a small loop of our own over APScheduler's triggers, the lease and the plan.

Why not APScheduler's own scheduler: it reads the wall clock inside its processing loop and its
executors, gives a job no way to learn which run time it stands for (needed for the missed-run
policy and the job-run record), and is not meant to share its job store between processes. The
old wiring bent it with private hooks that any minor release could break. The parts that matter
already exist: an injectable Clock, the DST-safe LocalTimeTrigger (APScheduler's cron maths, used
only through the public `get_next_fire_time`), the database lease and the job-run records. This
loop adds the rest in a few lines:

- The plan (newsletter.scheduler.store) keeps each job's next run time in the database, so it
  survives restarts and a missed run is noticed after downtime.
- Only the process holding the `scheduler` lease (newsletter.lease) looks at due jobs. It renews
  the lease every third of its lifetime; any number of other schedulers wait and take over once
  the holder stops renewing. A scheduler that becomes active marks runs its predecessor left
  "running" as interrupted, re-declares the jobs (keeping planned next run times unless a setting
  changed their schedule) and runs the polling jobs at once.
- A due job is moved on to its next time *before* it runs (so a crash never re-runs it, and a
  retry the run plans is not overwritten); however many runs were missed, it runs once (coalesced).
- Every time-based decision asks the Clock, so tests can move time (across DST changes too).
- Jobs run in daemon threads, one at a time per job: stopping the process never waits for a long
  send, which the outbox lets any later run complete without duplicates.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime

from apscheduler.triggers.base import BaseTrigger

from newsletter.clock import Clock, SystemClock
from newsletter.lease import Lease
from newsletter.flows import jobs  # the one import of the job bodies, their registry and run records
from newsletter.runtime import Runtime
from newsletter.scheduler.store import RETRY_SUFFIX, JobStore, Planned

log = logging.getLogger("newsletter.scheduler")

STORE_RETRY_SECONDS = 10.0
RETRY_SCHEDULE = "retry"


class Scheduler:
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
        self.runtime = runtime
        self.clock = clock or SystemClock()
        self.registry = registry or jobs.JOBS
        self.lease = Lease(runtime.engine, ttl=lease_seconds, holder=holder)
        self.renew_every = lease_seconds / 3
        self.store = JobStore(runtime.engine)
        self.active = False
        self.inline = inline  # run jobs in the loop's thread (deterministic tests)
        self._triggers: dict[str, BaseTrigger] = {}  # per job, built from the settings when declared
        self._running: set[str] = set()
        self._running_lock = threading.Lock()
        self._started = False
        self._wake = threading.Event()
        self._stop = threading.Event()

    # ---------------------------------------------------------------- the loop

    def start(self) -> None:
        """Begin scheduling: from now on tick() holds (or waits for) the lease and runs due jobs."""
        jobs.load_job_modules()  # before the first job thread: concurrent first imports can deadlock
        self._started = True

    def run(self, install_signals: bool = True) -> None:
        """Block: wait for the lease, then run due jobs, until SIGTERM/SIGINT or stop()."""
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

    def shutdown(self) -> None:
        """Stop scheduling and give the lease up, so a waiting scheduler takes over at once."""
        self._started = False
        if self.active:
            try:
                self.lease.release()
            except Exception as exc:  # noqa: BLE001 - the lease then simply expires
                log.warning("could not release the scheduler lease: %s", exc)
            self.active = False
            log.info("scheduler %s stopped and released the lease", self.lease.holder)
        self._wake.set()

    def tick(self) -> float:
        """Hold (or wait for) the lease, start due jobs; seconds until it should be called again."""
        if not self._started or self._stop.is_set():
            return self.renew_every
        now = self.clock.now()
        if not self._hold_lease(now):
            return self.renew_every
        try:
            next_run = self._start_due(now)
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

    # ---------------------------------------------------------------- the plan

    def declare_jobs(self, now: datetime) -> None:
        """Plan the enabled jobs, keeping planned run times unless the schedule changed; drop the others."""
        wanted = {spec.name: spec for spec in jobs.enabled_jobs(self.runtime.settings, self.registry)}
        self._triggers = {}
        for spec in wanted.values():
            schedule = spec.schedule(self.runtime.settings, now)
            self._triggers[spec.name] = schedule.trigger
            planned = self.store.get(spec.name)
            if planned is not None and _same_schedule(planned, schedule):
                if schedule.polling:
                    self.store.put(spec.name, schedule.text, now)
                elif planned.schedule is None:
                    self.store.put(spec.name, schedule.text, planned.next_run_time)  # now in our own format
                continue
            first = now if schedule.polling else schedule.trigger.get_next_fire_time(None, now)
            self.store.put(spec.name, schedule.text, first)
            log.info("job %s scheduled %s; next run %s", spec.name, schedule.text, first.isoformat() if first else "never")
        for planned in self.store.all():
            if planned.job not in wanted:
                self.store.remove(planned.id)
                log.info("job %s removed from the schedule", planned.id)

    def _start_due(self, now: datetime) -> datetime | None:
        """Move each due job on to its next time, then start it; the earliest planned run after that."""
        for planned in self.store.due(now):
            spec, trigger = self.registry.get(planned.job), self._triggers.get(planned.job)
            if spec is None or trigger is None or planned.next_run_time is None:
                self.store.remove(planned.id)
                log.warning("job %s is not known to this version; removed from the schedule", planned.id)
                continue
            if planned.is_retry:
                due, following = planned.next_run_time, None
            else:
                due, following = _coalesce(trigger, planned.next_run_time, now)
            if following is not None:
                self.store.put(planned.id, planned.schedule or "", following)
            else:
                self.store.remove(planned.id)
            self._start(spec, due)
        return self.store.next_run_time()

    def _start(self, spec: jobs.JobSpec, due: datetime) -> None:
        with self._running_lock:
            if spec.name in self._running:
                log.info("job %s is still running; its run due at %s is skipped", spec.name, due.isoformat())
                return
            self._running.add(spec.name)

        def target() -> None:
            try:
                self._execute(spec, due)
            except BaseException:  # noqa: BLE001 - reported, never allowed to kill the scheduler
                log.exception("job %s could not be run or recorded", spec.name)
            finally:
                with self._running_lock:
                    self._running.discard(spec.name)

        if self.inline:
            target()
        else:
            jobs.load_job_modules()  # already loaded after start(): a few dictionary look-ups
            threading.Thread(target=target, name=f"job-{spec.name}", daemon=True).start()

    # ---------------------------------------------------------------- running one job

    def _execute(self, spec: jobs.JobSpec, due: datetime) -> None:
        if not self.active:
            log.warning("job %s not run: this scheduler is no longer the active one", spec.name)
            return
        now = self.clock.now()
        if spec.grace is not None and now - due > spec.grace:
            jobs.record_missed(self.runtime, spec, due, now)
            return
        result = jobs.run_job(spec, jobs.JobContext(self.runtime, self.clock, scheduled_for=due, holder=self.lease.holder))
        if result.outcome == "error" and spec.retry:
            self._schedule_retry(spec)

    def _schedule_retry(self, spec: jobs.JobSpec) -> None:
        delay = jobs.retry_delay(self.runtime, spec.name)
        if delay is None:
            log.error("job %s failed %d times in a row; no more retries until its next regular run",
                      spec.name, len(jobs.RETRY_DELAYS) + 1)
            return
        when = self.clock.now() + delay
        regular = self.store.get(spec.name)
        if regular is not None and regular.next_run_time is not None and regular.next_run_time <= when:
            return  # the next regular run comes first
        self.store.put(spec.name + RETRY_SUFFIX, RETRY_SCHEDULE, when)
        log.info("job %s will be retried at %s", spec.name, when.isoformat(timespec="seconds"))
        self._wake.set()  # the loop may be asleep for longer than the delay (a long lease)


def _coalesce(trigger: BaseTrigger, planned: datetime, now: datetime) -> tuple[datetime, datetime | None]:
    """The latest run time that has come (however many were missed) and the first one still to come."""
    due, following = planned, trigger.get_next_fire_time(planned, now)
    while following is not None and following <= now:
        due, following = following, trigger.get_next_fire_time(following, now)
    return due, following


def _same_schedule(planned: Planned, schedule: jobs.Schedule) -> bool:
    """Keep a planned run time only while the job's schedule is unchanged.

    A row written by APScheduler's own store (before this loop) has no readable schedule; its run
    time is kept when it lies on the job's current schedule, so an upgrade loses no missed run."""
    if planned.schedule is not None:
        return planned.schedule == schedule.text
    when = planned.next_run_time
    if when is None or schedule.polling:
        return schedule.polling
    return schedule.trigger.get_next_fire_time(None, when) == when

