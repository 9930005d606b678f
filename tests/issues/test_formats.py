"""Item formats, quotes, timelines and photos from the desk's services to the published archive.

The incident carries them (one incident model from intake to the email); the issue item reads them
when the snapshot is built. A photo goes only on a public item whose persons all consented to their
name, or that an editor marked as showing no one identifiable; the final check refuses anything else.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.flows.issues import publish
from newsletter.issues import items as desk
from newsletter.issues.consent import ConsentViolation
from newsletter.issues.errors import IssueError
from newsletter.issues.review import consent_refusal
from newsletter.issues.service import approve_issue, build_snapshot, draft_issue
from newsletter.models import AuditLog, Incident, Issue, IssueItem, Media
from tests.issues.conftest import PROTECTED_NAME
from tests.render.builders import demo_picture

ALT = "A courthouse in Almaty, seen from the street"


def _item(issue: Issue, incident: Incident) -> IssueItem:
    return next(i for i in issue.items if i.incident_id == incident.id)


def _built(session: Session, issue: Issue, settings: Settings) -> dict:
    return next(i for s in build_snapshot(session, issue, settings=settings)["sections"] for i in s["items"])


@pytest.fixture
def public_issue(session: Session, settings: Settings, make_incident, make_person) -> tuple[Issue, Incident]:
    aya = make_person("Aya Sadvakasova", consent="name", role="human_rights_defender", city="Almaty")
    incident = make_incident("Aya Sadvakasova convicted", summary="Aya Sadvakasova was convicted.", city="Almaty",
                             persons=[aya], section="persecution")
    return draft_issue(session, settings=settings, period="2026-W47", actor="cli"), incident


def test_each_format_reaches_the_snapshot_from_the_incident(session: Session, settings: Settings,
                                                            public_issue: tuple[Issue, Incident]) -> None:
    issue, incident = public_issue
    item = _item(issue, incident)
    desk.update_item_format(session, issue, item, desk.FormatFields(
        "testimony", quote_text="They told me to forget about the union.", quote_speaker="Aya Sadvakasova"),
        actor="cli")
    built = _built(session, issue, settings)
    assert built["format"] == "testimony"
    assert built["quote"] == {"text": "They told me to forget about the union.", "speaker": "Aya Sadvakasova",
                              "addressee": ""}
    desk.update_item_format(session, issue, item, desk.FormatFields(
        "statement", quote_text="Release her now.", quote_speaker="Twelve organisations", addressee="The President"),
        actor="cli")
    assert _built(session, issue, settings)["quote"]["addressee"] == "The President"
    desk.update_item_format(session, issue, item, desk.FormatFields(
        "timeline", timeline="January 4–5, 2022: Protests spread.\n\n- January 6, 2022: Internet shut down at 10:30."),
        actor="cli")
    built = _built(session, issue, settings)
    assert built["format"] == "timeline" and "quote" not in built
    assert built["timeline"] == [{"date": "January 4–5, 2022", "text": "Protests spread."},
                                 {"date": "January 6, 2022", "text": "Internet shut down at 10:30."}]
    desk.update_item_format(session, issue, item, desk.FormatFields("news"), actor="cli")
    built = _built(session, issue, settings)
    assert "format" not in built and "timeline" not in built  # a news item is stored as before formats existed
    audit = session.scalars(select(AuditLog).where(AuditLog.action == "issue.item_format")).all()
    assert audit and "union" not in json.dumps([a.changes for a in audit])  # the words are never in the log


@pytest.mark.parametrize(("fields", "message"), [
    (desk.FormatFields("timeline", timeline="January 4 protests spread"), 'timeline line 1 is not "date: what happened"'),
    (desk.FormatFields("timeline"), "a timeline needs at least one line"),
    (desk.FormatFields("testimony"), "a testimony needs its quote"),
    (desk.FormatFields("essay"), "format 'essay' is not one of"),
    (desk.FormatFields("statement", quote_speaker="Someone"), "speaker or addressee but no text"),
])
def test_a_bad_format_is_refused_with_a_clear_message_and_changes_nothing(
        session: Session, public_issue: tuple[Issue, Incident], fields: desk.FormatFields, message: str) -> None:
    issue, incident = public_issue
    with pytest.raises(IssueError, match=message):
        desk.update_item_format(session, issue, _item(issue, incident), fields, actor="cli")
    assert incident.format == "news" and incident.quote is None and incident.timeline is None


def test_a_photo_is_rebuilt_bare_and_small_and_published_in_the_archive(
        session: Session, settings: Settings, public_issue: tuple[Issue, Incident], make_editor) -> None:
    issue, incident = public_issue
    desk.attach_photo(session, issue, _item(issue, incident), demo_picture(3000, 2000), alt=ALT,
                      caption="The court, 18 November", credit="Open Dialogue", actor="cli")
    photo = _built(session, issue, settings)["photo"]
    assert (photo["width"], photo["height"]) == (1200, 800)
    assert (photo["email_width"], photo["email_height"]) == (600, 400)
    assert photo["alt"] == ALT and photo["credit"] == "Open Dialogue"
    approve_issue(session, issue, user=make_editor("ed@example.org"), settings=settings)
    session.commit()
    folder = publish(session, issue, settings=settings, actor="cli")
    for name in (photo["file"], photo["email_file"]):
        data = (folder / "media" / name).read_bytes()
        assert data == session.get(Media, name).data
        with Image.open(io.BytesIO(data)) as img:
            assert img.format == "JPEG"
            assert not img.getexif()
            assert not {"exif", "icc_profile", "comment", "xmp", "photoshop", "adobe"} & set(img.info)
        assert b"PhoneMaker" not in data and b"taken by a volunteer" not in data and b"Exif" not in data
    assert len((folder / "media" / photo["file"]).read_bytes()) < 80_000
    page = (folder / "index.html").read_text()
    assert f'src="{settings.base_url}/issues/2026-W47/media/{photo["file"]}" width="1200" height="800"' in page
    email = (folder / "email.html").read_text()
    assert f'src="{settings.base_url}/issues/2026-W47/media/{photo["email_file"]}" width="552" height="368"' in email


def test_a_photo_of_a_person_without_consent_to_their_name_is_refused_until_the_editor_decides(
        session: Session, settings: Settings, make_incident, make_person) -> None:
    hidden = make_person(PROTECTED_NAME, consent="initials")
    incident = make_incident("Activist searched", summary="An activist was searched.", persons=[hidden],
                             section="persecution")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    desk.attach_photo(session, issue, _item(issue, incident), demo_picture(), alt=ALT, actor="cli")
    with pytest.raises(ConsentViolation, match="field photo"):
        build_snapshot(session, issue, settings=settings)
    refusal = consent_refusal(session, issue, settings=settings)
    assert refusal is not None and "field photo" in refusal and PROTECTED_NAME.split()[0] not in refusal
    desk.update_photo_words(session, issue, _item(issue, incident), alt=ALT, caption="", credit="",
                            no_one_identifiable=True, actor="cli")
    assert _built(session, issue, settings)["photo"]["alt"] == ALT


def test_anonymised_and_internal_items_never_carry_a_photo(session: Session, settings: Settings,
                                                           public_issue: tuple[Issue, Incident], make_incident) -> None:
    issue, incident = public_issue
    desk.attach_photo(session, issue, _item(issue, incident), demo_picture(), alt=ALT, no_one_identifiable=True,
                      actor="cli")
    incident.publication = "anonymised"  # reclassified after the photo was attached
    session.flush()
    with pytest.raises(ConsentViolation, match="item .*field photo"):
        build_snapshot(session, issue, settings=settings)
    with pytest.raises(IssueError, match="never carries a photo"):
        desk.attach_photo(session, issue, _item(issue, incident), demo_picture(), alt=ALT, actor="cli")
    desk.remove_photo(session, issue, _item(issue, incident), actor="cli")
    assert "photo" not in _built(session, issue, settings)


def test_a_quote_naming_a_protected_person_is_redacted_and_checked(session: Session, settings: Settings,
                                                                   public_issue: tuple[Issue, Incident],
                                                                   make_person) -> None:
    issue, incident = public_issue
    make_person(PROTECTED_NAME, consent="initials", role="human_rights_defender")
    desk.update_item_format(session, issue, _item(issue, incident), desk.FormatFields(
        "statement", quote_text=f"We demand the release of {PROTECTED_NAME} now.", quote_speaker=PROTECTED_NAME,
        addressee=f"The judge who sentenced {PROTECTED_NAME}"), actor="cli")
    quote = _built(session, issue, settings)["quote"]
    assert all(part not in json.dumps(quote, ensure_ascii=False) for part in PROTECTED_NAME.split())
    assert quote == {"text": "We demand the release of R. S. now.", "speaker": "R. S.",
                     "addressee": "The judge who sentenced R. S."}


def test_the_final_check_sees_the_quote(session: Session, settings: Settings, public_issue: tuple[Issue, Incident],
                                        make_person) -> None:
    """The safety net (the final check) runs over the quote as published, field by field."""
    from newsletter.consent import NetText
    from newsletter.issues import snapshot as builder

    issue, incident = public_issue
    make_person(PROTECTED_NAME, consent="initials")
    desk.update_item_format(session, issue, _item(issue, incident), desk.FormatFields(
        "testimony", quote_text="Words.", quote_speaker="someone"), actor="cli")
    seen: list[NetText] = []
    real = builder.check_edition

    def spy(net, texts, *, edition=""):  # type: ignore[no-untyped-def]
        seen.extend(texts)
        return real(net, texts, edition=edition)

    builder.check_edition = spy
    try:
        build_snapshot(session, issue, settings=settings)
    finally:
        builder.check_edition = real
    assert {"quote.text", "quote.speaker"} <= {t.field for t in seen}


@pytest.mark.parametrize(("data", "message"), [
    (demo_picture()[:5000], "damaged or incomplete"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "not a photo"),
    (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "not a photo"),
    (b"\xff\xd8\xff\xe0<html><script>alert(1)</script></html>", "damaged or incomplete"),
    (b"", "empty"),
])
def test_a_hostile_file_is_refused_and_the_item_keeps_what_it_had(session: Session,
                                                                  public_issue: tuple[Issue, Incident],
                                                                  data: bytes, message: str) -> None:
    issue, incident = public_issue
    desk.attach_photo(session, issue, _item(issue, incident), demo_picture(), alt=ALT, actor="cli")
    before = dict(incident.photo)
    with pytest.raises(IssueError, match=message):
        desk.attach_photo(session, issue, _item(issue, incident), data, alt=ALT, actor="cli")
    assert incident.photo == before


def test_alt_text_is_required(session: Session, public_issue: tuple[Issue, Incident]) -> None:
    issue, incident = public_issue
    with pytest.raises(IssueError, match="needs its alt text"):
        desk.attach_photo(session, issue, _item(issue, incident), demo_picture(), alt="  ", actor="cli")
    assert incident.photo is None and session.scalar(select(Media.name)) is None


def test_render_out_writes_the_photos_beside_the_pages(cli, session: Session, settings: Settings,  # type: ignore[no-untyped-def]
                                                       public_issue: tuple[Issue, Incident], tmp_path: Path) -> None:
    issue, incident = public_issue
    desk.attach_photo(session, issue, _item(issue, incident), demo_picture(), alt=ALT, actor="cli")
    session.commit()
    out = tmp_path / "out"
    cli("render", "2026-W47", "--out", str(out))
    photo = incident.photo
    assert sorted(p.name for p in (out / "media").iterdir()) == sorted([photo["web"], photo["email"]])
    assert f'media/{photo["web"]}' in (out / "index.html").read_text()
