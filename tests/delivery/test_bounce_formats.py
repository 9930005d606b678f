"""Bounces in the wild: RFC 3464 reports, Exim, qmail, old Postfix and webmail formats (flufl.bounce), and ARF
complaints. Each sample in data/bounces/ is written in its family's real format; our Message-ID is filled in."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from newsletter.flows.send import run_send
from newsletter.models import AuditLog, Delivery, Subscriber, Suppression
from tests.delivery.helpers import add_subscribers, make_issue, recording_smtp

DATA = Path(__file__).parent / "data" / "bounces"


def flat(result) -> str:
    return " ".join(result.output.split())


def sample(name: str, recipient: str, message_id: str = "<unknown@elsewhere.example>", **extra: str) -> str:
    text = (DATA / name).read_text().replace("{RECIPIENT}", recipient).replace("{MESSAGE_ID}", message_id)
    for key, value in extra.items():
        text = text.replace("{" + key + "}", value)
    return text


@pytest.fixture
def sent(make_runtime, session):
    """An issue really sent to reader0..reader2 through a loopback SMTP server; returns reader0's delivery."""
    with recording_smtp(keep_raw=False) as (url, _sink):
        rt = make_runtime(smtp_url=url)
        with rt.session() as s:
            issue = make_issue(s)
            add_subscribers(s, 3)
        run_send(rt, issue)
    return session.scalar(select(Delivery).join(Subscriber).where(Subscriber.email == "reader0@example.org"))


def _state(session, email: str) -> tuple[str, int]:
    session.expire_all()
    sub = session.scalar(select(Subscriber).where(Subscriber.email == email))
    return sub.state, sub.bounce_count


@pytest.mark.parametrize("name", ["gmail_dsn.eml", "exim.eml", "qmail.eml", "postfix_old.eml", "yahoo.eml"])
def test_each_bounce_family_is_recognised_and_tied_to_our_delivery(cli, session, sent, tmp_path, name: str) -> None:
    f = tmp_path / name
    f.write_text(sample(name, "reader0@example.org", sent.message_id))
    out = flat(cli("bounces", "process", str(f)))
    assert "1 hard bounce(s)" in out and "1 subscriber(s) now bounced" in out
    session.expire_all()
    assert session.get(Delivery, sent.id).state == "bounced"
    assert _state(session, "reader0@example.org") == ("bounced", 1)
    assert session.scalar(select(Suppression.reason).where(Suppression.email == "reader0@example.org")) == "bounced"
    assert _state(session, "reader1@example.org") == ("confirmed", 0)
    # Read again (a re-read mailbox): the same bounce is not counted twice.
    assert "1 already counted" in flat(cli("bounces", "process", str(f)))


def test_other_formats_without_our_message_id_match_by_address(cli, session, sent, tmp_path) -> None:
    f = tmp_path / "qmail.eml"
    f.write_text(sample("qmail.eml", "Reader1@Example.org"))
    assert "1 hard bounce(s)" in flat(cli("bounces", "process", str(f)))
    assert _state(session, "reader1@example.org") == ("bounced", 1)


def test_a_reader_reply_that_reads_like_a_bounce_changes_nothing(cli, session, sent, tmp_path) -> None:
    """flufl.bounce's heuristics read free text; they are only trusted on mail from a mail system."""
    f = tmp_path / "reply.eml"
    f.write_text(sample("human_reply.eml", "reader0@example.org", sent.message_id))
    out = flat(cli("bounces", "process", str(f)))
    assert "0 hard bounce(s)" in out and "1 ignored" in out
    assert _state(session, "reader0@example.org") == ("confirmed", 0)


def test_arf_abuse_complaint_unsubscribes_suppresses_and_audits(cli, session, sent, tmp_path) -> None:
    f = tmp_path / "arf.eml"
    f.write_text(sample("arf_abuse.eml", "", sent.message_id, FEEDBACK_TYPE="abuse", ORIGINAL_RCPT="", TOKEN="x" * 30))
    out = flat(cli("bounces", "process", str(f)))
    assert "1 complaint(s)" in out and "complained (marked as spam): unsubscribed and suppressed" in out
    assert _state(session, "reader0@example.org") == ("unsubscribed", 0)
    assert session.scalar(select(Suppression.reason).where(Suppression.email == "reader0@example.org")) == "complaint"
    log = session.scalar(select(AuditLog).where(AuditLog.action == "subscriber.complaint"))
    assert log is not None and log.entity_id == sent.subscriber_id
    assert "mail.feedback.example.net" in log.note


def test_arf_complaint_found_by_the_unsubscribe_token_when_the_provider_strips_ids(cli, session, sent, tmp_path) -> None:
    token = session.scalar(select(Subscriber.token).where(Subscriber.email == "reader2@example.org"))
    f = tmp_path / "arf.eml"
    f.write_text(sample("arf_abuse.eml", "", "<redacted@feedback.example.net>", FEEDBACK_TYPE="abuse",
                        ORIGINAL_RCPT="", TOKEN=token))
    assert "1 complaint(s)" in flat(cli("bounces", "process", str(f)))
    assert _state(session, "reader2@example.org") == ("unsubscribed", 0)


def test_arf_complaint_found_by_original_recipient(cli, session, sent, tmp_path) -> None:
    f = tmp_path / "arf.eml"
    f.write_text(sample("arf_abuse.eml", "", "<redacted@feedback.example.net>", FEEDBACK_TYPE="abuse",
                        ORIGINAL_RCPT="Original-Rcpt-To: reader1@example.org\n", TOKEN="y" * 30))
    assert "1 complaint(s)" in flat(cli("bounces", "process", str(f)))
    assert _state(session, "reader1@example.org") == ("unsubscribed", 0)


def test_arf_report_that_is_not_abuse_is_ignored(cli, session, sent, tmp_path) -> None:
    f = tmp_path / "arf.eml"
    f.write_text(sample("arf_abuse.eml", "", sent.message_id, FEEDBACK_TYPE="not-spam", ORIGINAL_RCPT="", TOKEN="x" * 30))
    out = flat(cli("bounces", "process", str(f)))
    assert "0 complaint(s)" in out and "1 ignored" in out and "feedback report of type 'not-spam' ignored" in out
    assert _state(session, "reader0@example.org") == ("confirmed", 0)
