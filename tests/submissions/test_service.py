"""The service layer: a report becomes a `new` volunteer incident with its consent; receipts and follow-ups."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from newsletter.states import transition
from newsletter.models import Attachment, AuditLog, Incident, Submission
from newsletter.submissions import receipts
from newsletter.submissions.attachments import AttachmentError, IncomingFile
from newsletter.submissions.schema import SubmissionIn
from newsletter.submissions.service import (
    FollowUpError,
    ReceiptNotFound,
    add_followup,
    create_submission,
    receipt_status,
)
from tests.submissions import samples


def _data(**overrides) -> SubmissionIn:
    payload = {"what": "Two journalists were detained after the protest.\n\nThey were released at night.",
               "kind": "detention", "consent": "names", "city": "Omsk", "country": "Russia",
               "persons": [{"name": "Oleg K", "role": "journalist"}, {"name": "Lis", "is_alias": True}],
               "links": ["https://example.org/a?utm_source=x", "https://example.org/a?utm_source=x"]}
    return SubmissionIn.model_validate(payload | overrides)


@pytest.mark.parametrize("consent, publication, person_consents", [
    ("names", "public", ["name", "alias"]),
    ("no_names", "anonymised", ["initials", "alias"]),
    ("count_only", "internal", ["initials", "alias"]),
])
def test_report_becomes_new_volunteer_incident_with_consent(session, settings, consent, publication,
                                                            person_consents) -> None:
    incident, code = create_submission(session, _data(consent=consent), settings=settings)
    session.commit()
    incident = session.get(Incident, incident.id)
    assert (incident.state, incident.origin, incident.publication) == ("new", "volunteer", publication)
    assert incident.title == "Two journalists were detained after the protest."
    assert incident.body == "<p>Two journalists were detained after the protest.</p><p>They were released at night.</p>"
    assert [p.consent for p in incident.persons] == person_consents
    assert [s.canonical_url for s in incident.sources if s.url] == ["https://example.org/a"]
    assert any(s.source and s.source.kind == "volunteer" for s in incident.sources)
    submission = session.scalar(select(Submission).where(Submission.incident_id == incident.id))
    assert submission.receipt_hash == receipts.hash_code(code) and code not in submission.receipt_hash
    assert receipts.normalise(code) == code and len(code) == 29
    assert session.scalar(select(AuditLog).where(AuditLog.action == "incident.submitted")).actor == "volunteer"


def test_body_html_escapes_everything_the_volunteer_typed(session, settings) -> None:
    incident, _code = create_submission(session, _data(what="<script>alert(1)</script> & <b>bold</b>"),
                                        settings=settings)
    assert "<script>" not in incident.body and "&lt;script&gt;" in incident.body


def test_attachments_are_stored_clean_under_random_names(session, settings) -> None:
    files = [IncomingFile("IMG_Moscow_home.jpg", samples.jpeg_with_gps()),
             IncomingFile("statement.pdf", samples.pdf_with_metadata())]
    incident, _code = create_submission(session, _data(), files, settings=settings)
    session.commit()
    rows = session.scalars(select(Attachment).where(Attachment.incident_id == incident.id)).all()
    assert sorted(r.media_type for r in rows) == ["application/pdf", "image/jpeg"]
    for row in rows:
        path = settings.attachments_dir / row.stored_name
        data = path.read_bytes()
        assert "Moscow" not in row.stored_name and len(row.stored_name) >= 36
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        import hashlib

        assert hashlib.sha256(data).hexdigest() == row.sha256 and len(data) == row.size
        assert samples.SECRET_NAME.encode() not in data and b"Exif" not in data


def test_refused_attachment_stores_nothing(session, settings) -> None:
    with pytest.raises(AttachmentError, match="not accepted"):
        create_submission(session, _data(), [IncomingFile("x.exe", b"MZ...")], settings=settings)
    session.rollback()
    assert session.scalar(select(Incident)) is None
    assert not settings.attachments_dir.exists() or not any(settings.attachments_dir.iterdir())


def test_receipt_states_and_followup_returns_needs_info_to_triage(session, settings) -> None:
    incident, code = create_submission(session, _data(), settings=settings)
    session.commit()
    assert receipt_status(session, code.lower().replace("-", " ")).status == "received"
    transition(session, incident, "needs_info", actor="editor@example.org", question="Which court?")
    session.commit()
    status = receipt_status(session, code)
    assert (status.status, status.question) == ("needs_info", "Which court?")
    add_followup(session, code, "The district court of Omsk.", [IncomingFile("p.png", samples.png_with_text())],
                 settings=settings)
    session.commit()
    assert session.get(Incident, incident.id).state == "new"
    status = receipt_status(session, code)
    assert status.status == "received" and status.question is None
    assert [m.text for m in status.submission.messages] == ["The district court of Omsk."]
    assert len(session.scalars(select(Attachment).where(Attachment.incident_id == incident.id)).all()) == 1
    transition(session, incident, "accepted", actor="editor@example.org")
    assert receipt_status(session, code).status == "accepted"


def test_duplicate_reports_show_the_state_of_the_kept_incident(session, settings) -> None:
    keep, _ = create_submission(session, _data(), settings=settings)
    dup, code = create_submission(session, _data(), settings=settings)
    session.flush()
    transition(session, keep, "accepted", actor="ed")
    transition(session, dup, "duplicate", actor="ed", merged_into=keep)
    assert receipt_status(session, code).status == "accepted"


def test_bad_receipts_and_empty_followups_are_refused(session, settings) -> None:
    _incident, code = create_submission(session, _data(), settings=settings)
    for bad in ("", "hello", "0" * 25):
        with pytest.raises(ReceiptNotFound, match="No report has this receipt code"):
            receipt_status(session, bad)
    with pytest.raises(FollowUpError, match="Write something"):
        add_followup(session, code, "  \x00 ", [], settings=settings)


def test_schema_rejects_what_the_form_cannot_show() -> None:
    from pydantic import ValidationError

    bad = [{"links": ["javascript:alert(1)"]}, {"occurred_on": "2999-01-01"}, {"kind": "legislation"},
           {"consent": "maybe"}, {"what": "short"}, {"persons": [{"name": "x", "role": "spy"}]},
           {"language": "not a code"}, {"unexpected": 1}, {"what": "lone surrogate \ud800 in the text"}]
    for override in bad:
        with pytest.raises(ValidationError):
            _data(**override)
    assert _data(what="ok \x00 text with NUL\x07 inside").what == "ok  text with NUL inside"
