"""Duplicate candidates found by the collector: an editor merges or dismisses them, never the machine."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from newsletter.i18n import N_
from newsletter import audit
from newsletter.editorial.service import EditorialError, merge_incidents
from newsletter.models import DuplicateCandidate, Incident, IncidentSource, User

OPEN = "open"


def open_candidates(session: Session, *, limit: int = 50, offset: int = 0) -> list[DuplicateCandidate]:
    """Open pairs whose incidents are both still live, most similar first."""
    return list(session.scalars(
        select(DuplicateCandidate).where(DuplicateCandidate.state == OPEN)
        .options(*(selectinload(rel).selectinload(Incident.sources).selectinload(IncidentSource.source)
                   for rel in (DuplicateCandidate.incident, DuplicateCandidate.other)))
        .order_by(DuplicateCandidate.score.desc(), DuplicateCandidate.id).offset(offset).limit(limit)
    ))


def open_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(DuplicateCandidate)
                          .where(DuplicateCandidate.state == OPEN)) or 0


def _get_open(session: Session, candidate_id: int) -> DuplicateCandidate:
    candidate = session.get(DuplicateCandidate, candidate_id)
    if candidate is None:
        raise EditorialError(N_("there is no duplicate candidate %(id)s"), id=candidate_id)
    if candidate.state != OPEN:
        raise EditorialError(N_("this pair was already %(state)s"), state=candidate.state)
    return candidate


def merge_candidate(session: Session, candidate_id: int, keep_id: int, *, actor: User | str) -> Incident:
    """Keep one incident of the pair and fold the other into it."""
    candidate = _get_open(session, candidate_id)
    pair = {candidate.incident_id: candidate.incident, candidate.other_id: candidate.other}
    if keep_id not in pair:
        raise EditorialError(N_("incident %(id)s is not part of this pair"), id=keep_id)
    keep = pair.pop(keep_id)
    (duplicate,) = pair.values()
    merge_incidents(session, duplicate, keep, actor=actor)
    candidate.state = "merged"
    return keep


def dismiss_candidate(session: Session, candidate_id: int, *, actor: User | str) -> DuplicateCandidate:
    """Record that the two incidents are different events."""
    candidate = _get_open(session, candidate_id)
    candidate.state = "dismissed"
    audit.record(session, actor=actor, action="duplicate.dismiss", entity_type="duplicate_candidate",
                 entity_id=candidate.id, changes={"incidents": [candidate.incident_id, candidate.other_id],
                                                  "score": candidate.score})
    return candidate
