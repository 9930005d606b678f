"""Reader pages over real HTTP (uvicorn on loopback) with the confirmation mail caught by aiosmtpd."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from newsletter.flows.send import run_send
from newsletter.delivery.tokens import _CONFIRM_SALT
from newsletter.models import Subscriber, Suppression
from newsletter.runtime import Runtime
from tests.conftest import TEST_SECRET
from tests.delivery.helpers import add_subscribers, make_issue, recording_smtp
from tests.support.servers import serve_app


@pytest.fixture
def site(make_runtime, smtp) -> Iterator[tuple[Runtime, httpx.Client]]:
    rt = make_runtime(smtp_url=smtp.url)
    with serve_app(rt) as base, httpx.Client(base_url=base, timeout=10) as client:
        yield rt, client


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _mail_link(smtp, path: str) -> str:
    deadline = time.monotonic() + 5
    while not smtp.messages and time.monotonic() < deadline:
        time.sleep(0.02)
    assert smtp.messages, "no email arrived"
    body = smtp.messages[-1].message.get_payload()[0].get_payload(decode=True).decode()
    return re.search(rf"http://127\.0\.0\.1:8000({path}/[A-Za-z0-9_.-]+)", body).group(1)


def test_double_opt_in(site, smtp) -> None:
    rt, client = site
    form = client.get("/subscribe")
    assert form.status_code == 200 and "no tracking" in form.text.lower()
    # (An English reader: a Russian one gets Russian mail and pages, tests/web/test_languages.py.)
    r = client.post("/subscribe", data={"email": " Anna@Example.ORG ", "language": "en", "csrf_token": _csrf(form.text)})
    assert r.status_code == 200 and "Check your inbox" in r.text
    mail = smtp.messages[-1].message if smtp.messages else None
    link = _mail_link(smtp, "/confirm")
    mail = smtp.messages[-1].message
    assert mail["To"] == "anna@example.org" and "Confirm your subscription" in mail["Subject"]
    with rt.session() as s:
        sub = s.scalar(select(Subscriber))
        assert (sub.email, sub.state, sub.language, sub.consent_source) == ("anna@example.org", "pending", "en", "web form")
    page = client.get(link)
    assert page.status_code == 200 and "Confirm my subscription" in page.text
    with rt.session() as s:
        assert s.scalar(select(Subscriber.state)) == "pending"  # a GET (a link scanner) changes nothing
    done = client.post(link, data={"csrf_token": _csrf(page.text)})
    assert done.status_code == 200 and "You are subscribed" in done.text
    with rt.session() as s:
        sub = s.scalar(select(Subscriber))
        assert sub.state == "confirmed" and sub.confirmed_at is not None and sub.consent_at is not None
    # Signing up again neither reveals the subscription nor mails the confirmed reader.
    count = len(smtp.messages)
    again = client.post("/subscribe", data={"email": "anna@example.org", "csrf_token": _csrf(form.text)})
    assert "Check your inbox" in again.text and len(smtp.messages) == count


def test_bad_email_is_refused_with_message_and_keeps_input(site, smtp) -> None:
    rt, client = site
    form = client.get("/subscribe")
    r = client.post("/subscribe", data={"email": "anna@@example", "language": "en", "csrf_token": _csrf(form.text)})
    assert r.status_code == 422 and "is not an email address" in r.text and 'value="anna@@example"' in r.text
    with rt.session() as s:
        assert s.scalar(select(func.count()).select_from(Subscriber)) == 0
    assert smtp.messages == []


def test_a_language_the_newsletter_does_not_have_is_refused(site, smtp) -> None:
    """A forged or mistyped language ('xx') would leave a reader with mail in no language they chose."""
    rt, client = site
    form = client.get("/subscribe")
    r = client.post("/subscribe", data={"email": "anna@example.org", "language": "xx", "csrf_token": _csrf(form.text)})
    assert r.status_code == 422
    assert "'xx' is not a language of this newsletter; choose one of en, ru" in html.unescape(r.text)
    assert 'value="anna@example.org"' in r.text  # the address typed is kept
    with rt.session() as s:
        assert s.scalar(select(func.count()).select_from(Subscriber)) == 0
    assert smtp.messages == []


def test_post_without_csrf_token_is_refused(site) -> None:
    rt, client = site
    r = client.post("/subscribe", data={"email": "anna@example.org"})
    assert r.status_code == 403
    with rt.session() as s:
        assert s.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_expired_confirmation_token_is_refused(site, smtp) -> None:
    rt, client = site
    with rt.session() as s:
        add_subscribers(s, 1, state="pending")
        token = s.scalar(select(Subscriber.token))

    class EightDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 8 * 86400

    old = URLSafeTimedSerializer(TEST_SECRET, salt=_CONFIRM_SALT, signer=EightDaysAgo).dumps(token)
    page = client.get(f"/confirm/{old}")
    assert page.status_code == 410 and "expired" in page.text
    form = client.get("/subscribe")
    r = client.post(f"/confirm/{old}", data={"csrf_token": _csrf(form.text)})
    assert r.status_code == 410
    forged = URLSafeTimedSerializer("another-secret-" * 4, salt=_CONFIRM_SALT).dumps(token)
    assert client.get(f"/confirm/{forged}").status_code == 404
    with rt.session() as s:
        assert s.scalar(select(Subscriber.state)) == "pending"


def test_one_click_unsubscribe_and_later_sends_skip_the_address(make_runtime) -> None:
    with recording_smtp(keep_raw=False) as (url, sink):
        rt = make_runtime(smtp_url=url)
        with rt.session() as s:
            add_subscribers(s, 3)
            token = s.scalar(select(Subscriber.token).where(Subscriber.email == "reader1@example.org"))
        with serve_app(rt) as base, httpx.Client(base_url=base) as client:
            page = client.get(f"/unsubscribe/{token}")
            assert page.status_code == 200 and "Unsubscribe" in page.text
            with rt.session() as s:
                assert s.scalar(select(Subscriber.state).where(Subscriber.email == "reader1@example.org")) == "confirmed"
            # What a mail provider sends per RFC 8058: no cookie, no CSRF token, just the body.
            r = httpx.post(f"{base}/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
            assert r.status_code == 200 and "You are unsubscribed" in r.text
            assert httpx.post(f"{base}/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}).status_code == 200
            assert httpx.post(f"{base}/unsubscribe/{'x' * 43}", data={"List-Unsubscribe": "One-Click"}).status_code == 404
            assert httpx.post(f"{base}/unsubscribe/{token}", data={}).status_code == 403  # a plain form needs CSRF
        with rt.session() as s:
            sub = s.scalar(select(Subscriber).where(Subscriber.email == "reader1@example.org"))
            assert sub.state == "unsubscribed" and sub.unsubscribed_at is not None
            assert s.scalar(select(Suppression.reason).where(Suppression.email == sub.email)) == "unsubscribed"
            issue = make_issue(s)
        report = run_send(rt, issue)
    assert report.sent == 2
    assert {r for r, _ in sink.seen} == {"reader0@example.org", "reader2@example.org"}


def test_unsubscribe_link_request_by_email(site, smtp) -> None:
    rt, client = site
    with rt.session() as s:
        add_subscribers(s, 1)
        token = s.scalar(select(Subscriber.token))
    page = client.get("/unsubscribe")
    r = client.post("/unsubscribe", data={"email": "nobody@example.org", "csrf_token": _csrf(page.text)})
    assert "Check your inbox" in r.text and smtp.messages == []  # same answer, no mail, for strangers
    r = client.post("/unsubscribe", data={"email": "reader0@example.org", "csrf_token": _csrf(page.text)})
    assert "Check your inbox" in r.text
    assert _mail_link(smtp, "/unsubscribe") == f"/unsubscribe/{token}"
    bad = client.post("/unsubscribe", data={"email": "not an address", "csrf_token": _csrf(page.text)})
    assert bad.status_code == 422
