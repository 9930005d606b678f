"""Fixtures of the submissions tests: a high rate limit unless a test asks otherwise, and a form client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sqlalchemy.orm import Session

from newsletter.config import Settings, load_settings
from newsletter.runtime import Runtime

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
RECEIPT = re.compile(r'id="receipt-code">([^<]+)<')


@pytest.fixture
def settings(settings_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("NEWSLETTER_SUBMIT_RATE_PER_MINUTE", "100000")
    return load_settings()


@pytest.fixture
def session(runtime: Runtime) -> Iterator[Session]:
    """A transactional session, as the services always get from their caller (the shared fixture is
    in autocommit mode). Tests here that start a server use runtime.session() blocks instead."""
    s = runtime.sessions()
    yield s
    s.rollback()
    s.close()


def report(**overrides: Any) -> dict[str, str]:
    """The fields of a valid form post."""
    data = {
        "what": "CANARY-what: Police searched the flat of a local activist at dawn and took two laptops.",
        "kind": "search",
        "occurred_on": "2026-11-18",
        "date_precision": "day",
        "city": "Tomsk",
        "region": "",
        "country": "Russia",
        "persons-0-name": "Anna Petrova",
        "persons-0-role": "activist",
        "links": "https://example.org/news/1",
        "contact": "",
        "consent": "no_names",
        "action": "send",
    }
    data.update(overrides)
    return data


class FormClient:
    """A browser-like client: keeps the CSRF cookie and reads the token from the page."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30, follow_redirects=True, **kwargs)

    def token(self, path: str = "/submit") -> str:
        page = self.http.get(path)
        assert page.status_code == 200, page.text
        return CSRF.search(page.text).group(1)

    def submit(self, data: dict[str, str], files: list[tuple[str, bytes]] = (), **kwargs: Any) -> httpx.Response:
        fields = {"csrf_token": self.token(), **data}
        parts = [("files", (name, content, "application/octet-stream")) for name, content in files] or [
            ("files", ("", b"", "application/octet-stream"))]
        return self.http.post("/submit", data=fields, files=parts, **kwargs)

    def close(self) -> None:
        self.http.close()


def receipt_of(response: httpx.Response) -> str:
    match = RECEIPT.search(response.text)
    assert match, response.text[:2000]
    return match.group(1)


@pytest.fixture
def form_client(live_server: str) -> Iterator[FormClient]:
    client = FormClient(live_server)
    yield client
    client.close()
