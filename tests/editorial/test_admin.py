"""Admin pages: users, sources, API tokens, the read-only audit log; and the duplicates page."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.models import ApiToken, AuditLog, DuplicateCandidate, Incident, Source, User
from newsletter.submissions import tokens
from tests.editorial import factories as fx
from tests.editorial.conftest import ADMIN
from tests.editorial.helpers import DEFAULT_PASSWORD, csrf_token_of, login


def _form(client: TestClient, page: str) -> str:
    return csrf_token_of(client.get(page).text)


def test_admin_manages_users(admin_client: TestClient, session: Session) -> None:
    token = _form(admin_client, "/editor/users/")
    weak = admin_client.post("/editor/users/", data={"csrf_token": token, "email": "new@example.org",
                                                     "role": "editor", "password": "short"}, follow_redirects=False)
    assert weak.status_code == 400 and "at least 12 characters" in weak.text and 'value="new@example.org"' in weak.text
    made = admin_client.post("/editor/users/", data={"csrf_token": token, "email": "new@example.org", "role": "editor",
                                                     "password": DEFAULT_PASSWORD}, follow_redirects=False)
    assert made.status_code == 303
    new = session.scalar(select(User).where(User.email == "new@example.org"))
    assert new is not None and new.role == "editor"
    admin = session.scalar(select(User).where(User.email == ADMIN))
    last = admin_client.post(f"/editor/users/{admin.id}", data={"csrf_token": token, "role": "editor", "active": "1"},
                             follow_redirects=False)
    assert last.status_code == 400 and "last active admin" in last.text
    promoted = admin_client.post(f"/editor/users/{new.id}", data={"csrf_token": token, "role": "admin", "active": "0"},
                                 follow_redirects=False)
    assert promoted.status_code == 303
    session.expire_all()
    new = session.get(User, new.id)
    assert new.role == "admin" and not new.active
    row = session.scalar(select(AuditLog).where(AuditLog.action == "user.update"))
    assert row.actor == ADMIN and row.changes == {"role": {"from": "editor", "to": "admin"},
                                                  "active": {"from": True, "to": False}}


def test_admin_disables_and_enables_a_source(admin_client: TestClient, session: Session) -> None:
    src = fx.source(session, "Noisy feed", error_count=3)
    token = _form(admin_client, "/editor/sources/")
    off = admin_client.post(f"/editor/sources/{src.id}/enabled", data={"csrf_token": token, "enabled": "0",
                                                                       "reason": "off-topic"}, follow_redirects=False)
    assert off.status_code == 303
    session.expire_all()
    src = session.get(Source, src.id)
    assert not src.enabled and src.disabled_reason == "off-topic"
    assert "disabled: off-topic" in admin_client.get("/editor/sources/").text
    admin_client.post(f"/editor/sources/{src.id}/enabled", data={"csrf_token": token, "enabled": "1"})
    session.expire_all()
    assert session.get(Source, src.id).enabled and session.get(Source, src.id).error_count == 0
    missing = admin_client.post("/editor/sources/99999/enabled", data={"csrf_token": token, "enabled": "0"},
                                follow_redirects=False)
    assert missing.status_code == 400 and "there is no source 99999" in missing.text
    actions = session.scalars(select(AuditLog.action).where(AuditLog.entity_type == "source")).all()
    assert sorted(actions) == ["source.disable", "source.enable"]


def test_admin_creates_and_revokes_api_tokens(admin_client: TestClient, session: Session) -> None:
    token = _form(admin_client, "/editor/tokens/")
    empty = admin_client.post("/editor/tokens/", data={"csrf_token": token, "name": " "}, follow_redirects=False)
    assert empty.status_code == 400 and "needs a name" in empty.text
    created = admin_client.post("/editor/tokens/", data={"csrf_token": token, "name": "Telegram bot"})
    assert created.status_code == 201
    plaintext = created.text.split('<code id="new-token">')[1].split("</code>")[0]
    assert tokens.authenticate(session, plaintext) is not None
    assert plaintext not in admin_client.get("/editor/tokens/").text  # shown only once
    row = session.scalar(select(ApiToken))
    assert admin_client.post(f"/editor/tokens/{row.id}/revoke", data={"csrf_token": token},
                             follow_redirects=False).status_code == 303
    session.expire_all()
    assert tokens.authenticate(session, plaintext) is None


def _table(html: str) -> str:
    return html.split('<table id="audit">')[1].split("</table>")[0]


def test_audit_log_is_browsable_filterable_and_read_only(admin_client: TestClient, session: Session) -> None:
    inc = fx.incident(session, "Audited")
    token = _form(admin_client, f"/editor/incidents/{inc.id}")
    admin_client.post(f"/editor/incidents/{inc.id}/decide", data={"csrf_token": token, "action": "reject",
                                                                  "reason": "spam"})
    page = admin_client.get("/editor/audit/?action=incident.&entity_id=" + str(inc.id))
    assert page.status_code == 200
    assert "incident.rejected" in _table(page.text) and "user.login" not in _table(page.text)
    logins = admin_client.get(f"/editor/audit/?action=user.login&actor={ADMIN}")
    assert "user.login" in _table(logins.text) and "incident.rejected" not in _table(logins.text)
    bad = admin_client.get("/editor/audit/?since=last-week&entity_id=x")
    assert bad.status_code == 400 and "is not a date" in bad.text and "is not a number" in bad.text
    for method in ("post", "put", "delete", "patch"):
        assert getattr(admin_client, method)("/editor/audit/").status_code == 405


def test_duplicates_page_merge_and_dismiss(editor_client: TestClient, session: Session) -> None:
    a = fx.incident(session, "Activist detained in Oral", url="https://a.example.org/1")
    b = fx.incident(session, "Oral activist detained", url="https://b.example.org/1")
    c = fx.incident(session, "Different event", url="https://c.example.org/1")
    pair = fx.candidate(session, a, b, 0.95)
    other = fx.candidate(session, a, c, 0.61)
    page = editor_client.get("/editor/duplicates")
    assert page.text.index(f'id="pair-{pair.id}"') < page.text.index(f'id="pair-{other.id}"')
    token = csrf_token_of(page.text)
    outsider = editor_client.post(f"/editor/duplicates/{pair.id}/merge", data={"csrf_token": token, "keep": str(c.id)},
                                  follow_redirects=False)
    assert outsider.status_code == 409 and "is not part of this pair" in outsider.text
    merged = editor_client.post(f"/editor/duplicates/{pair.id}/merge", data={"csrf_token": token, "keep": str(b.id)},
                                follow_redirects=False)
    assert merged.status_code == 303
    session.expire_all()
    assert session.get(Incident, a.id).merged_into_id == b.id
    assert sorted(s.url for s in session.get(Incident, b.id).sources) == ["https://a.example.org/1", "https://b.example.org/1"]
    moved = session.get(DuplicateCandidate, other.id)
    assert {moved.incident_id, moved.other_id} == {b.id, c.id} and moved.state == "open"
    again = editor_client.post(f"/editor/duplicates/{pair.id}/merge", data={"csrf_token": token, "keep": str(b.id)},
                               follow_redirects=False)
    assert again.status_code == 409 and "already merged" in again.text
    assert editor_client.post(f"/editor/duplicates/{other.id}/dismiss", data={"csrf_token": token},
                              follow_redirects=False).status_code == 303
    session.expire_all()
    assert session.get(DuplicateCandidate, other.id).state == "dismissed"
    assert "No open duplicate candidates." in editor_client.get("/editor/duplicates").text
    actions = session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert {"incident.duplicate", "incident.merge", "duplicate.dismiss"} <= set(actions)


def test_editor_login_audited_per_user(client: TestClient, editor_id: int, session: Session) -> None:
    login(client, "", "editor@example.org")
    row = session.scalar(select(AuditLog).where(AuditLog.action == "user.login"))
    assert row.user_id == editor_id and row.entity_id == editor_id
