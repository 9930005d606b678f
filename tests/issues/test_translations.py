"""Item translations in an en,ru newsletter: rows per item and further edition, progress, staleness, and
approval refused while the Russian edition has an item neither translated nor allowed its original."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.flows.issues import approve, draft
from newsletter.issues import translations as tr
from newsletter.issues.errors import ApprovalError, IssueError, IssueLocked
from newsletter.issues.items import update_item
from newsletter.models import AuditLog, Issue, IssueItem, ItemTranslation

RU = {"ru": {"title": "Блогера задержали в Алматы", "summary": "Его держат под стражей десять суток.",
             "body": "", "quote": "Я не виноват"}}


@pytest.fixture
def settings_env(settings_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("NEWSLETTER_LANGUAGES", "en,ru")
    return {**settings_env, "NEWSLETTER_LANGUAGES": "en,ru"}


@pytest.fixture
def issue(session: Session, settings: Settings, make_incident: Any) -> Issue:
    """Three published items (one with an import's Russian translation) and one internal incident."""
    make_incident("Blogger detained in Almaty", summary="He is held for ten days.", section="persecution",
                  translations=RU)
    make_incident("Journalist searched", summary="Police searched her flat.", section="persecution")
    make_incident("Trade unionist fined", summary="A fine for a strike.", section="persecution")
    make_incident("Beaten in a town", publication="internal", section="persecution")
    return draft(session, settings=settings, period="2026-W47", actor="cli")


def items_of(issue: Issue) -> list[IssueItem]:
    return tr.translatable_items(issue)


def ru_row(item: IssueItem) -> ItemTranslation:
    return next(t for t in item.translations if t.language == "ru")


def test_the_draft_makes_a_row_per_item_and_copies_the_import_translation_as_a_draft(issue: Issue, settings: Settings) -> None:
    blogger, journalist, unionist = items_of(issue)
    assert (ru_row(blogger).state, ru_row(blogger).headline) == ("draft", "Блогера задержали в Алматы")
    assert (ru_row(blogger).text, ru_row(blogger).quote) == ("Его держат под стражей десять суток.", "Я не виноват")
    assert [ru_row(i).state for i in (journalist, unionist)] == ["missing", "missing"]
    internal = [i for i in issue.items if i.incident is not None and i.incident.publication == "internal"]
    assert internal and internal[0].translations == []  # only counted, never shown: nothing to translate
    (p,) = tr.progress(issue, settings)
    assert (p.language, p.total, p.done, p.allowed, p.draft, p.missing) == ("ru", 3, 0, 0, 1, 2)
    assert not tr.edition_ready(issue, "ru")


def test_approval_is_refused_naming_the_edition_and_items_until_each_is_done_or_allowed(
        session: Session, issue: Issue, settings: Settings, make_editor: Any) -> None:
    editor = make_editor("ed@example.org")
    blogger, journalist, unionist = items_of(issue)
    with pytest.raises(ApprovalError) as refused:
        approve(session, issue, user=editor, settings=settings)
    message = str(refused.value)
    assert "ru edition has 3 item(s)" in message
    assert all(f"item {i.id} (position {i.position})" in message for i in (blogger, journalist, unionist))
    assert issue.state == "draft" and issue.approved_by_id is None

    tr.set_translation(session, issue, blogger, "ru", tr.TranslationFields("Блогер задержан", "Десять суток.",
                                                                           "Я не виноват"),
                       state="done", settings=settings, actor=editor)
    tr.set_translation(session, issue, journalist, "ru", tr.TranslationFields("Обыск у журналистки", "Обыск."),
                       state="done", settings=settings, actor=editor)
    with pytest.raises(ApprovalError) as refused:
        approve(session, issue, user=editor, settings=settings)
    assert f"item {unionist.id}" in str(refused.value) and f"item {blogger.id}" not in str(refused.value)

    row = tr.allow_original(session, issue, unionist, "ru", True, settings=settings, actor=editor)
    assert (row.allow_original, row.updated_by, row.state) == (True, "ed@example.org", "missing")
    logged = session.scalars(select(AuditLog).where(AuditLog.action == "issue.translation_original_allowed")).all()
    assert [(a.actor, a.changes["item"], a.changes["language"]) for a in logged] == [("ed@example.org", unionist.id, "ru")]
    (p,) = tr.progress(issue, settings)
    assert (p.done, p.allowed, p.draft, p.missing) == (2, 1, 0, 0) and tr.edition_ready(issue, "ru")
    approve(session, issue, user=editor, settings=settings)
    assert issue.state == "approved"


def test_editing_the_original_after_a_done_translation_sends_it_back_to_draft(
        session: Session, issue: Issue, settings: Settings) -> None:
    blogger, journalist, _ = items_of(issue)
    tr.set_translation(session, issue, blogger, "ru", tr.TranslationFields("Блогер задержан", "Десять суток.", "Цитата"),
                       state="done", settings=settings, actor="translator")
    update_item(session, issue, journalist, headline="Journalist searched at night", text=journalist.text, actor="ed")
    assert ru_row(blogger).state == "done"  # another item's edit changes nothing here
    update_item(session, issue, blogger, headline=blogger.headline, text="He is held for fifteen days.", actor="ed")
    assert ru_row(blogger).state == "draft" and ru_row(blogger).text == "Десять суток."  # the words are kept
    stale = session.scalars(select(AuditLog).where(AuditLog.action == "issue.translation_stale")).one()
    assert stale.changes == {"item": blogger.id, "languages": ["ru"], "fields": ["text"]}


def test_an_item_first_written_in_russian_holds_its_original_in_the_russian_row(
        session: Session, settings: Settings, make_incident: Any, make_editor: Any) -> None:
    make_incident("Активиста оштрафовали", summary="Штраф за пикет.", language="ru", section="persecution",
                  translations={"en": {"title": "Activist fined", "summary": "A fine for a picket."}})
    make_incident("Пикет в Уральске", summary="Задержаны двое.", language="ru-RU", section="persecution")
    issue = draft(session, settings=settings, period="2026-W47", actor="cli")
    with_en, without_en = items_of(issue)
    assert (ru_row(with_en).state, ru_row(with_en).headline, ru_row(with_en).text) == (
        "done", "Активиста оштрафовали", "Штраф за пикет.")
    assert (with_en.headline, with_en.text) == ("Activist fined", "A fine for a picket.")
    assert tr.original_language(without_en, issue) == "ru" and ru_row(without_en).state == "done"
    assert tr.edition_ready(issue, "ru")
    editor = make_editor("ed@example.org")
    with pytest.raises(ApprovalError) as refused:  # the English edition would carry Russian words
        approve(session, issue, user=editor, settings=settings)
    assert "en edition still has the original words of 1 item(s)" in str(refused.value)
    assert f"item {without_en.id}" in str(refused.value)
    update_item(session, issue, without_en, headline="Picket in Uralsk", text="Two detained.", actor=editor)
    assert ru_row(without_en).state == "done"  # the Russian original is not stale when its translation changes
    approve(session, issue, user=editor, settings=settings)
    assert issue.state == "approved"


@pytest.mark.parametrize(("language", "words", "state", "error"), [
    ("kk", tr.TranslationFields("Х"), "draft", "'kk' is not a further edition"),
    ("en", tr.TranslationFields("X"), "draft", "'en' is not a further edition"),
    ("ru", tr.TranslationFields("Х" * 501), "draft", "headline is too long (501 characters, at most 500)"),
    ("ru", tr.TranslationFields("Заголовок", ""), "done", "the text is empty"),
    ("ru", tr.TranslationFields("Заголовок"), "finished", "the state must be one of missing, draft, done"),
])
def test_bad_translations_are_refused_and_change_nothing(session: Session, issue: Issue, settings: Settings,
                                                         language: str, words: tr.TranslationFields, state: str,
                                                         error: str) -> None:
    _, journalist, _ = items_of(issue)
    with pytest.raises(IssueError, match=re.escape(error)):
        tr.set_translation(session, issue, journalist, language, words, state=state, settings=settings, actor="ed")
    assert (ru_row(journalist).state, ru_row(journalist).headline) == ("missing", "")


def test_control_characters_are_dropped_and_words_alone_make_a_draft(session: Session, issue: Issue,
                                                                     settings: Settings) -> None:
    _, journalist, _ = items_of(issue)
    row = tr.set_translation(session, issue, journalist, "ru", tr.TranslationFields("Обыск\x00\x07", "Строка\r\nвторая"),
                             state="missing", settings=settings, actor="ed")
    assert (row.headline, row.text, row.state) == ("Обыск", "Строка\nвторая", "draft")


def test_a_frozen_issue_keeps_its_translations(session: Session, issue: Issue, settings: Settings) -> None:
    from newsletter.issues.service import freeze_snapshot

    for item in items_of(issue):
        tr.allow_original(session, issue, item, "ru", True, settings=settings, actor="ed")
    issue.state = "approved"
    freeze_snapshot(session, issue, settings=settings)
    item = items_of(issue)[1]
    with pytest.raises(IssueLocked):
        tr.set_translation(session, issue, item, "ru", tr.TranslationFields("Х", "У"), state="done", settings=settings,
                           actor="ed")
    with pytest.raises(IssueLocked):
        tr.allow_original(session, issue, item, "ru", False, settings=settings, actor="ed")
    assert ru_row(item).allow_original is True


def test_removing_an_item_removes_its_translations(session: Session, issue: Issue) -> None:
    from newsletter.issues.items import remove_item

    blogger = items_of(issue)[0]
    remove_item(session, issue, blogger, actor="ed")
    assert sorted(session.scalars(select(ItemTranslation.item_id))) == sorted(i.id for i in items_of(issue))
