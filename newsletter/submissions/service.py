"""Turning a volunteer report into an incident, and the receipt-code follow-ups. Never commits."""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from newsletter import audit
from newsletter.config import Settings
from newsletter.states import transition
from newsletter.incidents import NewIncident, NewLink, channel_source, create_incidents
from newsletter.models import ApiToken, Incident, Person, Submission, SubmissionMessage
from newsletter.submissions import attachments, receipts
from newsletter.submissions.attachments import AttachmentError, CleanFile, IncomingFile
from newsletter.i18n import _
from newsletter.submissions.schema import MAX_TEXT, SubmissionIn, clean_text

log = logging.getLogger(__name__)

CHANNEL_SOURCES = {"form": ("volunteer", "Volunteer form"), "api": ("api", "Partner API")}
ACTOR = "volunteer"
TITLE_LENGTH = 120


class ReceiptNotFound(LookupError):
    """No report has this receipt code (or the code is mistyped)."""


class FollowUpError(ValueError):
    """A follow-up was refused; the message is meant for the volunteer."""


@dataclass(frozen=True)
class _IncidentRef:
    """What create_submission(load=False) returns: just the new incident's id."""

    id: int


@dataclass(frozen=True)
class ReceiptStatus:
    """What the receipt page may show: the state in the volunteer's terms, never editors' notes."""

    status: str  # received | needs_info | accepted | published | not_published
    question: str | None
    incident_id: int
    submission: Submission


def create_submission(
    session: Session,
    data: SubmissionIn,
    files: Sequence[IncomingFile | CleanFile] = (),
    *,
    settings: Settings,
    channel: str = "form",
    api_token: ApiToken | None = None,
    written: list[Path] | None = None,
    load: bool = True,
) -> tuple[Incident, str]:
    """Store a report as a `new` volunteer incident with its people, links and cleaned files.

    Returns the incident and the receipt code, which is not stored anywhere (only its hash).
    With load=False the incident is not read back (only its `id` is set): the web intake needs no more.
    Raises AttachmentError (message for the volunteer) if a file is refused; nothing is stored then.
    """
    clean_files = _clean(files, settings)
    publication = data.publication
    kind, source_name = CHANNEL_SOURCES[channel]
    source_id = channel_source(session, kind, source_name)
    # Persons are this report's own (never matched against the register): plain INSERTs, like the
    # incident itself (the intake is the hot path, hundreds of posts a second).
    persons, submissions = Person.__table__, Submission.__table__
    person_ids = [session.execute(insert(persons).returning(persons.c.id),
                                  _person(p.name, p.role, p.is_alias, data, publication)).scalar_one()
                  for p in data.persons]
    # Every link says where it came from: a link a volunteer or partner typed is never published.
    origin = "api" if channel == "api" else "volunteer"
    links = [NewLink(origin, source_id=source_id, title=source_name)]
    links += [NewLink(origin, url=link, title=link[:500], source_id=source_id) for link in data.links]
    [incident_id] = create_incidents(session, [NewIncident("volunteer", {
        "title": data.title or _title_from(data.what),
        "body": _to_html(data.what),
        "kind": data.kind,
        "occurred_on": data.occurred_on,
        "date_precision": data.date_precision,
        "city": data.city,
        "region": data.region,
        "country": data.country,
        "location_precision": "city" if data.city else "region" if data.region else "country",
        "language": data.language,
        "state": "new",
        "publication": publication,
    }, links=links, person_ids=person_ids)])
    code = receipts.new_code()
    submission_id = session.execute(insert(submissions).returning(submissions.c.id), {
        "incident_id": incident_id,
        "receipt_hash": receipts.hash_code(code),
        "channel": channel,
        "api_token_id": api_token.id if api_token else None,
        "contact": data.contact,
        "language": data.language,
    }).scalar_one()
    attachments.store(session, clean_files, incident_id=incident_id, submission_id=submission_id,
                      settings=settings, written=written)
    audit.record(session, actor=ACTOR, action="incident.submitted", entity_type="incident", entity_id=incident_id,
                 changes={"channel": channel, "publication": publication, "files": len(clean_files),
                          "api_token": api_token.name if api_token else None})
    incident = _IncidentRef(incident_id)
    log.info("volunteer report stored as incident %s (%s, %s file(s))", incident_id, channel, len(clean_files))
    return session.get(Incident, incident_id) if load else incident, code


def find_submission(session: Session, receipt_code: str) -> Submission:
    """The report of a receipt code. A malformed code costs the same lookup as a well-formed wrong one."""
    digest = receipts.hash_code(receipt_code or "") or "-" * 64  # never a SHA-256 hex digest
    submission = session.scalar(select(Submission).where(Submission.receipt_hash == digest))
    if submission is None:
        raise ReceiptNotFound(_("No report has this receipt code. Check it for typos and try again."))
    return submission


def receipt_status(session: Session, receipt_code: str) -> ReceiptStatus:
    """The state of a report as its volunteer may see it."""
    submission = find_submission(session, receipt_code)
    incident = submission.incident
    seen: set[int] = set()
    while incident.state == "duplicate" and incident.merged_into is not None and incident.id not in seen:
        seen.add(incident.id)
        incident = incident.merged_into
    status = {
        "new": "received", "needs_info": "needs_info", "accepted": "accepted", "scheduled": "accepted",
        "published": "published", "rejected": "not_published", "duplicate": "received",
    }.get(incident.state, "received")
    question = submission.incident.info_request if submission.incident.state == "needs_info" else None
    return ReceiptStatus(status=status, question=question, incident_id=incident.id, submission=submission)


def add_followup(
    session: Session,
    receipt_code: str,
    text: str,
    files: Sequence[IncomingFile | CleanFile] = (),
    *,
    settings: Settings,
    written: list[Path] | None = None,
) -> SubmissionMessage | None:
    """Add the volunteer's extra information or files to their report.

    A report waiting for more information goes back to `new` so editors see the answer in triage.
    """
    submission = find_submission(session, receipt_code)
    text = clean_text(text or "")
    if len(text) > MAX_TEXT:
        raise FollowUpError(_("The text is too long: at most %(n)s characters.", n=MAX_TEXT))
    if not text and not files:
        raise FollowUpError(_("Write something or attach a file to add to your report."))
    clean_files = _clean(files, settings)
    message = None
    if text:
        message = SubmissionMessage(submission=submission, author=ACTOR, text=text)
        session.add(message)
    incident = submission.incident
    session.flush()
    attachments.store(session, clean_files, incident_id=incident.id, submission_id=submission.id,
                      settings=settings, written=written)
    if incident.state == "needs_info":
        transition(session, incident, "new", actor=ACTOR, reason="the volunteer added information")
    audit.record(session, actor=ACTOR, action="incident.followup", entity_type="incident", entity_id=incident.id,
                 changes={"text": bool(text), "files": len(clean_files)})
    return message


def _clean(files: Sequence[IncomingFile | CleanFile], settings: Settings) -> list[CleanFile]:
    raw = [f for f in files if isinstance(f, IncomingFile)]
    done = [f for f in files if isinstance(f, CleanFile)]
    if raw:
        cleaned, errors = attachments.clean_all(raw, settings)
        if errors:
            raise AttachmentError(" ".join(errors))
        done.extend(cleaned)
    if sum(len(f.content) for f in done) > settings.max_submission_bytes:
        raise AttachmentError(_("The files together are too large: at most %(limit)s per report.",
                                limit=attachments.human_size(settings.max_submission_bytes)))
    return done


def _title_from(text: str) -> str:
    first = text.strip().split("\n", 1)[0]
    if len(first) <= TITLE_LENGTH:
        return first
    cut = first[:TITLE_LENGTH].rsplit(" ", 1)[0] or first[:TITLE_LENGTH]
    return cut.rstrip(",;:. ") + "…"


def _to_html(text: str) -> str:
    """Plain text to safe HTML paragraphs: everything is escaped, nothing the volunteer typed is markup."""
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def _person(name: str, role: str | None, is_alias: bool, data: SubmissionIn, publication: str) -> dict[str, Any]:
    """With names, a person is named as given; otherwise only by alias or initials."""
    if publication == "public":
        consent = "alias" if is_alias else "name"
    else:
        consent = "alias" if is_alias else "initials"
    return {"name": name, "alias": name if is_alias else None, "role": role, "consent": consent,
            "city": data.city, "region": data.region, "country": data.country}
