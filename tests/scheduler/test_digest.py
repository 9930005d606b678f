"""The editors' daily digest: sent when something waits, once a day, with counts and links but no report content."""

from __future__ import annotations

from datetime import datetime, timedelta
from email import message_from_bytes
from email.policy import default

from sqlalchemy import select

from newsletter.models import Incident, JobRun, Source, User
from newsletter.flows import jobs
from newsletter.clock import ManualClock
from newsletter.flows.digest import build_digest
from newsletter.scheduler import Scheduler
from tests.scheduler.helpers import UTC, make_issue, runs, simulate

NOW = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
SECRET_TITLE = "Search at the flat of Aigul Utepova in Almaty"


def _editors(session, *emails: str, inactive: str | None = None) -> None:  # noqa: ANN001
    for email in emails:
        session.add(User(email=email, password_hash="x", role="editor"))
    if inactive:
        session.add(User(email=inactive, password_hash="x", role="editor", active=False))
    session.flush()


def _waiting(session, n: int, *, created: datetime = NOW - timedelta(hours=5)) -> None:  # noqa: ANN001
    for i in range(n):
        session.add(Incident(title=f"{SECRET_TITLE} {i}", origin="volunteer", state="new", created_at=created))
    session.add(Incident(title="Not relevant", origin="feed", state="new", relevant=False))
    session.flush()


def _sources(session) -> None:  # noqa: ANN001
    session.add_all([
        Source(name="Court news", url="https://court.example.org/feed", error_count=5, last_error="HTTP 503 Service Unavailable",
               last_success_at=NOW - timedelta(days=2)),
        Source(name="Briefly down", url="https://brief.example.org/feed", error_count=1, last_error="timeout",
               last_success_at=NOW - timedelta(hours=3)),
        Source(name="Never worked", url="https://never.example.org/feed", error_count=9, last_error="HTTP 404",
               created_at=NOW - timedelta(days=3)),
        Source(name="Disabled", url="https://off.example.org/feed", error_count=9, enabled=False,
               last_success_at=NOW - timedelta(days=9)),
    ])
    session.flush()


def test_digest_lists_what_waits_and_never_the_content_of_a_report(make_runtime, session, smtp) -> None:
    rt = make_runtime(smtp_url=smtp.url, timezone="Europe/Berlin", base_url="https://news.example.org")
    _editors(session, "ed1@example.org", "ed2@example.org", inactive="gone@example.org")
    _waiting(session, 3)
    _sources(session)
    make_issue(session, scheduled_for=NOW - timedelta(hours=4))
    result = jobs.run_job(jobs.JOBS["digest"], jobs.JobContext(rt, ManualClock(NOW)))

    assert result.outcome == "ok", result.detail
    assert result.detail.startswith("sent to 2 editor(s): 3 waiting for triage, 2 failing feed(s), 1 overdue issue(s)")
    assert sorted(r for m in smtp.messages for r in m.rcpt_tos) == ["ed1@example.org", "ed2@example.org"]
    msg = message_from_bytes(smtp.messages[0].data, policy=default)
    assert msg["Subject"] == "Monitoring Newsletter desk: 3 reports to triage, 1 issue not sent, 2 feeds failing"
    assert msg["To"] in ("ed1@example.org", "ed2@example.org") and "," not in msg["To"]  # one message per editor
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for body in (text, html):
        assert "Aigul" not in body and "Almaty" not in body  # counts only, never a report's content
        assert "https://news.example.org/editor/triage" in body
        assert "Court news" in body and "Never worked" in body
        assert "Briefly down" not in body and "Disabled" not in body
        assert "Issue 1 (2026-W43)" in body
    assert "3 reports wait for an editor" in text
    assert "the oldest since 20 November 03:00" in text  # in the organisation's time zone
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org", "")


def test_digest_goes_out_once_a_day_and_not_when_nothing_waits(make_runtime, session, smtp) -> None:
    rt = make_runtime(smtp_url=smtp.url, timezone="Europe/Berlin", digest_time="08:00")
    _editors(session, "ed@example.org")
    clock = ManualClock(datetime(2026, 11, 19, 12, 0, tzinfo=UTC))
    sched = Scheduler(rt, clock=clock, inline=True, lease_seconds=86400, registry={"digest": jobs.JOBS["digest"]})
    sched.start()
    simulate(sched, clock, datetime(2026, 11, 20, 12, 0, tzinfo=UTC))  # 20 Nov 08:00: nothing waits
    assert smtp.messages == [] and runs(session, "digest")[-1].outcome == "skipped"
    _waiting(session, 1)
    simulate(sched, clock, datetime(2026, 11, 21, 12, 0, tzinfo=UTC))  # 21 Nov 08:00 Berlin = 07:00 UTC
    assert len(smtp.messages) == 1
    assert runs(session, "digest")[-1].started_at == datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
    # A second scheduled run the same day (e.g. after a takeover replayed it) sends nothing more.
    second = jobs.run_job(jobs.JOBS["digest"], jobs.JobContext(rt, clock))
    sched.shutdown()
    assert second.outcome == "skipped" and "already sent" in second.detail
    assert len(smtp.messages) == 1
    # By hand, an editor can always ask for it again.
    by_hand = jobs.run_job(jobs.JOBS["digest"], jobs.JobContext(rt, clock, by="hand"))
    assert by_hand.outcome == "ok" and len(smtp.messages) == 2


def test_an_unreachable_relay_fails_the_digest_without_the_password(make_runtime, session) -> None:
    from tests.support.net import free_port

    rt = make_runtime(smtp_url=f"smtp://digest:s3cret-pass@127.0.0.1:{free_port()}")
    _editors(session, "ed@example.org")
    _waiting(session, 2)
    result = jobs.run_job(jobs.JOBS["digest"], jobs.JobContext(rt, ManualClock(NOW)))
    assert result.outcome == "error"
    assert "digest not sent to 1 of 1 editor(s)" in result.detail
    assert "s3cret-pass" not in result.detail
    assert "s3cret-pass" not in session.scalar(select(JobRun.detail).where(JobRun.job == "digest"))


def test_no_active_editor_is_reported(make_runtime, session) -> None:
    rt = make_runtime()
    _waiting(session, 1)
    result = jobs.run_job(jobs.JOBS["digest"], jobs.JobContext(rt, ManualClock(NOW)))
    assert result.outcome == "skipped" and "no active desk user" in result.detail


def test_failed_jobs_appear_in_the_digest(make_runtime, session) -> None:
    rt = make_runtime()
    session.add(JobRun(job="collect", started_at=NOW - timedelta(hours=1), finished_at=NOW - timedelta(hours=1),
                       outcome="error", detail="OperationalError: disk full\nTraceback..."))
    session.add(JobRun(job="send", started_at=NOW - timedelta(hours=2), outcome="error", detail="old failure"))
    session.add(JobRun(job="send", started_at=NOW - timedelta(hours=1), outcome="ok", detail="fine now"))
    session.flush()
    digest = build_digest(session, settings=rt.settings, now=NOW)
    assert [(j.job, j.error) for j in digest.failed_jobs] == [("collect", "OperationalError: disk full")]
    assert digest.worth_sending
