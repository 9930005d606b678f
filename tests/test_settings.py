"""Settings: validated at start, bad values named, secret key generated once for local use only."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.config import SettingsError, load_settings, redact_url


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSLETTER_DATA_DIR", str(tmp_path / "var"))
    return tmp_path


def test_defaults_match_the_design(clean_env: Path) -> None:
    s = load_settings()
    assert s.database_url == "sqlite:///db/newsletter.sqlite3"
    assert s.issues_dir == Path("issues")
    assert s.sources == Path("feeds/sources.toml")
    assert s.mode == "development"


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("NEWSLETTER_DATABASE_URL", "mysql://x/y", "NEWSLETTER_DATABASE_URL"),
        ("NEWSLETTER_SMTP_URL", "http://mail", "NEWSLETTER_SMTP_URL"),
        ("NEWSLETTER_BASE_URL", "news.example.org", "NEWSLETTER_BASE_URL"),
        ("NEWSLETTER_TIMEZONE", "Mars/Olympus", "NEWSLETTER_TIMEZONE"),
        ("NEWSLETTER_SEND_CONNECTIONS", "zero", "NEWSLETTER_SEND_CONNECTIONS"),
        ("NEWSLETTER_PERIOD", "daily", "NEWSLETTER_PERIOD"),
        ("NEWSLETTER_DRAFT_TIME", "25:00", "NEWSLETTER_DRAFT_TIME"),
    ],
)
def test_bad_value_names_the_setting(clean_env: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, fragment: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert fragment in str(err.value)


def test_secret_key_generated_once_and_kept(clean_env: Path) -> None:
    first = load_settings().secret
    second = load_settings().secret
    assert first == second and len(first) >= 32
    key_file = clean_env / "var" / "secret_key"
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_secret_key_required_in_production(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_MODE", "production")
    with pytest.raises(SettingsError, match="NEWSLETTER_SECRET_KEY: required in production"):
        load_settings()
    assert not (clean_env / "var" / "secret_key").exists()


def test_short_secret_key_refused(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", "short")
    with pytest.raises(SettingsError, match="at least 32"):
        load_settings()


def test_toml_file_and_environment_precedence(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = clean_env / "newsletter.toml"
    cfg.write_text('org_name = "Free Voices Monitor"\ntimezone = "Asia/Almaty"\nfrom = "Monitor <m@example.org>"\n')
    monkeypatch.setenv("NEWSLETTER_CONFIG", str(cfg))
    monkeypatch.setenv("NEWSLETTER_TIMEZONE", "Europe/Warsaw")
    s = load_settings()
    assert s.org_name == "Free Voices Monitor"
    assert s.timezone == "Europe/Warsaw"  # the environment wins over the file
    assert s.from_address == "Monitor <m@example.org>"


def test_toml_file_with_unknown_key_or_bad_syntax(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = clean_env / "bad.toml"
    cfg.write_text('databse_url = "sqlite:///x"\n')
    monkeypatch.setenv("NEWSLETTER_CONFIG", str(cfg))
    with pytest.raises(SettingsError, match="unknown setting.*databse_url"):
        load_settings()
    cfg.write_text("this is = = not toml")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings()


def test_passwords_never_in_repr(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", "postgresql+psycopg://news:hunter2secret@db/news")
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", "k" * 40)
    s = load_settings()
    text = repr(s)
    assert "hunter2secret" not in text and "k" * 40 not in text
    assert redact_url("smtp://u:pw@relay:587") == "smtp://u:***@relay:587"


def test_cli_reports_bad_setting_without_traceback(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from newsletter.cli import main

    monkeypatch.setenv("NEWSLETTER_SMTP_URL", "nonsense")
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code != 0
    assert "NEWSLETTER_SMTP_URL" in result.output and "Traceback" not in result.output
