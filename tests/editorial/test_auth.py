"""Accounts and desk sessions: hashing, login, cookies, logout, guards (see also test_sessions, test_login_throttle)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.editorial import auth, users
from newsletter.models import AuditLog, User
from newsletter.runtime import Runtime
from newsletter.web.editor.auth import SESSION_COOKIE, safe_next
from tests.editorial.conftest import EDITOR
from tests.editorial.helpers import DEFAULT_PASSWORD, csrf_token_of, login


def _post_login(client: TestClient, email: str, password: str, next_: str = "/editor/"):
    token = csrf_token_of(client.get("/editor/login").text)
    return client.post("/editor/login", data={"email": email, "password": password, "csrf_token": token, "next": next_},
                       follow_redirects=False)


def _actions(session: Session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(AuditLog.action).order_by(AuditLog.id)))


def test_password_is_stored_as_argon2id_and_verified(session: Session) -> None:
    user = users.create_user(session, email=" Ed@Example.org ", password=DEFAULT_PASSWORD, role="editor", actor="cli")
    assert user.email == "ed@example.org"
    assert user.password_hash.startswith("$argon2id$") and DEFAULT_PASSWORD not in user.password_hash
    assert auth.verify_password(user.password_hash, DEFAULT_PASSWORD)
    assert not auth.verify_password(user.password_hash, DEFAULT_PASSWORD + "x")
    assert not auth.verify_password(None, DEFAULT_PASSWORD)


@pytest.mark.parametrize(
    ("email", "password", "role", "message"),
    [
        ("not-an-email", DEFAULT_PASSWORD, "editor", "not a valid email"),
        ("a@example.org", "short", "editor", "at least 12 characters"),
        ("a@example.org", DEFAULT_PASSWORD, "owner", "unknown role"),
    ],
)
def test_create_user_refuses_bad_input(session: Session, email: str, password: str, role: str, message: str) -> None:
    with pytest.raises(users.UserError, match=message):
        users.create_user(session, email=email, password=password, role=role, actor="cli")
    assert session.scalar(select(User)) is None


def test_duplicate_email_refused(session: Session) -> None:
    users.create_user(session, email="a@example.org", password=DEFAULT_PASSWORD, role="editor", actor="cli")
    with pytest.raises(users.UserError, match="already exists"):
        users.create_user(session, email="A@example.org", password=DEFAULT_PASSWORD, role="admin", actor="cli")


def test_login_sets_a_signed_httponly_samesite_cookie_with_expiry(client: TestClient, editor_id: int) -> None:
    response = _post_login(client, EDITOR, DEFAULT_PASSWORD, next_="/editor/triage?state=new")
    assert response.status_code == 303
    assert response.headers["location"] == "/editor/triage?state=new"
    cookie = next(v for v in response.headers.get_list("set-cookie") if v.startswith(SESSION_COOKIE))
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=lax" in lowered and "max-age=43200" in lowered
    assert "path=/editor" in lowered
    assert client.get("/editor/login", follow_redirects=False).status_code == 303  # already logged in


def test_login_never_redirects_off_the_desk() -> None:
    for bad in ("https://evil.example/", "//evil.example/", "/\\evil", "/issues/", "javascript:alert(1)"):
        assert safe_next(bad) == "/editor/"
    assert safe_next("/editor/persons/3") == "/editor/persons/3"


def test_wrong_password_is_refused_with_a_message_and_audited(client: TestClient, editor_id: int,
                                                               session: Session) -> None:
    response = _post_login(client, EDITOR, "wrong password!!")
    assert response.status_code == 400
    assert "Wrong email or password." in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    unknown = _post_login(client, "nobody@example.org", "wrong password!!")
    assert unknown.status_code == 400 and "Wrong email or password." in unknown.text
    assert _actions(session)[-2:] == ["user.login_failed", "user.login_failed"]
    assert "nobody@example.org" not in str(session.scalars(select(AuditLog.note)).all())


def test_anonymous_page_requests_are_sent_to_login(client: TestClient) -> None:
    response = client.get("/editor/?state=new", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/editor/login?next=/editor/%3Fstate%3Dnew"
    api = client.get("/editor/", headers={"accept": "application/json"}, follow_redirects=False)
    assert api.status_code == 401


def test_tampered_or_foreign_cookie_is_not_a_session(client: TestClient, editor_id: int) -> None:
    login(client, "", EDITOR)
    good = client.cookies.get(SESSION_COOKIE)
    assert good
    client.cookies.set(SESSION_COOKIE, good[:-2] + ("AA" if not good.endswith("AA") else "BB"), path="/editor")
    assert client.get("/editor/", follow_redirects=False).status_code == 303


def test_password_change_and_disabling_end_open_sessions(client: TestClient, editor_id: int, admin_id: int,
                                                         runtime: Runtime) -> None:
    login(client, "", EDITOR)
    assert client.get("/editor/", follow_redirects=False).status_code == 200
    with runtime.session() as s:
        users.set_password(s, s.get(User, editor_id), "another long password", actor="cli")  # type: ignore[arg-type]
    assert client.get("/editor/", follow_redirects=False).status_code == 303
    login(client, "", EDITOR, "another long password")
    assert client.get("/editor/", follow_redirects=False).status_code == 200
    with runtime.session() as s:
        users.update_user(s, s.get(User, editor_id), active=False, actor="cli")  # type: ignore[arg-type]
    assert client.get("/editor/", follow_redirects=False).status_code == 303
    assert _post_login(client, EDITOR, "another long password").status_code == 400


def test_logout_needs_csrf_and_ends_the_session(editor_client: TestClient, session: Session) -> None:
    page = editor_client.get("/editor/")
    assert editor_client.post("/editor/logout", data={"csrf_token": "forged"}, follow_redirects=False).status_code == 403
    assert editor_client.get("/editor/", follow_redirects=False).status_code == 200
    response = editor_client.post("/editor/logout", data={"csrf_token": csrf_token_of(page.text)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/editor/login"
    assert editor_client.get("/editor/", follow_redirects=False).status_code == 303
    assert _actions(session)[-2:] == ["user.login", "user.logout"]


def test_login_without_csrf_is_refused(client: TestClient, editor_id: int) -> None:
    client.get("/editor/login")
    response = client.post("/editor/login", data={"email": EDITOR, "password": DEFAULT_PASSWORD}, follow_redirects=False)
    assert response.status_code == 403


def test_last_admin_cannot_be_demoted_or_disabled(session: Session) -> None:
    admin = users.create_user(session, email="boss@example.org", password=DEFAULT_PASSWORD, role="admin", actor="cli")
    with pytest.raises(users.UserError, match="last active admin"):
        users.update_user(session, admin, role="editor", actor="cli")
    with pytest.raises(users.UserError, match="last active admin"):
        users.update_user(session, admin, active=False, actor="cli")
    assert admin.role == "admin" and admin.active
