"""Intake then duplicate detection: every path that brings an incident in offers its near-duplicates.

The feed collector scores its own entries in bulk (collect/processor). A volunteer's form, a
partner's API call and an import file create incidents in other domains, which cannot import the
collector; this flow runs the one scoring rule (newsletter.nearmatch) right after they create
theirs, in the same transaction, so a report and the pairs it forms are stored together. Only
open DuplicateCandidate rows are added: an editor merges or dismisses, never the machine. Nothing
here logs a report's words.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.exchange import ImportResult, import_incidents as import_file
from newsletter.models import ApiToken, Incident
from newsletter.nearmatch import propose_duplicates
from newsletter.submissions.attachments import CleanFile, IncomingFile
from newsletter.submissions.schema import SubmissionIn
from newsletter.submissions.service import create_submission

__all__ = ["submit_report", "import_incidents"]

# A single report is scored inside the volunteer's request, holding the write transaction: it is
# compared with the newest REPORT_WINDOW incidents of the 14-day window, so its cost stays flat however
# many feed entries the window holds (an import, scored once per file, sees the whole window).
REPORT_WINDOW = 400


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
    """Store a volunteer's (form) or partner's (API) report, then offer its near-duplicates to the desk."""
    incident, code = create_submission(session, data, files, settings=settings, channel=channel,
                                       api_token=api_token, written=written, load=load)
    propose_duplicates(session, [incident.id], latest=REPORT_WINDOW)
    return incident, code


def import_incidents(session: Session, path: Path, *, actor: str = "import",
                     languages: Sequence[str] | None = None) -> ImportResult:
    """Import a file (all or nothing), then offer the new incidents' near-duplicates to the desk.

    `languages`: the configured editions, the only ones an incident's `translations` may carry.
    """
    result = import_file(session, path, actor=actor, languages=languages)
    propose_duplicates(session, result.created_ids)
    return result

