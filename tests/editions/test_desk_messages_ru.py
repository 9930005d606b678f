"""A Russian desk account reads every domain's refusals and the desk's notices in Russian (triage, persons,
sections, users, subscribers, issue periods, 404 pages), an English account reads the same English words as
before, and the exceptions keep their English sentences for logs and the command line."""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from newsletter import i18n
from newsletter.consent import ConsentViolation, Finding
from newsletter.editorial.service import EditorialError, decide
from newsletter.flows.corrections import CorrectionRow
from newsletter.issues.periods import PeriodError, parse_period
from newsletter.models import Incident, Person, Section, Subscriber, User
from newsletter.runtime import Runtime
from newsletter.web.errors import mail_error_said, mail_error_words


def _desk(runtime: Runtime, session: Session, email: str, *, role: str, language: str):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from newsletter.web.app import create_app
    from tests.editorial.helpers import login, make_user

    make_user(runtime, email, role=role)
    session.execute(update(User).where(User.email == email).values(language=language))
    client = TestClient(create_app(runtime), base_url="http://testserver")
    client.__enter__()
    login(client, "", email)
    return client


@pytest.fixture
def ru_admin(runtime: Runtime, session: Session) -> Iterator:  # type: ignore[type-arg]
    client = _desk(runtime, session, "ru-admin@example.org", role="admin", language="ru")
    yield client
    client.__exit__(None, None, None)


@pytest.fixture
def ru_editor(runtime: Runtime, session: Session) -> Iterator:  # type: ignore[type-arg]
    client = _desk(runtime, session, "ru-editor@example.org", role="editor", language="ru")
    yield client
    client.__exit__(None, None, None)


@pytest.fixture
def en_editor(runtime: Runtime, session: Session) -> Iterator:  # type: ignore[type-arg]
    client = _desk(runtime, session, "en-editor@example.org", role="editor", language="en")
    yield client
    client.__exit__(None, None, None)


def _post(client, page_url: str, action: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    from tests.editorial.helpers import csrf_token_of

    token = csrf_token_of(client.get(page_url).text)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=False)


# ---------------------------------------------------------------- triage and the incident page


def test_a_rejection_without_a_reason_is_refused_in_russian(ru_editor, session: Session,
                                                           make_incident: Callable[..., Incident]) -> None:
    incident = make_incident("Picket dispersed", state="new")
    url = f"/editor/incidents/{incident.id}"
    r = _post(ru_editor, url, f"{url}/decide", {"action": "reject", "reason": ""})
    assert r.status_code == 409
    assert "для отклонения нужна причина" in r.text and "a rejection needs a reason" not in r.text
    assert session.scalar(select(Incident.state).where(Incident.id == incident.id)) == "new"


def test_an_illegal_move_names_both_states_in_russian(ru_editor, make_incident: Callable[..., Incident]) -> None:
    incident = make_incident("Picket dispersed", state="new")
    url = f"/editor/incidents/{incident.id}"
    r = _post(ru_editor, url, f"{url}/decide", {"action": "reopen"})
    assert r.status_code == 409
    assert f"случай {incident.id} нельзя перевести из состояния «новое» в «новое»" in r.text


def test_an_english_account_keeps_the_english_refusal(en_editor, make_incident: Callable[..., Incident]) -> None:
    incident = make_incident("Picket dispersed", state="new")
    url = f"/editor/incidents/{incident.id}"
    r = _post(en_editor, url, f"{url}/decide", {"action": "reject", "reason": ""})
    assert r.status_code == 409 and "a rejection needs a reason" in r.text and "причина" not in r.text
    edit = _post(en_editor, url, f"{url}/edit", {"title": "x", "publication": "secret"})
    assert edit.status_code == 400
    assert "publication level: &#39;secret&#39; is not one of public, anonymised, internal" in edit.text


def test_an_invalid_choice_names_the_field_in_russian(ru_editor, make_incident: Callable[..., Incident]) -> None:
    incident = make_incident("Picket dispersed", state="new")
    url = f"/editor/incidents/{incident.id}"
    r = _post(ru_editor, url, f"{url}/edit", {"title": "x", "publication": "secret"})
    assert r.status_code == 400
    assert "уровень публикации: «secret» — не из списка public, anonymised, internal" in r.text


def test_a_missing_record_is_named_in_russian(ru_editor) -> None:
    r = ru_editor.get("/editor/incidents/999999")
    assert r.status_code == 404 and "Не найдено: случай 999999." in r.text and "There is no incident" not in r.text
    issue = ru_editor.get("/editor/issues/999999")
    assert issue.status_code == 404 and "Выпуска 999999 нет." in issue.text


def test_a_missing_record_stays_english_for_an_english_account_and_for_json(en_editor) -> None:
    r = en_editor.get("/editor/incidents/999999")
    assert r.status_code == 404 and "There is no incident 999999." in r.text
    api = en_editor.get("/editor/incidents/999999", headers={"accept": "application/json"})
    assert api.status_code == 404 and api.json() == {"detail": "There is no incident 999999."}


# ---------------------------------------------------------------- persons


def test_a_persons_refusal_is_in_russian(ru_editor, make_person: Callable[..., Person]) -> None:
    person = make_person("Aigul Sadykova")
    url = f"/editor/persons/{person.id}"
    r = _post(ru_editor, url, f"{url}/statuses", {"status": "detained", "occurred_on": "2026-11-18",
                                                  "incident_id": "abc"})
    assert r.status_code == 400 and "источник: «abc» — не номер случая" in r.text and "is not an incident" not in r.text
    bad_date = ru_editor.get("/editor/persons/?as_of=yesterday")
    assert bad_date.status_code == 400 and "на дату: «yesterday» — не дата" in bad_date.text


# ---------------------------------------------------------------- admin: sections and users


def test_a_sections_refusal_is_in_russian(ru_admin, session: Session) -> None:
    session.add(Section(slug="courts", title="Courts", position=90))
    session.flush()
    r = _post(ru_admin, "/editor/sections/", "/editor/sections/", {"slug": "courts", "title": "Again"})
    assert r.status_code == 400 and "Рубрика с кратким именем «courts» уже есть" in r.text
    gone = _post(ru_admin, "/editor/sections/", "/editor/sections/999999/delete", {})
    assert gone.status_code == 404 and "Не найдено: рубрика 999999." in gone.text


def test_a_users_refusal_wrapping_the_password_policy_is_in_russian(ru_admin, session: Session) -> None:
    r = _post(ru_admin, "/editor/users/", "/editor/users/", {"email": "new@example.org", "role": "editor",
                                                             "password": "short"})
    assert r.status_code == 400 and "Пароль должен быть не короче 12 символов" in r.text
    assert session.scalar(select(User).where(User.email == "new@example.org")) is None


# ---------------------------------------------------------------- subscribers


def test_a_subscribers_refusal_is_in_russian(ru_editor, session: Session) -> None:
    r = _post(ru_editor, "/editor/subscribers/", "/editor/subscribers/", {"email": "not-an-address", "language": "ru"})
    assert r.status_code == 422
    assert "&#39;not-an-address&#39; — не адрес электронной почты" in r.text and "is not an email" not in r.text
    assert session.scalar(select(Subscriber)) is None
    first = _post(ru_editor, "/editor/subscribers/", "/editor/subscribers/",
                  {"email": "known@example.org", "consent_documented": "1"})
    assert first.status_code == 303
    again = _post(ru_editor, "/editor/subscribers/", "/editor/subscribers/", {"email": "known@example.org"})
    assert again.status_code == 422 and "known@example.org уже есть в списке" in again.text


# ---------------------------------------------------------------- issues: periods and notices


def test_a_period_refusal_is_in_russian(ru_editor) -> None:
    r = _post(ru_editor, "/editor/issues/", "/editor/issues/draft", {"period": "2026-W99"})
    assert r.status_code == 409 and "период &#39;2026-W99&#39;: в 2026 году нет недели ISO с номером 99" in r.text


def test_the_issue_pages_notices_are_in_russian(ru_editor, two_items) -> None:
    url = f"/editor/issues/{two_items.id}"
    assert "Тестовое письмо отправлено на 3 адреса." in ru_editor.get(f"{url}?sent=3").text
    assert "Тестовое письмо отправлено на 5 адресов." in ru_editor.get(f"{url}?sent=5").text
    assert "Нет неудавшихся отправок, которые можно поставить в очередь снова." in ru_editor.get(f"{url}?requeued=0").text
    assert "2 неудавшиеся отправки снова в очереди" in ru_editor.get(f"{url}?requeued=2").text
    assert "Сохранено." in ru_editor.get(f"{url}?done=saved").text


def test_the_issue_pages_notices_stay_english_for_an_english_account(en_editor, two_items) -> None:
    url = f"/editor/issues/{two_items.id}"
    assert "Test sent to 3 address(es)." in en_editor.get(f"{url}?sent=3").text
    assert "2 failed delivery(ies) queued again" in en_editor.get(f"{url}?requeued=2").text


# ---------------------------------------------------------------- the English words stay for logs and the CLI


def test_the_exceptions_keep_their_english_words_whatever_language_is_bound(session: Session,
                                                                            make_incident: Callable[..., Incident]) -> None:
    incident = make_incident("Picket dispersed", state="new")
    with i18n.use_language("ru"):
        with pytest.raises(EditorialError) as refused:
            decide(session, incident, "reject", actor="test", reason="")
        with pytest.raises(PeriodError) as period:
            parse_period("2026-W99")
        assert refused.value.desk_message() == "для отклонения нужна причина"
    assert str(refused.value) == "a rejection needs a reason"
    assert str(period.value) == "period '2026-W99': 2026 has no ISO week 99"
    with i18n.use_language("en"):
        assert refused.value.desk_message() == str(refused.value)


def test_a_consent_refusal_names_place_and_kind_in_russian() -> None:
    exc = ConsentViolation(findings=[Finding(item_id=3, field="text", kind="name", edition="ru"),
                                     Finding(item_id=None, field="title", kind="city")])
    english = ("the consent check refused this issue: item 3 (ru edition), field text: a protected person's name; "
               "the issue, field title: a protected or withheld city. Edit the text there, or check the persons' "
               "spellings, aliases and the items' regions")
    assert str(exc) == english
    with i18n.use_language("ru"):
        assert exc.desk_message() == (
            "проверка согласий не пропустила выпуск: материал 3 (версия ru), поле text: имя защищённого человека; "
            "выпуск, поле title: защищённый или скрываемый город. Исправьте там текст или проверьте написания имён, "
            "псевдонимы и регионы материалов")
        assert str(exc) == english


def test_the_mail_relays_answer_and_the_notice_state_are_in_russian() -> None:
    exc = smtplib.SMTPRecipientsRefused({"nobody@example.org": (550, b"5.1.1 no such user")})
    english = "the mail relay refused the address: nobody@example.org (550 5.1.1 no such user)"
    assert mail_error_words(exc) == english
    row = CorrectionRow(id=1, issue_number=1, issue_period="2026-W47", issue_id=1, item_id=1, incident_id=None,
                        headline="", text="", filed_at="", filed_by="", notify_requested=True,
                        notices={"sent": 2, "failed": 1, "pending": 2})
    assert row.notice_state == "notice sent to 2 of 5 reader(s), 1 failed, 2 waiting"
    with i18n.use_language("ru"):
        assert str(mail_error_said(exc)) == "почтовый сервер отклонил адрес: nobody@example.org (550 5.1.1 no such user)"
        assert mail_error_words(exc) == english
        assert str(row.notice_said) == "уведомление отправлено 2 из 5 читателей, не доставлено: 1, ждут отправки: 2"
        assert row.notice_state == "notice sent to 2 of 5 reader(s), 1 failed, 2 waiting"
