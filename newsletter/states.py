"""The three state machines (incident, issue, delivery), each one table of allowed transitions.

They live in the base so that every domain checks a change against the same table instead of
comparing state strings by hand. A move the table does not allow raises IllegalTransition: a
service that meant to refuse an editor says why in its own words first, so reaching
IllegalTransition means a code path tried something the lifecycle forbids.

Incidents (editors move them; every move is audited by transition()):
  new -> accepted | rejected | duplicate | needs_info
  needs_info -> new (volunteer answered) | accepted | rejected | duplicate
  accepted -> scheduled (placed in a draft issue) | rejected | needs_info | duplicate
  scheduled -> accepted (removed from the draft) | published
  rejected -> new (reopened)

Issues: draft -> approved -> scheduled -> sending -> sent; approved and scheduled go back to draft
(reopened) and scheduled back to approved (unscheduled); sent goes back to sending when an editor
queues failed deliveries again. `published_at` and the frozen snapshot mark an issue that went
public: from then on (and from `sending` on) it is frozen — see issue_frozen().

Deliveries (outbox rows): pending -> sending -> sent | pending (temporary failure, released) |
failed; failed -> pending (an editor's retry); any row -> bounced when a bounce names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from newsletter import audit
from newsletter.i18n import N_, Refusal, Words
from newsletter.models import DELIVERY_STATES, INCIDENT_STATES, ISSUE_STATES, Incident, Issue, User

Table = Mapping[str, frozenset[str]]

INCIDENT_TRANSITIONS: Table = {
    "new": frozenset({"accepted", "rejected", "duplicate", "needs_info"}),
    "needs_info": frozenset({"new", "accepted", "rejected", "duplicate"}),
    "accepted": frozenset({"scheduled", "rejected", "needs_info", "duplicate"}),
    "scheduled": frozenset({"accepted", "published"}),
    "rejected": frozenset({"new"}),
    "duplicate": frozenset(),
    "published": frozenset(),
}
TRANSITIONS = INCIDENT_TRANSITIONS  # the name editorial code has always used

ISSUE_TRANSITIONS: Table = {
    "draft": frozenset({"approved"}),
    "approved": frozenset({"scheduled", "sending", "draft"}),
    "scheduled": frozenset({"approved", "sending", "draft"}),
    "sending": frozenset({"sent"}),
    "sent": frozenset({"sending"}),
}
# An issue in these states is being (or was) mailed: what readers get can no longer change.
ISSUE_GONE_OUT = frozenset({"sending", "sent"})
# States from which a send may start or continue.
ISSUE_SENDABLE = ("approved", "scheduled", "sending")

DELIVERY_TRANSITIONS: Table = {
    "pending": frozenset({"sending", "bounced"}),
    "sending": frozenset({"sent", "pending", "failed", "bounced"}),
    "sent": frozenset({"bounced"}),
    "failed": frozenset({"pending", "bounced"}),
    "bounced": frozenset(),
}
# Rows no sender will touch again (unless an editor queues failed ones on purpose).
DELIVERY_FINAL = ("sent", "failed", "bounced")

MACHINES: dict[str, tuple[Table, tuple[str, ...]]] = {
    "incident": (INCIDENT_TRANSITIONS, INCIDENT_STATES),
    "issue": (ISSUE_TRANSITIONS, ISSUE_STATES),
    "delivery": (DELIVERY_TRANSITIONS, DELIVERY_STATES),
}


class IllegalTransition(Refusal):
    """The requested state change is not allowed from the current state."""


def can_move(machine: str, current: str, to: str) -> bool:
    """Whether the table of `machine` (incident, issue, delivery) allows current -> to."""
    table, _states = MACHINES[machine]
    return to in table.get(current, frozenset())


def check(machine: str, current: str, to: str, *, what: str = "") -> None:
    """Raise IllegalTransition unless the table of `machine` allows current -> to."""
    if not can_move(machine, current, to):
        raise IllegalTransition(f"{what or machine} cannot go from '{current}' to '{to}'")


# ---------------------------------------------------------------- issues


def issue_frozen(issue: Issue) -> bool:
    """Sent or published: the snapshot is fixed, so nothing about the issue may change any more.

    The one answer to "is this issue frozen", for the services that refuse edits and the pages that hide them.
    """
    return issue.snapshot is not None or issue.state in ISSUE_GONE_OUT


def move_issue(issue: Issue, to: str) -> dict[str, Any]:
    """Set the issue's state through the table; returns the audit change record {"from", "to"}."""
    check("issue", issue.state, to, what=f"issue {issue.number}")
    before, issue.state = issue.state, to
    return {"from": before, "to": to}


# ---------------------------------------------------------------- incidents


def allowed(incident: Incident) -> frozenset[str]:
    return INCIDENT_TRANSITIONS.get(incident.state, frozenset())


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
        raise IllegalTransition(N_("incident %(id)s cannot go from '%(current)s' to '%(to)s'"), id=incident.id,
                                current=Words(incident.state), to=Words(to))
    if to == "rejected" and not (reason and reason.strip()):
        raise IllegalTransition(N_("a rejection needs a reason"))
    if to == "needs_info" and not (question and question.strip()):
        raise IllegalTransition(N_("asking for more information needs a question for the volunteer"))
    if to == "duplicate":
        if merged_into is None or merged_into.id == incident.id:
            raise IllegalTransition(N_("a duplicate must name another incident to merge into"))
        if merged_into.state == "duplicate":
            raise IllegalTransition(N_("incident %(id)s is itself a duplicate; merge into the one it was merged into"),
                                    id=merged_into.id)
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
