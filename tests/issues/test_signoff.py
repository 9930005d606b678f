"""Sign-off rules: approval, the second approver, edits withdrawing approval, scheduling and freezing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.issues import items as issue_items
from newsletter.issues.errors import ApprovalError, IssueError, IssueLocked
from newsletter.issues.service import (
    approve_issue, draft_issue, freeze_snapshot, reopen_issue, schedule_issue, unschedule_issue,
)
from newsletter.models import AuditLog, Issue


@pytest.fixture
def issue(session: Session, settings: Settings, make_incident) -> Issue:
    make_incident("Activist detained")
    make_incident("Withheld case", publication="internal", city="Aktau")
    return draft_issue(session, settings=settings, period="2026-W47", actor="cli")


def actions(session: Session, issue: Issue) -> list[str]:
    return list(session.scalars(select(AuditLog.action).where(AuditLog.entity_type == "issue",
                                                              AuditLog.entity_id == issue.id).order_by(AuditLog.id)))


def test_single_approval(session: Session, settings: Settings, issue: Issue, make_editor) -> None:
    ed = make_editor("ed@example.org")
    approve_issue(session, issue, user=ed, settings=settings)
    assert (issue.state, issue.approved_by_id) == ("approved", ed.id) and issue.approved_at is not None
    with pytest.raises(ApprovalError, match="already approved"):
        approve_issue(session, issue, user=ed, settings=settings)
    assert "issue.approved" in actions(session, issue)


def test_second_approval_needs_a_different_editor(session: Session, settings: Settings, issue: Issue, make_editor) -> None:
    settings.require_second_approval = True
    first, second = make_editor("one@example.org"), make_editor("two@example.org")
    approve_issue(session, issue, user=first, settings=settings)
    assert issue.state == "draft" and issue.approved_by_id == first.id
    with pytest.raises(ApprovalError, match="second approval from a different editor"):
        approve_issue(session, issue, user=first, settings=settings)
    with pytest.raises(ApprovalError, match="not approved"):
        freeze_snapshot(session, issue, settings=settings)
    approve_issue(session, issue, user=second, settings=settings)
    assert (issue.state, issue.second_approved_by_id) == ("approved", second.id)
    assert actions(session, issue)[-2:] == ["issue.approved_first", "issue.approved"]


def test_deactivated_editor_cannot_approve(session: Session, settings: Settings, issue: Issue, make_editor) -> None:
    with pytest.raises(ApprovalError, match="deactivated"):
        approve_issue(session, issue, user=make_editor("gone@example.org", active=False), settings=settings)
    assert issue.state == "draft"


def test_an_issue_with_nothing_to_publish_cannot_be_approved(session: Session, settings: Settings, make_incident,
                                                             make_editor) -> None:
    make_incident("Only internal", publication="internal")
    empty = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    with pytest.raises(ApprovalError, match="no items to publish"):
        approve_issue(session, empty, user=make_editor("ed@example.org"), settings=settings)


def test_editing_after_sign_off_withdraws_it(session: Session, settings: Settings, issue: Issue, make_editor) -> None:
    ed = make_editor("ed@example.org")
    approve_issue(session, issue, user=ed, settings=settings)
    schedule_issue(session, issue, datetime.now(timezone.utc) + timedelta(hours=2), actor=ed)
    item = issue.items[0]
    issue_items.update_item(session, issue, item, headline="Changed after approval", text="", actor=ed)
    assert (issue.state, issue.approved_by_id, issue.scheduled_for) == ("draft", None, None)
    assert actions(session, issue)[-2:] == ["issue.reopened", "issue.item_edited"]
    # An edit that changes nothing does not withdraw a new sign-off.
    approve_issue(session, issue, user=ed, settings=settings)
    issue_items.update_item(session, issue, item, headline="Changed after approval", text="", actor=ed)
    assert issue.state == "approved"


def test_scheduling_rules(session: Session, settings: Settings, issue: Issue, make_editor) -> None:
    ed = make_editor("ed@example.org")
    later = datetime.now(timezone.utc) + timedelta(days=1)
    with pytest.raises(ApprovalError, match="must be approved before it can be scheduled"):
        schedule_issue(session, issue, later, actor=ed)
    approve_issue(session, issue, user=ed, settings=settings)
    with pytest.raises(IssueError, match="in the future"):
        schedule_issue(session, issue, datetime.now(timezone.utc) - timedelta(minutes=1), actor=ed)
    with pytest.raises(IssueError, match="time zone"):
        schedule_issue(session, issue, datetime(2030, 1, 1, 9, 0), actor=ed)
    schedule_issue(session, issue, later, actor=ed)
    assert issue.state == "scheduled" and issue.scheduled_for == later
    unschedule_issue(session, issue, actor=ed)
    assert (issue.state, issue.scheduled_for) == ("approved", None)
    reopen_issue(session, issue, actor=ed, reason="one more case")
    assert issue.state == "draft" and issue.approved_by_id is None


def test_freeze_marks_incidents_published_and_never_changes_again(session: Session, settings: Settings, issue: Issue,
                                                                  make_editor) -> None:
    ed = make_editor("ed@example.org")
    approve_issue(session, issue, user=ed, settings=settings)
    snapshot = freeze_snapshot(session, issue, settings=settings)
    # Freezing (which sending does too) dates the snapshot but publishes nothing: only
    # publish_issue sets published_at, so a mailed-only issue is not listed as published.
    assert issue.snapshot == snapshot and issue.published_at is None
    assert snapshot["issue"]["published_at"] is not None
    assert snapshot["withheld"] == {"incidents": 1, "cities": 1}
    assert {i.incident.state for i in issue.items} == {"published"}
    assert freeze_snapshot(session, issue, settings=settings) is snapshot
    with pytest.raises(IssueLocked, match="already sent or published"):
        issue_items.update_item(session, issue, issue.items[0], headline="Too late", text="", actor=ed)
    with pytest.raises(IssueLocked):
        reopen_issue(session, issue, actor=ed)
    with pytest.raises(IssueLocked):
        draft_issue(session, settings=settings, period="2026-W47", actor="cli")
