"""The recurring jobs: what each does (bodies that call flows and services), when it runs, and how one run is recorded.

Every run, by the scheduler or by hand (`newsletter jobs run NAME`), goes through run_job():
a JobRun row (running -> ok | skipped | error), and exactly one log line with the outcome.
A job's body returns a one-line summary, raises Skip when there was nothing to do, or raises
anything else to fail; failures never escape run_job, so one job cannot stop the others.

Missed-run policy (after downtime, or when a run takes longer than the interval):
- every job coalesces: however many runs were missed, it runs once;
- polling jobs (collect, send, retry, bounces) have no grace limit and also run at once
  whenever a scheduler becomes active, because each only acts on what is due now;
- the weekly draft runs if at most `DRAFT_GRACE` late, the digest if at most `DIGEST_GRACE`
  late; later than that the run is recorded as `missed` and the next regular time applies;
- a scheduled issue is sent only if the send starts at most `settings.send_grace_minutes`
  after `Issue.scheduled_for`; later than that it is left for an editor (it shows in
  `newsletter status` and in the digest) who sends it by hand or schedules it again.
  A send that has started is always completed: the outbox sends each subscriber one copy.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete, select

from newsletter.config import Settings
from newsletter.models import Issue, JobRun
from newsletter.clock import Clock, SystemClock
from newsletter.triggers import LocalTimeTrigger
from newsletter.runtime import Runtime

log = logging.getLogger("newsletter.jobs")

DRAFT_GRACE = timedelta(hours=24)
DIGEST_GRACE = timedelta(hours=12)
HOUSEKEEPING_GRACE = timedelta(hours=24)
JOB_RUNS_KEPT = timedelta(days=30)
DETAIL_MAX = 4000
RETRY_DELAYS = (60, 300, 900, 1800, 3600)  # seconds after the 1st, 2nd, ... consecutive failure


class Skip(Exception):
    """Nothing to do this time; the message says why (recorded as outcome `skipped`)."""


class JobFailed(Exception):
    """The job did its best but part of it failed; the message is the whole story (no traceback needed)."""


@dataclass(frozen=True)
class JobContext:
    runtime: Runtime
    clock: Clock
    scheduled_for: datetime | None = None
    by: str = "scheduler"  # "scheduler" or "hand"
    holder: str | None = None  # the scheduler process (host:pid:id) running it

    @property
    def settings(self) -> Settings:
        return self.runtime.settings


@dataclass(frozen=True)
class Schedule:
    trigger: BaseTrigger
    text: str  # human form, also used to notice that a setting changed
    polling: bool  # True: runs at once when a scheduler becomes active


@dataclass(frozen=True)
class JobSpec:
    name: str
    description: str
    body: Callable[[JobContext], str]
    schedule: Callable[[Settings, datetime], Schedule]
    grace: timedelta | None = None  # None: a late run always runs (coalesced)
    enabled: Callable[[Settings], bool] = field(default=lambda s: True)
    retry: bool = False  # after a failure, try again soon instead of at the next regular time


@dataclass(frozen=True)
class RunResult:
    job: str
    outcome: str  # ok | skipped | error | missed (and, in JobRun only: running | interrupted)
    detail: str
    seconds: float
    run_id: int | None = None


# ------------------------------------------------------------------ schedules


def every(minutes: int) -> Callable[[Settings, datetime], Schedule]:
    def build(settings: Settings, now: datetime) -> Schedule:
        return Schedule(IntervalTrigger(minutes=minutes, start_date=now, timezone=settings.tz),
                        f"every {minutes} min", polling=True)

    return build


def _hhmm(value: str) -> tuple[int, int]:
    hh, mm = value.split(":")
    return int(hh), int(mm)


def draft_schedule(settings: Settings, now: datetime) -> Schedule:
    hour, minute = _hhmm(settings.draft_time)
    trigger = LocalTimeTrigger(day_of_week=settings.draft_weekday, hour=hour, minute=minute, timezone=settings.tz)
    return Schedule(trigger, f"{settings.draft_weekday} {settings.draft_time} {settings.timezone}", polling=False)


def digest_schedule(settings: Settings, now: datetime) -> Schedule:
    hour, minute = _hhmm(settings.digest_time)
    trigger = LocalTimeTrigger(hour=hour, minute=minute, timezone=settings.tz)
    return Schedule(trigger, f"daily {settings.digest_time} {settings.timezone}", polling=False)


def housekeeping_schedule(settings: Settings, now: datetime) -> Schedule:
    trigger = LocalTimeTrigger(hour=4, minute=17, timezone=settings.tz)
    return Schedule(trigger, f"daily 04:17 {settings.timezone}", polling=False)


# ------------------------------------------------------------------ job bodies


def load_job_modules() -> None:
    """Import what every job body imports, in the calling (scheduler) thread, before any job thread starts.

    The bodies import lazily (a `newsletter` command starts light), but jobs run in threads: two threads
    importing, for the first time and at the same moment, modules that import each other deadlock in
    Python's import locks (`_DeadlockError`, or a name missing from a partly initialised module).
    """
    import newsletter.collect.service  # noqa: F401
    import newsletter.delivery.bounces  # noqa: F401
    import newsletter.delivery.service  # noqa: F401
    import newsletter.flows.corrections  # noqa: F401
    import newsletter.flows.digest  # noqa: F401
    import newsletter.flows.intake  # noqa: F401
    import newsletter.flows.issues  # noqa: F401
    import newsletter.flows.send  # noqa: F401
    import newsletter.issues.errors  # noqa: F401
    import newsletter.issues.periods  # noqa: F401
    import newsletter.issues.service  # noqa: F401


def collect(ctx: JobContext) -> str:
    from newsletter.collect.service import run_collect

    report = run_collect(ctx.runtime)
    if report.feeds_due == 0 and not report.sources_errors:
        raise Skip(f"no feed due ({report.feeds_total} enabled)")
    detail = (f"{report.feeds_due} of {report.feeds_total} feed(s) due: {report.fetched} fetched, "
              f"{report.not_modified} not modified, {len(report.failed)} failed; "
              f"{report.new_incidents} new incident(s), {report.duplicates} duplicate(s)")
    if report.sources_errors:
        detail += f"; sources file: {len(report.sources_errors)} error(s): {report.sources_errors[0]}"
    return detail


def draft(ctx: JobContext) -> str:
    from newsletter.flows.issues import draft as draft_issue
    from newsletter.issues.errors import IssueLocked
    from newsletter.issues.periods import current_period

    settings = ctx.settings
    period = current_period(settings.period, settings.tz, ctx.clock.now())
    with ctx.runtime.session() as session:
        try:
            issue = draft_issue(session, settings=settings, period=period, actor="scheduler")
        except IssueLocked as exc:
            raise Skip(str(exc)) from None
        return f"issue {issue.number} ({issue.period}) drafted with {len(issue.items)} item(s)"


_sending: set[int] = set()
_sending_lock = threading.Lock()


@contextmanager
def _claim_issue(issue_id: int) -> Iterator[bool]:
    """One send per issue at a time in this process (the send and retry jobs may both see it)."""
    with _sending_lock:
        mine = issue_id not in _sending
        if mine:
            _sending.add(issue_id)
    try:
        yield mine
    finally:
        if mine:
            with _sending_lock:
                _sending.discard(issue_id)


def send_scheduled(ctx: JobContext) -> str:
    from newsletter.issues.service import due_issues

    now = ctx.clock.now()
    grace = timedelta(minutes=ctx.settings.send_grace_minutes)
    with ctx.runtime.session() as session:
        due = due_issues(session, now=now)
    if not due:
        raise Skip("no scheduled issue is due")
    lines: list[str] = []
    overdue: list[str] = []
    failures: list[str] = []
    for issue in due:
        assert issue.scheduled_for is not None
        late = now - issue.scheduled_for
        if late > grace:
            overdue.append(f"issue {issue.number} ({issue.period}) was due {_ago(late)} ago")
            continue
        lines.append(_send_one(ctx, issue, failures))
    if overdue:
        lines.append("left for an editor (later than the send grace of "
                     f"{ctx.settings.send_grace_minutes} min): " + "; ".join(overdue))
        log.warning("scheduled send overdue, not sent without an editor: %s", "; ".join(overdue))
    return _summary(lines, failures, idle="the due issue is being sent by another job")


def _send_one(ctx: JobContext, issue: Issue, failures: list[str]) -> str:
    """Send (or resume) one issue; a failure is noted and the other issues still go out."""
    from newsletter.flows.send import run_send

    with _claim_issue(issue.id) as mine:
        if not mine:
            return ""
        try:
            report = run_send(ctx.runtime, issue)
        except Exception as exc:  # noqa: BLE001 - reported once all issues were tried
            failures.append(f"issue {issue.number} ({issue.period}): {type(exc).__name__}: {exc}")
            return ""
    return (f"issue {issue.number} ({issue.period}): {report.sent} sent, {report.failed} failed, "
            f"{report.remaining} remaining, now {report.issue_state}")


def _summary(lines: list[str], failures: list[str], *, idle: str) -> str:
    lines = [line for line in lines if line]
    if failures:
        raise JobFailed(" | ".join(failures + lines))
    if not lines:
        raise Skip(idle)
    return " | ".join(lines)


def retry_deliveries(ctx: JobContext) -> str:
    """Resume sends that are under way: temporary failures waiting for their retry, or a crashed sender."""
    from newsletter.issues.service import sending_issues

    from newsletter.delivery.service import unfinished_notices

    with ctx.runtime.session() as session:
        sending = sending_issues(session)
        notices = unfinished_notices(session)
    if not sending and not notices:
        raise Skip("no send under way")
    failures: list[str] = []
    lines = [_send_one(ctx, issue, failures) for issue in sending]
    lines += [_notice_one(ctx, correction_id, failures) for correction_id in notices]
    return _summary(lines, failures, idle="every send under way is already being worked on")


def _notice_one(ctx: JobContext, correction_id: int, failures: list[str]) -> str:
    """Resume the notice of one correction (rows waiting for a retry, or left by a crashed sender)."""
    from newsletter.flows.corrections import notify_correction

    try:
        report = notify_correction(ctx.runtime, correction_id, actor="scheduler")
    except Exception as exc:  # noqa: BLE001 - reported once all sends were tried
        failures.append(f"correction {correction_id}: {type(exc).__name__}: {exc}")
        return ""
    return f"correction {correction_id} notice: {report.sent} sent, {report.failed} failed, {report.remaining} remaining"


def bounces(ctx: JobContext) -> str:
    from newsletter.delivery.bounces import imap_mailbox
    from newsletter.delivery.service import process_bounces

    with imap_mailbox(ctx.settings) as box:
        messages = box.fetch_unseen()
        if not messages:
            raise Skip("no new message in the bounce mailbox")
        with ctx.runtime.session() as session:
            report = process_bounces(session, messages, settings=ctx.settings)
        box.mark_seen()
    return (f"{report.messages} message(s): {report.hard} hard bounce(s), {report.soft} soft, "
            f"{report.unsubscribed} unsubscribe request(s); {report.bounced_subscribers} subscriber(s) now bounced")


def digest(ctx: JobContext) -> str:
    from newsletter.flows.digest import DigestFailed, NoDigest, send_digest

    try:
        return send_digest(ctx.runtime, now=ctx.clock.now(), scheduled=ctx.by == "scheduler")
    except NoDigest as exc:
        raise Skip(str(exc)) from None
    except DigestFailed as exc:
        raise JobFailed(str(exc)) from None


def housekeeping(ctx: JobContext) -> str:
    cutoff = ctx.clock.now() - JOB_RUNS_KEPT
    with ctx.runtime.session() as session:
        deleted = session.execute(delete(JobRun).where(JobRun.started_at < cutoff)).rowcount
    return f"{deleted} job run record(s) older than {JOB_RUNS_KEPT.days} days removed"


DUPLICATES_ROUNDS = 20  # batches per run at most: a run ends even while reports keep arriving


def duplicates(ctx: JobContext) -> str:
    """Score the volunteer and API reports waiting for their near-duplicates check, a batch per transaction."""
    from newsletter.flows.intake import SCORE_BATCH, score_pending

    reports = pairs = 0
    for _round in range(DUPLICATES_ROUNDS):
        with ctx.runtime.session() as session:
            done = score_pending(session, batch=SCORE_BATCH, now=ctx.clock.now(), wait=False)
        reports, pairs = reports + done.reports, pairs + done.pairs
        if done.reports < SCORE_BATCH:
            break
    if not reports:
        raise Skip("no report waits for its duplicates check")
    return f"{reports} report(s) compared with the last 14 days: {pairs} duplicate pair(s) offered to the desk"


def _ago(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


JOBS: dict[str, JobSpec] = {spec.name: spec for spec in (
    JobSpec("collect", "fetch the feeds that are due (each source at its own interval)", collect,
            lambda s, now: every(s.collect_every_minutes)(s, now)),
    JobSpec("draft", "draft the running period's issue from accepted incidents", draft, draft_schedule,
            grace=DRAFT_GRACE, retry=True),
    JobSpec("send", "send approved issues whose scheduled time has come", send_scheduled, every(1)),
    JobSpec("retry", "resume sends under way (temporary failures, interrupted senders)", retry_deliveries, every(5)),
    JobSpec("duplicates", "offer the desk the near-duplicates of new volunteer and API reports", duplicates,
            every(1)),
    JobSpec("bounces", "read bounces from the IMAP mailbox (when NEWSLETTER_IMAP_URL is set)", bounces, every(15),
            enabled=lambda s: bool(s.imap_url)),
    JobSpec("digest", "email editors when reports wait for triage or sources have failed for a day", digest,
            digest_schedule, grace=DIGEST_GRACE, retry=True),
    JobSpec("housekeeping", f"remove job run records older than {JOB_RUNS_KEPT.days} days", housekeeping,
            housekeeping_schedule, grace=HOUSEKEEPING_GRACE),
)}


def enabled_jobs(settings: Settings, registry: dict[str, JobSpec] | None = None) -> list[JobSpec]:
    return [spec for spec in (registry or JOBS).values() if spec.enabled(settings)]


# ------------------------------------------------------------------ running and recording


def run_job(spec: JobSpec, ctx: JobContext) -> RunResult:
    """Run one job now, record it, log one line; never raises for the job's own failures."""
    started = ctx.clock.now()
    with ctx.runtime.session() as session:
        row = JobRun(job=spec.name, started_at=started, outcome="running", detail=_started_by(ctx.by, ctx.holder))
        session.add(row)
        session.flush()
        run_id = row.id
    t0 = time.perf_counter()
    try:
        detail, outcome = spec.body(ctx), "ok"
    except Skip as exc:
        detail, outcome = str(exc), "skipped"
    except JobFailed as exc:
        detail, outcome = str(exc), "error"
    except Exception as exc:  # noqa: BLE001 - a failing job is recorded, never allowed to stop the scheduler
        detail, outcome = _describe_error(exc), "error"
    seconds = time.perf_counter() - t0
    with ctx.runtime.session() as session:
        row = session.get(JobRun, run_id)
        if row is not None:  # housekeeping may not remove a running row, but be safe
            row.finished_at = ctx.clock.now()
            row.outcome = outcome
            row.detail = detail[:DETAIL_MAX]
    summary = detail.splitlines()[0] if detail else ""
    level = logging.ERROR if outcome == "error" else logging.INFO
    log.log(level, "job %s %s in %.1fs (%s): %s", spec.name, outcome, seconds, ctx.by, summary)
    return RunResult(spec.name, outcome, detail, seconds, run_id)


def _started_by(by: str, holder: str | None) -> str:
    return f"started by {by} {holder}" if holder else f"started by {by}"


def mark_interrupted(runtime: Runtime, *, holder: str, now: datetime) -> int:
    """Close the `running` records of schedulers that lost the lease (killed mid-run): they will never finish."""
    with runtime.session() as session:
        stale = session.scalars(select(JobRun).where(
            JobRun.outcome == "running", JobRun.detail.like("started by scheduler %"),
            JobRun.detail != _started_by("scheduler", holder),
        )).all()
        for row in stale:
            row.outcome, row.finished_at = "interrupted", now
            row.detail += "; interrupted: its scheduler stopped before the run finished"
    return len(stale)


def record_missed(runtime: Runtime, spec: JobSpec, scheduled_for: datetime, now: datetime) -> RunResult:
    """A run that came later than the job's grace: recorded and logged, not run."""
    late = now - scheduled_for
    detail = (f"not run: due at {scheduled_for.isoformat(timespec='minutes')}, {_ago(late)} late, "
              f"more than the grace of {_ago(spec.grace or timedelta())}")
    with runtime.session() as session:
        session.add(JobRun(job=spec.name, started_at=now, finished_at=now, outcome="missed", detail=detail))
    log.warning("job %s missed: %s", spec.name, detail)
    return RunResult(spec.name, "missed", detail, 0.0)


def retry_delay(runtime: Runtime, name: str) -> timedelta | None:
    """Delay before retrying a failed job, growing with consecutive failures; None once they are exhausted."""
    with runtime.session() as session:
        outcomes = session.scalars(
            select(JobRun.outcome).where(JobRun.job == name, JobRun.outcome != "running")
            .order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(len(RETRY_DELAYS) + 1)
        ).all()
    failures = 0
    for outcome in outcomes:
        if outcome != "error":
            break
        failures += 1
    if failures == 0 or failures > len(RETRY_DELAYS):
        return None
    return timedelta(seconds=RETRY_DELAYS[failures - 1])


def run_by_hand(runtime: Runtime, name: str, *, clock: Clock | None = None,
                registry: dict[str, JobSpec] | None = None) -> RunResult:
    """`newsletter jobs run NAME`: the same body and record as a scheduled run."""
    jobs = registry or JOBS
    if name not in jobs:
        raise KeyError(f"no job named {name!r}; the jobs are: {', '.join(jobs)}")
    return run_job(jobs[name], JobContext(runtime, clock or SystemClock(), by="hand"))


def _describe_error(exc: BaseException) -> str:
    first = f"{type(exc).__name__}: {exc}".strip()
    tail = "".join(traceback.format_exception(exc)[-6:])
    return f"{first}\n{tail}"
