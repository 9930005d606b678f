"""The incident, issue and delivery state machines: one table each; a move outside the table raises."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from newsletter import states
from newsletter.models import DELIVERY_STATES, INCIDENT_STATES, ISSUE_STATES, Incident, Issue


@pytest.mark.parametrize("machine, names", [("incident", INCIDENT_STATES), ("issue", ISSUE_STATES),
                                            ("delivery", DELIVERY_STATES)])
def test_each_table_covers_exactly_the_states_the_database_allows(machine: str, names: tuple[str, ...]) -> None:
    table, _ = states.MACHINES[machine]
    assert set(table) == set(names)
    assert all(targets <= set(names) for targets in table.values())


@pytest.mark.parametrize("machine, current, to", [
    ("issue", "draft", "sending"),       # a send needs an approval first
    ("issue", "draft", "sent"),
    ("issue", "sending", "draft"),       # nothing that went out is reopened
    ("issue", "sent", "approved"),
    ("delivery", "sent", "pending"),     # a delivered message is never queued again
    ("delivery", "bounced", "pending"),
    ("incident", "published", "accepted"),
    ("incident", "duplicate", "new"),
])
def test_a_forbidden_transition_raises(machine: str, current: str, to: str) -> None:
    assert not states.can_move(machine, current, to)
    with pytest.raises(states.IllegalTransition, match=f"cannot go from '{current}' to '{to}'"):
        states.check(machine, current, to)


@pytest.mark.parametrize("current, to", [("draft", "approved"), ("approved", "scheduled"), ("scheduled", "approved"),
                                         ("scheduled", "sending"), ("approved", "draft"), ("sending", "sent"),
                                         ("sent", "sending")])
def test_the_issue_lifecycle_moves_the_table_allows(current: str, to: str) -> None:
    issue = Issue(number=7, period="2026-W47", state=current)
    assert states.move_issue(issue, to) == {"from": current, "to": to}
    assert issue.state == to


def test_a_forbidden_issue_move_leaves_the_state_alone() -> None:
    issue = Issue(number=7, period="2026-W47", state="draft")
    with pytest.raises(states.IllegalTransition, match="issue 7 cannot go from 'draft' to 'sent'"):
        states.move_issue(issue, "sent")
    assert issue.state == "draft"


def test_frozen_means_sent_sending_or_snapshot_fixed() -> None:
    assert not states.issue_frozen(Issue(state="approved", snapshot=None))
    assert states.issue_frozen(Issue(state="approved", snapshot={"issue": {}}))
    assert states.issue_frozen(Issue(state="sending", snapshot=None))
    assert states.issue_frozen(Issue(state="sent", snapshot=None))


def test_a_forbidden_incident_transition_raises_and_is_not_audited(session: Session) -> None:
    incident = Incident(title="Search at dawn", state="published", occurred_on=date(2026, 11, 18), origin="editor",
                        publication="public")
    session.add(incident)
    session.flush()
    with pytest.raises(states.IllegalTransition, match="cannot go from 'published' to 'accepted'"):
        states.transition(session, incident, "accepted", actor="cli")
    assert incident.state == "published"
