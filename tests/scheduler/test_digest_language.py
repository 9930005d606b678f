"""The editors' daily digest speaks each account's desk language (users.language), dates included."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.header import decode_header, make_header

from newsletter.clock import ManualClock
from newsletter.flows import jobs
from newsletter.models import Incident, User
from tests.scheduler.helpers import UTC

NOW = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)


def _text(msg) -> str:  # noqa: ANN001
    part = next(p for p in msg.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode()


def test_each_editor_gets_the_digest_in_their_desk_language(make_runtime, session, smtp) -> None:
    rt = make_runtime(smtp_url=smtp.url, timezone="Europe/Berlin", base_url="https://news.example.org")
    session.add_all([User(email="en@example.org", password_hash="x", role="editor"),
                     User(email="ru@example.org", password_hash="x", role="editor", language="ru")])
    for i in range(3):
        session.add(Incident(title=f"Report {i}", origin="volunteer", state="new", created_at=NOW - timedelta(hours=5)))
    session.flush()
    result = jobs.run_job(jobs.JOBS["digest"], jobs.JobContext(rt, ManualClock(NOW)))
    assert result.outcome == "ok", result.detail
    by_rcpt = {m.rcpt_tos[0]: m.message for m in smtp.messages}
    english, russian = by_rcpt["en@example.org"], by_rcpt["ru@example.org"]
    assert english["Subject"] == "Monitoring Newsletter desk: 3 reports to triage"
    assert "3 reports wait for an editor, the oldest since 20 November 03:00." in _text(english)
    assert str(make_header(decode_header(russian["Subject"]))) == "Редакция Monitoring Newsletter: 3 сообщения на разбор"
    body = _text(russian)
    assert "3 сообщения ждут редактора, самое давнее — с 20 ноября 03:00." in body
    assert "пятница 20 ноября 2026, 08:00" in body  # the day and month named in Russian, in the organisation's zone
