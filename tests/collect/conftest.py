"""Fixtures of the collector's tests: a misbehaving loopback feed server and a sources-file writer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.collect.outcome import CollectReport
from newsletter.collect.service import run_collect
from newsletter.models import Source
from newsletter.runtime import Runtime
from tests.collect.feedserver import FeedServer, feed_server

FETCH_TIMEOUT = 2.0
MAX_BYTES = 200_000


@pytest.fixture(autouse=True)
def _collect_env(settings_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts and a small body cap so the bad-feed cases run fast."""
    monkeypatch.setenv("NEWSLETTER_FETCH_TIMEOUT", str(FETCH_TIMEOUT))
    monkeypatch.setenv("NEWSLETTER_FETCH_MAX_BYTES", str(MAX_BYTES))
    settings_env["NEWSLETTER_FETCH_TIMEOUT"] = str(FETCH_TIMEOUT)
    settings_env["NEWSLETTER_FETCH_MAX_BYTES"] = str(MAX_BYTES)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with feed_server() as srv:
        yield srv


SourcesWriter = Callable[..., Path]


@pytest.fixture
def write_sources(runtime: Runtime) -> SourcesWriter:
    """Write the test's sources.toml (at NEWSLETTER_SOURCES) from feed dicts and an optional [rules] table."""

    def write(feeds: list[dict[str, Any]], rules: dict[str, Any] | None = None, path: Path | None = None) -> Path:
        path = path or runtime.settings.sources
        doc: dict[str, Any] = {}
        if rules:
            doc["rules"] = rules
        doc["feed"] = feeds
        path.write_text(tomli_w.dumps(doc))
        return path

    return write


@pytest.fixture
def collect(runtime: Runtime) -> Callable[..., CollectReport]:
    def run(**kwargs: Any) -> CollectReport:
        kwargs.setdefault("force_all", True)
        return run_collect(runtime, **kwargs)

    return run


def source_named(session: Session, name: str) -> Source:
    session.expire_all()
    source = session.scalar(select(Source).where(Source.name == name))
    assert source is not None, name
    return source
