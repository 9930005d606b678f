"""`newsletter translations export|import`: XLIFF 2.0 with outside translators, round trip to the desk, and
hostile or broken files refused by line with nothing changed."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.flows.issues import draft
from newsletter.issues import translations as tr
from newsletter.issues.xliff import NS
from newsletter.models import AuditLog, Issue, ItemTranslation
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from tests.editorial.helpers import login, make_user

X = f"{{{NS}}}"


@pytest.fixture
def settings_env(settings_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("NEWSLETTER_LANGUAGES", "en,ru")
    return {**settings_env, "NEWSLETTER_LANGUAGES": "en,ru"}


@pytest.fixture
def issue(session: Session, settings: Settings, make_incident: Any) -> Issue:
    make_incident("Blogger detained in Almaty", summary="He is held for ten days.", section="persecution",
                  translations={"ru": {"title": "Блогера задержали", "summary": "Десять суток."}})
    make_incident("Journalist searched", summary="Police searched her flat.", section="persecution")
    make_incident("Beaten in a town", publication="internal", section="persecution")
    return draft(session, settings=settings, period="2026-W47", actor="cli")


def rows(session: Session) -> list[tuple[Any, ...]]:
    """Every translation row as plain values, to prove a refused import changed nothing."""
    session.expire_all()
    return [tuple(r) for r in session.execute(select(
        ItemTranslation.item_id, ItemTranslation.language, ItemTranslation.headline, ItemTranslation.text,
        ItemTranslation.state, ItemTranslation.allow_original).order_by(ItemTranslation.id))]


def export(cli: Any, tmp_path: Path) -> tuple[Path, etree._Element]:
    out = tmp_path / "ru.xlf"
    result = cli("translations", "export", "2026-W47", "--lang", "ru", "--out", str(out))
    assert f"written to {out}" in result.output
    return out, etree.fromstring(out.read_bytes())


def test_export_fill_import_and_the_desk_shows_them_done(cli: Any, session: Session, runtime: Runtime,
                                                         issue: Issue, settings: Settings, tmp_path: Path) -> None:
    blogger, journalist = tr.translatable_items(issue)
    path, root = export(cli, tmp_path)
    assert root.tag == f"{X}xliff" and (root.get("version"), root.get("srcLang"), root.get("trgLang")) == ("2.0", "en", "ru")
    (file_el,) = root.findall(f"{X}file")
    assert file_el.get("id") == f"issue-{issue.number}"
    units = file_el.findall(f"{X}unit")
    assert [u.get("id") for u in units] == [f"item-{blogger.id}", f"item-{journalist.id}"]  # not the internal one
    segs = {s.get("id"): s for s in root.iter(f"{X}segment")}
    assert set(segs) == {f"item-{i.id}-{f}" for i in (blogger, journalist) for f in ("headline", "text")}
    first = segs[f"item-{blogger.id}-headline"]
    assert (first.get("state"), first.findtext(f"{X}source"), first.findtext(f"{X}target")) == (
        "translated", "Blogger detained in Almaty", "Блогера задержали")
    empty = segs[f"item-{journalist.id}-text"]
    assert empty.get("state") == "initial" and empty.find(f"{X}target") is None
    assert cli("translations", "export", "2026-W47", "--lang", "ru").stdout_bytes == path.read_bytes()

    words = {"headline": "Обыск у журналистки", "text": "Полиция обыскала её квартиру.\n\n*Второй* абзац."}
    for name, text in words.items():
        seg = segs[f"item-{journalist.id}-{name}"]
        etree.SubElement(seg, f"{X}target").text = text
    for seg in segs.values():
        seg.set("state", "final")
    path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    result = cli("translations", "import", str(path))
    assert "issue 1 (ru): 2 item(s) updated (2 done, 0 draft), 0 unchanged" in " ".join(result.output.split())

    assert rows(session) == [
        (blogger.id, "ru", "Блогера задержали", "Десять суток.", "done", False),
        (journalist.id, "ru", words["headline"], words["text"], "done", False)]
    assert tr.edition_ready(session.get(Issue, issue.id), "ru")
    make_user(runtime, "ed@example.org")
    with TestClient(create_app(runtime), base_url="http://testserver") as desk:
        login(desk, "", "ed@example.org")
        page = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", desk.get(f"/editor/issues/{issue.id}").text)).split())
        assert "ru : 2/2 translated edition ready" in page
        listing = desk.get(f"/editor/issues/{issue.id}/translations/ru").text
        assert listing.count(">translated</span>") == 2
    assert cli("translations", "import", str(path)).output.count("0 item(s) updated") == 1  # again: nothing new


def test_a_target_whose_original_changed_since_the_export_stays_a_draft(cli: Any, session: Session, issue: Issue,
                                                                         tmp_path: Path) -> None:
    from newsletter.issues.items import update_item

    _, journalist = tr.translatable_items(issue)
    path, root = export(cli, tmp_path)
    update_item(session, issue, journalist, headline="Journalist searched at dawn", text=journalist.text, actor="ed")
    for seg in root.iter(f"{X}segment"):
        if seg.get("id").startswith(f"item-{journalist.id}-"):
            etree.SubElement(seg, f"{X}target").text = "Перевод"
            seg.set("state", "final")
    path.write_bytes(etree.tostring(root))
    result = cli("translations", "import", str(path))
    assert f"1 item(s) kept as draft: their original changed since the export (items {journalist.id})" in result.output
    assert [r[4] for r in rows(session) if r[0] == journalist.id] == ["draft"]


def unit_file(issue: Issue, item_id: int, target: str = "Перевод", *, trg: str = "ru", ns: str = NS,
              number: int | None = None, source: str = "x") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<xliff xmlns="{ns}" version="2.0" srcLang="en" trgLang="{trg}">\n'
            f'<file id="issue-{number or issue.number}">\n<unit id="item-{item_id}">\n'
            f'<segment id="item-{item_id}-headline" state="final">\n<source>{source}</source>\n<target>{target}</target>\n'
            f'</segment>\n</unit>\n</file>\n</xliff>\n')


HOSTILE: dict[str, tuple[Any, str]] = {
    "xxe": (lambda i, j: '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
            + unit_file(i, j, "&xxe;").split("\n", 1)[1],
            "line 2: a DOCTYPE or entity declaration is not allowed"),
    "billion laughs": (lambda i, j: '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
                       + "".join(f'<!ENTITY lol{n} "{("&lol%s;" % (n - 1 if n > 1 else "")) * 10}">\n' for n in range(1, 10))
                       + "]>\n" + unit_file(i, j, "&lol9;").split("\n", 1)[1],
                       "line 2: a DOCTYPE or entity declaration is not allowed"),
    "wrong namespace": (lambda i, j: unit_file(i, j, ns="urn:oasis:names:tc:xliff:document:1.2"),
                        "line 2: not an XLIFF 2.0 document"),
    "unknown unit": (lambda i, j: unit_file(i, 999999), "line 4: unit item-999999 is not a published item of issue 1"),
    "truncated": (lambda i, j: unit_file(i, j)[:-40], "not well-formed XML"),
    "markup in target": (lambda i, j: unit_file(i, j, 'Обыск <pc id="1">жирный</pc>'),
                         "line 7: markup <pc> inside <target> is not allowed: plain text or Markdown only"),
    "html in target": (lambda i, j: unit_file(i, j, '<script xmlns="http://www.w3.org/1999/xhtml">x</script>'),
                       "markup <script> inside <target> is not allowed"),
    "language not an edition": (lambda i, j: unit_file(i, j, trg="kk"), "line 2: trgLang 'kk' is not a further edition"),
    "unknown issue": (lambda i, j: unit_file(i, j, number=77), "line 3: there is no issue 77"),
    "too long": (lambda i, j: unit_file(i, j, "Х" * 501), "line 5: the translated headline is too long"),
    "done but incomplete": (lambda i, j: unit_file(i, j, "Только заголовок", source="Journalist searched"),
                            "unit item-{j}: a done translation needs every part the original has: the text is empty"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_and_broken_files_are_refused_by_line_and_change_nothing(cli: Any, session: Session, issue: Issue,
                                                                         tmp_path: Path, case: str) -> None:
    build, expected = HOSTILE[case]
    _, journalist = tr.translatable_items(issue)
    before, audits = rows(session), session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1))
    path = tmp_path / "bad.xlf"
    path.write_text(build(issue, journalist.id), encoding="utf-8")
    result = cli("translations", "import", str(path), expect=1)
    output = " ".join(result.output.split())
    assert "bad.xlf: nothing imported" in output and expected.format(j=journalist.id) in output
    assert "root:" not in output and "Traceback" not in output
    assert rows(session) == before
    assert session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1)) == audits


def test_one_bad_unit_keeps_the_good_ones_out_too(cli: Any, session: Session, issue: Issue, tmp_path: Path) -> None:
    path, root = export(cli, tmp_path)
    for seg in root.iter(f"{X}segment"):
        etree.SubElement(seg, f"{X}target").text = "Готово"
        seg.set("state", "final")
    file_el = root.find(f"{X}file")
    etree.SubElement(file_el, f"{X}unit", id="item-424242")
    path.write_bytes(etree.tostring(root))
    before = rows(session)
    result = cli("translations", "import", str(path), expect=1)
    assert "unit item-424242 is not a published item of issue 1" in result.output
    assert rows(session) == before


def test_a_frozen_issue_takes_no_translation_file(cli: Any, session: Session, issue: Issue, settings: Settings,
                                                  tmp_path: Path) -> None:
    from newsletter.issues.service import freeze_snapshot

    path, _ = export(cli, tmp_path)
    for item in tr.translatable_items(issue):
        tr.allow_original(session, issue, item, "ru", True, settings=settings, actor="ed")
    issue.state = "approved"
    freeze_snapshot(session, issue, settings=settings)
    result = cli("translations", "import", str(path), expect=1)
    assert "issue 1 was already sent or published; its translations cannot change" in " ".join(result.output.split())


def test_export_refuses_an_unknown_edition_or_issue(cli: Any, issue: Issue) -> None:
    assert "'kk' is not a further edition" in cli("translations", "export", "2026-W47", "--lang", "kk", expect=1).output
    assert "no issue for '2030-W01'" in cli("translations", "export", "2030-W01", "--lang", "ru", expect=1).output
