"""Sending from the desk over HTTP: the confirmation page counts readers, "send now" only queues (the
scheduler's send job mails), the status page follows the outbox, and nothing is ever sent twice."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from newsletter.db import utcnow
from newsletter.flows.jobs import run_by_hand
from newsletter.lease import Lease
from newsletter.models import AuditLog, Delivery, Issue, Subscriber, Suppression
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from tests.delivery.helpers import add_subscribers
from tests.editorial.helpers import csrf_token_of, login, make_user
from tests.support.servers import SmtpSink

EDITOR = "editor@example.org"


@pytest.fixture
def settings_env(settings_env: dict[str, str], smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Every test here mails through a real aiosmtpd on loopback."""
    monkeypatch.setenv("NEWSLETTER_SMTP_URL", smtp.url)
    return {**settings_env, "NEWSLETTER_SMTP_URL": smtp.url}


@pytest.fixture
def desk(runtime: Runtime) -> Iterator[TestClient]:
    make_user(runtime, EDITOR)
    with TestClient(create_app(runtime), base_url="http://testserver") as client:
        login(client, "", EDITOR)
        yield client


def post(client: TestClient, page_url: str, action: str, data: dict[str, str]) -> object:
    token = csrf_token_of(client.get(page_url).text)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=False)


def fresh(session: Session, issue_id: int) -> Issue:
    session.expire_all()
    issue = session.get(Issue, issue_id)
    assert issue is not None
    return issue


def approve(desk: TestClient, issue: Issue) -> None:
    url = f"/editor/issues/{issue.id}"
    r = post(desk, url, f"{url}/signoff", {"action": "approve"})
    assert r.status_code == 303, r.text


def readers(session: Session) -> None:
    """Three who will receive it (one reads Russian), one unconfirmed and one suppressed who will not."""
    add_subscribers(session, 3)
    session.execute(update(Subscriber).where(Subscriber.email == "reader2@example.org").values(language="ru"))
    add_subscribers(session, 1, prefix="pending", state="pending")
    add_subscribers(session, 1, prefix="gone")
    session.add(Suppression(email="gone0@example.org", reason="unsubscribed"))
    session.flush()


def text_of(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert match, element_id
    return " ".join(match.group(1).split())


def test_published_issue_can_still_be_sent_now_and_the_send_job_mails_it_once(
        desk: TestClient, runtime: Runtime, session: Session, consent_issue: Issue, smtp: SmtpSink) -> None:
    readers(session)
    approve(desk, consent_issue)
    url = f"/editor/issues/{consent_issue.id}"
    assert post(desk, url, f"{url}/signoff", {"action": "publish"}).status_code == 303
    page = desk.get(url).text
    assert f'href="{url}/send"' in page  # publishing no longer hides sending

    confirm = desk.get(f"{url}/send")
    assert confirm.status_code == 200
    assert text_of(confirm.text, "send-readers") == "3 subscribers will receive this issue."
    rows = re.findall(r"<tr><td>(\w+)</td><td class=\"num\">(\d+)</td><td>(\w+)</td></tr>", confirm.text)
    assert rows == [("en", "2", "en"), ("ru", "1", "en")]  # confirmed, not suppressed; one edition today

    token = csrf_token_of(confirm.text)
    r = desk.post(f"{url}/send", data={"csrf_token": token, "action": "now"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{url}/status"
    # Queued, not sent inside the request: three outbox rows, no message yet, the issue due now.
    assert smtp.messages == []
    issue = fresh(session, consent_issue.id)
    assert issue.state == "scheduled" and issue.scheduled_for is not None and issue.scheduled_for <= utcnow()
    assert session.scalar(select(func.count()).select_from(Delivery).where(Delivery.state == "pending")) == 3
    # Pressed twice (or the form resubmitted): nothing more is queued or audited.
    again = desk.post(f"{url}/send", data={"csrf_token": token, "action": "now"}, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == f"{url}/status"
    assert session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "issue.send_now")) == 1
    audit = session.scalar(select(AuditLog).where(AuditLog.action == "issue.send_now"))
    assert audit.entity_id == consent_issue.id and audit.changes["state"] == {"from": "approved", "to": "scheduled"}

    status = desk.get(f"{url}/status").text
    assert '<meta http-equiv="refresh" content="5">' in status
    assert "waiting for the scheduler" in status and 'id="no-scheduler"' in status  # no lease holder
    assert (text_of(status, "count-sent"), text_of(status, "count-remaining")) == ("0", "3")

    result = run_by_hand(runtime, "send")  # the scheduler's send job, as the scheduler runs it
    assert result.outcome == "ok", result.detail
    assert sorted(r for m in smtp.messages for r in m.rcpt_tos) == ["reader0@example.org", "reader1@example.org",
                                                                   "reader2@example.org"]
    done = desk.get(f"{url}/status").text
    assert "Done: the issue was sent." in done and "http-equiv=\"refresh\"" not in done
    assert (text_of(done, "count-sent"), text_of(done, "count-remaining"), text_of(done, "count-failed")) == ("3", "0", "0")
    # A late resubmission of the old form, and the jobs again: still one copy each.
    desk.post(f"{url}/send", data={"csrf_token": token, "action": "now"}, follow_redirects=False)
    run_by_hand(runtime, "send")
    run_by_hand(runtime, "retry")
    assert len(smtp.messages) == 3 and fresh(session, consent_issue.id).state == "sent"
    # The confirmation page of a sent issue leads to its status.
    assert desk.get(f"{url}/send", follow_redirects=False).headers["location"] == f"{url}/status"


def test_status_page_knows_when_a_scheduler_holds_the_lease(desk: TestClient, runtime: Runtime, session: Session,
                                                            consent_issue: Issue) -> None:
    readers(session)
    approve(desk, consent_issue)
    url = f"/editor/issues/{consent_issue.id}"
    assert post(desk, f"{url}/send", f"{url}/send", {"action": "now"}).status_code == 303
    lease = Lease(runtime.engine, ttl=60)
    assert lease.acquire(utcnow())
    try:
        status = desk.get(f"{url}/status").text
    finally:
        lease.release()
    assert "waiting for the scheduler" in status and 'id="no-scheduler"' not in status


def test_scheduling_from_the_confirmation_page_and_refusals(desk: TestClient, session: Session,
                                                            consent_issue: Issue, smtp: SmtpSink) -> None:
    readers(session)
    url = f"/editor/issues/{consent_issue.id}"
    # A draft cannot be sent: the page says why, with 409, and nothing is queued.
    r = post(desk, url, f"{url}/send", {"action": "now"})
    assert r.status_code == 409 and "must approve it before it is sent" in r.text
    assert session.scalar(select(func.count()).select_from(Delivery)) == 0
    approve(desk, consent_issue)
    # A time in the past, or no time, is refused on the same page, keeping what was typed.
    r = post(desk, f"{url}/send", f"{url}/send", {"action": "schedule", "when": "2020-01-01T09:00"})
    assert r.status_code == 409 and "must be in the future" in r.text and 'value="2020-01-01T09:00"' in r.text
    r = post(desk, f"{url}/send", f"{url}/send", {"action": "schedule", "when": "soon"})
    assert r.status_code == 409 and "give the send time as a date and time" in r.text
    r = post(desk, f"{url}/send", f"{url}/send", {"action": "bogus"})
    assert r.status_code == 409 and "unknown action" in r.text
    # A published issue can be scheduled, and the schedule cancelled, like any approved one.
    assert post(desk, url, f"{url}/signoff", {"action": "publish"}).status_code == 303
    r = post(desk, f"{url}/send", f"{url}/send", {"action": "schedule", "when": "2099-01-04T09:00"})
    assert r.status_code == 303 and "done=issue_schedule" in r.headers["location"]
    issue = fresh(session, consent_issue.id)
    assert issue.state == "scheduled" and issue.scheduled_for.year == 2099
    status = desk.get(f"{url}/status").text
    assert "Scheduled for" in status and "http-equiv=\"refresh\"" not in status
    assert post(desk, url, f"{url}/signoff", {"action": "unschedule"}).status_code == 303
    assert fresh(session, consent_issue.id).state == "approved"
    assert smtp.messages == []


def test_a_send_now_can_be_cancelled_until_the_scheduler_starts_it(desk: TestClient, runtime: Runtime, session: Session,
                                                                      consent_issue: Issue, smtp: SmtpSink) -> None:
    readers(session)
    approve(desk, consent_issue)
    url = f"/editor/issues/{consent_issue.id}"
    assert post(desk, f"{url}/send", f"{url}/send", {"action": "now"}).status_code == 303
    assert session.scalar(select(func.count()).select_from(Delivery)) == 3
    assert post(desk, url, f"{url}/signoff", {"action": "unschedule"}).status_code == 303
    issue = fresh(session, consent_issue.id)
    assert (issue.state, issue.scheduled_for) == ("approved", None)
    assert session.scalar(select(func.count()).select_from(Delivery)) == 0  # nothing left queued
    assert "Not queued for sending." in desk.get(f"{url}/status").text
    assert run_by_hand(runtime, "send").outcome == "skipped" and smtp.messages == []
    # Once the send has started it cannot be taken back: the refusal says so.
    assert post(desk, f"{url}/send", f"{url}/send", {"action": "now"}).status_code == 303
    run_by_hand(runtime, "send")
    refused = post(desk, url, f"{url}/signoff", {"action": "unschedule"})
    assert refused.status_code == 409 and "is already sent" in refused.text
    assert len(smtp.messages) == 3


def test_send_requires_login_and_a_valid_form_token(runtime: Runtime, desk: TestClient, session: Session,
                                                    consent_issue: Issue) -> None:
    approve(desk, consent_issue)
    url = f"/editor/issues/{consent_issue.id}"
    r = desk.post(f"{url}/send", data={"csrf_token": "forged", "action": "now"}, follow_redirects=False)
    assert r.status_code == 403
    assert fresh(session, consent_issue.id).state == "approved"
    assert desk.get("/editor/issues/999/send").status_code == 404
    assert desk.get("/editor/issues/999/status").status_code == 404
    with TestClient(create_app(runtime), base_url="http://testserver") as anonymous:
        for path in (f"{url}/send", f"{url}/status"):
            r = anonymous.get(path, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"].startswith("/editor/login")
        r = anonymous.post(f"{url}/send", data={"action": "now"}, follow_redirects=False)
        assert r.status_code in (303, 403)
    assert session.scalar(select(func.count()).select_from(Delivery)) == 0
