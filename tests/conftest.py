"""Shared fixtures. The database backend is chosen with --db=sqlite|postgresql (or NEWSLETTER_TEST_DB).

Every test gets a freshly migrated database: a copy of a template migrated once per run
(a file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL).

Log canaries (issue 11): no log record, at any level, may contain a report's words, a protected
name or a receipt code. Tests plant such data with the marker CANARY in it (see CANARY below, e.g.
a report text "CANARY-what ..." or a person "Canary Protected"); the autouse fixture
`no_canary_in_logs` fails any test during which a log record containing the marker was created.
It watches every record of every logger (a log record factory, so it also sees records of
threads such as the uvicorn server and survives `configure_logging` replacing the root handlers),
with the root and uvicorn loggers set to DEBUG. Records of the test's own helpers (the SMTP sink)
are not the app's logs and are left out. Use `allow_canary_logs` only to test the detector itself.
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session

from newsletter.config import Settings, load_settings
from newsletter.db import upgrade
from newsletter.runtime import Runtime
from tests.support.pg import PgServer, start_postgres
from tests.support.servers import SmtpSink, serve_app, smtp_sink

TEST_SECRET = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
# The marker of data that must never be logged (report text, protected names, receipt codes), case-insensitive.
CANARY = "canary"
# Loggers of the tests' own helpers, not of the app: aiosmtpd logs the mail it receives at DEBUG, and
# httpx/httpcore log the URLs the tests' HTTP clients request (the app itself uses httpx only for feeds).
_NOT_THE_APP = ("mail.log", "httpx", "httpcore")
_WATCHED_LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "newsletter")
_counter = itertools.count(1)

# Tests must never pick up an operator's real configuration.
for _name in [n for n in os.environ if n.startswith("NEWSLETTER_") and not n.startswith("NEWSLETTER_TEST_")]:
    del os.environ[_name]


def record_text(record: logging.LogRecord) -> str:
    """Everything a handler could write for this record: message, arguments, exception and stack."""
    try:
        text = record.getMessage()
    except Exception:  # noqa: BLE001 - a broken format string still must not hide a canary
        text = f"{record.msg} {record.args}"
    if record.exc_info and record.exc_info[1] is not None:
        text += "\n" + logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        text += "\n" + record.exc_text
    if record.stack_info:
        text += "\n" + record.stack_info
    return text


class CanaryWatch:
    """Collects every log record created while installed that contains the CANARY marker."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.markers: list[str] = [CANARY]  # a test adds what it learns later, e.g. a receipt code
        self._previous = logging.getLogRecordFactory()

    def _factory(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self._previous(*args, **kwargs)
        if not record.name.startswith(_NOT_THE_APP):
            text = record_text(record).casefold()
            if any(marker.casefold() in text for marker in self.markers):
                self.hits.append(f"{record.levelname} {record.name}: {text[:300]}")
        return record

    def install(self) -> None:
        logging.setLogRecordFactory(self._factory)

    def remove(self) -> None:
        logging.setLogRecordFactory(self._previous)


@pytest.fixture(autouse=True)
def no_canary_in_logs(request: pytest.FixtureRequest) -> Iterator[CanaryWatch]:
    """Fail the test if any log record created during it contains the CANARY marker (see module docstring)."""
    watch = CanaryWatch()
    levels = {name: logging.getLogger(name).level for name in _WATCHED_LOGGERS}
    for name in _WATCHED_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    watch.install()
    yield watch
    watch.remove()
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    if watch.hits and "allow_canary_logs" not in request.fixturenames:
        pytest.fail("a log record contained a canary (report text, protected name or receipt code):\n  "
                    + "\n  ".join(watch.hits[:10]), pytrace=False)


@pytest.fixture
def allow_canary_logs() -> None:
    """For the tests of the canary detector itself: records with canaries do not fail the test."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=["sqlite", "postgresql"],
        default=os.environ.get("NEWSLETTER_TEST_DB", "sqlite"),
        help="database backend for the suite (default: sqlite, or $NEWSLETTER_TEST_DB)",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"newsletter database backend: {config.getoption('--db')}"


@pytest.fixture(scope="session")
def db_backend(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("--db")


@pytest.fixture(scope="session")
def pg_server(db_backend: str) -> Iterator[PgServer | None]:
    if db_backend != "postgresql":
        yield None
        return
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def template_db(db_backend: str, pg_server: PgServer | None, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated to head once per run; tests get copies of it."""
    if db_backend == "postgresql":
        assert pg_server is not None
        name = f"nl_template_{os.getpid()}"
        pg_server.execute(f"DROP DATABASE IF EXISTS {name}")
        pg_server.execute(f"CREATE DATABASE {name}")
        upgrade(pg_server.url_for(name))
        return name
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return str(path)


@pytest.fixture
def database_url(db_backend: str, template_db: str, pg_server: PgServer | None, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    if db_backend == "postgresql":
        assert pg_server is not None
        name = f"nl_test_{os.getpid()}_{next(_counter)}"
        pg_server.execute(f"CREATE DATABASE {name} TEMPLATE {template_db}")
        yield pg_server.url_for(name)
        pg_server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        return
    path = tmp_path / "newsletter.sqlite3"
    shutil.copyfile(template_db, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def settings_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The NEWSLETTER_* environment of one test, set in os.environ so the CLI and subprocesses see it."""
    env = {
        "NEWSLETTER_DATABASE_URL": database_url,
        "NEWSLETTER_ISSUES_DIR": str(tmp_path / "issues"),
        "NEWSLETTER_DATA_DIR": str(tmp_path / "var"),
        "NEWSLETTER_SOURCES": str(tmp_path / "sources.toml"),
        "NEWSLETTER_SECRET_KEY": TEST_SECRET,
        "NEWSLETTER_ALLOW_LOOPBACK_FEEDS": "true",
        "NEWSLETTER_BASE_URL": "http://127.0.0.1:8000",
        "NEWSLETTER_FROM": "Test Newsletter <news@example.org>",
        "NEWSLETTER_LOG_LEVEL": "INFO",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def settings(settings_env: dict[str, str]) -> Settings:
    return load_settings()


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime(settings)
    yield rt
    rt.close()


@pytest.fixture
def make_runtime(settings_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Runtime]]:
    """A Runtime whose settings get extra NEWSLETTER_* values (also set in the environment for the CLI
    and subprocesses): make_runtime(send_connections=2, smtp_url=sink.url)."""
    made: list[Runtime] = []

    def build(**env: Any) -> Runtime:
        for key, value in env.items():
            monkeypatch.setenv(f"NEWSLETTER_{key.upper()}", str(value))
        rt = Runtime(load_settings())
        made.append(rt)
        return rt

    yield build
    for rt in made:
        rt.close()


@pytest.fixture
def session(runtime: Runtime) -> Iterator[Session]:
    """A session for arranging and inspecting data, in autocommit mode.

    Every statement is its own transaction, so the test never holds a lock or an old snapshot
    while the code under test (CLI, web server, subprocess) writes. Rows the test adds are
    visible to others after `session.flush()` (or commit). ORM objects already loaded keep their
    attributes: call `session.expire_all()` before re-reading objects that the code changed.
    """
    s = Session(bind=runtime.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=True)
    yield s
    s.close()


@pytest.fixture
def cli(settings_env: dict[str, str]) -> Any:
    """Run `newsletter ARGS...` in-process with the test's environment; returns click's Result."""
    from newsletter.cli import main

    def run(*args: str, input: str | None = None, expect: int | None = 0) -> Result:  # noqa: A002
        result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
        if expect is not None:
            assert result.exit_code == expect, f"exit {result.exit_code}\n{result.output}"
        return result

    return run


@pytest.fixture
def live_server(runtime: Runtime) -> Iterator[str]:
    """The web app served by uvicorn on a loopback port; yields its base URL."""
    with serve_app(runtime) as url:
        yield url


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) on loopback that keeps what it receives."""
    with smtp_sink() as sink:
        yield sink


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (headless, no sandbox, no background networking)."""
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("NEWSLETTER_TEST_CHROMIUM", "/usr/bin/chromium")
    if not Path(executable).exists():
        pytest.fail(f"Chromium not found at {executable}: run .ci/run (it installs Debian's chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=executable,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    pg = context.new_page()
    yield pg
    context.close()
