"""Database URLs: an unreachable server or a mistyped SQLite folder gives one or two clear lines, exit 1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import main
from newsletter.db import resolve_url
from tests.support.net import free_port

COMMANDS = [
    ["db", "upgrade"],
    ["issues"],
    ["subscribers", "export"],
    ["export", "incidents"],
    ["collect", "--all"],
    ["users", "list"],
    ["status"],
    ["draft"],
]


@pytest.fixture
def closed_port_env(settings_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    """The test's environment, but the database URL points at a loopback port nobody listens on."""
    port = free_port()
    url = f"postgresql+psycopg://newsletter:s3cret-pw@127.0.0.1:{port}/newsletter"
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", url)
    return url


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_unreachable_postgresql_is_named_in_two_lines(closed_port_env: str, args: list[str]) -> None:
    port = closed_port_env.rsplit(":", 1)[1].split("/")[0]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 2, result.output
    assert f"cannot reach the PostgreSQL server at 127.0.0.1:{port}" in lines[0]
    assert "Connection refused" in lines[0]
    assert "NEWSLETTER_DATABASE_URL" in lines[1] and "firewall" in lines[1]
    assert "s3cret-pw" not in result.output, "the password never reaches the terminal"


def test_unreachable_database_in_a_real_process_has_no_traceback(closed_port_env: str) -> None:
    done = subprocess.run([sys.executable, "-c", "from newsletter.cli import main; main()", "issues"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert "cannot reach the PostgreSQL server at 127.0.0.1:" in done.stderr


def test_sqlite_in_a_missing_folder_is_refused(settings_env: dict[str, str], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    typo = tmp_path / "dta" / "newsletter.sqlite3"
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", f"sqlite:///{typo}")
    result = CliRunner().invoke(main, ["issues"], catch_exceptions=False)
    assert result.exit_code == 1
    assert f"NEWSLETTER_DATABASE_URL: the folder {typo.parent} does not exist" in " ".join(result.output.split())
    assert not typo.parent.exists(), "no new empty database is started beside the real one"


def test_default_db_folder_is_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    url = resolve_url("sqlite:///db/newsletter.sqlite3")
    assert url == f"sqlite:///{tmp_path}/db/newsletter.sqlite3"
    assert (tmp_path / "db").is_dir()


def test_relative_sqlite_path_in_another_missing_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from newsletter.config import SettingsError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError, match="the folder .*/data does not exist"):
        resolve_url("sqlite:///data/newsletter.sqlite3")
    assert not (tmp_path / "data").exists()


def test_unresolvable_host_without_network_is_named(settings_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Run inside `unshare -n` so that nothing leaves the machine."""
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        pytest.skip("unshare -n needs root (CI runs as root)")
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", "postgresql+psycopg://newsletter:pw@db.invalid:5432/newsletter")
    done = subprocess.run(["unshare", "-n", sys.executable, "-c", "from newsletter.cli import main; main()", "issues"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "cannot reach the PostgreSQL server at db.invalid:5432" in done.stderr
    assert "failed to resolve host" in done.stderr


def test_server_that_refuses_the_login_says_what_to_check(db_backend: str, pg_server, settings_env: dict[str, str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    if db_backend != "postgresql":
        pytest.skip("needs the PostgreSQL server of --db=postgresql")
    url = pg_server.url_for("no_such_database_here")
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", url)
    result = CliRunner().invoke(main, ["issues"], catch_exceptions=False)
    assert result.exit_code == 1
    out = " ".join(result.output.split())
    assert "refused the connection: FATAL: database \"no_such_database_here\" does not exist" in out
    assert "check the user, password and database name in NEWSLETTER_DATABASE_URL" in out
