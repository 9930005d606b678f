"""Editions tests: an en,ru newsletter, with the issues tests' builders (incidents, persons, editors)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from newsletter.config import Settings, load_settings
from newsletter.issues.service import draft_issue
from newsletter.models import Issue, IssueItem, IssueTranslation, ItemTranslation
from tests.issues.conftest import make_editor, make_incident, make_person  # noqa: F401 - fixtures

__all__ = ["make_editor", "make_incident", "make_person"]


@pytest.fixture
def settings(settings_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Two editions: English (the default) and Russian."""
    monkeypatch.setenv("NEWSLETTER_LANGUAGES", "en,ru")
    settings_env["NEWSLETTER_LANGUAGES"] = "en,ru"
    return load_settings()


@pytest.fixture
def translate(session: Session) -> Callable[..., ItemTranslation]:
    """Give an item its Russian words (what the desk or an XLIFF import stores)."""

    def build(item: IssueItem, headline: str = "", text: str = "", *, language: str = "ru", state: str = "done",
              allow_original: bool = False) -> ItemTranslation:
        row = ItemTranslation(item_id=item.id, language=language, headline=headline, text=text, state=state,
                              allow_original=allow_original)
        session.add(row)
        session.flush()
        session.expire(item, ["translations"])
        return row

    return build


@pytest.fixture
def translate_texts(session: Session) -> Callable[..., IssueTranslation]:
    """Give the issue its own texts in Russian (what the desk or an XLIFF import stores)."""

    def build(issue: Issue, *, language: str = "ru", state: str = "done", allow_original: bool = False,
              **texts: str) -> IssueTranslation:
        row = next((t for t in issue.translations if t.language == language), None)
        if row is None:
            row = IssueTranslation(language=language)
            issue.translations.append(row)
        for name in ("title", "intro", "preheader", "editors_note", "editors_note_signature"):
            setattr(row, name, texts.get(name, ""))
        row.state, row.allow_original = state, allow_original
        session.flush()
        return row

    return build


@pytest.fixture
def two_items(session: Session, settings: Settings, make_incident, translate_texts) -> Issue:  # noqa: F811
    """A draft with two public items (no persons), ready to be translated; its own title is translated."""
    make_incident("Activist detained in Almaty", summary="She was detained after a picket.", section="persecution")
    make_incident("Blogger fined for a post", summary="A court fined him for a post.", section="repression")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    issue.title = "Week of detentions"
    session.flush()
    translate_texts(issue, title="Неделя задержаний")
    return issue
