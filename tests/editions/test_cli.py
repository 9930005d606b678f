"""`newsletter render ISSUE --lang ru --out DIR`: one edition; an unknown language is a clear usage error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.issues.service import approve_issue, freeze_snapshot
from newsletter.models import Issue


def test_render_the_ru_edition_of_a_draft(cli: Any, session: Session, settings: Settings, two_items: Issue,
                                          translate, tmp_path: Path) -> None:
    first, _second = two_items.items
    translate(first, "Активистку задержали в Алматы", "Её задержали после пикета.")
    result = cli("render", "2026-W47", "--lang", "ru", "--out", str(tmp_path / "ru"))
    assert "issue 2026-W47 ru edition (draft, not frozen) rendered to" in result.output
    data = json.loads((tmp_path / "ru" / "issue.json").read_text())
    assert data["edition"] == "ru"
    headlines = [i["headline"] for s in data["sections"] for i in s["items"]]
    assert "Активистку задержали в Алматы" in headlines
    assert "Blogger fined for a post" in headlines  # no translation yet: the original, flagged (a preview)
    assert '<html lang="ru"' in (tmp_path / "ru" / "index.html").read_text()
    # The default folder is <data dir>/render/<period>/<lang> without --out.
    cli("render", "2026-W47", "--lang", "ru")
    assert (Path(settings.data_dir) / "render" / "2026-W47" / "ru" / "issue.json").is_file()


def test_render_the_ru_edition_of_a_frozen_issue(cli: Any, session: Session, settings: Settings, two_items: Issue,
                                                 translate, make_editor, tmp_path: Path) -> None:
    first, second = two_items.items
    translate(first, "Активистку задержали в Алматы", "Её задержали после пикета.")
    translate(second, "Блогера оштрафовали за пост", "Суд оштрафовал его за пост.")
    approve_issue(session, two_items, user=make_editor("ed@example.org"), settings=settings)
    freeze_snapshot(session, two_items, settings=settings)
    session.flush()
    first_row = session.get(type(first.translations[0]), first.translations[0].id)
    first_row.headline = "Изменено после отправки"
    session.flush()
    cli("render", "2026-W47", "--lang", "ru", "--out", str(tmp_path / "ru"))
    text = (tmp_path / "ru" / "email.txt").read_text()
    assert "Активистку задержали в Алматы" in text and "Изменено после отправки" not in text


def test_an_unknown_language_is_a_usage_error(cli: Any, session: Session, two_items: Issue) -> None:
    result = cli("render", "2026-W47", "--lang", "kk", expect=2)
    assert "'kk' is not an edition; NEWSLETTER_LANGUAGES lists en, ru" in result.output


def test_an_issue_frozen_without_the_edition_says_so(cli: Any, session: Session, settings: Settings,
                                                     two_items: Issue) -> None:
    two_items.snapshot = {"frozen": "before editions"}  # only the language matters here
    two_items.state = "sent"
    session.flush()
    result = cli("render", "2026-W47", "--lang", "ru", expect=1)
    assert "issue 1 was frozen without a ru edition (its editions: en)" in result.output
