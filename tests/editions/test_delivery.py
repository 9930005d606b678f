"""Delivery per edition: each confirmed reader gets the edition in their language, once, with both parts,
the subject and a "Change language" link to their own preferences page in that language."""

from __future__ import annotations

from email import message_from_bytes
from email.header import decode_header, make_header

from sqlalchemy import func, select

from newsletter.flows.send import run_send, send_plan
from newsletter.models import Delivery, Issue, Subscriber
from tests.delivery.helpers import RU_HEADLINE, add_subscribers, make_issue, recording_smtp


def _parts(raw: bytes) -> tuple[str, str, str, str]:
    """Recipient, subject, text part, HTML part of one recorded message."""
    msg = message_from_bytes(raw)
    text, html = (p.get_payload(decode=True).decode() for p in msg.get_payload())  # quoted-printable or base64
    return msg["To"], str(make_header(decode_header(msg["Subject"]))), text, html


def test_each_reader_gets_their_languages_edition_once(make_runtime) -> None:
    with recording_smtp() as (url, sink):
        rt = make_runtime(smtp_url=url, languages="en,ru", send_connections=2)
        with rt.session() as s:
            issue = make_issue(s, editions=("ru",))
            english = add_subscribers(s, 30, prefix="en")
            russian = add_subscribers(s, 20, prefix="ru", language="ru")
            regional = add_subscribers(s, 5, prefix="ruRU", language="ru-RU")  # a regional tag: the ru edition
            kazakh = add_subscribers(s, 5, prefix="kk", language="kk")  # no kk edition: the default one
            tokens = dict(s.execute(select(Subscriber.email, Subscriber.token)).all())
        report = run_send(rt, issue)
        assert report.sent == 60 and report.issue_state == "sent"
        assert run_send(rt, issue).sent == 0  # again: nothing more
        messages = {to: (subject, text, html) for to, subject, text, html in map(_parts, sink.raw)}
    assert len(sink.raw) == 60 and set(messages) == {*english, *russian, *regional, *kazakh}
    for address in russian + regional:
        subject, text, html = messages[address]
        assert "Обыски и задержания активистов" in subject
        assert RU_HEADLINE in text and RU_HEADLINE in html and "Search at a journalist's flat" not in text
        assert f"Сменить язык: http://127.0.0.1:8000/preferences/{tokens[address]}" in text
        assert f'href="http://127.0.0.1:8000/preferences/{tokens[address]}"' in html and "Сменить язык" in html
        assert f"http://127.0.0.1:8000/unsubscribe/{tokens[address]}" in text
        assert '<html lang="ru"' in html or 'lang="ru"' in html
    for address in english + kazakh:
        subject, text, html = messages[address]
        assert subject == "Test Monitor No. 1: Searches and detentions of activists"
        assert "Search at a journalist's flat" in text and RU_HEADLINE not in text + html
        assert f"Change language: http://127.0.0.1:8000/preferences/{tokens[address]}" in text
    with rt.session() as s:  # the outbox stays one row per issue and reader
        assert s.scalar(select(func.count()).select_from(Delivery)) == 60


def test_one_edition_mails_no_language_link(make_runtime) -> None:
    with recording_smtp() as (url, sink):
        rt = make_runtime(smtp_url=url)
        with rt.session() as s:
            issue = make_issue(s)
            add_subscribers(s, 2, language="ru")
        run_send(rt, issue)
    for raw in sink.raw:
        _to, _subject, text, html = _parts(raw)
        assert "/preferences/" not in text + html and "Change language" not in text


def test_the_send_page_counts_readers_per_edition(make_runtime) -> None:
    rt = make_runtime(languages="en,ru")
    with rt.session() as s:
        issue = make_issue(s, editions=("ru",))
        add_subscribers(s, 3, prefix="en")
        add_subscribers(s, 2, prefix="ru", language="ru")
        add_subscribers(s, 1, prefix="kk", language="kk")
        plan = send_plan(s, s.get(Issue, issue.id), rt.settings)
    assert plan.by_edition == {"en": 4, "ru": 2}
    assert {(line.language, line.edition) for line in plan.editions} == {("en", "en"), ("kk", "en"), ("ru", "ru")}
    assert plan.readers == 6


def test_a_test_send_of_the_ru_edition(make_runtime, cli) -> None:
    with recording_smtp() as (url, sink):
        rt = make_runtime(smtp_url=url, languages="en,ru")
        with rt.session() as s:
            make_issue(s, editions=("ru",))
        result = cli("send", "1", "--to", "editor@example.org", "--lang", "ru")
        assert "test of issue 1 (2026-W47) (ru edition) sent to editor@example.org" in result.output
        (raw,) = sink.raw
        _to, subject, text, _html = _parts(raw)
        assert subject.startswith("[TEST] ") and "Обыски и задержания активистов" in subject and RU_HEADLINE in text
        assert "Сменить язык: http://127.0.0.1:8000/subscribe" in text  # a test send: the generic page
        assert "'kk' is not an edition" in cli("send", "1", "--to", "editor@example.org", "--lang", "kk", expect=2).output
        assert "--lang picks the edition of a test send" in cli("send", "1", "--lang", "ru", expect=2).output
    with rt.session() as s:
        assert s.scalar(select(func.count()).select_from(Delivery)) == 0
