"""Audit rows record a changed value in one shape, {"field": {"from": old, "to": new}} (newsletter/audit.py).

Rows written before the shape was enforced are never rewritten; the audit page shows them converted.
"""

from __future__ import annotations

import html
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter import audit
from newsletter.editorial.sections import list_sections, move_section
from newsletter.models import AuditLog
from tests.editorial.conftest import EDITOR
from tests.editorial.helpers import csrf_token_of


def is_uniform(changes: dict[str, Any]) -> bool:
    """Every dict value is a from/to pair, and a state is always one."""
    return all((set(v) == {"from", "to"}) if isinstance(v, dict) else k != "state" for k, v in changes.items())


def test_record_refuses_a_change_in_another_shape(session: Session) -> None:
    with pytest.raises(ValueError, match="'state' must be"):
        audit.record(session, actor="cli", action="issue.x", entity_type="issue", changes={"state": {"new": "sent"}})
    row = audit.record(session, actor="cli", action="issue.x", entity_type="issue",
                       changes={"state": audit.change("draft", "sent"), "recipients": 3})
    assert row.changes == {"state": {"from": "draft", "to": "sent"}, "recipients": 3}


def test_diff_and_text_change_keep_the_shape_and_no_words() -> None:
    class Row:
        title, active = "Old", True

    assert audit.diff(Row(), {"title": "New", "active": True}) == {"title": {"from": "Old", "to": "New"}}
    assert audit.text_change("Saule said", None) == {"from": "10 characters", "to": "0 characters"}


def test_a_section_move_records_the_order_from_and_to(session: Session) -> None:
    before = [s.slug for s in list_sections(session)]
    move_section(session, list_sections(session)[0], "down", actor="cli")
    row = session.scalars(select(AuditLog).where(AuditLog.action == "section.reorder")).one()
    assert row.changes == {"order": {"from": before, "to": [before[1], before[0], *before[2:]]}}


def test_a_failed_login_records_the_throttle_from_and_to(client: TestClient, editor_id: int, session: Session) -> None:
    token = csrf_token_of(client.get("/editor/login").text)
    client.post("/editor/login", data={"csrf_token": token, "email": EDITOR, "password": "wrong password!!"})
    row = session.scalars(select(AuditLog).where(AuditLog.action == "user.login_failed")).one()
    assert row.changes == {"failed_logins": {"from": 0, "to": 1}, "locked_until": {"from": None, "to": None}}


OLD_ROWS = [  # (action, changes as older code wrote them, as the audit page shows them now)
    ("issue.sending", {"state": ["sending", "approved"]}, {"state": {"from": "approved", "to": "sending"}}),
    ("issue.sending", {"state": ["sent", "sending"]}, {"state": {"from": "sent", "to": "sending"}}),
    ("subscriber.complaint", {"state": ["confirmed", "unsubscribed"]},
     {"state": {"from": "confirmed", "to": "unsubscribed"}}),
    ("issue.approved_first", {"state": "draft"}, {"state": {"from": "draft", "to": "draft"}}),
    ("issue.edited", {"intro": "changed", "show_withheld_count": True},
     {"intro": {"from": "(not recorded)", "to": "(not recorded)"}, "show_withheld_count": {"from": False, "to": True}}),
    ("section.reorder", {"order": ["b", "a", "c"], "before": {"a": 1, "b": 2, "c": 3}},
     {"order": {"from": ["a", "b", "c"], "to": ["b", "a", "c"]}}),
    ("incident.accepted", {"state": {"from": "new", "to": "accepted"}}, {"state": {"from": "new", "to": "accepted"}}),
    ("issue.test_sent", {"recipients": 2}, {"recipients": 2}),
]


@pytest.mark.parametrize("action, stored, shown", OLD_ROWS, ids=[f"{a}-{n}" for n, (a, _, _) in enumerate(OLD_ROWS)])
def test_older_rows_are_shown_in_todays_shape_and_left_as_stored(admin_client: TestClient, session: Session,
                                                                   action: str, stored: dict[str, Any],
                                                                   shown: dict[str, Any]) -> None:
    row = AuditLog(actor="cli", action=action, entity_type="issue", entity_id=987, changes=stored, note="")
    session.add(row)
    session.flush()
    page = admin_client.get("/editor/audit/?entity_type=issue&entity_id=987")
    assert page.status_code == 200
    cell = page.text.split('<table id="audit">')[1].split("<code>")[1].split("</code>")[0]
    assert json.loads(html.unescape(cell)) == shown and is_uniform(shown)
    session.expire_all()
    assert session.get(AuditLog, row.id).changes == stored
