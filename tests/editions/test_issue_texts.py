"""The issue's own texts per edition (issue #13, gap 1): title, intro, preheader and editor's note translated
for the ru edition - the service, readiness and approval, the snapshot and its consent rules, the email
subject, the desk page and the XLIFF exchange."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter import markup
from newsletter.config import Settings
from newsletter.flows.issues import approve
from newsletter.issues import issue_texts
from newsletter.issues import translations as tr
from newsletter.issues.editions import EditionNotReady, build_edition_data, build_further_editions
from newsletter.issues.errors import ApprovalError, IssueError, IssueLocked
from newsletter.issues.items import IssueFields, update_issue
from newsletter.issues.service import build_snapshot, draft_issue, freeze_snapshot  # build_snapshot: the JSON form
from newsletter.issues.xliff import NS
from newsletter.models import AuditLog, Issue, IssueTranslation, PersonSpelling
from newsletter.render.email import render_email
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from tests.editorial.helpers import csrf_token_of, login, make_user

EDITOR = "editor@example.org"
X = f"{{{NS}}}"
RU = issue_texts.IssueTexts(
    title="Неделя задержаний", intro="На этой неделе задержали активистку.\n\nИ оштрафовали блогера.",
    preheader="Задержания и штрафы", editors_note="Спасибо **волонтёрам**. [Поддержите нас](https://example.org/d).",
    editors_note_signature="Редакция")


@pytest.fixture
def issue(session: Session, settings: Settings, make_incident, translate) -> Issue:
    """A draft whose items are translated into Russian and whose own texts are all still English."""
    make_incident("Activist detained in Almaty", summary="She was detained after a picket.", section="persecution")
    make_incident("Blogger fined for a post", summary="A court fined him for a post.", section="repression")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    first, second = issue.items
    translate(first, "Активистку задержали в Алматы", "Её задержали после пикета.")
    translate(second, "Блогера оштрафовали за пост", "Суд оштрафовал его за пост.")
    issue.title, issue.intro, issue.preheader = "A week of detentions", "An activist was detained.", "Detentions"
    issue.editors_note, issue.editors_note_signature = "Thank **you**. [Support us](https://example.org/d).", "The editors"
    session.flush()
    return issue


def save(session: Session, issue: Issue, settings: Settings, words: issue_texts.IssueTexts = RU, *,
         state: str = "done", **kw: Any) -> IssueTranslation:
    return issue_texts.set_texts(session, issue, "ru", words, state=state, editions=tr.further_editions(settings),
                                 actor="translator@example.org", **kw)


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


# ---------------------------------------------------------------- the service


def test_a_done_translation_needs_every_text_the_original_has(session: Session, settings: Settings,
                                                              issue: Issue) -> None:
    with pytest.raises(IssueError, match=r"empty: preheader, editor's note"):
        save(session, issue, settings, issue_texts.IssueTexts(title="Т", intro="И", editors_note_signature="Р"))
    assert issue_texts.find(issue, "ru") is None  # nothing stored
    row = save(session, issue, settings, issue_texts.IssueTexts(intro="Черновик"), state="missing")
    assert (row.state, row.intro, row.title) == ("draft", "Черновик", "")  # words given: a draft at least
    with pytest.raises(IssueError, match=r"'kk' is not a further edition"):
        issue_texts.set_texts(session, issue, "kk", RU, state="done", editions=["ru"], actor="t")
    with pytest.raises(IssueError, match="the state must be one of missing, draft, done"):
        save(session, issue, settings, state="final")


def test_texts_are_cleaned_limited_and_audited_by_length_only(session: Session, settings: Settings,
                                                              issue: Issue) -> None:
    words = issue_texts.IssueTexts(title="Неделя\nзадержаний\x07", intro="Абзац один.\r\n\r\nАбзац\x00 два.",
                                   preheader="П", editors_note="З", editors_note_signature="  Ре   дакция ")
    row = save(session, issue, settings, words)
    assert (row.title, row.intro, row.editors_note_signature) == ("Неделя задержаний", "Абзац один.\n\nАбзац два.",
                                                                  "Ре дакция")
    with pytest.raises(IssueError, match=r"the translated preheader is too long \(301 characters, at most 300\)"):
        save(session, issue, settings, issue_texts.IssueTexts(**{**RU.as_dict(), "preheader": "П" * 301}))
    session.expire_all()
    assert session.scalar(select(IssueTranslation.preheader)) == "П"  # the refused save changed nothing
    (audit,) = session.scalars(select(AuditLog).where(AuditLog.action == "issue.texts_translation_edited"))
    recorded = json.dumps(audit.changes, ensure_ascii=False)
    assert "characters" in recorded and "Неделя" not in recorded and "Абзац" not in recorded
    assert audit.actor == "translator@example.org"


def test_a_changed_original_sends_the_done_translation_back_to_draft(session: Session, settings: Settings,
                                                                     issue: Issue) -> None:
    save(session, issue, settings)
    update_issue(session, issue, IssueFields(title=issue.title, intro=issue.intro, preheader=issue.preheader,
                                             show_withheld_count=True, show_persons_summary=False), actor="ed")
    assert issue_texts.row_for(issue, "ru").state == "done"  # nothing changed: still done
    update_issue(session, issue, IssueFields(title=issue.title, intro="An activist was detained on Monday.",
                                             preheader=issue.preheader, show_withheld_count=True,
                                             show_persons_summary=False), actor="ed")
    assert issue_texts.row_for(issue, "ru").state == "draft"
    stale = session.scalar(select(AuditLog).where(AuditLog.action == "issue.texts_translation_stale"))
    assert stale is not None and stale.changes["languages"] == ["ru"] and stale.changes["fields"] == ["intro"]
    with pytest.raises(ApprovalError, match="the ru edition: the issue's texts are not translated"):
        tr.check_editions_ready(issue, settings)


# ---------------------------------------------------------------- readiness and approval


def test_approval_names_the_untranslated_issue_texts_until_done_or_allowed(session: Session, settings: Settings,
                                                                           issue: Issue, make_editor) -> None:
    editor = make_editor("ed@example.org")
    (p,) = tr.progress(issue, settings)
    assert (p.done, p.total, p.texts, p.ready) == (2, 2, "missing", False)
    assert not tr.edition_ready(issue, "ru")
    with pytest.raises(ApprovalError) as refused:
        approve(session, issue, user=editor, settings=settings)
    message = str(refused.value)
    assert ("the ru edition: the issue's texts are not translated (title, intro, preheader, editor's note, "
            "signature of the editor's note: neither done nor allowed the original)") in message
    assert "A week of detentions" not in message and "activist" not in message  # kinds named, never the words
    assert "item(s)" not in message  # the items are translated
    with pytest.raises(EditionNotReady, match=r"ru edition is not ready: the issue's texts"):
        build_further_editions(session, issue, settings=settings)
    assert issue.state == "draft"

    issue_texts.allow_original(session, issue, "ru", True, editions=["ru"], actor=editor)
    (p,) = tr.progress(issue, settings)
    assert p.texts == "allowed" and p.ready
    approve(session, issue, user=editor, settings=settings)
    assert issue.state == "approved"
    allowed = session.scalar(select(AuditLog).where(AuditLog.action == "issue.texts_original_allowed"))
    assert allowed is not None and allowed.actor == "ed@example.org"


def test_an_issue_with_only_its_automatic_title_has_nothing_to_translate(session: Session, settings: Settings,
                                                                         make_incident, translate) -> None:
    make_incident("Activist detained in Almaty", summary="She was detained after a picket.")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    translate(issue.items[0], "Активистку задержали", "Её задержали.")
    assert issue_texts.to_translate(issue) == [] and issue_texts.state_of(issue, "ru") == "none"
    assert tr.edition_ready(issue, "ru")
    tr.check_editions_ready(issue, settings)  # no refusal
    assert build_edition_data(session, issue, "ru", settings=settings)["issue"]["title"] == "16–22 ноября 2026"
    issue.intro = "One more word."
    assert issue_texts.to_translate(issue) == ["intro"] and not tr.edition_ready(issue, "ru")


# ---------------------------------------------------------------- the snapshot and the email


def test_the_ru_edition_reads_the_translated_texts_and_the_default_is_untouched(session: Session,
                                                                                settings: Settings,
                                                                                issue: Issue) -> None:
    save(session, issue, settings)
    ru = build_edition_data(session, issue, "ru", settings=settings)
    assert ru["issue"]["title"] == "Неделя задержаний"
    assert ru["issue"]["intro"] == "На этой неделе задержали активистку.\n\nИ оштрафовали блогера."
    assert ru["issue"]["preheader"] == "Задержания и штрафы"
    rendered = markup.render_markdown(RU.editors_note)  # exactly as the default edition renders its note
    assert ru["editors_note"] == {"html": rendered.html, "text": rendered.text, "signature": "Редакция"}
    assert '<strong>волонтёрам</strong>' in ru["editors_note"]["html"]
    assert 'href="https://example.org/d"' in ru["editors_note"]["html"]
    en = build_snapshot(session, issue, settings=settings)
    assert (en["issue"]["title"], en["issue"]["intro"], en["issue"]["preheader"]) == (
        "A week of detentions", "An activist was detained.", "Detentions")
    assert en["editors_note"]["signature"] == "The editors" and "edition" not in en


def test_a_draft_translation_previews_the_original_and_the_preheader_follows_the_intro(
        session: Session, settings: Settings, issue: Issue) -> None:
    save(session, issue, settings, state="draft")
    preview = build_edition_data(session, issue, "ru", settings=settings, strict=False)
    assert preview["issue"]["title"] == "A week of detentions" and preview["issue"]["intro"] == issue.intro
    issue.preheader = ""
    save(session, issue, settings, issue_texts.IssueTexts(**{**RU.as_dict(), "preheader": ""}))
    ru = build_edition_data(session, issue, "ru", settings=settings)
    assert ru["issue"]["preheader"] == "На этой неделе задержали активистку."  # the translated intro's first sentence


def test_a_protected_cyrillic_name_in_the_translated_intro_is_redacted(session: Session, settings: Settings,
                                                                        issue: Issue, make_person) -> None:
    saule = make_person("Saule Zhaksylykova", consent="none", role="journalist")
    saule.spellings.append(PersonSpelling(spelling="Сауле Жаксылыкова"))
    issue.intro = "Saule Zhaksylykova was summoned."
    session.flush()
    save(session, issue, settings, issue_texts.IssueTexts(**{
        **RU.as_dict(), "intro": "Сауле Жаксылыкову вызвали на допрос.",
        "editors_note": "Мы думаем о САУЛЕ ЖАКСЫЛЫКОВОЙ.", "editors_note_signature": "Редакция"}))
    ru = build_edition_data(session, issue, "ru", settings=settings)
    en = build_snapshot(session, issue, settings=settings)
    words = json.dumps(ru, ensure_ascii=False)
    assert "Жаксылыков" not in words.replace("ЖАКСЫЛЫКОВ", "Жаксылыков") and "Сауле" not in words
    assert "вызвали на допрос" in ru["issue"]["intro"]  # the rest of the translation stands
    assert "Zhaksylykova" not in en["issue"]["intro"]  # exactly as the original is redacted


def test_the_email_subject_of_the_ru_edition_is_the_translated_title(cli: Any, session: Session, settings: Settings,
                                                                    issue: Issue, make_editor, tmp_path: Path) -> None:
    save(session, issue, settings)
    approve(session, issue, user=make_editor("ed@example.org"), settings=settings)
    freeze_snapshot(session, issue, settings=settings)
    session.flush()
    assert render_email(issue.edition_snapshots["ru"], settings).subject.endswith(": Неделя задержаний")
    assert render_email(issue.snapshot, settings).subject.endswith(": A week of detentions")
    cli("render", "2026-W47", "--lang", "ru", "--out", str(tmp_path / "ru"))
    subject = (tmp_path / "ru" / "subject.txt").read_text()
    assert "Неделя задержаний" in subject and "A week of detentions" not in subject
    text = (tmp_path / "ru" / "email.txt").read_text()
    assert "И оштрафовали блогера." in text and "Редакция" in text and "The editors" not in text
    # Frozen: the texts cannot change any more.
    with pytest.raises(IssueLocked, match="cannot change"):
        save(session, issue, settings, issue_texts.IssueTexts(**{**RU.as_dict(), "title": "Поздно"}))


# ---------------------------------------------------------------- the desk


@pytest.fixture
def desk(runtime: Runtime) -> Iterator[TestClient]:
    make_user(runtime, EDITOR)
    with TestClient(create_app(runtime), base_url="http://testserver") as client:
        login(client, "", EDITOR)
        yield client


def post(client: TestClient, page_url: str, action: str, data: dict[str, str]) -> Any:
    token = csrf_token_of(client.get(page_url).text)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=False)


def form_of(words: issue_texts.IssueTexts, state: str) -> dict[str, str]:
    return {**words.as_dict(), "state": state}


def test_the_desk_translates_the_issue_texts_beside_their_originals(desk: TestClient, session: Session,
                                                                    issue: Issue) -> None:
    base = f"/editor/issues/{issue.id}/translations/ru"
    assert "issue texts not translated edition not ready" in text_of(desk.get(f"/editor/issues/{issue.id}").text)
    listing = desk.get(base).text
    assert listing.index("Issue texts") < listing.index("Активистку задержали в Алматы")  # first, before the items
    assert f'href="{base}/texts"' in listing and "not translated" in text_of(listing.split('id="issue-texts"')[1])
    page = desk.get(f"{base}/texts").text
    assert "An activist was detained." in page and "Thank **you**." in page and "The editors" in page
    assert page.index("An activist was detained.") < page.index('name="intro"')  # the original left
    for name in ("title", "intro", "preheader", "editors_note", "editors_note_signature"):
        assert f'name="{name}"' in page
    r = post(desk, f"{base}/texts", f"{base}/texts", form_of(RU, "done"))
    assert r.status_code == 303 and r.headers["location"].endswith("translations/ru?done=saved#issue-texts")
    session.expire_all()
    row = session.scalar(select(IssueTranslation))
    assert (row.title, row.intro, row.state, row.updated_by) == (RU.title, RU.intro, "done", EDITOR)
    assert "issue texts translated edition ready" in text_of(desk.get(f"/editor/issues/{issue.id}").text)
    r = post(desk, f"/editor/issues/{issue.id}", f"/editor/issues/{issue.id}/signoff", {"action": "approve"})
    assert r.status_code == 303


def test_a_refused_save_of_the_issue_texts_keeps_what_was_typed(desk: TestClient, session: Session,
                                                               issue: Issue) -> None:
    base = f"/editor/issues/{issue.id}/translations/ru"
    url = f"/editor/issues/{issue.id}"
    r = post(desk, url, f"{url}/signoff", {"action": "approve"})
    assert r.status_code == 409 and "the ru edition: the issue's texts are not translated" in text_of(r.text)
    r = post(desk, f"{base}/texts", f"{base}/texts", form_of(issue_texts.IssueTexts(title="Неделя"), "done"))
    assert r.status_code == 409
    assert "a done translation needs every text the original has" in text_of(r.text) and 'value="Неделя"' in r.text
    r = post(desk, f"{base}/texts", f"{base}/texts",
             form_of(issue_texts.IssueTexts(**{**RU.as_dict(), "intro": "И" * 20001}), "draft"))
    assert r.status_code == 409 and "at most 20000" in r.text
    r = desk.post(f"{base}/texts", data=form_of(RU, "done"), follow_redirects=False)  # no CSRF token
    assert r.status_code in (400, 403)
    assert desk.get(f"/editor/issues/{issue.id}/translations/kk/texts").status_code == 404
    assert desk.get("/editor/issues/999999/translations/ru/texts").status_code == 404
    session.expire_all()
    assert session.scalar(select(IssueTranslation)) is None  # nothing stored by any of them


def test_a_frozen_issue_shows_its_texts_read_only(desk: TestClient, session: Session, settings: Settings,
                                                  issue: Issue, make_editor) -> None:
    save(session, issue, settings)
    approve(session, issue, user=make_editor("ed@example.org"), settings=settings)
    freeze_snapshot(session, issue, settings=settings)
    session.flush()
    url = f"/editor/issues/{issue.id}/translations/ru/texts"
    page = desk.get(url).text
    assert "Its content is frozen" in page and 'name="title" value="Неделя задержаний" maxlength="500"' \
        ' aria-describedby="t-title-hint" disabled' in page
    assert '<button type="submit">' not in page.split('id="translation-heading"')[1]
    r = post(desk, url, url, form_of(issue_texts.IssueTexts(**{**RU.as_dict(), "title": "Поздно"}), "done"))
    assert r.status_code == 409 and "cannot change" in r.text
    session.expire_all()
    assert session.scalar(select(IssueTranslation.title)) == "Неделя задержаний"


# ---------------------------------------------------------------- XLIFF


def test_the_issue_unit_goes_out_and_comes_back_done(cli: Any, session: Session, issue: Issue,
                                                     tmp_path: Path) -> None:
    out = tmp_path / "ru.xlf"
    cli("translations", "export", "2026-W47", "--lang", "ru", "--out", str(out))
    root = etree.fromstring(out.read_bytes())
    units = root.findall(f".//{X}unit")
    assert units[0].get("id") == "issue" and [u.get("id") for u in units[1:]] == [
        f"item-{i.id}" for i in tr.translatable_items(issue)]
    segments = {s.get("id"): s for s in units[0].iter(f"{X}segment")}
    assert list(segments) == ["issue-title", "issue-intro", "issue-preheader", "issue-editors_note",
                              "issue-editors_note_signature"]
    assert segments["issue-intro"].find(f"{X}source").text == "An activist was detained."
    assert segments["issue-intro"].get("state") == "initial" and segments["issue-intro"].find(f"{X}target") is None
    for name, seg in segments.items():
        etree.SubElement(seg, f"{X}target").text = RU.as_dict()[name.removeprefix("issue-")]
        seg.set("state", "final")
    out.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    result = cli("translations", "import", str(out))
    assert "the issue's texts: done" in result.output
    session.expire_all()
    row = session.scalar(select(IssueTranslation))
    assert (row.title, row.intro, row.editors_note, row.state) == (RU.title, RU.intro, RU.editors_note, "done")
    # Exported again, the targets come out final.
    cli("translations", "export", "2026-W47", "--lang", "ru", "--out", str(out))
    again = {s.get("id"): s for s in etree.fromstring(out.read_bytes()).iter(f"{X}segment")}
    assert again["issue-title"].get("state") == "final" and again["issue-title"].find(f"{X}target").text == RU.title


def test_a_bad_issue_unit_is_refused_by_line_and_nothing_is_imported(cli: Any, session: Session, issue: Issue,
                                                                     tmp_path: Path) -> None:
    first = tr.translatable_items(issue)[0]
    doc = f"""<?xml version="1.0" encoding="UTF-8"?>
<xliff xmlns="{NS}" version="2.0" srcLang="en" trgLang="ru">
<file id="issue-{issue.number}">
<unit id="issue">
<segment id="issue-title" state="final"><source>A week of detentions</source><target>Неделя</target></segment>
<segment id="issue-footer" state="final"><source>x</source><target>y</target></segment>
</unit>
<unit id="item-{first.id}">
<segment id="item-{first.id}-headline" state="final"><source>{first.headline}</source><target>Новое</target></segment>
</unit>
<unit id="item-0"><segment id="item-0-headline"><source>x</source></segment></unit>
<unit id="issue"><segment id="issue-intro"><source>x</source><target>y</target></segment></unit>
</file>
</xliff>
""".encode()
    bad = tmp_path / "bad.xlf"
    bad.write_bytes(doc)
    before = [(r.headline, r.state) for r in first.translations]
    result = cli("translations", "import", str(bad), expect=1)
    assert "nothing imported" in result.output
    assert "line 6: segment id 'issue-footer' is not issue-TEXT" in result.output
    assert "line 11: unit id 'item-0' is neither issue nor item-ID" in result.output
    assert "line 12: unit issue appears twice (first on line 4)" in result.output
    session.expire_all()
    assert session.scalar(select(IssueTranslation)) is None
    assert [(r.headline, r.state) for r in session.get(Issue, issue.id).items[0].translations] == before
    # A target too long for its text is refused the same way.
    long_doc = doc.replace(b'<segment id="issue-footer" state="final"><source>x</source><target>y</target></segment>\n',
                           b"").replace(b'<unit id="item-0"><segment id="item-0-headline"><source>x</source></segment></unit>\n',
                                        b"").replace(b'<unit id="issue"><segment id="issue-intro"><source>x</source>'
                                                     b'<target>y</target></segment></unit>\n', b"")
    long_doc = long_doc.replace("<target>Неделя</target>".encode(), ("<target>" + "Н" * 501 + "</target>").encode())
    bad.write_bytes(long_doc)
    result = cli("translations", "import", str(bad), expect=1)
    assert "line 5: the translated title is too long (501 characters, at most 500)" in result.output
    session.expire_all()
    assert session.scalar(select(IssueTranslation)) is None
