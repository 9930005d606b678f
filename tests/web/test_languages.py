"""Pages and mails in the reader's, the volunteer's and the editor's language, over real HTTP.

Order of choice: ?lang= (kept across a form's POST), the person's own setting (a subscriber reached by
token, a desk account), Accept-Language, the default edition. The newsletter here has two editions,
English (the default) and Russian; mails are caught by a real SMTP server on loopback.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.message import Message

import httpx
import pytest
from sqlalchemy import select

from newsletter.delivery.message import preferences_url
from newsletter.delivery.tokens import new_subscriber_token
from newsletter.models import AuditLog, Subscriber, User
from newsletter.runtime import Runtime
from tests.editorial.helpers import csrf_token_of, login, make_user
from tests.support.servers import serve_app

RU = {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-GB,en;q=0.9"}


@pytest.fixture
def site(make_runtime, smtp) -> Iterator[tuple[Runtime, httpx.Client]]:
    rt = make_runtime(smtp_url=smtp.url, languages="en,ru")
    with serve_app(rt) as base, httpx.Client(base_url=base, timeout=10) as client:
        yield rt, client


def _mails(smtp, n: int) -> list[Message]:
    deadline = time.monotonic() + 5
    while len(smtp.messages) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(smtp.messages) >= n, "the mail did not arrive"
    return [m.message for m in smtp.messages]


def _text(msg: Message) -> str:
    part = next(p for p in msg.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode()


def _html(msg: Message) -> str:
    part = next(p for p in msg.walk() if p.get_content_type() == "text/html")
    return part.get_payload(decode=True).decode()


def _subject(msg: Message) -> str:
    return str(make_header(decode_header(msg["Subject"])))


def _subscriber(rt: Runtime, email: str, *, language: str, state: str = "confirmed") -> str:
    """A subscriber row as an earlier sign-up left it (no mail sent now); returns its token."""
    with rt.session() as session:
        sub = Subscriber(email=email, state=state, language=language, token=new_subscriber_token(), consent_source="test")
        session.add(sub)
        session.flush()
        return sub.token


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_the_subscribe_page_follows_accept_language_and_lang_wins(site) -> None:
    rt, client = site
    ru = client.get("/subscribe", headers=RU)
    assert ru.status_code == 200
    assert '<html lang="ru"' in ru.text and "Подписка на еженедельную рассылку" in ru.text
    assert ru.headers["content-language"] == "ru" and "Accept-Language" in ru.headers["vary"]
    # The editions are offered, the page's language chosen; the switch links to the same page.
    assert '<option value="ru" selected>Русский</option>' in ru.text and '<option value="en">English</option>' in ru.text
    assert 'href="/subscribe?lang=en"' in ru.text and 'aria-current="true">Русский' in ru.text
    en = client.get("/subscribe?lang=en", headers=RU)
    assert '<html lang="en"' in en.text and "Subscribe to the weekly newsletter" in en.text
    assert 'action="/subscribe?lang=en"' in en.text  # the choice is kept across the POST
    assert '<option value="en" selected>' in en.text
    # An unknown ?lang= or browser language falls back to the default edition, never an error.
    other = client.get("/subscribe?lang=xx", headers={"Accept-Language": "de-DE"})
    assert other.status_code == 200 and '<html lang="en"' in other.text
    assert all("lang" not in c for c in ru.headers.get_list("set-cookie"))  # the language is never a cookie


def test_a_russian_reader_gets_russian_mail_and_pages_by_token(site, smtp) -> None:
    rt, client = site
    form = client.get("/subscribe", headers=RU)
    r = client.post("/subscribe", headers=RU, data={"email": "anna@example.org", "language": "ru",
                                                    "csrf_token": csrf_token_of(form.text)})
    assert r.status_code == 200 and "Проверьте почту" in r.text
    mail = _mails(smtp, 1)[0]
    assert _subject(mail) == f"Подтвердите подписку на {rt.settings.org_name}"
    assert "Здравствуйте" in _text(mail) and "7 дней" in _text(mail)
    assert '<html lang="ru">' in _html(mail) and "Подтвердить подписку" in _html(mail)
    link = re.search(r"http://127\.0\.0\.1:8000(/confirm/[A-Za-z0-9_.-]+)", _text(mail)).group(1)
    # The page reached by the mail's link speaks the subscriber's language even to an English browser ...
    page = client.get(link, headers=EN)
    assert '<html lang="ru"' in page.text and "Подтвердите подписку" in page.text
    done = client.post(link, headers=EN, data={"csrf_token": csrf_token_of(page.text)})
    assert done.status_code == 200 and "Вы подписаны" in done.text
    # ... unless the reader switches with ?lang=.
    assert '<html lang="en"' in client.get(f"{link}?lang=en", headers=RU).text


def test_an_english_page_mails_a_russian_subscriber_in_russian(site, smtp) -> None:
    rt, client = site
    _subscriber(rt, "boris@example.org", language="ru")
    form = client.get("/unsubscribe", headers=EN)
    r = client.post("/unsubscribe", headers=EN, data={"email": "boris@example.org", "csrf_token": csrf_token_of(form.text)})
    assert r.status_code == 200 and "Check your inbox" in r.text
    mail = _mails(smtp, 1)[0]
    assert _subject(mail) == f"Ссылка для отписки от {rt.settings.org_name}"
    assert "Отписаться" in _html(mail) and "/unsubscribe/" in _text(mail)


def test_a_subscriber_changes_their_edition_on_the_preferences_page(site) -> None:
    rt, client = site
    token = _subscriber(rt, "vera@example.org", language="ru")
    path = _path(preferences_url(rt.settings, token))
    assert path == f"/preferences/{token}"
    page = client.get(path, headers=EN)
    assert page.status_code == 200 and '<html lang="ru"' in page.text and "Язык рассылки" in page.text
    assert 'value="ru" checked' in page.text and 'value="en"' in page.text
    saved = client.post(path, data={"language": "en", "csrf_token": csrf_token_of(page.text)})
    # The answer already speaks the chosen language.
    assert saved.status_code == 200 and '<html lang="en"' in saved.text
    assert "Saved. From the next issue on, you receive the edition in English." in saved.text
    assert 'value="en" checked' in saved.text
    with rt.session() as session:
        assert session.scalar(select(Subscriber.language).where(Subscriber.email == "vera@example.org")) == "en"


def test_the_preferences_page_refuses_bad_input_and_changes_nothing(site) -> None:
    rt, client = site
    token = _subscriber(rt, "gleb@example.org", language="en")
    path = f"/preferences/{token}"
    page = client.get(path)
    bad = client.post(path, data={"language": "xx", "csrf_token": csrf_token_of(page.text)})
    assert bad.status_code == 422 and "is not a language of this newsletter; choose one of en, ru" in bad.text.replace("&#39;", "'")
    forged = client.post(path, data={"language": "ru", "csrf_token": "forged"})
    assert forged.status_code == 403
    unknown = client.get("/preferences/not-a-token")
    assert unknown.status_code == 404 and "This link is not valid" in unknown.text
    assert client.post("/preferences/not-a-token", data={"language": "ru", "csrf_token": csrf_token_of(page.text)}).status_code == 404
    too_long = client.get("/preferences/" + "a" * 300)
    assert too_long.status_code == 404
    with rt.session() as session:
        assert session.scalar(select(Subscriber.language).where(Subscriber.email == "gleb@example.org")) == "en"


def test_an_unsubscribed_reader_cannot_change_the_language_of_mail_they_no_longer_get(site) -> None:
    rt, client = site
    token = _subscriber(rt, "dina@example.org", language="en", state="unsubscribed")
    page = client.get(f"/preferences/{token}")
    assert page.status_code == 200 and "This address is unsubscribed" in page.text and 'name="language"' not in page.text
    csrf = csrf_token_of(client.get("/subscribe").text)
    r = client.post(f"/preferences/{token}", data={"language": "ru", "csrf_token": csrf})
    assert r.status_code == 200 and 'name="language"' not in r.text
    with rt.session() as session:
        assert session.scalar(select(Subscriber.language).where(Subscriber.email == "dina@example.org")) == "en"


def test_the_volunteer_form_offers_the_configured_languages_and_keeps_lang_across_post(site) -> None:
    rt, client = site
    ru = client.get("/submit", headers=RU)
    assert '<html lang="ru"' in ru.text and 'action="/submit?lang=ru"' in ru.text
    en = client.get("/submit?lang=en", headers=RU)
    assert '<html lang="en"' in en.text and 'href="/submit?lang=ru"' in en.text


def test_the_desk_speaks_the_accounts_language(site) -> None:
    rt, client = site
    login_page = client.get("/editor/login", headers=RU)  # before login: the browser's language
    assert '<html lang="ru"' in login_page.text and "Редакция: вход" in login_page.text
    wrong = client.post("/editor/login", headers=RU, data={"email": "nobody@example.org", "password": "x" * 12,
                                                           "csrf_token": csrf_token_of(login_page.text)})
    assert wrong.status_code == 400 and "Неверный адрес или пароль." in wrong.text
    make_user(rt, "ed@example.org", role="admin")
    login(client, "", "ed@example.org")
    assert '<html lang="en"' in client.get("/editor/", headers=EN).text  # no setting: the browser decides
    account = client.get("/editor/account", headers=EN)
    saved = client.post("/editor/account", headers=EN, data={"language": "ru", "csrf_token": csrf_token_of(account.text)},
                        follow_redirects=True)
    assert saved.status_code == 200 and '<html lang="ru"' in saved.text and "Сохранено." in saved.text
    # From now on every desk page is Russian, whatever the browser says.
    dash = client.get("/editor/", headers=EN)
    assert '<html lang="ru"' in dash.text and "Обзор" in dash.text and "Выйти" in dash.text
    # A refused value changes nothing.
    bad = client.post("/editor/account", headers=EN, data={"language": "xx", "csrf_token": csrf_token_of(dash.text)})
    assert bad.status_code == 422
    with rt.session() as session:
        assert session.scalar(select(User.language).where(User.email == "ed@example.org")) == "ru"
        assert session.scalar(select(AuditLog.action).where(AuditLog.action == "user.language")) == "user.language"


def test_an_admin_sets_another_accounts_desk_language(site) -> None:
    rt, client = site
    make_user(rt, "admin@example.org", role="admin")
    editor_id = make_user(rt, "ed2@example.org", role="editor")
    login(client, "", "admin@example.org")
    page = client.get("/editor/users/")
    r = client.post(f"/editor/users/{editor_id}", data={"language": "ru", "csrf_token": csrf_token_of(page.text)})
    assert r.status_code in (200, 303)
    with rt.session() as session:
        assert session.scalar(select(User.language).where(User.id == editor_id)) == "ru"


def test_a_refusal_on_the_desk_speaks_the_accounts_language(site) -> None:
    rt, client = site
    make_user(rt, "ed3@example.org", role="editor")
    with rt.session() as session:
        session.scalar(select(User).where(User.email == "ed3@example.org")).language = "ru"
    login(client, "", "ed3@example.org")
    refused = client.get("/editor/users/", headers=EN)  # admins only
    assert refused.status_code == 403 and '<html lang="ru"' in refused.text
    assert "Доступ запрещён" in refused.text and "Этот раздел редакции — только для администраторов." in refused.text


def test_a_refused_desk_form_explains_itself_in_the_accounts_language(site) -> None:
    """The route's own message (a service's refusal), not only the page around it, follows the account."""
    rt, client = site
    admin_id = make_user(rt, "boss@example.org", role="admin")
    with rt.session() as session:
        session.get(User, admin_id).language = "ru"
    login(client, "", "boss@example.org")
    page = client.get("/editor/users/", headers=EN)
    r = client.post(f"/editor/users/{admin_id}", headers=EN, data={"role": "editor", "active": "1",
                                                                   "csrf_token": csrf_token_of(page.text)})
    assert r.status_code == 400 and "Это последний действующий администратор" in r.text
