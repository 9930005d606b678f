"""Per-edition snapshots: the default edition as written, each further one from its translations."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.issues.editions import EditionNotReady, build_edition_data, build_further_editions
from newsletter.issues.service import approve_issue, build_snapshot, freeze_snapshot
from newsletter.models import Issue
from newsletter.snapshot import parse_snapshot


def _items(snapshot: dict) -> dict[int, dict]:
    return {i["id"]: i for s in snapshot["sections"] for i in s["items"]}


def test_the_ru_edition_takes_its_words_from_the_done_translations(session: Session, settings: Settings,
                                                                   two_items: Issue, translate) -> None:
    first, second = two_items.items
    translate(first, "Активистку задержали в Алматы", "Её задержали после пикета.")
    translate(second, "Блогера оштрафовали за пост", "Суд оштрафовал его за пост.")
    ru = build_edition_data(session, two_items, "ru", settings=settings)
    items = _items(ru)
    assert items[first.id]["headline"] == "Активистку задержали в Алматы"
    assert items[second.id]["text"] == "Суд оштрафовал его за пост."
    assert ru["edition"] == "ru" and ru["issue"]["language"] == "ru"
    assert not any("original_language" in i for i in items.values())
    # Section titles of the seeded sections come out in the edition's language.
    assert {s["title"] for s in ru["sections"]} == {"Усиление политического преследования",
                                                    "Репрессии против независимых голосов"}
    # The default edition is untouched and carries no edition marker (stored snapshots keep their bytes).
    en = build_snapshot(session, two_items, settings=settings)
    assert "edition" not in en and _items(en)[first.id]["headline"] == "Activist detained in Almaty"
    assert parse_snapshot(ru).edition == "ru"


def test_an_item_allowed_in_the_original_carries_the_flag(session: Session, settings: Settings,
                                                          two_items: Issue, translate) -> None:
    first, second = two_items.items
    translate(first, "Активистку задержали в Алматы", "Её задержали после пикета.")
    translate(second, state="missing", allow_original=True)
    items = _items(build_edition_data(session, two_items, "ru", settings=settings))
    assert items[second.id]["headline"] == "Blogger fined for a post"
    assert items[second.id]["original_language"] == "en"
    assert "original_language" not in items[first.id]


@pytest.mark.parametrize("state", ["missing", "draft"])
def test_an_untranslated_item_without_leave_refuses_the_edition(session: Session, settings: Settings,
                                                                two_items: Issue, translate, make_editor,
                                                                state: str) -> None:
    first, second = two_items.items
    translate(first, "Активистку задержали в Алматы", "Её задержали после пикета.")
    translate(second, "Черновик", "", state=state)
    with pytest.raises(EditionNotReady, match=rf"ru edition is not ready: item {second.id}"):
        build_further_editions(session, two_items, settings=settings)
    with pytest.raises(EditionNotReady):
        approve_issue(session, two_items, user=make_editor("ed@example.org"), settings=settings)
    # A draft's preview still shows it, in the original, flagged.
    preview = build_edition_data(session, two_items, "ru", settings=settings, strict=False)
    assert _items(preview)[second.id]["original_language"] == "en"


def test_freezing_stores_the_default_and_every_further_edition(session: Session, settings: Settings,
                                                               two_items: Issue, translate, make_editor) -> None:
    first, second = two_items.items
    translate(first, "Активистку задержали в Алматы", "Её задержали после пикета.")
    translate(second, "Блогера оштрафовали за пост", "Суд оштрафовал его за пост.")
    approve_issue(session, two_items, user=make_editor("ed@example.org"), settings=settings)
    freeze_snapshot(session, two_items, settings=settings)
    assert _items(two_items.snapshot)[first.id]["headline"] == "Activist detained in Almaty"
    assert set(two_items.edition_snapshots) == {"ru"}
    ru = two_items.edition_snapshots["ru"]
    assert _items(ru)[first.id]["headline"] == "Активистку задержали в Алматы"
    assert ru["issue"]["published_at"] == two_items.snapshot["issue"]["published_at"] is not None
    json.dumps(two_items.edition_snapshots)


def test_one_language_builds_no_further_edition(session: Session, settings_env, make_incident, make_editor,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from newsletter.config import load_settings
    from newsletter.issues.service import draft_issue

    monkeypatch.delenv("NEWSLETTER_LANGUAGES", raising=False)
    one = load_settings()
    make_incident("Activist detained in Almaty")
    issue = draft_issue(session, settings=one, period="2026-W47", actor="cli")
    approve_issue(session, issue, user=make_editor("ed@example.org"), settings=one)
    freeze_snapshot(session, issue, settings=one)
    assert issue.edition_snapshots is None and "edition" not in issue.snapshot


def test_an_item_written_in_russian_needs_no_translation_for_the_ru_edition(session: Session, settings: Settings,
                                                                             make_incident, translate) -> None:
    from newsletter.issues.service import draft_issue

    make_incident("Activist detained in Almaty", summary="She was detained after a picket.")
    make_incident("Блогера оштрафовали за пост", summary="Суд оштрафовал его.", language="ru")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    english = next(i for i in issue.items if i.incident.language != "ru")
    translate(english, state="missing", allow_original=True)
    items = _items(build_edition_data(session, issue, "ru", settings=settings))
    russian = next(i for i in items.values() if i["headline"] == "Блогера оштрафовали за пост")
    assert "original_language" not in russian
    assert items[english.id]["original_language"] == "en"


def test_the_drafts_own_week_title_is_given_in_the_editions_language(session: Session, settings: Settings,
                                                                     make_incident) -> None:
    from newsletter.issues.service import draft_issue

    make_incident("Activist detained in Almaty")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    assert issue.title == "16–22 November 2026"
    ru = build_edition_data(session, issue, "ru", settings=settings, strict=False)
    assert ru["issue"]["title"] == "16–22 ноября 2026"
    issue.title = "A week of detentions"  # an editor's own title: the original until its translation is done
    assert build_edition_data(session, issue, "ru", settings=settings, strict=False)["issue"]["title"] == issue.title


def test_a_translated_quote_and_caption_take_the_shape_the_item_keeps_them_in(two_items: Issue) -> None:
    """Items grow a quote and a photo (issue #12); the edition swaps in only the words it has."""
    from types import SimpleNamespace

    from newsletter.issues.editions import _TranslatedItem

    item = SimpleNamespace(id=1, headline="H", text="T", quote={"text": "We will go on.", "speaker": "A. B."},
                           photo={"path": "p.jpg", "caption": "The court", "alt": "A court"}, photo_caption="The court")
    row = SimpleNamespace(headline="Х", text="Т", quote="Мы продолжим.", photo_caption="")
    view = _TranslatedItem(item, row)  # type: ignore[arg-type]
    assert view.headline == "Х" and view.quote == {"text": "Мы продолжим.", "speaker": "A. B."}
    assert view.photo == item.photo and view.photo_caption == "The court"  # no translated caption: the original
    assert view.id == 1
