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
        ("NEWSLETTER_FOOTER_DONATE_URL", "javascript:alert(1)", "NEWSLETTER_FOOTER_DONATE_URL"),
        ("NEWSLETTER_FOOTER_PRIVACY_URL", "/privacy", "NEWSLETTER_FOOTER_PRIVACY_URL"),
        ("NEWSLETTER_FOOTER_SIGNUP_URL", 'https://x.org/"><script>', "NEWSLETTER_FOOTER_SIGNUP_URL"),
        ("NEWSLETTER_FOOTER_CONTACT_EMAIL", "not an address", "NEWSLETTER_FOOTER_CONTACT_EMAIL"),
    ],
)
def test_bad_value_names_the_setting(clean_env: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, fragment: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert fragment in str(err.value)


def test_footer_links_are_optional_and_take_http_or_mailto(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings()
    assert (s.footer_signup_url, s.footer_contact_url, s.footer_contact_email, s.footer_donate_url,
            s.footer_privacy_url) == (None, None, None, None, None)
    monkeypatch.setenv("NEWSLETTER_FOOTER_CONTACT_URL", "mailto:office@ngo.example.org")
    monkeypatch.setenv("NEWSLETTER_FOOTER_CONTACT_EMAIL", "mailto:office@ngo.example.org")
    monkeypatch.setenv("NEWSLETTER_FOOTER_DONATE_URL", " https://ngo.example.org/donate ")
    s = load_settings()
    assert s.footer_contact_url == "mailto:office@ngo.example.org"
    assert s.footer_contact_email == "office@ngo.example.org"
    assert s.footer_donate_url == "https://ngo.example.org/donate"


def test_secret_key_generated_once_and_kept(clean_env: Path) -> None:
    first = load_settings().secret
    second = load_settings().secret
    assert first == second and len(first) >= 32
    key_file = clean_env / "var" / "secret_key"
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"


PRODUCTION = {
    "NEWSLETTER_MODE": "production",
    "NEWSLETTER_BASE_URL": "https://news.example.org",
    "NEWSLETTER_FROM": "Monitor <news@example.org>",
    "NEWSLETTER_UNSUBSCRIBE_MAILTO": "unsubscribe@example.org",
    "NEWSLETTER_SECRET_KEY": "production-secret-0123456789-abcdefghijklmnop",
}


def _production(monkeypatch: pytest.MonkeyPatch, **changes: str | None) -> None:
    for name, value in {**PRODUCTION, **changes}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


def test_sound_production_settings_load(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _production(monkeypatch)
    s = load_settings()
    assert s.mode == "production" and s.base_url == "https://news.example.org"


@pytest.mark.parametrize(
    ("changes", "setting", "reason"),
    [
        ({"NEWSLETTER_BASE_URL": "http://news.example.org"}, "NEWSLETTER_BASE_URL", "RFC 8058"),
        ({"NEWSLETTER_FROM": "Monitor <news@localhost>"}, "NEWSLETTER_FROM", "localhost or an IP address"),
        ({"NEWSLETTER_FROM": "news@mail.localhost"}, "NEWSLETTER_FROM", "localhost or an IP address"),
        ({"NEWSLETTER_FROM": "news@[192.0.2.7]"}, "NEWSLETTER_FROM", "localhost or an IP address"),
        ({"NEWSLETTER_FROM": "news@203.0.113.5"}, "NEWSLETTER_FROM", "localhost or an IP address"),
        ({"NEWSLETTER_LIST_ID": "Monitor <monitor.localhost>"}, "NEWSLETTER_LIST_ID", "not localhost"),
        ({"NEWSLETTER_LIST_ID": "monitor.192.0.2.7"}, "NEWSLETTER_LIST_ID", "not localhost"),
        ({"NEWSLETTER_UNSUBSCRIBE_MAILTO": None}, "NEWSLETTER_UNSUBSCRIBE_MAILTO", "while DKIM is off"),
        ({"NEWSLETTER_UNSUBSCRIBE_MAILTO": "leave@localhost"}, "NEWSLETTER_UNSUBSCRIBE_MAILTO", "not localhost"),
    ],
)
def test_production_refuses_what_breaks_delivery(clean_env: Path, monkeypatch: pytest.MonkeyPatch,
                                                 changes: dict[str, str | None], setting: str, reason: str) -> None:
    _production(monkeypatch, **changes)
    with pytest.raises(SettingsError) as err:
        load_settings()
    message = str(err.value)
    assert f"{setting}: " in message and reason in message
    assert message.count("\n  ") == 1, "only the faulty setting is named"


def test_production_lists_every_problem_at_once(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_MODE", "production")
    with pytest.raises(SettingsError) as err:
        load_settings()
    message = str(err.value)
    for name in ("NEWSLETTER_BASE_URL", "NEWSLETTER_FROM", "NEWSLETTER_UNSUBSCRIBE_MAILTO"):
        assert f"{name}: " in message
    assert not (clean_env / "var" / "secret_key").exists()


def test_production_with_dkim_needs_no_unsubscribe_mailbox(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = clean_env / "dkim.pem"
    key.write_text("not read at load time")
    _production(monkeypatch, NEWSLETTER_UNSUBSCRIBE_MAILTO=None, NEWSLETTER_DKIM_KEY_FILE=str(key),
                NEWSLETTER_DKIM_SELECTOR="nl2026", NEWSLETTER_DKIM_DOMAIN="example.org")
    assert load_settings().unsubscribe_mailto is None


def test_development_mode_keeps_local_defaults(clean_env: Path) -> None:
    s = load_settings()
    assert s.base_url.startswith("http://127.0.0.1") and s.from_address.endswith("@localhost>")


def test_secret_key_required_in_production(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _production(monkeypatch, NEWSLETTER_SECRET_KEY=None)
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


def test_the_deploy_example_passes_the_production_checks(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parent.parent / "deploy" / "newsletter.env.example"
    for line in example.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _sep, value = line.partition("=")
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("NEWSLETTER_DATA_DIR", str(clean_env / "var"))
    assert load_settings().mode == "production"
