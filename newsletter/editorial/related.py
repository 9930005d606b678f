"""Related incidents: an editor's (or an import's `related`) statement that two incidents belong together.

The relation is symmetric and stored in both directions (incident_relations). It only shows readers
anything through "See also" (issues/snapshot.py see_also), which links a public item to public items of
earlier published issues; relating an anonymised or internal incident tells readers nothing.
"""

from __future__ import annotations

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from newsletter import audit
from newsletter.editorial.service import EditorialError
from newsletter.i18n import N_
from newsletter.models import Incident, User, incident_relations

MAX_RELATED = 50


def related_incidents(session: Session, incident: Incident) -> list[Incident]:
    """The incidents related to this one, oldest first."""
    ids = select(incident_relations.c.related_id).where(incident_relations.c.incident_id == incident.id)
    return list(session.scalars(select(Incident).where(Incident.id.in_(ids))
                                .order_by(Incident.occurred_on, Incident.id)))


def find_incident(session: Session, ref: str) -> Incident:
    """An incident by its number or its external id (as an import names it)."""
    ref = (ref or "").strip()
    if not ref:
        raise EditorialError(N_("give the number or the external id of the related incident"))
    found = session.get(Incident, int(ref)) if ref.isdigit() else None
    if found is None:
        found = session.scalar(select(Incident).where(Incident.external_id == ref[:200]))
    if found is None:
        raise EditorialError(N_("there is no incident %(ref)s"), ref=repr(ref[:60]))
    return found


def relate(session: Session, incident: Incident, other: Incident, *, actor: User | str) -> bool:
    """Relate two incidents both ways; False when they already were. An incident is not its own relative."""
    if other.id == incident.id:
        raise EditorialError(N_("an incident cannot be related to itself"))
    if _exists(session, incident.id, other.id):
        return False
    if len(related_incidents(session, incident)) >= MAX_RELATED:
        raise EditorialError(N_("an incident can have at most %(n)s related incidents"), n=MAX_RELATED)
    session.execute(insert(incident_relations), [{"incident_id": incident.id, "related_id": other.id},
                                                 {"incident_id": other.id, "related_id": incident.id}])
    audit.record(session, actor=actor, action="incident.related", entity_type="incident", entity_id=incident.id,
                 changes={"related": other.id})
    return True


def unrelate(session: Session, incident: Incident, other: Incident, *, actor: User | str) -> bool:
    """Remove the relation both ways; False when there was none."""
    if not _exists(session, incident.id, other.id):
        return False
    pairs = ((incident.id, other.id), (other.id, incident.id))
    for a, b in pairs:
        session.execute(delete(incident_relations).where(incident_relations.c.incident_id == a,
                                                         incident_relations.c.related_id == b))
    audit.record(session, actor=actor, action="incident.unrelated", entity_type="incident", entity_id=incident.id,
                 changes={"related": other.id})
    return True


def _exists(session: Session, a: int, b: int) -> bool:
    return session.scalar(select(incident_relations.c.incident_id).where(
        incident_relations.c.incident_id == a, incident_relations.c.related_id == b)) is not None
