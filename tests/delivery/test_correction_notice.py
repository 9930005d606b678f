"""The correction notice: once to every reader the corrected issue was sent to who is still subscribed,
with the list headers of any issue mail, never twice — also when rerun or killed with SIGKILL mid-send."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from newsletter.db import utcnow
from newsletter.models import CorrectionNotice, Delivery, Incident, Issue, IssueItem, Subscriber
from tests.delivery.helpers import add_subscribers, make_issue, recording_smtp

NEWSLETTER = str(Path(sys.executable).parent / "newsletter")
FIX = "Correction: the search took place on 17 November, not on 18 November."


def sent_issue(session: Session, readers: int) -> tuple[Issue, list[str]]:
    """An issue whose outbox says it reached `readers` subscribers, with one item about incident ext-1."""
    incident = Incident(title="Search at a journalist's flat", external_id="ext-1", state="published", origin="editor")
    issue = make_issue(session, state="sent")
    item = IssueItem(issue=issue, incident=incident, headline="Search at a journalist's flat", position=1)
    session.add_all([incident, item])
    session.flush()
    snapshot = dict(issue.snapshot)
    snapshot["sections"] = [{**snapshot["sections"][0], "items": [{**snapshot["sections"][0]["items"][0], "id": item.id}]}]
    issue.snapshot = snapshot
    issue.published_at = utcnow()
    emails = add_subscribers(session, readers)
    ids = session.scalars(select(Subscriber.id).where(Subscriber.email.in_(emails))).all()
    session.add_all([Delivery(issue_id=issue.id, subscriber_id=sid, state="sent", sent_at=utcnow()) for sid in ids])
    session.flush()
    return issue, emails


def test_each_reader_of_the_issue_gets_the_notice_once(cli, session: Session, make_runtime) -> None:
    with recording_smtp() as (url, sink):
        make_runtime(smtp_url=url)
        issue, readers = sent_issue(session, 4)
        session.execute(update(Subscriber).where(Subscriber.email == readers[3]).values(state="unsubscribed"))
        add_subscribers(session, 2, prefix="newcomer")  # subscribed after the issue went out: not told
        failed = add_subscribers(session, 1, prefix="failed")  # the issue never reached them: not told
        session.add(Delivery(issue_id=issue.id, subscriber_id=session.scalar(
            select(Subscriber.id).where(Subscriber.email == failed[0])), state="failed"))
        session.flush()

        out = cli("corrections", "add", "1", "--incident", "ext-1", "--text", FIX, "--notify").output
        assert "correction 1: notice 3 sent now, 0 failed" in out
        assert sorted(r for r, _ in sink.seen) == sorted(readers[:3])

        again = cli("corrections", "notify", "1").output
        assert "notice 0 sent now" in again and "outbox: 3 sent" in again
        assert len(sink.seen) == 3
        messages = [message_from_bytes(raw) for raw in sink.raw]

    for msg in messages:
        _assert_a_list_mail(msg)
    text = _part(messages[0], "text/plain")
    html = _part(messages[0], "text/html")
    assert FIX in " ".join(text.split()) and FIX in html
    assert "http://127.0.0.1:8000/issues/2026-W47/#item-" in text
    assert "Search at a journalist" in str(messages[0]["Subject"]) and "Correction" in str(messages[0]["Subject"])
    listed = cli("corrections", "list", "1").output
    assert "notice sent to 3 of 3 reader(s)" in listed
    with make_runtime().session() as s:
        assert s.scalar(select(func.count()).select_from(CorrectionNotice)) == 3


def _part(msg: Message, kind: str) -> str:
    for part in msg.walk():
        if part.get_content_type() == kind:
            return part.get_payload(decode=True).decode()
    raise AssertionError(f"no {kind} part")


def _assert_a_list_mail(msg: Message) -> None:
    token_link = str(msg["List-Unsubscribe"])
    assert "http://127.0.0.1:8000/unsubscribe/" in token_link and "mailto:" in token_link
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["List-Id"]
    assert str(msg["Message-ID"]).startswith("<correction.1.")
    html = _part(msg, "text/html")
    assert "<img" not in html and "<script" not in html
    link = token_link.split("<", 1)[1].split(">", 1)[0]
    assert link in html and link in _part(msg, "text/plain")


def test_a_relay_that_is_down_loses_nothing(cli, session: Session, make_runtime) -> None:
    from tests.support.net import free_port

    make_runtime(smtp_url=f"smtp://127.0.0.1:{free_port()}")
    sent_issue(session, 3)
    out = cli("corrections", "add", "1", "--incident", "ext-1", "--text", FIX, "--notify", expect=1).output
    assert "correction 1 filed" in out and "notice stopped" in out
    with recording_smtp() as (url, sink):
        make_runtime(smtp_url=url)
        out = cli("jobs", "run", "retry").output  # the scheduler's retry job resumes waiting notices
        assert "correction 1 notice: 3 sent" in " ".join(out.split())
        assert len(sink.seen) == 3
        cli("corrections", "notify", "2026-W47")
        assert len(sink.seen) == 3


def test_notify_refuses_an_unknown_issue_or_one_without_corrections(cli, session: Session) -> None:
    sent_issue(session, 1)
    assert "no issue for '2026-W30'" in cli("corrections", "notify", "2026-W30", expect=1).output
    assert "has no corrections to notify" in cli("corrections", "notify", "1", expect=1).output


@pytest.mark.slow
def test_sigkill_mid_notice_then_rerun_reaches_each_reader_once(cli, session: Session, make_runtime) -> None:
    rng = random.Random(int(os.environ.get("NEWSLETTER_TEST_SEED", "11")))
    connections = 3
    with recording_smtp(keep_raw=False) as (url, sink):
        make_runtime(smtp_url=url, send_connections=connections, messages_per_connection=30, send_batch_size=40,
                     send_rate=300)
        _, readers = sent_issue(session, 400)
        cli("corrections", "add", "1", "--incident", "ext-1", "--text", FIX)
        kills = 0
        for _ in range(3):
            before = len(sink.seen)
            target = before + rng.randint(10, 80)
            proc = subprocess.Popen([NEWSLETTER, "corrections", "notify", "1"], env=os.environ.copy(),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            deadline = time.monotonic() + 60
            while len(sink.seen) < target and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait(timeout=30)
            assert len(sink.seen) > before
        assert kills >= 2, "the notice finished before it could be killed; the test proves nothing"
        assert len(sink.seen) < 400
        final = subprocess.run([NEWSLETTER, "corrections", "notify", "1"], env=os.environ.copy(),
                               capture_output=True, timeout=120)
        assert final.returncode == 0, final.stderr.decode() + final.stdout.decode()
        per = sink.per_recipient()
        again = subprocess.run([NEWSLETTER, "corrections", "notify", "1"], env=os.environ.copy(),
                               capture_output=True, timeout=120)
        assert again.returncode == 0
        assert sum(len(v) for v in sink.per_recipient().values()) == len(per)  # the rerun sent nothing
    assert set(per) == set(readers)
    assert all(len(ids) == 1 for ids in per.values()), "a reader got two different notices"
    assert 0 <= len(sink.seen) - len(readers) <= kills * connections
    with make_runtime().session() as s:
        assert s.scalar(select(func.count()).select_from(CorrectionNotice).where(CorrectionNotice.state == "sent")) == 400


def test_the_desk_button_mails_the_notice_once(cli, session: Session, make_runtime) -> None:
    from fastapi.testclient import TestClient

    from newsletter.web.app import create_app
    from tests.editorial.helpers import csrf_token_of, login, make_user

    with recording_smtp() as (url, sink):
        rt = make_runtime(smtp_url=url)
        issue, readers = sent_issue(session, 3)
        make_user(rt, "desk@example.org")
        with TestClient(create_app(rt), base_url="http://testserver") as client:
            login(client, "", "desk@example.org")
            page = f"/editor/issues/{issue.id}"
            token = csrf_token_of(client.get(page).text)
            r = client.post(f"{page}/corrections", data={"csrf_token": token, "incident": "ext-1", "text": FIX,
                                                         "notify": "1"}, follow_redirects=False)
            assert r.status_code == 303
            assert sorted(r for r, _ in sink.seen) == sorted(readers)
            shown = client.get(page).text
            assert "notice sent to 3 of 3 reader(s)" in shown
            token = csrf_token_of(shown)
            r = client.post("/editor/corrections/1/notify", data={"csrf_token": token}, follow_redirects=False)
            assert r.status_code == 303 and "correction_notified" in r.headers["location"]
        assert len(sink.seen) == 3


def test_the_desk_says_so_when_the_relay_is_down_and_keeps_the_correction(session: Session, make_runtime) -> None:
    from fastapi.testclient import TestClient

    from newsletter.models import Correction
    from newsletter.web.app import create_app
    from tests.editorial.helpers import csrf_token_of, login, make_user
    from tests.support.net import free_port

    rt = make_runtime(smtp_url=f"smtp://127.0.0.1:{free_port()}")
    issue, _ = sent_issue(session, 2)
    make_user(rt, "desk@example.org")
    with TestClient(create_app(rt), base_url="http://testserver") as client:
        login(client, "", "desk@example.org")
        page = f"/editor/issues/{issue.id}"
        token = csrf_token_of(client.get(page).text)
        r = client.post(f"{page}/corrections", data={"csrf_token": token, "incident": "ext-1", "text": FIX,
                                                     "notify": "1"}, follow_redirects=False)
        assert r.status_code == 503
        assert "the correction is filed, but its notice could not be mailed now" in r.text
    assert session.scalar(select(func.count()).select_from(Correction)) == 1
    assert session.scalar(select(func.count()).select_from(CorrectionNotice)
                          .where(CorrectionNotice.state == "pending")) == 2
