"""Builders for scheduler tests: recording jobs, a simulated run under a ManualClock, issues and subscribers."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from newsletter.db import utcnow
from newsletter.delivery.tokens import new_subscriber_token
from newsletter.models import Issue, JobRun, Subscriber
from newsletter.flows import jobs
from newsletter.clock import ManualClock
from newsletter.scheduler import Scheduler

UTC = timezone.utc


class Recorder:
    """A job body that remembers when (by the job's clock) it ran."""

    def __init__(self, fail: Callable[[int], bool] | None = None) -> None:
        self.calls: list[datetime] = []
        self.fail = fail or (lambda n: False)
        self.lock = threading.Lock()

    def __call__(self, ctx: jobs.JobContext) -> str:
        with self.lock:
            self.calls.append(ctx.clock.now())
            n = len(self.calls)
        if self.fail(n):
            raise RuntimeError(f"planned failure on call {n}")
        return f"call {n}"


def spec(name: str, body: Callable[[jobs.JobContext], str], schedule: Callable[..., jobs.Schedule], **kw: Any) -> jobs.JobSpec:
    return jobs.JobSpec(name, f"test job {name}", body, schedule, **kw)


def simulate(sched: Scheduler, clock: ManualClock, until: datetime) -> int:
    """Run the scheduler's loop as run() does, letting the clock jump to each wake-up; returns ticks."""
    ticks = 0
    while True:
        wait = sched.tick()
        ticks += 1
        if clock.now() >= until:
            break
        clock.set(min(clock.now() + timedelta(seconds=max(wait, 0.001)), until))
    return ticks


def runs(session: Session, job: str) -> list[JobRun]:
    session.expire_all()
    return list(session.scalars(select(JobRun).where(JobRun.job == job).order_by(JobRun.id)))


def snapshot(number: int, period: str) -> dict[str, Any]:
    return {
        "version": 1,
        "issue": {"number": number, "period": period, "period_start": "2026-10-19", "period_end": "2026-10-25",
                  "title": "Searches and detentions of activists", "intro": "Volunteers in six cities reported.",
                  "language": "en", "preheader": "Searches in Almaty", "published_at": None},
        "organisation": {"name": "Test Monitor", "base_url": "http://127.0.0.1:8000"},
        "sections": [{"slug": "persecution", "title": "Intensified political persecution", "description": "",
                      "items": [{"id": 1, "headline": "Search at a journalist's flat", "text": "Police searched the flat.",
                                 "date": "2026-10-20", "date_precision": "day", "place": "Almaty", "kind": "search",
                                 "links": [{"url": "https://example.org/a", "title": "Report"}]}]}],
        "withheld": {"incidents": 0, "cities": 0},
        "persons_summary": None,
    }


def make_issue(session: Session, *, scheduled_for: datetime | None, number: int = 1, period: str = "2026-W43",
               state: str = "scheduled", frozen: bool = True) -> Issue:
    """An approved issue with a frozen snapshot, as the desk leaves it after sign-off and scheduling."""
    issue = Issue(number=number, period=period, period_start=date(2026, 10, 19), period_end=date(2026, 10, 25),
                  title="Searches and detentions of activists", state=state, snapshot=snapshot(number, period) if frozen else None,
                  approved_at=utcnow(), scheduled_for=scheduled_for)
    session.add(issue)
    session.flush()
    return issue


def add_subscribers(session: Session, n: int, prefix: str = "reader") -> list[str]:
    now = utcnow()
    rows = [{"email": f"{prefix}{i}@example.org", "state": "confirmed", "language": "en", "token": new_subscriber_token(),
             "consent_source": "test", "consent_at": now, "confirmed_at": now, "bounce_count": 0,
             "created_at": now, "updated_at": now} for i in range(n)]
    session.execute(insert(Subscriber), rows)
    session.flush()
    return [r["email"] for r in rows]


NEWSLETTER = str(Path(sys.executable).parent / "newsletter")


def start_scheduler(log: Path, *, lease_seconds: float = 3, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`newsletter scheduler` as a real process with the test's NEWSLETTER_* environment."""
    out = log.open("wb")
    return subprocess.Popen([NEWSLETTER, "scheduler", "--lease-seconds", str(lease_seconds)],
                            env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT)


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, logs: list[Path] = ()) -> None:  # type: ignore[assignment]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    output = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in logs if p.exists())
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{output}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=30)


class GatedSink:
    """An SMTP sink that accepts `open_for` messages, then holds further ones unanswered and
    unrecorded, like a relay that stops responding mid-send. After release() the held ones are
    refused (their sender is gone by then) and new ones are accepted and recorded."""

    def __init__(self, open_for: int) -> None:
        self.open_for = open_for
        self.messages: list[tuple[str, list[str]]] = []
        self.lock = threading.Lock()
        self.released = threading.Event()
        self.held = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        with self.lock:
            if self.released.is_set() or len(self.messages) < self.open_for:
                self.messages.append((envelope.mail_from, list(envelope.rcpt_tos)))
                return "250 OK"
            self.held += 1
        while not self.released.is_set():
            await asyncio.sleep(0.05)
        return "451 4.3.0 try again later"

    def release(self) -> None:
        self.released.set()
