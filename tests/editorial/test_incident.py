"""The incident page: edit, sections, persons, decisions, merge; refusals lose nothing; all audited."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.editorial import persons, service
from newsletter.models import Attachment, AuditLog, Incident, Submission, SubmissionMessage
from newsletter.submissions.service import receipt_status
from newsletter.submissions import receipts
from tests.editorial import factories as fx
from tests.editorial.helpers import csrf_token_of


def _post(client: TestClient, url: str, page_url: str, **data: object):
    token = csrf_token_of(client.get(page_url).text)
    return client.post(url, data={"csrf_token": token, **data}, follow_redirects=False)


def _audit(session: Session, incident_id: int) -> list[str]:
    return list(session.scalars(select(AuditLog.action).where(AuditLog.entity_type == "incident",
                                                              AuditLog.entity_id == incident_id)
                                .order_by(AuditLog.id)))


def test_page_shows_sources_keywords_attachments(editor_client: TestClient, session: Session) -> None:
    feed = fx.source(session, "Vlast")
    inc = fx.incident(session, "Activist detained", src=feed, url="https://vlast.example.org/a1",
                      matched_keywords=["detained"], suggested_section="persecution")
    inc.sources.append(fx.IncidentSource(url="https://azattyq.example.org/b2", canonical_url="https://azattyq.example.org/b2", origin="editor",
                                         title="Second report"))
    session.add(Attachment(incident_id=inc.id, stored_name="abc123", media_type="image/jpeg", size=2048, sha256="f" * 64))
    session.flush()
    page = editor_client.get(f"/editor/incidents/{inc.id}")
    assert page.status_code == 200
    for expected in ("https://vlast.example.org/a1", "https://azattyq.example.org/b2", "Vlast", "detained",
                     "image/jpeg", "2.0 KiB"):
        assert expected in page.text
    assert 'value="persecution" checked' in page.text  # suggested section pre-ticked for accept
    assert editor_client.get("/editor/incidents/999999").status_code == 404


def test_edit_sanitises_body_and_audits_changes(editor_client: TestClient, session: Session) -> None:
    inc = fx.incident(session, "Old title")
    url = f"/editor/incidents/{inc.id}"
    response = _post(editor_client, f"{url}/edit", url, title="New title", summary="Short text.",
                     body='<p onclick="x()">Hi<script>alert(1)</script></p>', publication="anonymised",
                     occurred_on="2026-11-18", date_precision="day", location_precision="city", city="Oral")
    assert response.status_code == 303
    session.expire_all()
    inc = session.get(Incident, inc.id)
    assert inc.title == "New title" and inc.publication == "anonymised" and inc.city == "Oral"
    assert "script" not in inc.body and "onclick" not in inc.body and "Hi" in inc.body
    row = session.scalar(select(AuditLog).where(AuditLog.action == "incident.edit"))
    assert row.actor == "editor@example.org"
    assert row.changes["title"] == {"from": "Old title", "to": "New title"}


def test_invalid_edit_is_refused_and_changes_nothing(editor_client: TestClient, session: Session) -> None:
    inc = fx.incident(session, "Keep me", city="Oral")
    url = f"/editor/incidents/{inc.id}"
    response = _post(editor_client, f"{url}/edit", url, title="Changed", city="Taraz", publication="everyone",
                     date_precision="day", location_precision="city")
    assert response.status_code == 400
    assert "publication level: &#39;everyone&#39; is not one of public, anonymised, internal" in response.text
    session.expire_all()
    assert session.get(Incident, inc.id).title == "Keep me"
    bad_date = _post(editor_client, f"{url}/edit", url, title="Keep me", occurred_on="18/11/2026",
                     publication="public", date_precision="day", location_precision="city")
    assert bad_date.status_code == 400 and "is not a date" in bad_date.text
    assert "incident.edit" not in _audit(session, inc.id)


def test_accept_with_sections_then_illegal_transition_refused(editor_client: TestClient, session: Session) -> None:
    inc = fx.incident(session, "Accept me")
    url = f"/editor/incidents/{inc.id}"
    response = _post(editor_client, f"{url}/decide", url, action="accept", set_sections="1",
                     section=["persecution", "international"])
    assert response.status_code == 303 and response.headers["location"].endswith("done=accepted")
    session.expire_all()
    inc = session.get(Incident, inc.id)
    assert inc.state == "accepted" and [s.slug for s in inc.sections] == ["persecution", "international"]
    again = _post(editor_client, f"{url}/decide", url, action="accept", set_sections="1", section=["legislation"])
    assert again.status_code == 409
    assert "cannot go from &#39;accepted&#39; to &#39;accepted&#39;" in again.text
    session.expire_all()
    assert [s.slug for s in session.get(Incident, inc.id).sections] == ["persecution", "international"]
    assert _audit(session, inc.id) == ["incident.sections", "incident.accepted"]


def test_reject_needs_a_reason(editor_client: TestClient, session: Session) -> None:
    inc = fx.incident(session, "Reject me")
    url = f"/editor/incidents/{inc.id}"
    refused = _post(editor_client, f"{url}/decide", url, action="reject", reason="  ")
    assert refused.status_code == 409 and "a rejection needs a reason" in refused.text
    ok = _post(editor_client, f"{url}/decide", url, action="reject", reason="Not about persecution")
    assert ok.status_code == 303
    session.expire_all()
    assert session.get(Incident, inc.id).state_reason == "Not about persecution"
    reopened = _post(editor_client, f"{url}/decide", url, action="reopen")
    assert reopened.status_code == 303 and reopened.headers["location"].endswith("done=reopened")
    assert _audit(session, inc.id) == ["incident.rejected", "incident.new"]


def test_question_reaches_the_volunteer_receipt(editor_client: TestClient, session: Session) -> None:
    inc = fx.incident(session, "Volunteer report", origin="volunteer")
    code = receipts.new_code()
    session.add(Submission(incident_id=inc.id, receipt_hash=receipts.hash_code(code)))
    session.flush()
    url = f"/editor/incidents/{inc.id}"
    response = _post(editor_client, f"{url}/decide", url, action="needs_info", question="Which court was it?")
    assert response.status_code == 303
    session.expire_all()
    status = receipt_status(session, code)
    assert status.status == "needs_info" and status.question == "Which court was it?"
    message = session.scalar(select(SubmissionMessage))
    assert message.author == "editor" and message.text == "Which court was it?"
    feed_item = fx.incident(session, "From a feed")
    furl = f"/editor/incidents/{feed_item.id}"
    refused = _post(editor_client, f"{furl}/decide", furl, action="needs_info", question="Who?")
    assert refused.status_code == 409 and "only volunteer reports" in refused.text


def test_duplicate_of_merges_sources_persons_and_files(editor_client: TestClient, session: Session) -> None:
    feed = fx.source(session, "Vlast")
    keep = fx.incident(session, "Kept report", src=feed, url="https://a.example.org/1", matched_keywords=["detained"])
    dup = fx.incident(session, "Same event elsewhere", src=feed, url="https://b.example.org/2",
                      matched_keywords=["arrest"], sections=["persecution"])
    same_link = fx.IncidentSource(url="https://a.example.org/1", canonical_url="https://a.example.org/1", origin="editor")
    dup.sources.append(same_link)
    person = persons.create_person(session, name="Aigul Utepova", actor="test")
    dup.persons.append(person)
    session.add(Attachment(incident_id=dup.id, stored_name="x1", media_type="image/png", size=10, sha256="0" * 64))
    session.flush()
    url = f"/editor/incidents/{dup.id}"
    missing = _post(editor_client, f"{url}/decide", url, action="duplicate", duplicate_of="987654")
    assert missing.status_code == 409 and "is not the number of an existing incident" in missing.text
    itself = _post(editor_client, f"{url}/decide", url, action="duplicate", duplicate_of=str(dup.id))
    assert itself.status_code == 409 and "cannot be merged into itself" in itself.text
    ok = _post(editor_client, f"{url}/decide", url, action="duplicate", duplicate_of=f"#{keep.id}")
    assert ok.status_code == 303
    session.expire_all()
    keep, dup = session.get(Incident, keep.id), session.get(Incident, dup.id)
    assert dup.state == "duplicate" and dup.merged_into_id == keep.id
    assert sorted(s.url for s in keep.sources) == ["https://a.example.org/1", "https://b.example.org/2"]
    assert [p.name for p in keep.persons] == ["Aigul Utepova"]
    assert [s.slug for s in keep.sections] == ["persecution"]
    assert keep.matched_keywords == ["detained", "arrest"]
    assert session.scalar(select(Attachment.incident_id)) == keep.id
    assert "incident.duplicate" in _audit(session, dup.id) and "incident.merge" in _audit(session, keep.id)
    into_dup = fx.incident(session, "Third")
    with_dup = _post(editor_client, f"/editor/incidents/{into_dup.id}/decide", f"/editor/incidents/{into_dup.id}",
                     action="duplicate", duplicate_of=str(dup.id))
    assert with_dup.status_code == 409 and "is itself a duplicate" in with_dup.text


def test_sections_and_persons_forms(editor_client: TestClient, session: Session) -> None:
    inc = fx.incident(session, "Tag me")
    person = persons.create_person(session, name="Nurgul Kaluova", alias="N. K.", actor="test")
    url = f"/editor/incidents/{inc.id}"
    bad = _post(editor_client, f"{url}/sections", url, section=["nope"])
    assert bad.status_code == 400 and "unknown section(s): nope" in bad.text
    assert _post(editor_client, f"{url}/sections", url, section=["solidarity"]).status_code == 303
    found = editor_client.get(f"{url}?person_q=kaluova")
    assert "Nurgul Kaluova" in found.text
    assert _post(editor_client, f"{url}/persons", url, person_id=str(person.id), action="link").status_code == 303
    missing = _post(editor_client, f"{url}/persons", url, person_id="424242", action="link")
    assert missing.status_code == 400 and "unknown person id(s): 424242" in missing.text
    session.expire_all()
    inc = session.get(Incident, inc.id)
    assert [s.slug for s in inc.sections] == ["solidarity"] and [p.id for p in inc.persons] == [person.id]
    assert _post(editor_client, f"{url}/persons", url, person_id=str(person.id), action="unlink").status_code == 303
    session.expire_all()
    assert session.get(Incident, inc.id).persons == []
    assert _audit(session, inc.id) == ["incident.sections", "incident.persons", "incident.persons"]


def test_set_sections_service_contract(session: Session) -> None:
    inc = fx.incident(session, "Contract")
    service.set_sections(session, inc, ["international", "repression"], actor="test")
    assert [s.slug for s in inc.sections] == ["repression", "international"]  # section order
    service.set_sections(session, inc, [], actor="test")
    assert inc.sections == []
