"""The incident state machine. Every transition goes through transition(), which audits it.

new -> accepted | rejected | duplicate | needs_info
needs_info -> new (volunteer answered) | accepted | rejected | duplicate
accepted -> scheduled (placed in a draft issue) | rejected | needs_info
scheduled -> accepted (removed from the draft) | published
rejected -> new (reopened)
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from newsletter import audit
from newsletter.models import Incident, User

TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"accepted", "rejected", "duplicate", "needs_info"}),
    "needs_info": frozenset({"new", "accepted", "rejected", "duplicate"}),
    "accepted": frozenset({"scheduled", "rejected", "needs_info", "duplicate"}),
    "scheduled": frozenset({"accepted", "published"}),
    "rejected": frozenset({"new"}),
    "duplicate": frozenset(),
    "published": frozenset(),
}


class IllegalTransition(Exception):
    """The requested state change is not allowed from the incident's current state."""


def allowed(incident: Incident) -> frozenset[str]:
    return TRANSITIONS.get(incident.state, frozenset())


def transition(
    session: Session,
    incident: Incident,
    to: str,
    *,
    actor: User | str,
    reason: str | None = None,
    question: str | None = None,
    merged_into: Incident | None = None,
) -> Incident:
    """Move an incident to state `to`, recording who did it and why; raise IllegalTransition otherwise."""
    if to not in allowed(incident):
        raise IllegalTransition(f"incident {incident.id} cannot go from '{incident.state}' to '{to}'")
    if to == "rejected" and not (reason and reason.strip()):
        raise IllegalTransition("a rejection needs a reason")
    if to == "needs_info" and not (question and question.strip()):
        raise IllegalTransition("asking for more information needs a question for the volunteer")
    if to == "duplicate":
        if merged_into is None or merged_into.id == incident.id:
            raise IllegalTransition("a duplicate must name another incident to merge into")
        if merged_into.state == "duplicate":
            raise IllegalTransition(f"incident {merged_into.id} is itself a duplicate; merge into the one it was merged into")
    changes: dict[str, object] = {"state": {"from": incident.state, "to": to}}
    incident.state = to
    if to == "rejected":
        incident.state_reason = reason
        changes["reason"] = reason
    if to == "needs_info":
        incident.info_request = question
        changes["question"] = question
    if to == "duplicate" and merged_into is not None:
        incident.merged_into_id = merged_into.id
        changes["merged_into"] = merged_into.id
    session.flush()
    audit.record(session, actor=actor, action=f"incident.{to}", entity_type="incident", entity_id=incident.id,
                 changes=changes, note=reason or "")
    return incident
