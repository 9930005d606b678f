"""Issue audit rows record changes as from/to pairs, and an edited text by its length only."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.issues import items as issue_items
from newsletter.issues.service import approve_issue, draft_issue
from newsletter.models import AuditLog, Issue


def last(session: Session, action: str) -> AuditLog:
    return session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id.desc())).first()


def test_an_issue_edit_records_lengths_and_flags_never_the_words(session: Session, settings: Settings,
                                                                  make_incident) -> None:
    make_incident("Activist detained")
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    old_title, old_intro = issue.title, issue.intro or ""
    fields = issue_items.IssueFields(old_title, "Raigul Sadyrbaeva is held in Semey.", issue.preheader or "",
                                     not issue.show_withheld_count, issue.show_persons_summary)
    issue_items.update_issue(session, issue, fields, actor="cli")
    changes = last(session, "issue.edited").changes
    assert changes["intro"] == {"from": f"{len(old_intro)} characters", "to": "35 characters"}
    assert changes["show_withheld_count"] == {"from": not issue.show_withheld_count, "to": issue.show_withheld_count}
    assert "title" not in changes and "Raigul" not in str(changes) and "Semey" not in str(changes)


def test_an_approval_records_the_state_from_and_to(session: Session, settings: Settings, make_incident,
                                                    make_editor) -> None:
    make_incident("Activist detained")
    issue: Issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    approve_issue(session, issue, user=make_editor("ed@example.org"), settings=settings)
    assert last(session, "issue.approved").changes == {"state": {"from": "draft", "to": "approved"}}
