"""Corrections: a dated note beside a published item — in the archive page, feed, issue.json, index and
the next issue — while the frozen snapshot never changes; refusals are clear and store nothing."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.flows.issues import preview, publish
from newsletter.issues.service import approve_issue, draft_issue
from newsletter.models import AuditLog, Correction, Issue, PersonSpelling
from newsletter.runtime import Runtime
from tests.issues.conftest import PROTECTED_CITY, PROTECTED_NAME

ATOM = "{http://www.w3.org/2005/Atom}"
FIX = "Correction: the court sentenced him to two years, not three as we wrote."


def _publish(runtime: Runtime, issue_id: int, settings: Settings) -> None:
    with runtime.sessions() as tx:
        publish(tx, tx.get(Issue, issue_id), settings=settings, actor="cli")


def _published(session: Session, settings: Settings, runtime: Runtime, make_incident, make_editor,
               period: str = "2026-W47", **incident: object) -> Issue:
    incident = {"city": "Almaty", **incident}
    make_incident("Activist sentenced in Almaty", summary="He was sentenced to three years.",
                  external_id=f"ext-{period}", occurred_on=date.fromisocalendar(int(period[:4]), int(period[-2:]), 2),
                  **incident)
    issue = draft_issue(session, settings=settings, period=period, actor="cli")
    approve_issue(session, issue, user=make_editor(f"ed-{period}@example.org"), settings=settings)
    session.flush()
    _publish(runtime, issue.id, settings)
    session.expire_all()
    return session.get(Issue, issue.id)


@pytest.fixture
def published(session: Session, settings: Settings, runtime: Runtime, make_incident, make_editor) -> Issue:
    return _published(session, settings, runtime, make_incident, make_editor)


def test_the_correction_appears_beside_the_item_in_page_feed_json_and_index(
        cli, session: Session, settings: Settings, published: Issue) -> None:
    frozen = json.dumps(published.snapshot, sort_keys=True)
    item_id = published.snapshot["sections"][0]["items"][0]["id"]
    feed_before = ET.parse(Path(settings.issues_dir) / "feed.xml").getroot()
    updated_before = feed_before.find(f"{ATOM}entry/{ATOM}updated").text
    time.sleep(1.1)  # the feed's times have whole seconds: let the correction come a second later

    out = cli("corrections", "add", "2026-W47", "--incident", "ext-2026-W47", "--text", FIX).output
    assert "correction 1 filed on issue 1 (2026-W47)" in out

    archive = Path(settings.issues_dir)
    page = (archive / "2026-W47" / "index.html").read_text()
    item_html = page.split(f'id="item-{item_id}"', 1)[1].split("</article>", 1)[0]
    assert 'class="correction-marker"' in item_html and 'href="#correction-1"' in item_html
    assert 'id="correction-1"' in item_html and FIX in item_html and "Correction, " in item_html
    # The item itself stays as it was published: no silent edit.
    assert "He was sentenced to three years." in item_html
    # The emailed copy in the archive is what was mailed: it has no correction.
    assert FIX not in (archive / "2026-W47" / "email.html").read_text()

    data = json.loads((archive / "2026-W47" / "issue.json").read_text())
    assert [(c["item_id"], c["text"], c["issue_period"]) for c in data["corrections"]] == [(item_id, FIX, "2026-W47")]
    assert data["sections"] == published.snapshot["sections"]

    entry = ET.parse(archive / "feed.xml").getroot().find(f"{ATOM}entry")
    assert entry.find(f"{ATOM}updated").text > updated_before
    assert FIX in entry.find(f"{ATOM}content").text
    assert entry.find(f"{ATOM}published").text == updated_before

    index = (archive / "index.html").read_text()
    assert "Recent corrections" in index and 'href="2026-W47/#correction-1"' in index and FIX in index

    session.expire_all()
    assert json.dumps(session.get(Issue, published.id).snapshot, sort_keys=True) == frozen
    row = session.scalar(select(AuditLog).where(AuditLog.action == "correction.filed"))
    assert row.actor == "cli" and row.changes["text"] == {"from": "0 characters", "to": f"{len(FIX)} characters"}
    assert FIX not in json.dumps(row.changes)


def test_publishing_again_keeps_the_corrections(cli, session: Session, settings: Settings, runtime: Runtime,
                                                published: Issue) -> None:
    cli("corrections", "add", "1", "--incident", "ext-2026-W47", "--text", FIX)
    _publish(runtime, published.id, settings)
    assert FIX in (Path(settings.issues_dir) / "2026-W47" / "index.html").read_text()


def test_the_next_issue_carries_a_corrections_block_once(
        cli, session: Session, settings: Settings, runtime: Runtime, published: Issue, make_incident,
        make_editor) -> None:
    cli("corrections", "add", "2026-W47", "--incident", "ext-2026-W47", "--text", FIX)
    make_incident("Journalist fined", summary="A journalist was fined.", occurred_on=date(2026, 11, 24))
    nxt = draft_issue(session, settings=settings, period="2026-W48", actor="cli")
    session.flush()
    shown = preview(session, nxt, settings=settings).rendered
    for part in (shown.email_html, shown.email_text, shown.web_html):
        assert "Corrections" in part and "No. 1" in part and "two years, not three" in part
    assert "http://127.0.0.1:8000/issues/2026-W47/#item-" in shown.email_text

    approve_issue(session, nxt, user=make_editor("second@example.org"), settings=settings)
    session.flush()
    _publish(runtime, nxt.id, settings)
    session.expire_all()
    frozen = session.get(Issue, nxt.id).snapshot
    assert [c["text"] for c in frozen["earlier_corrections"]] == [FIX]
    assert FIX in " ".join((Path(settings.issues_dir) / "2026-W48" / "email.txt").read_text().split())

    # Announced once: the issue after that has no block (nothing was filed since W48 went out).
    make_incident("Another search", occurred_on=date(2026, 12, 1))
    third = draft_issue(session, settings=settings, period="2026-W49", actor="cli")
    session.flush()
    assert "two years, not three" not in preview(session, third, settings=settings).rendered.email_text


@pytest.mark.parametrize("args, words", [
    (["2026-W30", "--incident", "ext-2026-W47", "--text", FIX], "no issue for '2026-W30'"),
    (["2026-W47", "--incident", "99999", "--text", FIX], "has no item about incident '99999'"),
    (["2026-W47", "--incident", "nope", "--text", FIX], "has no item about incident 'nope'"),
    (["2026-W47", "--incident", "ext-2026-W47", "--text", "   \n "], "the correction is empty"),
    (["2026-W47", "--incident", "ext-2026-W47", "--text", "x" * 2001], "keep it within 2000"),
])
def test_bad_requests_are_refused_clearly_and_store_nothing(cli, session: Session, published: Issue,
                                                            args: list[str], words: str) -> None:
    result = cli("corrections", "add", *args, expect=1)
    assert words in result.output and "Traceback" not in result.output
    assert session.scalar(select(func.count()).select_from(Correction)) == 0


def test_a_draft_issue_cannot_be_corrected(cli, session: Session, settings: Settings, make_incident) -> None:
    make_incident("Activist detained", external_id="draft-1")
    draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    session.flush()
    result = cli("corrections", "add", "2026-W47", "--incident", "draft-1", "--text", FIX, expect=1)
    assert "was not published: edit the draft instead" in result.output
    assert session.scalar(select(func.count()).select_from(Correction)) == 0


def test_a_withheld_item_has_nothing_public_to_correct(cli, session: Session, settings: Settings, runtime: Runtime,
                                                      make_incident, make_editor) -> None:
    _published(session, settings, runtime, make_incident, make_editor)
    make_incident("Internal case", publication="internal", external_id="internal-1", occurred_on=date(2026, 11, 18))
    # The internal incident joined a later draft: it is not in W47's snapshot.
    result = cli("corrections", "add", "2026-W47", "--incident", "internal-1", "--text", FIX, expect=1)
    assert "has no item about incident 'internal-1'" in result.output


def test_list_shows_corrections_with_their_notice_state(cli, published: Issue) -> None:
    cli("corrections", "add", "2026-W47", "--incident", "ext-2026-W47", "--text", FIX)
    out = cli("corrections", "list").output
    assert "#1  issue 1 (2026-W47)" in out and "not notified" in out and "two years, not three" in out
    assert "#1" in cli("corrections", "list", "2026-W47").output
    assert "no issue for '2026-W40'" in cli("corrections", "list", "2026-W40", expect=1).output


# ---------------------------------------------------------------- consent


@pytest.fixture
def protected_issue(session: Session, settings: Settings, runtime: Runtime, make_incident, make_person,
                    make_editor) -> Issue:
    raigul = make_person(PROTECTED_NAME, consent="initials", role="human_rights_defender", city=PROTECTED_CITY,
                         region="Abai Region")
    raigul.spellings.append(PersonSpelling(spelling="Райгуль Садырбаева"))
    make_person("Kuat Shamuratov", consent="none", role="citizen")
    session.flush()
    return _published(session, settings, runtime, make_incident, make_editor, publication="anonymised",
                      persons=[raigul], region="Abai Region", city=PROTECTED_CITY)


@pytest.mark.parametrize("text", [
    f"{PROTECTED_NAME} was sentenced to two years, not three.",
    "RAIGUL SADYRBAEVA was sentenced to two years.",
    "raigul sadyrbaeva was sentenced to two years.",
    "Sadyrbaeva's sentence is two years, not three.",
    "Sadyrbayeva was sentenced to two years.",
    "Садырбаева приговорена к двум годам.",
    "Садырбаеву приговорили к двум годам.",
    "Kuat Shamuratov was not in court.",
    f"The trial took place in {PROTECTED_CITY}, not in Almaty.",
])
def test_a_correction_naming_a_protected_person_or_place_is_refused(cli, session: Session, protected_issue: Issue,
                                                                   text: str) -> None:
    result = cli("corrections", "add", "2026-W47", "--incident", "ext-2026-W47", "--text", text, expect=1)
    assert "the consent check refused this correction" in result.output
    for word in ("Sadyrba", "Садырба", "Shamuratov", PROTECTED_CITY):
        assert word not in result.output
    assert session.scalar(select(func.count()).select_from(Correction)) == 0


def test_a_correction_that_refers_to_people_as_the_item_does_is_accepted(cli, protected_issue: Issue) -> None:
    cli("corrections", "add", "2026-W47", "--incident", "ext-2026-W47", "--text",
        "R. S. was sentenced to two years, not three, by a court in Abai Region.")



# ---------------------------------------------------------------- the desk


@pytest.fixture
def desk(runtime: Runtime):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from newsletter.web.app import create_app
    from tests.editorial.helpers import login, make_user

    make_user(runtime, "desk@example.org")
    with TestClient(create_app(runtime), base_url="http://testserver") as client:
        login(client, "", "desk@example.org")
        yield client


def _post(client, page_url: str, action: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    from tests.editorial.helpers import csrf_token_of

    token = csrf_token_of(client.get(page_url).text)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=False)


def test_the_desk_files_a_correction_from_the_issue_and_the_incident_page(
        desk, session: Session, settings: Settings, published: Issue) -> None:
    url = f"/editor/issues/{published.id}"
    page = desk.get(url).text
    assert 'id="corrections"' in page and "No corrections." in page and 'name="text"' in page
    incident_id = published.items[0].incident_id
    r = _post(desk, url, f"{url}/corrections", {"incident": str(incident_id), "text": FIX})
    assert r.status_code == 303 and r.headers["location"].endswith("#correction-1")
    shown = desk.get(r.headers["location"]).text
    assert FIX in shown and "not notified" in shown and "Correction filed" in shown
    assert FIX in (Path(settings.issues_dir) / "2026-W47" / "index.html").read_text()

    incident_page = f"/editor/incidents/{incident_id}"
    assert f'action="/editor/issues/{published.id}/corrections"' in desk.get(incident_page).text
    r = _post(desk, incident_page, f"{url}/corrections",
              {"incident": str(incident_id), "text": "A second correction: it was Tuesday.", "back": "incident"})
    assert r.status_code == 303 and r.headers["location"].startswith(incident_page)
    row = session.scalar(select(AuditLog).where(AuditLog.action == "correction.filed").order_by(AuditLog.id.desc()))
    assert row.actor == "desk@example.org"


@pytest.mark.parametrize("data, status, words", [
    ({"incident": "", "text": FIX}, 400, "name the corrected item"),
    ({"incident": "424242", "text": FIX}, 400, "has no item about incident"),
    ({"incident": "ext-2026-W47", "text": "  "}, 400, "the correction is empty"),
    ({"incident": "ext-2026-W47", "text": f"{PROTECTED_NAME} was there."}, 400, "consent check refused"),
])
def test_the_desk_refuses_bad_corrections_with_a_message(desk, session: Session, protected_issue: Issue,
                                                        data: dict[str, str], status: int, words: str) -> None:
    url = f"/editor/issues/{protected_issue.id}"
    r = _post(desk, url, f"{url}/corrections", data)
    assert r.status_code == status and words in r.text
    message = next(line for line in r.text.splitlines() if words in line)
    assert "Sadyrba" not in message  # the refusal names where, never the word
    assert session.scalar(select(func.count()).select_from(Correction)) == 0


def test_the_desk_refuses_a_draft_and_unknown_rows(desk, session: Session, settings: Settings, make_incident) -> None:
    make_incident("Activist detained", external_id="d-1")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    session.flush()
    url = f"/editor/issues/{issue.id}"
    assert 'id="corrections"' not in desk.get(url).text
    r = _post(desk, url, f"{url}/corrections", {"incident": "d-1", "text": FIX})
    assert r.status_code == 409 and "edit the draft instead" in r.text
    assert _post(desk, url, "/editor/issues/999/corrections", {"incident": "d-1", "text": FIX}).status_code == 404
    assert _post(desk, url, "/editor/corrections/999/notify", {}).status_code == 404
    assert _post(desk, url, "/editor/corrections/99999999999999999999/notify", {}).status_code == 404
    assert _post(desk, url, "/editor/issues/99999999999999999999/corrections",
                 {"incident": "d-1", "text": FIX}).status_code == 404
    assert desk.post(f"{url}/corrections", data={"incident": "d-1", "text": FIX},
                     follow_redirects=False).status_code in (400, 403)


def test_render_of_a_corrected_issue_shows_what_the_archive_shows(cli, tmp_path: Path, published: Issue) -> None:
    cli("corrections", "add", "2026-W47", "--incident", "ext-2026-W47", "--text", FIX)
    cli("render", "2026-W47", "--out", str(tmp_path / "out"))
    assert FIX in (tmp_path / "out" / "index.html").read_text()
    assert json.loads((tmp_path / "out" / "issue.json").read_text())["corrections"][0]["text"] == FIX
    assert FIX not in (tmp_path / "out" / "email.html").read_text()
