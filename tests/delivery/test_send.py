"""run_send against a real aiosmtpd server on loopback: exactly once, retries, permanent failures."""

from __future__ import annotations

from sqlalchemy import func, select

from newsletter.flows.send import SendRefused, run_send
from newsletter.models import AuditLog, Delivery, Issue, Subscriber, Suppression
from tests.delivery.helpers import add_subscribers, make_issue, recording_smtp


def test_every_confirmed_subscriber_gets_exactly_one_copy(make_runtime) -> None:
    with recording_smtp(keep_raw=False) as (url, sink):
        rt = make_runtime(smtp_url=url, send_connections=4, messages_per_connection=50, send_batch_size=100)
        with rt.session() as s:
            issue = make_issue(s)
            emails = add_subscribers(s, 1000)
            add_subscribers(s, 5, state="pending", prefix="pending")
            add_subscribers(s, 5, state="unsubscribed", prefix="gone")
        report = run_send(rt, issue)
        assert report.sent == 1000 and report.failed == 0
        assert report.issue_state == "sent"
        got = sink.per_recipient()
        assert set(got) == set(emails)
        assert all(len(ids) == 1 for ids in got.values())
        assert len(sink.seen) == 1000
        # Run again: nothing more goes out, the issue stays sent.
        again = run_send(rt, issue)
        assert again.sent == 0 and len(sink.seen) == 1000
    with rt.session() as s:
        assert s.scalar(select(func.count()).select_from(Delivery).where(Delivery.state == "sent")) == 1000
        stored = s.get(Issue, issue.id)
        assert stored.state == "sent" and stored.sent_at is not None
        ids = set(s.scalars(select(Delivery.message_id)))
        assert ids == {mid for _, mid in sink.seen}


def test_temporary_failure_is_retried_and_delivered_once(make_runtime) -> None:
    def greylist(rcpt: str, attempt: int) -> str | None:
        return "451 4.7.1 Greylisted, try again" if rcpt == "reader1@example.org" and attempt == 1 else None

    with recording_smtp(greylist) as (url, sink):
        rt = make_runtime(smtp_url=url, send_connections=2, send_backoff_seconds=0.1)
        with rt.session() as s:
            issue = make_issue(s)
            add_subscribers(s, 3)
        report = run_send(rt, issue)
    assert report.sent == 3 and report.retried == 1 and report.failed == 0
    assert sink.attempts["reader1@example.org"] == 2
    assert [r for r, _ in sink.seen].count("reader1@example.org") == 1
    with rt.session() as s:
        row = s.scalar(select(Delivery).join(Subscriber).where(Subscriber.email == "reader1@example.org"))
        assert row.state == "sent" and row.attempts == 1 and row.last_error is None


def test_permanent_failure_marks_failed_and_counts_a_bounce(make_runtime) -> None:
    def refuse(rcpt: str, attempt: int) -> str | None:
        return "550 5.1.1 No such user" if rcpt == "reader2@example.org" else None

    with recording_smtp(refuse) as (url, sink):
        rt = make_runtime(smtp_url=url, bounce_threshold=1)
        with rt.session() as s:
            issue = make_issue(s)
            add_subscribers(s, 4)
        report = run_send(rt, issue)
    assert report.sent == 3 and report.failed == 1
    assert sink.attempts["reader2@example.org"] == 1  # a 5xx is never retried
    with rt.session() as s:
        row = s.scalar(select(Delivery).join(Subscriber).where(Subscriber.email == "reader2@example.org"))
        assert row.state == "failed" and row.last_error.startswith("550")
        sub = s.scalar(select(Subscriber).where(Subscriber.email == "reader2@example.org"))
        assert sub.bounce_count == 1 and sub.state == "bounced"
        assert s.scalar(select(Suppression.reason).where(Suppression.email == sub.email)) == "bounced"
        assert s.get(Issue, issue.id).state == "sent"  # failed rows are final


def test_bounce_below_threshold_keeps_subscriber(make_runtime) -> None:
    with recording_smtp(lambda r, n: "550 5.1.1 No such user") as (url, _sink):
        rt = make_runtime(smtp_url=url, bounce_threshold=3)
        with rt.session() as s:
            issue = make_issue(s)
            add_subscribers(s, 1)
        run_send(rt, issue)
    with rt.session() as s:
        sub = s.scalar(select(Subscriber))
        assert sub.bounce_count == 1 and sub.state == "confirmed"
        assert s.scalar(select(func.count()).select_from(Suppression)) == 0


def test_retries_stop_after_max_attempts(make_runtime) -> None:
    with recording_smtp(lambda r, n: "452 4.2.2 Mailbox full") as (url, sink):
        rt = make_runtime(smtp_url=url, send_max_attempts=2, send_backoff_seconds=0.1)
        with rt.session() as s:
            issue = make_issue(s)
            add_subscribers(s, 1)
        report = run_send(rt, issue)
    assert sink.attempts["reader0@example.org"] == 2
    assert report.failed == 1 and report.issue_state == "sent"
    with rt.session() as s:
        row = s.scalar(select(Delivery))
        assert row.state == "failed" and row.attempts == 2 and "452" in row.last_error


def test_unapproved_issue_is_refused(make_runtime) -> None:
    with recording_smtp() as (url, sink):
        rt = make_runtime(smtp_url=url)
        with rt.session() as s:
            issue = make_issue(s, state="draft", frozen=False)
            add_subscribers(s, 2)
        try:
            run_send(rt, issue)
        except SendRefused as exc:
            assert "approve" in str(exc)
        else:
            raise AssertionError("a draft was sent")
    assert sink.seen == []
    with rt.session() as s:
        assert s.scalar(select(func.count()).select_from(Delivery)) == 0


def test_unreachable_relay_stops_cleanly_and_loses_nothing(make_runtime) -> None:
    from newsletter.delivery.sender import SendAborted
    from tests.support.net import free_port

    rt = make_runtime(smtp_url=f"smtp://127.0.0.1:{free_port()}", send_connections=1)
    with rt.session() as s:
        issue = make_issue(s)
        add_subscribers(s, 3)
    try:
        run_send(rt, issue)
    except SendAborted as exc:
        assert "cannot connect" in str(exc)
    else:
        raise AssertionError("no error for an unreachable relay")
    with rt.session() as s:
        states = s.scalars(select(Delivery.state)).all()
        assert sorted(states) == ["pending"] * 3  # released, none counted as an attempt
        assert s.get(Issue, issue.id).state == "sending"
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "issue.sending")) == 1


def test_plain_addresses_go_out_as_they_are_and_unusual_ones_quoted(make_runtime) -> None:
    """MAIL/RCPT skip aiosmtplib's address parsing only for a plain ASCII addr-spec; anything else (a quoted
    local part here; a CR/LF or angle bracket never) takes aiosmtplib's quoting, and both arrive."""
    from newsletter.delivery.sender import _plain_address

    assert _plain_address("reader1@example.org") and _plain_address("o'neil+news@mail.example.org")
    for odd in ('"a b"@example.org', "a@example.org>\r\nRCPT TO:<evil@example.org", "a@b.org\n", "<a@b.org>",
                "a b@example.org", "ünï@example.org", "a@b.org SIZE=1"):
        assert not _plain_address(odd)
    with recording_smtp(keep_raw=False) as (url, sink):
        rt = make_runtime(smtp_url=url, send_connections=2)
        with rt.session() as s:
            issue = make_issue(s)
            emails = add_subscribers(s, 3)
            s.execute(Subscriber.__table__.update().where(Subscriber.email == emails[0])
                      .values(email='"first reader"@example.org'))
        report = run_send(rt, issue)
        assert report.sent == 3 and report.failed == 0
        assert set(sink.per_recipient()) == {'"first reader"@example.org', *emails[1:]}
