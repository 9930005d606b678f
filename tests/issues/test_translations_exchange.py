"""Incident import/export carry `translations` ({"ru": {"title", "summary", "body", "quote"}}) into the
configured editions only, validated; a draft then copies them into its items' Russian rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.models import Incident, ItemTranslation

RU = {"title": "Блогер освобождён", "summary": "Её признали здоровой.",
      "body": '<p>Освобождена 11 декабря.</p><script>alert(1)</script><p onclick="x()">Второй абзац</p>',
      "quote": "Я снова дома"}


@pytest.fixture
def settings_env(settings_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("NEWSLETTER_LANGUAGES", "en,ru")
    return {**settings_env, "NEWSLETTER_LANGUAGES": "en,ru"}


def record(**extra: Any) -> dict[str, Any]:
    return {"external_id": "odf-utepova", "title": "Blogger released", "summary": "She was found healthy.",
            "occurred_on": "2026-11-18", "state": "accepted", "language": "en", "sections": ["persecution"], **extra}


def write(tmp_path: Path, records: list[dict[str, Any]]) -> Path:
    path = tmp_path / "in.json"
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return path


def test_translations_are_imported_sanitised_exported_and_copied_into_the_draft(cli: Any, session: Session,
                                                                                tmp_path: Path) -> None:
    cli("import", "incidents", str(write(tmp_path, [record(translations={"ru": RU})])))
    stored = session.scalar(select(Incident.translations))
    assert stored["ru"]["title"] == "Блогер освобождён" and stored["ru"]["quote"] == "Я снова дома"
    assert "<script" not in stored["ru"]["body"] and "onclick" not in stored["ru"]["body"]
    assert "<p>Освобождена 11 декабря.</p>" in stored["ru"]["body"]
    (exported,) = json.loads(cli("export", "incidents").stdout)
    assert exported["translations"] == stored
    again = cli("import", "incidents", str(write(tmp_path, [exported])))
    assert "0 created, 0 updated, 1 unchanged" in again.output

    cli("draft", "--period", "2026-W47")
    row = session.scalar(select(ItemTranslation))
    assert (row.language, row.state, row.headline, row.text, row.quote) == (
        "ru", "draft", "Блогер освобождён", "Её признали здоровой.", "Я снова дома")


@pytest.mark.parametrize(("translations", "error"), [
    ({"kk": {"title": "Блогер"}}, "row 2, field translations.kk: 'kk' is not an edition of this newsletter (NEWSLETTER_LANGUAGES: en, ru)"),
    ({"en": {"title": "Blogger"}}, "row 2, field translations.en: 'en' is the incident's own language"),
    ({"ru": {"headline": "Блогер"}}, "row 2, field translations.ru.headline: unknown part (allowed: title, summary, body, quote)"),
    ({"ru": {"title": "Б" * 501}}, "row 2, field translations.ru.title: longer than 500 characters"),
    ({"ru": {"title": 5}}, "row 2, field translations.ru.title: must be text"),
    ({"ru": "Блогер"}, "row 2, field translations.ru: must be an object"),
    (["ru"], "row 2, field translations: must be an object"),
])
def test_bad_translations_refuse_the_whole_file(cli: Any, session: Session, tmp_path: Path, translations: Any,
                                                error: str) -> None:
    path = write(tmp_path, [record(external_id="fine", title="A fine row"), record(translations=translations)])
    result = cli("import", "incidents", str(path), expect=1)
    assert "in.json: nothing imported" in result.output and error in " ".join(result.output.split())
    assert session.scalar(select(func.count()).select_from(Incident)) == 0
