"""Consent across scripts, per edition: a protected person's spellings never reach any edition."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.consent import ConsentViolation
from newsletter.flows.issues import publish
from newsletter.issues.editions import build_edition_data
from newsletter.issues.service import approve_issue, draft_issue
from newsletter.models import Issue, PersonSpelling


def test_a_protected_cyrillic_spelling_only_in_the_ru_translation_is_redacted(
        session: Session, settings: Settings, make_incident, make_person, translate) -> None:
    saule = make_person("Saule Zhaksylykova", consent="none", role="journalist")
    saule.spellings.append(PersonSpelling(spelling="Сауле Жаксылыкова"))
    make_incident("Supporters gathered at the court", summary="Colleagues held signs.", publication="public")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    (item,) = issue.items
    translate(item, "Сторонники Сауле Жаксылыковой собрались у суда", "Коллеги Жаксылыковой держали плакаты.")
    ru = build_edition_data(session, issue, "ru", settings=settings)
    words = json.dumps(ru, ensure_ascii=False)
    assert "Жаксылыков" not in words and "Сауле" not in words
    assert "Сторонники" in words  # the rest of the translation stands


@pytest.mark.parametrize("spellings", [["Сауле Жаксылыкова"], []], ids=["registered-cyrillic", "latin-only"])
def test_a_protected_name_in_a_ru_translation_never_reaches_the_ru_edition(
        session: Session, settings: Settings, make_incident, make_person, translate, spellings: list[str]) -> None:
    """The register knows her in Latin (and maybe Cyrillic); the translator writes her in Russian, declined."""
    saule = make_person("Saule Zhaksylykova", consent="none", role="journalist")
    saule.spellings.extend(PersonSpelling(spelling=s) for s in spellings)
    make_incident("Supporters gathered at the court", summary="Colleagues held signs.", publication="public")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    (item,) = issue.items
    translate(item, "Сторонники Сауле Жаксылыковой собрались у суда",
              "Коллеги Жаксылыковой держали плакаты. САУЛЕ ЖАКСЫЛЫКОВА не пришла.")
    ru = build_edition_data(session, issue, "ru", settings=settings)
    (out,) = ru["sections"][0]["items"]
    assert "Жаксылыков" not in json.dumps(ru, ensure_ascii=False).replace("ЖАКСЫЛЫКОВ", "Жаксылыков")
    assert out["headline"] == "Сторонники журналист собрались у суда"  # her role, in the edition's language


def test_the_final_check_refuses_the_ru_edition_and_names_it(session: Session, settings: Settings, make_incident,
                                                             make_person, translate, make_editor) -> None:
    """An anonymised item whose Russian translation names someone: only the ru edition has the name, and
    the check refuses sign-off naming that edition (and never the name)."""
    make_incident("A journalist fined in the region", summary="The court fined her.", publication="anonymised",
                  region="Abai Region")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    (item,) = issue.items
    translate(item, "Журналистку оштрафовали", "Суд оштрафовал журналистку Динару Касымбекову.")
    with pytest.raises(ConsentViolation) as refused:
        approve_issue(session, issue, user=make_editor("ed@example.org"), settings=settings)
    assert {f.edition for f in refused.value.findings} == {"ru"}
    assert "(ru edition)" in str(refused.value) and "Касымбек" not in str(refused.value)
    session.refresh(issue)
    assert issue.state == "draft" and issue.snapshot is None and issue.edition_snapshots is None


def test_a_translation_changed_after_sign_off_cannot_be_published(runtime, settings: Settings, session: Session,
                                                                  make_incident, translate, make_editor) -> None:
    make_incident("A journalist fined in the region", summary="The court fined her.", publication="anonymised",
                  region="Abai Region")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    (item,) = issue.items
    row = translate(item, "Журналистку оштрафовали", "Суд оштрафовал журналистку.")
    approve_issue(session, issue, user=make_editor("ed@example.org"), settings=settings)
    row.text = "Суд оштрафовал журналистку Динару Касымбекову."
    session.flush()
    with runtime.sessions() as tx, pytest.raises(ConsentViolation, match=r"\(ru edition\)"):
        publish(tx, tx.get(Issue, issue.id), settings=settings, actor="cli")
    assert not (settings.issues_dir / "2026-W47").exists()
