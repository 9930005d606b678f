"""A number in a path or a form that names no row is a 404 or a refusal, never a 500 (newsletter.db.get_row)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.editorial import factories as fx
from tests.editorial.helpers import csrf_token_of

HUGE = "99999999999999999999"  # more than any key holds; SQLite cannot even bind it


@pytest.mark.parametrize("path", [f"/editor/incidents/{HUGE}", f"/editor/persons/{HUGE}", f"/editor/issues/{HUGE}",
                                  "/editor/incidents/0", "/editor/persons/-1"])
def test_a_row_number_nothing_has_is_a_404(editor_client: TestClient, path: str) -> None:
    response = editor_client.get(path)
    assert response.status_code == 404
    assert "There is no" in response.text


@pytest.mark.parametrize("ref", [f"#{HUGE}", "#²", "١٢", "#0", "twelve"])
def test_a_duplicate_of_nothing_is_refused_with_what_was_typed(editor_client: TestClient, session: Session,
                                                               ref: str) -> None:
    incident = fx.incident(session, "Report")
    token = csrf_token_of(editor_client.get(f"/editor/incidents/{incident.id}").text)
    response = editor_client.post(f"/editor/incidents/{incident.id}/decide",
                                  data={"csrf_token": token, "action": "duplicate", "duplicate_of": ref})
    assert response.status_code == 409
    assert "is not the number of an existing incident" in response.text
    session.expire_all()
    assert incident.state == "new"
