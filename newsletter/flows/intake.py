"""Intake then duplicate detection: every path that brings an incident in offers its near-duplicates.

The feed collector scores its own entries in bulk (collect/processor). A volunteer's form and a
partner's API call store their report with a "duplicates pending" mark (a DuplicateCheck row, in
the same transaction) and return at once: scoring a report against the 14-day window inside the
request cost about two thirds of the POST's CPU and held the write lock meanwhile. The waiting
reports are scored later, many at a time against one load of the window (score_pending): by the
`duplicates` job every minute, and by the desk whenever an editor opens the triage list, an
incident or the duplicates page, so an editor never sees a stale state even without a scheduler.
The mark goes in the transaction that stores the pairs, so a crash loses no report's check and
a committed check is never redone. An import file (one transaction) is still scored inline.
Only open DuplicateCandidate rows are added: an editor merges or dismisses, never the machine.
Nothing here logs a report's words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db import utcnow
from newsletter.exchange import ImportResult, import_incidents as import_file
from newsletter.models import ApiToken, DuplicateCheck, Incident
from newsletter.nearmatch import propose_duplicates
from newsletter.submissions.attachments import CleanFile, IncomingFile
from newsletter.submissions.schema import SubmissionIn
from newsletter.submissions.service import create_submission

__all__ = ["PendingScored", "import_incidents", "pending_count", "queue_check", "score_pending", "submit_report"]

# Reports scored per transaction by the job: one load of the window serves them all, and the
# write lock (SQLite) is never held for long while volunteers keep posting.
SCORE_BATCH = 500


@dataclass(frozen=True)
class PendingScored:
    """What one scoring pass did: reports checked, pairs offered to the desk."""

    reports: int = 0
    pairs: int = 0


def submit_report(
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
    """Store a volunteer's (form) or partner's (API) report, marked for the near-duplicate check."""
    incident, code = create_submission(session, data, files, settings=settings, channel=channel,
                                       api_token=api_token, written=written, load=load)
    queue_check(session, [incident.id])
    return incident, code


def queue_check(session: Session, incident_ids: Iterable[int], *, now: datetime | None = None) -> None:
    """Mark incidents for the near-duplicate check (one cheap insert; no scoring here)."""
    when = now or utcnow()
    rows = [{"incident_id": iid, "queued_at": when} for iid in dict.fromkeys(incident_ids)]
    if rows:
        session.execute(insert(DuplicateCheck), rows)


def score_pending(session: Session, *, batch: int | None = None, now: datetime | None = None,
                  wait: bool = True) -> PendingScored:
    """Score the reports waiting for their duplicates check, together, and remove their marks.

    Claims up to `batch` marks (None: all), newest reports first, so the older ones still waiting
    are in the window they are compared with and every pair points from the later report to the
    earlier one, as the collector's do. The marks' rows are locked: a report is
    scored once even when the job and an editor's page run at the same moment (SQLite's write
    transaction is exclusive anyway). On PostgreSQL an editor's page waits for a running job
    (`wait`, so it then shows that job's pairs); the job skips what someone else is scoring.
    Never commits.
    """
    claim = (select(DuplicateCheck.incident_id).order_by(DuplicateCheck.incident_id.desc())
             .with_for_update(skip_locked=not wait))
    ids = list(session.scalars(claim if batch is None else claim.limit(batch)))
    if not ids:
        return PendingScored()
    session.execute(delete(DuplicateCheck).where(DuplicateCheck.incident_id.in_(ids)))
    return PendingScored(len(ids), propose_duplicates(session, ids, now=now))


def pending_count(session: Session) -> int:
    """Reports still waiting for their duplicates check (for status lines and tests)."""
    return int(session.scalar(select(func.count()).select_from(DuplicateCheck)) or 0)


def import_incidents(session: Session, path: Path, *, actor: str = "import",
                     languages: Sequence[str] | None = None) -> ImportResult:
    """Import a file (all or nothing), then offer the new incidents' near-duplicates to the desk.

    Scored inline: the file is one transaction already, and its incidents are scored against each
    other and the window with one load. `languages`: the configured editions, the only ones an
    incident's `translations` may carry."""
    result = import_file(session, path, actor=actor, languages=languages)
    propose_duplicates(session, result.created_ids)
    return result
