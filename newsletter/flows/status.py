"""What `newsletter status` (and /healthz) report: is the weekly cycle healthy, and what waits for whom."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.delivery import outbox
from newsletter.flows.digest import failing_sources
from newsletter.flows.jobs import JOBS, JobSpec
from newsletter.issues.service import overdue_issues
from newsletter.models import Delivery, Incident, Issue, JobRun
from newsletter import lease as lease_mod
from newsletter.runtime import Runtime

RECENT_ISSUES = 3


@dataclass
class SchedulerState:
    state: str  # active | stale | none
    holder: str | None = None
    expires_at: datetime | None = None  # the holder renews well before this; past it, another takes over
    since: datetime | None = None


@dataclass
class SourceLine:
    name: str
    state: str  # ok | failing | disabled | new
    last_success_at: datetime | None
    next_check_at: datetime | None
    error_count: int
    last_error: str
    entries_7d: int


@dataclass
class OutboxLine:
    number: int
    period: str
    state: str
    scheduled_for: datetime | None
    counts: dict[str, int]
    undelivered: dict[str, dict[str, int]] = field(default_factory=dict)  # failed|postponed -> reason -> n

    @property
    def at_risk(self) -> int:
        """Rows a relay problem kept from readers: postponed ones, and ones given up after temporary
        failures. A 5xx refusal (no such user) is the reader's address, not an operator's problem."""
        postponed = sum(self.undelivered.get("postponed", {}).values())
        gave_up = sum(n for reason, n in self.undelivered.get("failed", {}).items() if not reason.startswith("5"))
        return postponed + gave_up


@dataclass
class JobLine:
    name: str
    description: str
    schedule: str
    enabled: bool
    next_run: datetime | None
    last_started: datetime | None = None
    last_outcome: str | None = None
    last_detail: str = ""
    last_ok: datetime | None = None
    retry_at: datetime | None = None


@dataclass
class Status:
    now: datetime
    scheduler: SchedulerState
    sources: list[SourceLine] = field(default_factory=list)
    failing_for_a_day: list[str] = field(default_factory=list)
    waiting_triage: int = 0
    oldest_waiting: datetime | None = None
    needs_info: int = 0
    outbox: list[OutboxLine] = field(default_factory=list)
    outbox_totals: dict[str, int] = field(default_factory=dict)
    overdue: list[str] = field(default_factory=list)
    jobs: list[JobLine] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """What an operator should look at; empty when all is well."""
        found = []
        if self.scheduler.state != "active":
            found.append("no active scheduler" if self.scheduler.state == "none" else "the scheduler stopped renewing its lease")
        if self.failing_for_a_day:
            found.append(f"{len(self.failing_for_a_day)} feed(s) failing for a day")
        if self.overdue:
            found.append(f"{len(self.overdue)} scheduled issue(s) left for an editor")
        found += [f"job {j.name} failed" for j in self.jobs if j.enabled and j.last_outcome == "error"]
        found += [f"issue {o.number} ({o.period}): {o.at_risk} delivery(ies) not delivered after temporary failures"
                  for o in self.outbox if o.at_risk]
        return found

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["problems"] = self.problems
        return _iso(data)


def scheduler_state(runtime: Runtime, now: datetime) -> SchedulerState:
    info = lease_mod.current(runtime.engine)
    if info is None:
        return SchedulerState("none")
    return SchedulerState("active" if info.active(now) else "stale", info.holder, info.expires_at, info.acquired_at)


@dataclass
class SendProgress:
    """One issue's send as the desk's status page shows it, refreshed until done."""

    state: str
    scheduled_for: datetime | None
    counts: dict[str, int]
    scheduler: SchedulerState
    now: datetime
    overdue: bool = False  # due longer than the send grace ago: the send job leaves it for an editor

    @property
    def sent(self) -> int:
        return self.counts.get("sent", 0)

    @property
    def failed(self) -> int:
        return self.counts.get("failed", 0) + self.counts.get("bounced", 0)

    @property
    def remaining(self) -> int:
        return self.counts.get("pending", 0) + self.counts.get("sending", 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> bool:
        return self.state == "sent"

    @property
    def waiting(self) -> bool:
        """Queued or under way: the page keeps refreshing."""
        return self.state == "sending" or (self.state == "scheduled" and self.due)

    @property
    def due(self) -> bool:
        return self.scheduled_for is not None and self.scheduled_for <= self.now

    @property
    def stalled(self) -> bool:
        """Work waits but no scheduler holds the lease: nothing moves until one runs (or `newsletter send`)."""
        return self.waiting and self.scheduler.state != "active"


def send_progress(runtime: Runtime, issue_id: int, *, now: datetime) -> SendProgress | None:
    """The outbox's counts for one issue and whether a scheduler is there to work on them."""
    scheduler = scheduler_state(runtime, now)
    with Session(bind=runtime.engine.execution_options(sqlite_begin="DEFERRED")) as session:
        issue = session.get(Issue, issue_id)
        if issue is None:
            return None
        grace = timedelta(minutes=runtime.settings.send_grace_minutes)
        overdue = issue.state == "scheduled" and issue.scheduled_for is not None and issue.scheduled_for < now - grace
        return SendProgress(issue.state, issue.scheduled_for, outbox.counts(session, issue_id), scheduler, now, overdue)


def gather(runtime: Runtime, *, now: datetime, registry: dict[str, JobSpec] | None = None) -> Status:
    from newsletter.collect.health import feed_health
    from newsletter.triggers import next_runs

    settings = runtime.settings
    status = Status(now=now, scheduler=scheduler_state(runtime, now))
    planned = next_runs(runtime.engine)
    # A read-only look: on SQLite a deferred transaction takes no write lock, so it never waits for (or blocks) jobs.
    with Session(bind=runtime.engine.execution_options(sqlite_begin="DEFERRED")) as session:
        status.sources = [
            SourceLine(h.name, h.state, h.last_success_at, h.next_check_at, h.error_count,
                       (h.last_error or "").splitlines()[0][:160] if h.last_error else "", h.entries_7d)
            for h in feed_health(session)
        ]
        status.failing_for_a_day = [f.name for f in failing_sources(session, now=now)]
        _triage(session, status)
        _outbox(session, status)
        status.overdue = [f"issue {i.number} ({i.period}) scheduled for {i.scheduled_for.astimezone(settings.tz):%Y-%m-%d %H:%M}"
                          for i in overdue_issues(session, settings=settings, now=now) if i.scheduled_for]
        status.jobs = _jobs(session, settings, now, planned, registry or JOBS)
    return status


def _triage(session: Session, status: Status) -> None:
    waiting = (Incident.state == "new", Incident.relevant.is_(True))
    status.waiting_triage = session.scalar(select(func.count()).select_from(Incident).where(*waiting)) or 0
    status.oldest_waiting = session.scalar(select(func.min(Incident.created_at)).where(*waiting))
    status.needs_info = session.scalar(select(func.count()).select_from(Incident).where(Incident.state == "needs_info")) or 0


def _outbox(session: Session, status: Status) -> None:
    rows = session.execute(select(Delivery.issue_id, Delivery.state, func.count()).group_by(Delivery.issue_id, Delivery.state)).all()
    per_issue: dict[int, dict[str, int]] = {}
    for issue_id, state, count in rows:
        per_issue.setdefault(issue_id, {})[state] = count
        status.outbox_totals[state] = status.outbox_totals.get(state, 0) + count
    shown = list(session.scalars(
        select(Issue).where((Issue.state.in_(("scheduled", "sending"))) | (Issue.id.in_(per_issue)))
        .order_by(Issue.number.desc())
    ))
    active = [i for i in shown if i.state in ("scheduled", "sending")]
    recent = [i for i in shown if i.state not in ("scheduled", "sending")][:RECENT_ISSUES]
    status.outbox = [OutboxLine(i.number, i.period, i.state, i.scheduled_for, per_issue.get(i.id, {}),
                                outbox.undelivered(session, i.id) if i.id in per_issue else {})
                     for i in sorted(active + recent, key=lambda i: -i.number)]


def _jobs(session: Session, settings: Settings, now: datetime, next_run: dict[str, datetime | None],
          registry: dict[str, JobSpec]) -> list[JobLine]:
    lines = []
    for spec in registry.values():
        last = session.scalar(select(JobRun).where(JobRun.job == spec.name).order_by(JobRun.id.desc()).limit(1))
        last_ok = session.scalar(select(func.max(JobRun.started_at)).where(JobRun.job == spec.name, JobRun.outcome == "ok"))
        line = JobLine(spec.name, spec.description, spec.schedule(settings, now).text, spec.enabled(settings),
                       next_run.get(spec.name), last_ok=last_ok, retry_at=next_run.get(spec.name + ".retry"))
        if last is not None:
            line.last_started, line.last_outcome = last.started_at, last.outcome
            line.last_detail = last.detail.splitlines()[0] if last.detail else ""
        lines.append(line)
    return lines


def _iso(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value
