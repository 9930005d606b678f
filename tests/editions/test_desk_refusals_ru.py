"""A Russian desk account reads the issues domain's refusals in Russian (issue, send, translation pages), while
the exception keeps its English words for logs and the command line."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from newsletter import i18n
from newsletter.config import Settings
from newsletter.issues.errors import ApprovalError
from newsletter.issues.service import approve_issue
from newsletter.issues.translations import check_editions_ready
from newsletter.models import Issue, User
from newsletter.runtime import Runtime


@pytest.fixture
def ru_desk(runtime: Runtime, session: Session) -> Iterator:  # type: ignore[type-arg]
    from fastapi.testclient import TestClient

    from newsletter.web.app import create_app
    from tests.editorial.helpers import login, make_user

    make_user(runtime, "ru-desk@example.org")
    session.execute(update(User).where(User.email == "ru-desk@example.org").values(language="ru"))
    with TestClient(create_app(runtime), base_url="http://testserver") as client:
        login(client, "", "ru-desk@example.org")
        yield client


def _post(client, page_url: str, action: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    from tests.editorial.helpers import csrf_token_of

    token = csrf_token_of(client.get(page_url).text)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=False)


def test_publishing_a_draft_is_refused_in_russian(ru_desk, two_items: Issue) -> None:
    url = f"/editor/issues/{two_items.id}"
    r = _post(ru_desk, url, f"{url}/signoff", {"action": "publish"})
    assert r.status_code == 409
    assert "выпуск 1 не утверждён; перед публикацией его должен утвердить редактор" in r.text
    assert "an editor must approve it" not in r.text


def test_approval_blocked_by_translations_is_explained_in_russian(ru_desk, two_items: Issue) -> None:
    url = f"/editor/issues/{two_items.id}"
    r = _post(ru_desk, url, f"{url}/signoff", {"action": "approve"})
    assert r.status_code == 409
    assert "выпуск 1 пока нельзя утвердить" in r.text and "в версии ru есть материалы без готового перевода" in r.text
    first = two_items.items[0]
    assert f"материал {first.id} (позиция {first.position})" in r.text and "cannot be approved" not in r.text


def test_sending_a_draft_is_refused_in_russian(ru_desk, two_items: Issue) -> None:
    url = f"/editor/issues/{two_items.id}/send"
    r = _post(ru_desk, url, url, {"action": "now"})
    assert r.status_code == 409
    assert "выпуск 1 в состоянии «черновик»: перед отправкой его должен утвердить редактор" in r.text


def test_a_translation_refusal_is_in_russian(ru_desk, two_items: Issue) -> None:
    item = two_items.items[0]
    url = f"/editor/issues/{two_items.id}/translations/ru/{item.id}"
    r = _post(ru_desk, url, url, {"headline": "Заголовок", "text": "", "state": "done"})
    assert r.status_code == 409
    assert "в готовом переводе должны быть все части оригинала: пусто — текст" in r.text and "— text" not in r.text


def test_the_english_words_stay_for_logs_and_the_command_line(session: Session, settings: Settings,
                                                             two_items: Issue) -> None:
    with pytest.raises(ApprovalError) as refused:
        check_editions_ready(two_items, settings)
    english = str(refused.value)
    assert english.startswith("issue 1 cannot be approved yet: the ru edition has 2 item(s) neither translated")
    first = two_items.items[0]
    assert f"item {first.id} (position {first.position})" in english
    with i18n.use_language("ru"):
        assert refused.value.desk_message().startswith("выпуск 1 пока нельзя утвердить: в версии ru")
    with i18n.use_language("en"):
        assert refused.value.desk_message() == english
