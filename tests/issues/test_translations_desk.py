"""The translation desk through HTTP on the real app (en,ru): progress on the issue page, the Russian edition's
list, an item translated beside its original, approval refused until the edition is ready, and the command
line's `approve` refused the same way."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.flows.issues import draft
from newsletter.issues import translations as tr
from newsletter.models import Issue, IssueItem, ItemTranslation
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from tests.editorial.helpers import csrf_token_of, login, make_user

EDITOR = "editor@example.org"


@pytest.fixture
def settings_env(settings_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("NEWSLETTER_LANGUAGES", "en,ru")
    return {**settings_env, "NEWSLETTER_LANGUAGES": "en,ru"}


@pytest.fixture
def desk(runtime: Runtime) -> Iterator[TestClient]:
    make_user(runtime, EDITOR)
    with TestClient(create_app(runtime), base_url="http://testserver") as client:
        login(client, "", EDITOR)
        yield client


@pytest.fixture
def issue(session: Session, settings: Settings, make_incident: Any) -> Issue:
    make_incident("Blogger detained in Almaty", summary="He is held for ten days.", section="persecution",
                  translations={"ru": {"title": "Блогера задержали", "summary": "Десять суток ареста."}})
    make_incident("Journalist searched", summary="Police searched her flat.", section="persecution")
    return draft(session, settings=settings, period="2026-W47", actor="cli")


def post(client: TestClient, page_url: str, action: str, data: dict[str, str]) -> Any:
    token = csrf_token_of(client.get(page_url).text)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=False)


def items(session: Session) -> list[IssueItem]:
    session.expire_all()
    issue = session.scalar(select(Issue))
    assert issue is not None
    return tr.translatable_items(issue)


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_a_translation_is_made_beside_its_original_and_the_progress_follows(desk: TestClient, session: Session,
                                                                            issue: Issue) -> None:
    blogger, journalist = items(session)
    page = text_of(desk.get(f"/editor/issues/{issue.id}").text)
    assert "ru : 0/2 translated, 1 draft, 1 missing edition not ready" in page
    assert f'href="/editor/issues/{issue.id}/translations/ru"' in desk.get(f"/editor/issues/{issue.id}").text

    listing = desk.get(f"/editor/issues/{issue.id}/translations/ru").text
    assert "Блогера задержали" in listing and "Journalist searched" in listing
    url = f"/editor/issues/{issue.id}/translations/ru/{journalist.id}"
    form = desk.get(url).text
    assert "Police searched her flat." in form  # the original, left
    assert 'name="allow_original"' in form and "Publish the original in this edition" in form
    assert form.index("Police searched her flat.") < form.index('name="headline"')
    assert '<html lang="en"' in form and '<form method="post" action="' + url + '" lang="ru">' in form  # the desk stays English

    r = post(desk, url, url, {"headline": "Обыск у журналистки", "text": "Полиция обыскала её квартиру.",
                              "state": "done"})
    assert r.status_code == 303 and r.headers["location"].endswith(f"translations/ru?done=saved#item-{journalist.id}")
    row = next(t for t in items(session)[1].translations if t.language == "ru")
    assert (row.headline, row.text, row.state, row.updated_by) == (
        "Обыск у журналистки", "Полиция обыскала её квартиру.", "done", EDITOR)
    page = text_of(desk.get(f"/editor/issues/{issue.id}").text)
    assert "ru : 1/2 translated, 1 draft edition not ready" in page


def test_approval_waits_for_the_russian_edition_and_names_the_items(desk: TestClient, session: Session,
                                                                     issue: Issue) -> None:
    blogger, journalist = items(session)
    url = f"/editor/issues/{issue.id}"
    r = post(desk, url, f"{url}/signoff", {"action": "approve"})
    assert r.status_code == 409
    message = text_of(r.text)
    assert "the ru edition has 2 item(s) neither translated (done) nor allowed the original" in message
    assert f"item {blogger.id} (position {blogger.position})" in message and f"item {journalist.id}" in message
    assert items(session)[0].issue.state == "draft"

    for item in (blogger, journalist):
        item_url = f"{url}/translations/ru/{item.id}"
        r = post(desk, item_url, item_url, {"headline": "", "text": "", "state": "missing", "allow_original": "1"})
        assert r.status_code == 303
    page = text_of(desk.get(url).text)
    assert "ru : 0/2 translated, 2 originals allowed edition ready" in page
    r = post(desk, url, f"{url}/signoff", {"action": "approve"})
    assert r.status_code == 303
    assert items(session)[0].issue.state == "approved"


def test_a_refused_translation_keeps_what_was_typed_and_changes_nothing(desk: TestClient, session: Session,
                                                                       issue: Issue) -> None:
    _, journalist = items(session)
    url = f"/editor/issues/{issue.id}/translations/ru/{journalist.id}"
    r = post(desk, url, url, {"headline": "Обыск", "text": "", "state": "done"})
    assert r.status_code == 409
    assert "a done translation needs every part the original has: the text is empty" in text_of(r.text)
    assert 'value="Обыск"' in r.text
    r = post(desk, url, url, {"headline": "Х" * 501, "text": "Т", "state": "draft"})
    assert r.status_code == 409 and "at most 500" in r.text
    row = next(t for t in items(session)[1].translations if t.language == "ru")
    assert (row.headline, row.state) == ("", "missing")
    assert desk.get(f"/editor/issues/{issue.id}/translations/kk").status_code == 404
    assert desk.get(f"/editor/issues/{issue.id}/translations/en").status_code == 404
    assert desk.get(f"/editor/issues/{issue.id}/translations/ru/999999").status_code == 404
    assert desk.get(f"/editor/issues/999999/translations/ru").status_code == 404
    r = desk.post(url, data={"headline": "Без токена", "state": "draft"}, follow_redirects=False)
    assert r.status_code in (400, 403)
    assert next(t for t in items(session)[1].translations if t.language == "ru").headline == ""


def test_a_frozen_issue_shows_its_translations_read_only(desk: TestClient, session: Session, issue: Issue,
                                                         settings: Settings) -> None:
    from newsletter.issues.service import freeze_snapshot

    for item in tr.translatable_items(issue):
        tr.allow_original(session, issue, item, "ru", True, settings=settings, actor="ed")
    issue.state = "approved"
    freeze_snapshot(session, issue, settings=settings)
    session.flush()
    _, journalist = items(session)
    url = f"/editor/issues/{issue.id}/translations/ru/{journalist.id}"
    form = desk.get(url).text
    assert "Its content is frozen" in form and 'name="headline" value="" maxlength="500" disabled' in form
    assert '<button type="submit">' not in form.split('id="translation-heading"')[1]
    r = post(desk, url, url, {"headline": "Поздно", "text": "Т", "state": "done"})
    assert r.status_code == 409 and "cannot change" in r.text
    assert session.scalar(select(ItemTranslation.headline).where(ItemTranslation.item_id == journalist.id)) == ""


def test_the_command_line_approval_is_refused_the_same_way(cli: Any, session: Session, runtime: Runtime,
                                                           issue: Issue, settings: Settings) -> None:
    make_user(runtime, EDITOR)
    blogger, journalist = items(session)
    result = cli("approve", "2026-W47", "--user", EDITOR, expect=1)
    assert "the ru edition has 2 item(s)" in result.output and f"item {journalist.id}" in result.output
    issue = items(session)[0].issue
    for item in (blogger, journalist):
        tr.allow_original(session, issue, item, "ru", True, settings=settings, actor="ed")
    result = cli("approve", "2026-W47", "--user", EDITOR)
    assert f"issue {issue.number} approved by {EDITOR}" in result.output
