"""Helpers other domains' tests can reuse to reach the editors' desk.

    from tests.editorial.helpers import make_user, login

    def test_my_desk_page(runtime, live_server):
        make_user(runtime, "ed@example.org", role="editor")            # committed, password DEFAULT_PASSWORD
        with httpx.Client() as client:
            login(client, live_server, "ed@example.org")                # client now carries the session cookie
            r = client.get(f"{live_server}/editor/issues/")
            token = csrf_token_of(r.text)                               # for the POST forms of that page

    @pytest.mark.browser
    def test_in_browser(runtime, live_server, page):
        make_user(runtime, "admin@example.org", role="admin")
        login(page, live_server, "admin@example.org")                   # a Playwright page works the same way

`login` works with an httpx.Client (or Starlette's TestClient, with base_url "" or "http://testserver")
and with a Playwright Page; it asserts that the login succeeded.
"""

from __future__ import annotations

import re
from typing import Any

from newsletter.editorial.users import create_user
from newsletter.models import User
from newsletter.runtime import Runtime

DEFAULT_PASSWORD = "correct horse battery staple"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_user(runtime: Runtime, email: str, *, role: str = "editor", password: str = DEFAULT_PASSWORD) -> int:
    """Create and commit a desk account; returns its id."""
    with runtime.session() as session:
        user: User = create_user(session, email=email, password=password, role=role, actor="test")
        return user.id


def csrf_token_of(html: str) -> str:
    """The CSRF form token found in a rendered page."""
    match = _CSRF_RE.search(html)
    assert match, "no csrf_token field in the page"
    return match.group(1)


def login(client_or_page: Any, base_url: str, email: str, password: str = DEFAULT_PASSWORD) -> None:
    """Log in through the real login form, with an HTTP client or a Playwright page."""
    base_url = base_url.rstrip("/")
    if hasattr(client_or_page, "goto"):
        page = client_or_page
        page.goto(f"{base_url}/editor/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", password)
        page.click("form[action='/editor/login'] button[type=submit]")
        page.wait_for_load_state()
        assert "/editor/login" not in page.url, f"login failed for {email}: still on {page.url}"
        return
    client = client_or_page
    form = client.get(f"{base_url}/editor/login")
    assert form.status_code == 200, form.text
    response = client.post(
        f"{base_url}/editor/login",
        data={"email": email, "password": password, "csrf_token": csrf_token_of(form.text), "next": "/editor/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, f"login failed for {email}: {response.status_code} {response.text[:300]}"
