"""Walk every /editor/ route of the real app: anonymous visitors are refused everywhere, editors on every
admin route, and every state-changing request without a valid CSRF token is refused."""

from __future__ import annotations

import re
from collections.abc import Iterator

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.models import AuditLog
from newsletter.web.editor.auth import require_admin
from tests.editorial.helpers import login

PUBLIC = {"/editor/login"}
STATIC_SUFFIXES = (".css", ".js")  # stylesheets/scripts of desk pages hold no data
# Public CSS/JS of the web archive served beside the issue preview (issues domain; answers only for
# names in newsletter.render.web.ASSETS, never issue data).
ASSET_ROUTES = {"/editor/issues/{issue_id}/preview/web/{name}"}
OUR_MODULES = ("newsletter.web.editor.",)
OTHER_DOMAINS = ("newsletter.web.editor.issues", "newsletter.web.editor.subscribers")


def _calls(dependant) -> Iterator[object]:  # type: ignore[no-untyped-def]
    for dep in dependant.dependencies:
        yield dep.call
        yield from _calls(dep)


def _flatten(routes: list, prefix: str = "") -> Iterator[tuple[str, APIRoute]]:  # type: ignore[type-arg]
    """Every APIRoute with its full path; newer FastAPI keeps included routers as nested route objects."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):
            context = getattr(route, "include_context", None)
            yield from _flatten(route.original_router.routes, prefix + (getattr(context, "prefix", "") or ""))


def desk_routes(client: TestClient) -> list[tuple[str, str, bool, str]]:
    """(method, concrete path, admin only, endpoint module) for every desk route."""
    found = []
    for full_path, route in _flatten(client.app.routes):  # type: ignore[attr-defined]
        if not full_path.startswith("/editor") or full_path in PUBLIC or full_path.endswith(STATIC_SUFFIXES) \
                or full_path in ASSET_ROUTES:
            continue
        path = re.sub(r"\{[^}]+\}", "1", full_path)
        admin = require_admin in set(_calls(route.dependant))
        for method in sorted(route.methods - {"HEAD"}):
            found.append((method, path, admin, route.endpoint.__module__))
    return found


def test_the_walk_covers_the_desk(client: TestClient) -> None:
    routes = desk_routes(client)
    paths = {p for _m, p, _a, _mod in routes}
    assert {"/editor/", "/editor/triage", "/editor/incidents/1", "/editor/duplicates", "/editor/persons/",
            "/editor/persons/summary", "/editor/users/", "/editor/sections/", "/editor/sources/", "/editor/tokens/",
            "/editor/audit/"} <= paths
    admin_paths = {p for _m, p, a, _mod in routes if a}
    assert {"/editor/users/", "/editor/sections/", "/editor/sources/", "/editor/tokens/", "/editor/audit/"} <= admin_paths
    assert "/editor/triage" not in admin_paths


def test_every_desk_route_refuses_anonymous_visitors(client: TestClient) -> None:
    for method, path, _admin, _module in desk_routes(client):
        response = client.request(method, path, headers={"accept": "text/html"}, follow_redirects=False)
        assert response.status_code == 303, (method, path, response.status_code)
        assert response.headers["location"].startswith("/editor/login?next="), (method, path)
        api = client.request(method, path, headers={"accept": "application/json"}, follow_redirects=False)
        assert api.status_code == 401, (method, path, api.status_code)


def test_every_admin_route_refuses_editors(editor_client: TestClient) -> None:
    admin_routes = [(m, p) for m, p, admin, _mod in desk_routes(editor_client) if admin]
    assert len(admin_routes) >= 14
    for method, path in admin_routes:
        response = editor_client.request(method, path, data={}, follow_redirects=False)
        assert response.status_code == 403, (method, path, response.status_code)
        assert "admins only" in response.text


def test_every_state_changing_request_needs_a_valid_csrf_token(admin_client: TestClient, session: Session) -> None:
    before = session.scalar(select(func.count()).select_from(AuditLog))
    changing = [(m, p, mod) for m, p, _a, mod in desk_routes(admin_client) if m != "GET"]
    assert len(changing) >= 20
    for method, path, module in changing:
        for data in ({}, {"csrf_token": "forged-token"}):
            response = admin_client.request(method, path, data=data, follow_redirects=False)
            if module.startswith(OTHER_DOMAINS):
                assert response.status_code in (403, 422), (method, path, response.status_code)
            else:
                assert response.status_code == 403, (method, path, response.status_code)
                assert "security token" in response.text
    assert session.scalar(select(func.count()).select_from(AuditLog)) == before


def test_login_and_logout_forms_need_csrf(client: TestClient, editor_id: int) -> None:
    assert client.post("/editor/login", data={"email": "editor@example.org", "password": "x" * 12},
                       follow_redirects=False).status_code == 403
    login(client, "", "editor@example.org")
    assert client.post("/editor/logout", follow_redirects=False).status_code == 403
