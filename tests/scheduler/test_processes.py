"""Real `newsletter scheduler` processes sharing one database (SQLite file, or PostgreSQL with --db=postgresql)."""

from __future__ import annotations

import signal
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from newsletter.models import Delivery, Issue, JobRun
from tests.scheduler.helpers import (
    UTC, GatedSink, add_subscribers, make_issue, start_scheduler, stop, wait_for,
)
from tests.support.servers import smtp_sink

pytestmark = pytest.mark.slow


def _issue_state(session) -> str:  # noqa: ANN001
    session.expire_all()
    return session.scalar(select(Issue.state))


def _run_counts(session) -> Counter[str]:  # noqa: ANN001
    return Counter(dict(session.execute(select(JobRun.job, func.count()).group_by(JobRun.job)).all()))


def test_two_schedulers_started_together_run_each_job_once_and_one_takes_over(make_runtime, session, smtp, tmp_path: Path) -> None:
    make_runtime(smtp_url=smtp.url)
    make_issue(session, scheduled_for=datetime.now(UTC) - timedelta(seconds=30))
    emails = add_subscribers(session, 20)
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    procs = [start_scheduler(log) for log in logs]
    try:
        wait_for(lambda: _issue_state(session) == "sent", 60, "the scheduled issue to be sent", logs)
        wait_for(lambda: {"collect", "send", "retry"} <= set(_run_counts(session)), 20, "the first runs", logs)
        time.sleep(4)  # several lease checks (one a second) in which the waiting scheduler must not run anything
        counts = _run_counts(session)
        assert (counts["collect"], counts["send"], counts["retry"]) == (1, 1, 1), counts
        active = [i for i, log in enumerate(logs) if "is now the active scheduler" in log.read_text()]
        assert len(active) == 1, [log.read_text() for log in logs]
        assert sorted(r for _, rcpts in ((m.mail_from, m.rcpt_tos) for m in smtp.messages) for r in rcpts) == sorted(emails)

        # The active one dies without a word; the other takes over within the lease time and,
        # as a new active scheduler, runs the polling jobs at once.
        leader, standby = active[0], 1 - active[0]
        procs[leader].send_signal(signal.SIGKILL)
        procs[leader].wait(timeout=10)
        wait_for(lambda: "is now the active scheduler" in logs[standby].read_text(), 20, "the takeover", logs)
        wait_for(lambda: _run_counts(session)["send"] == 2, 20, "the new scheduler's first send check", logs)
        assert len(smtp.messages) == len(emails)  # nothing sent twice
    finally:
        for proc in procs:
            stop(proc)


def test_a_scheduler_killed_mid_send_and_restarted_neither_loses_nor_repeats(make_runtime, session, tmp_path: Path) -> None:
    gate = GatedSink(open_for=12)
    with smtp_sink(gate) as sink:
        make_runtime(smtp_url=sink.url, send_connections=2)
        make_issue(session, scheduled_for=datetime.now(UTC) - timedelta(seconds=10))
        emails = add_subscribers(session, 40)
        first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
        first = start_scheduler(first_log)
        try:
            wait_for(lambda: len(gate.messages) >= 12 and gate.held >= 1, 60, "the send to be under way", [first_log])
            # Let the outbox record what the relay accepted, then kill the scheduler in the middle of the send.
            wait_for(lambda: session.scalar(select(func.count()).select_from(Delivery).where(Delivery.state == "sent")) == 12,
                     10, "accepted messages to be recorded", [first_log])
            assert first.poll() is None and _issue_state(session) == "sending"
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            stop(first)
        gate.release()
        second = start_scheduler(second_log)
        try:
            wait_for(lambda: _issue_state(session) == "sent", 90, "the restarted scheduler to finish the send",
                     [first_log, second_log])
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)
        per_recipient = Counter(r for _, rcpts in gate.messages for r in rcpts)
    assert set(per_recipient) == set(emails)  # nobody lost
    assert max(per_recipient.values()) == 1  # nobody twice
    assert "stopped and released the lease" in second_log.read_text()
    interrupted = session.scalars(select(JobRun).where(JobRun.outcome == "interrupted")).all()
    assert [r.job for r in interrupted] == ["send"]  # the killed run is closed, not left "running"
