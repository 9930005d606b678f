"""Fixtures of the desk tests: an in-process HTTP client on the real app, and logged-in users."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from tests.editorial.helpers import login, make_user

EDITOR = "editor@example.org"
ADMIN = "admin@example.org"


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), base_url="http://testserver") as c:
        yield c


@pytest.fixture
def editor_id(runtime: Runtime) -> int:
    return make_user(runtime, EDITOR, role="editor")


@pytest.fixture
def admin_id(runtime: Runtime) -> int:
    return make_user(runtime, ADMIN, role="admin")


@pytest.fixture
def editor_client(client: TestClient, editor_id: int) -> TestClient:
    login(client, "", EDITOR)
    return client


@pytest.fixture
def admin_client(client: TestClient, admin_id: int) -> TestClient:
    login(client, "", ADMIN)
    return client
