"""What the desk shows an editor reviewing an issue before sign-off.

The issue page re-derives the consent snapshot on every view, so that a refusal (a protected name, a
hidden city) is shown where the editor works, long before approval or freezing would refuse it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.issues.consent import ConsentViolation
from newsletter.issues.snapshot import build_snapshot
from newsletter.models import Issue


def consent_refusal(session: Session, issue: Issue, *, settings: Settings) -> str | None:
    """Why the consent check would refuse the issue as it stands (item and field, never the words), or None.

    Builds the snapshot as approval would and discards it; nothing is stored.
    """
    try:
        build_snapshot(session, issue, settings=settings)
    except ConsentViolation as exc:
        return str(exc)
    return None
