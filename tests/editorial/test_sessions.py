"""Desk sessions are server-side: a copied cookie dies with logout, a password change, disabling the
account, an admin's "sign out everywhere", an idle period or the absolute lifetime."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.editorial import users
from newsletter.models import AuditLog, DeskSession, User
from newsletter.clock import ManualClock
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from newsletter.web.editor.auth import SESSION_COOKIE
from tests.editorial.conftest import ADMIN, EDITOR
from tests.editorial.helpers import csrf_token_of, login

START = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock(runtime: Runtime) -> ManualClock:
    runtime.clock = ManualClock(START)
    return runtime.clock


@pytest.fixture
def stolen(runtime: Runtime, client: TestClient, editor_id: int) -> Iterator[TestClient]:
    """A second browser holding a copy of the editor's session cookie (as a thief would)."""
    login(client, "", EDITOR)
    token = client.cookies.get(SESSION_COOKIE)
    assert token
    with TestClient(create_app(runtime), base_url="http://testserver") as thief:
        thief.cookies.set(SESSION_COOKIE, token, path="/editor")
        assert _in(thief), "the copied cookie should work before the event"
        yield thief


def _in(c: TestClient) -> bool:
    """True when the client's cookie opens the desk; False when it is sent to the login page."""
    r = c.get("/editor/", follow_redirects=False)
    assert r.status_code in (200, 303), r.status_code
    return r.status_code == 200


def test_cookie_holds_a_random_token_stored_only_as_a_hash(client: TestClient, editor_id: int,
                                                           session: Session) -> None:
    login(client, "", EDITOR)
    token = client.cookies.get(SESSION_COOKIE)
    assert token and len(token) >= 40
    rows = session.scalars(select(DeskSession)).all()
    assert len(rows) == 1 and rows[0].user_id == editor_id and rows[0].revoked_at is None
    assert token not in rows[0].token_hash and len(rows[0].token_hash) == 64


def test_logout_ends_a_copied_cookie(client: TestClient, stolen: TestClient) -> None:
    page = client.get("/editor/")
    r = client.post("/editor/logout", data={"csrf_token": csrf_token_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    assert not _in(stolen)
    assert not _in(client)


def test_a_new_login_in_the_same_browser_ends_the_previous_token(client: TestClient, stolen: TestClient) -> None:
    old = client.cookies.get(SESSION_COOKIE)
    login(client, "", EDITOR)
    assert client.cookies.get(SESSION_COOKIE) != old
    assert _in(client)
    assert not _in(stolen)


def test_password_change_ends_a_copied_cookie(runtime: Runtime, stolen: TestClient, editor_id: int) -> None:
    with runtime.session() as s:
        users.set_password(s, s.get(User, editor_id), "another long password", actor="cli")  # type: ignore[arg-type]
    assert not _in(stolen)


def test_disabling_the_account_ends_a_copied_cookie(runtime: Runtime, stolen: TestClient, editor_id: int) -> None:
    with runtime.session() as s:
        users.update_user(s, s.get(User, editor_id), active=False, actor="cli")  # type: ignore[arg-type]
    with runtime.session() as s:
        users.update_user(s, s.get(User, editor_id), active=True, actor="cli")  # type: ignore[arg-type]
    assert not _in(stolen), "re-enabling must not bring old sessions back"


def test_admin_signs_a_user_out_everywhere_from_the_users_page(runtime: Runtime, stolen: TestClient, editor_id: int,
                                                               admin_id: int, session: Session) -> None:
    with TestClient(create_app(runtime), base_url="http://testserver") as admin:
        login(admin, "", ADMIN)
        page = admin.get("/editor/users/")
        assert f'action="/editor/users/{editor_id}/signout"' in page.text
        r = admin.post(f"/editor/users/{editor_id}/signout", data={"csrf_token": csrf_token_of(page.text)},
                       follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/editor/users/?done=signed_out"
        assert "Every session of this user has ended." in admin.get(r.headers["location"]).text
        assert _in(admin), "signing another user out leaves the admin's own session alone"
    assert not _in(stolen)
    entry = session.scalars(select(AuditLog).where(AuditLog.action == "user.signout")).one()
    assert entry.entity_id == editor_id and entry.changes == {"sessions_ended": 1}


def test_signout_needs_an_admin_and_a_csrf_token(runtime: Runtime, stolen: TestClient, editor_id: int,
                                                 admin_id: int) -> None:
    page = stolen.get("/editor/")
    r = stolen.post(f"/editor/users/{admin_id}/signout", data={"csrf_token": csrf_token_of(page.text)},
                    follow_redirects=False)
    assert r.status_code == 403
    with TestClient(create_app(runtime), base_url="http://testserver") as admin:
        login(admin, "", ADMIN)
        assert admin.post(f"/editor/users/{editor_id}/signout", data={"csrf_token": "forged"}).status_code == 403
        assert admin.post("/editor/users/9999/signout",
                          data={"csrf_token": csrf_token_of(admin.get("/editor/users/").text)}).status_code == 404
    assert _in(stolen)


def test_cli_signs_a_user_out_everywhere(cli, stolen: TestClient) -> None:
    result = cli("users", "signout", "--email", EDITOR)
    assert f"{EDITOR}: 1 open session(s) ended" in result.output
    assert not _in(stolen)
    missing = cli("users", "signout", "--email", "nobody@example.org", expect=1)
    assert "no user with the email nobody@example.org" in missing.output


def test_idle_timeout_ends_a_session_that_is_not_used(clock: ManualClock, runtime: Runtime, stolen: TestClient) -> None:
    idle = timedelta(minutes=runtime.settings.session_idle_minutes)
    assert idle == timedelta(hours=2)
    clock.advance((idle - timedelta(minutes=2)).total_seconds())
    assert _in(stolen), "a request inside the idle window keeps the session"
    clock.advance((idle - timedelta(minutes=2)).total_seconds())
    assert _in(stolen), "each request restarts the idle window"
    clock.advance((idle + timedelta(seconds=1)).total_seconds())
    assert not _in(stolen)


def test_absolute_lifetime_ends_even_a_busy_session(clock: ManualClock, runtime: Runtime, stolen: TestClient) -> None:
    lifetime = timedelta(hours=runtime.settings.session_max_hours)
    while clock.now() + timedelta(hours=1) < START + lifetime:
        clock.advance(hours=1)
        assert _in(stolen)
    clock.set(START + lifetime)
    assert not _in(stolen)


def test_idle_timeout_is_a_setting(make_runtime, editor_id: int) -> None:
    rt = make_runtime(session_idle_minutes=5)
    rt.clock = ManualClock(START)
    with TestClient(create_app(rt), base_url="http://testserver") as c:
        login(c, "", EDITOR)
        rt.clock.advance(minutes=4)
        assert _in(c)
        rt.clock.advance(minutes=5, seconds=1)
        assert not _in(c)
