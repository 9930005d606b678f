"""After a sign-off step the issue page says what happened (issue 15, item 7: publishing said "Saved.")."""

from __future__ import annotations

import re
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.editorial import factories as fx
from tests.editorial.helpers import csrf_token_of


def _signoff(client: TestClient, url: str, action: str) -> str:
    token = csrf_token_of(client.get(url).text)
    response = client.post(f"{url}/signoff", data={"csrf_token": token, "action": action}, follow_redirects=False)
    assert response.status_code == 303, re.findall(r"class=\"error[^>]*>([^<]*)", response.text)
    return client.get(response.headers["location"]).text


def test_each_sign_off_step_says_what_it_did(editor_client: TestClient, session: Session) -> None:
    fx.incident(session, "Blogger detained in Oral", state="accepted", occurred_on=date(2026, 11, 18),
                sections=["persecution"])
    token = csrf_token_of(editor_client.get("/editor/issues/").text)
    draft = editor_client.post("/editor/issues/draft", data={"csrf_token": token, "period": "2026-W47"},
                               follow_redirects=False)
    url = draft.headers["location"].split("?")[0]
    assert "Approval recorded." in _signoff(editor_client, url, "approve")
    assert "Issue reopened for editing." in _signoff(editor_client, url, "reopen")
    assert "Approval recorded." in _signoff(editor_client, url, "approve")
    published = _signoff(editor_client, url, "publish")
    assert "Published to the web archive and its Atom feed. No email has been sent." in published
    assert "Saved." not in published
