"""Sending through a relay that misbehaves the way real ones do: every reader gets exactly one copy,
temporary trouble never loses mail, and what could not be delivered is said, counted and re-queueable."""

from __future__ import annotations

import json
from collections import Counter

from sqlalchemy import func, select

from newsletter.flows.send import run_send
from newsletter.models import AuditLog, Delivery, Issue, Subscriber
from tests.delivery.faulty_relay import faulty_relay
from tests.delivery.helpers import add_subscribers, make_issue

FAST = {"send_backoff_seconds": 0.2, "send_backoff_max_seconds": 1, "send_wait_seconds": 10}


def _states(rt) -> Counter[str]:
    with rt.session() as s:
        return Counter(s.scalars(select(Delivery.state)))


def test_a_throttling_relay_pauses_the_sender_and_everyone_gets_one_copy(make_runtime) -> None:
    # The provider pattern from the field: 421 and close after N messages, refuse connections for T seconds.
    with faulty_relay(throttle_after=15, throttle_seconds=0.6) as (url, relay):
        rt = make_runtime(smtp_url=url, send_connections=2, **FAST)
        with rt.session() as s:
            issue = make_issue(s)
            emails = add_subscribers(s, 50)
        report = run_send(rt, issue)
    assert relay.per_recipient() == Counter({e: 1 for e in emails})
    assert report.sent == 50 and report.failed == 0 and report.issue_state == "sent"
    assert report.paused >= 2, "the relay refused several times; the run should have paused each time"
    assert _states(rt) == Counter({"sent": 50})
    with rt.session() as s:
        # A relay-wide refusal is not the reader's fault: no row spent an attempt on it.
        assert s.scalar(select(func.max(Delivery.attempts))) == 0


def test_refusals_at_mail_rcpt_and_data_4xx_retry_5xx_fail_at_once(make_runtime) -> None:
    def rule(stage: str, rcpt: str, attempt: int) -> str | None:
        if stage == "RCPT" and rcpt == "reader1@example.org":
            return "550 5.1.1 No such user"
        if stage == "RCPT" and rcpt == "reader2@example.org" and attempt == 1:
            return "450 4.2.1 Mailbox busy"
        if stage == "DATA" and rcpt == "reader3@example.org":
            return "554 5.7.1 Message rejected"
        if stage == "DATA" and rcpt == "reader4@example.org" and attempt == 1:
            return "451 4.3.0 Temporary local problem"
        return None

    with faulty_relay(rule=rule) as (url, relay):
        rt = make_runtime(smtp_url=url, send_connections=2, **FAST)
        with rt.session() as s:
            issue = make_issue(s)
            add_subscribers(s, 6)
        report = run_send(rt, issue)
    got = relay.per_recipient()
    assert got == Counter({f"reader{i}@example.org": 1 for i in (0, 2, 4, 5)})
    assert relay.attempts["reader3@example.org"] == 1  # a 5xx is never tried again
    assert report.sent == 4 and report.failed == 2 and report.retried == 2
    assert report.issue_state == "sent"
    assert report.undelivered == {"failed": {"550 5.1.1 No such user": 1, "554 5.7.1 Message rejected": 1}}


def test_a_temporary_refusal_stays_pending_the_issue_stays_sending_and_the_command_says_why(make_runtime, cli) -> None:
    blocked = {"reader0@example.org", "reader1@example.org"}

    def rule(stage: str, rcpt: str, attempt: int) -> str | None:
        return "452 4.2.2 Mailbox full" if stage == "RCPT" and rcpt in blocked else None

    with faulty_relay(rule=rule) as (url, relay):
        rt = make_runtime(smtp_url=url, send_connections=1, send_retry_hours=1, send_backoff_seconds=0.2,
                          send_wait_seconds=0.5)
        with rt.session() as s:
            issue = make_issue(s)
            add_subscribers(s, 5)
        first = cli("send", "1", expect=3)
        assert "3 sent now" in first.output
        assert "undelivered: 2 postponed: 452 4.2.2 Mailbox full" in first.output
        assert "2 delivery(ies) wait for a retry" in first.output
        with rt.session() as s:
            assert s.get(Issue, issue.id).state == "sending"
            assert s.get(Issue, issue.id).published_at is None  # mailed is not published
        status = json.loads(cli("status", "--json").output)
        assert "issue 1 (2026-W47): 2 delivery(ies) not delivered after temporary failures" in status["problems"]
        assert status["outbox"][0]["undelivered"] == {"postponed": {"452 4.2.2 Mailbox full": 2}}
        cli("status", "--check", expect=1)
        # The mailbox has room again: running the same command delivers the rest, once.
        blocked.clear()
        second = cli("send", "1", expect=0)
        assert "2 sent now" in second.output and "issue is sent" in second.output
    assert relay.per_recipient() == Counter({f"reader{i}@example.org": 1 for i in range(5)})
    assert _states(rt) == Counter({"sent": 5})


def test_after_the_retry_horizon_a_row_fails_and_an_editor_can_queue_it_again(make_runtime, cli) -> None:
    refusing = [True]

    def rule(stage: str, rcpt: str, attempt: int) -> str | None:
        return "451 4.4.1 No answer from host" if refusing[0] and rcpt == "reader2@example.org" else None

    with faulty_relay(rule=rule) as (url, relay):
        # A horizon of ~0.7 s: the row is tried a few times with growing backoff, then given up.
        rt = make_runtime(smtp_url=url, send_connections=1, send_retry_hours=0.0002, **FAST)
        with rt.session() as s:
            issue = make_issue(s)
            add_subscribers(s, 3)
        out = cli("send", "1", expect=3)
        assert "undelivered: 1 failed: 451 4.4.1 No answer from host" in out.output
        assert "--retry-failed" in out.output
        assert 2 <= relay.rcpt_attempts["reader2@example.org"] <= 6
        with rt.session() as s:
            row = s.scalar(select(Delivery).join(Subscriber).where(Subscriber.email == "reader2@example.org"))
            assert row.state == "failed" and row.first_failed_at is not None
            assert s.get(Issue, issue.id).state == "sent"
        assert cli("send", "1", expect=3).output.count("undelivered") == 1  # still said on every run
        refusing[0] = False
        again = cli("send", "1", "--retry-failed", expect=0)
        assert "1 failed delivery(ies) were queued again" in again.output and "1 sent now" in again.output
    assert relay.per_recipient() == Counter({f"reader{i}@example.org": 1 for i in range(3)})
    with rt.session() as s:
        assert s.get(Issue, issue.id).state == "sent"
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "deliveries.requeued")) == 1


def test_a_stalled_relay_times_out_and_a_dropped_connection_is_retried_without_doubles(make_runtime) -> None:
    with faulty_relay(rule=None, stall=lambda rcpt, n: 0, drop=lambda rcpt, n: rcpt == "reader3@example.org" and n == 1,
                      ) as (url, relay):
        stalled = {"reader1@example.org"}
        original = relay.handle_RCPT

        async def slow_rcpt(server, session, envelope, address, options):  # the relay sits silent once
            if address in stalled:
                stalled.discard(address)
                import asyncio
                await asyncio.sleep(2)
            return await original(server, session, envelope, address, options)

        relay.handle_RCPT = slow_rcpt  # type: ignore[method-assign]
        rt = make_runtime(smtp_url=url, send_connections=2, smtp_timeout=0.5, **FAST)
        with rt.session() as s:
            issue = make_issue(s)
            add_subscribers(s, 6)
        report = run_send(rt, issue)
    assert relay.per_recipient() == Counter({f"reader{i}@example.org": 1 for i in range(6)})
    assert report.sent == 6 and report.retried == 2 and report.issue_state == "sent"
    with rt.session() as s:
        errors = dict(s.execute(select(Subscriber.email, Delivery.attempts).join(Delivery)).all())
    assert errors["reader1@example.org"] == 1 and errors["reader3@example.org"] == 1


def test_a_slow_relay_with_a_short_lease_never_sends_twice(make_runtime) -> None:
    with faulty_relay(delay=0.15) as (url, relay):
        # 30 messages at 0.15 s over one connection take ~4.5 s: more than twice the 2 s lease.
        rt = make_runtime(smtp_url=url, send_connections=1, send_lease_seconds=2, send_batch_size=200)
        with rt.session() as s:
            issue = make_issue(s)
            emails = add_subscribers(s, 30)
        report = run_send(rt, issue)
    assert relay.per_recipient() == Counter({e: 1 for e in emails})
    assert len(relay.seen) == 30
    assert report.sent == 30 and report.counts == {"sent": 30}


def test_the_retry_job_sends_postponed_rows_and_the_desk_requeues_failed_ones(make_runtime, cli) -> None:
    import httpx

    from tests.editorial.helpers import csrf_token_of, login, make_user
    from tests.support.servers import serve_app

    trouble = [True]

    def rule(stage: str, rcpt: str, attempt: int) -> str | None:
        if trouble[0] and stage == "RCPT" and rcpt == "reader1@example.org":
            return "450 4.7.1 Try again later"
        if trouble[0] and stage == "DATA" and rcpt == "reader2@example.org":
            return "554 5.6.0 Message content refused"  # permanent, but not the reader's address
        return None

    with faulty_relay(rule=rule) as (url, relay):
        rt = make_runtime(smtp_url=url, send_connections=1, send_retry_hours=1, send_backoff_seconds=0.2,
                          send_wait_seconds=0.3)
        make_user(rt, "ed@example.org")
        with rt.session() as s:
            issue = make_issue(s)
            add_subscribers(s, 4)
        cli("send", "1", expect=3)
        with rt.session() as s:
            assert s.get(Issue, issue.id).state == "sending"  # reader1 can still be delivered
        trouble[0] = False  # the relay is fine again; the content rule was lifted
        with serve_app(rt) as base, httpx.Client(base_url=base, follow_redirects=True) as client:
            login(client, base, "ed@example.org")
            page = client.get(f"/editor/issues/{issue.id}")
            assert page.status_code == 200 and 'id="delivery"' in page.text
            assert "1 failed: 554 5.6.0 Message content refused" in page.text
            assert "1 waiting for a retry: 450 4.7.1 Try again later" in page.text
            assert "Queue the 1 failed deliveries again" in page.text
            done = client.post(f"/editor/issues/{issue.id}/requeue", data={"csrf_token": csrf_token_of(page.text)})
            assert done.status_code == 200 and "1 failed delivery(ies) queued again" in done.text
        job = cli("jobs", "run", "retry")
        assert "job retry ok" in job.output and "now sent" in job.output
    assert relay.per_recipient() == Counter({f"reader{i}@example.org": 1 for i in range(4)})
    assert _states(rt) == Counter({"sent": 4})
    with rt.session() as s:
        assert s.get(Issue, issue.id).state == "sent"


def test_refusals_at_mail_from_a_4xx_is_retried_a_5xx_stops_the_run_and_loses_nothing(make_runtime) -> None:
    from newsletter.delivery.sender import SendAborted

    mails = Counter[str]()

    def once_busy(stage: str, rcpt: str, attempt: int) -> str | None:
        if stage == "MAIL":
            mails["n"] += 1
            return "451 4.3.2 System busy" if mails["n"] == 1 else None
        return None

    with faulty_relay(rule=once_busy) as (url, relay):
        rt = make_runtime(smtp_url=url, send_connections=1, **FAST)
        with rt.session() as s:
            issue = make_issue(s)
            add_subscribers(s, 3)
        report = run_send(rt, issue)
    assert relay.per_recipient() == Counter({f"reader{i}@example.org": 1 for i in range(3)})
    assert report.sent == 3 and report.retried == 1 and report.issue_state == "sent"

    with faulty_relay(rule=lambda stage, rcpt, n: "553 5.7.1 Sender address rejected" if stage == "MAIL" else None) as (
            url, relay):
        rt2 = make_runtime(smtp_url=url, send_connections=1, **FAST)
        with rt2.session() as s:
            second = make_issue(s, number=2, period="2026-W48")
        try:
            run_send(rt2, second)
        except SendAborted as exc:
            assert "refused the sender address" in str(exc)
        else:
            raise AssertionError("a refused sender address did not stop the run")
    assert relay.seen == []
    with rt2.session() as s:
        states = Counter(s.scalars(select(Delivery.state).where(Delivery.issue_id == second.id)))
    assert states == Counter({"pending": 3})  # given back, nothing failed, nothing counted
