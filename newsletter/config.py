"""The one Settings object. Every module gets its configuration from here, never from os.environ."""

from __future__ import annotations

import ipaddress
import os
import secrets
import tomllib
from email.utils import parseaddr
from pathlib import Path
import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

ENV_PREFIX = "NEWSLETTER_"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_TEMPLATES = PROJECT_ROOT / "templates"


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the setting so an operator can fix it."""


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the TOML file named by NEWSLETTER_CONFIG (keys without the prefix, lower case)."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self.data: dict[str, Any] = {}
        if path is None:
            return
        try:
            with path.open("rb") as fh:
                raw = tomllib.load(fh)
        except FileNotFoundError as exc:
            raise SettingsError(f"NEWSLETTER_CONFIG: file not found: {path}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"NEWSLETTER_CONFIG: {path} is not valid TOML: {exc}") from exc
        table = raw.get("newsletter", raw)
        unknown = sorted(set(table) - set(settings_cls.model_fields) - {"from"})
        if unknown:
            raise SettingsError(f"NEWSLETTER_CONFIG: unknown setting(s) in {path}: {', '.join(unknown)}")
        self.data = {("from_address" if k == "from" else k): v for k, v in table.items()}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self.data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.data)


class Settings(BaseSettings):
    """All configuration. Environment variables NEWSLETTER_<NAME> override the TOML file."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", populate_by_name=True)

    # core
    mode: Literal["development", "production"] = "development"
    database_url: str = "sqlite:///db/newsletter.sqlite3"
    issues_dir: Path = Path("issues")
    data_dir: Path = Path("var")
    sources: Path = Path("feeds/sources.toml")
    templates_dir: Path | None = None
    secret_key: SecretStr | None = None
    base_url: str = "http://127.0.0.1:8000"
    org_name: str = "Monitoring Newsletter"
    language: str = "en"
    # The editions, default language first ("en,ru"); empty: one edition in `language`.
    languages: Annotated[list[str], NoDecode] = Field(default_factory=list)
    timezone: str = "UTC"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # collect
    allow_loopback_feeds: bool = False
    fetch_concurrency: int = Field(32, ge=1, le=1000)
    fetch_per_host: int = Field(4, ge=1, le=100)
    fetch_timeout: float = Field(30.0, gt=0)
    fetch_max_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    default_poll_interval: str = "1h"
    collect_max_entries: int = Field(500, ge=1, le=100_000, description="entries read per feed and run; sources.toml max_entries overrides")
    # submissions
    max_upload_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    max_submission_bytes: int = Field(30 * 1024 * 1024, ge=1024)
    submit_rate_per_minute: int = Field(30, ge=1)
    # desk accounts
    session_idle_minutes: int = Field(120, ge=1, description="a desk session unused this long ends")
    session_max_hours: int = Field(12, ge=1, le=24 * 30, description="a desk session ends this long after login")
    login_failures_per_minute: int = Field(20, ge=1, description="failed desk logins from one client")
    # mail to one address (subscribe and unsubscribe forms)
    mails_per_address_per_hour: int = Field(3, ge=1)
    # issues
    period: Literal["weekly", "biweekly"] = "weekly"
    require_second_approval: bool = False
    # the issue's footer links (email, text, web, PDF); none by default
    footer_signup_url: str | None = None
    footer_contact_url: str | None = None
    footer_contact_email: str | None = None
    footer_donate_url: str | None = None
    footer_privacy_url: str | None = None
    # delivery
    smtp_url: str = "smtp://127.0.0.1:1025"
    from_address: str = Field("Monitoring Newsletter <newsletter@localhost>", alias="NEWSLETTER_FROM")
    reply_to: str | None = None
    list_id: str | None = None
    unsubscribe_mailto: str | None = None
    dkim_key_file: Path | None = None
    dkim_selector: str | None = None
    dkim_domain: str | None = None
    # RFC 8463: an optional second signature; receivers that know Ed25519 check it, others the RSA one
    dkim_ed25519_key_file: Path | None = None
    dkim_ed25519_selector: str | None = None
    send_connections: int = Field(4, ge=1, le=64)
    send_rate: float = Field(0.0, ge=0, description="messages per second, 0 = unlimited")
    send_batch_size: int = Field(200, ge=1)
    messages_per_connection: int = Field(100, ge=1)
    send_max_attempts: int = Field(0, ge=0, description="optional cap on tries per row; 0 = only the retry horizon")
    send_lease_seconds: int = Field(600, ge=2, description="a claimed outbox row whose sender died is re-sent after this")
    send_retry_hours: float = Field(48.0, gt=0, description="temporary failures stay retryable this long per row")
    send_backoff_seconds: float = Field(60.0, gt=0, description="first wait after a temporary failure; doubles")
    send_backoff_max_seconds: float = Field(3600.0, gt=0, description="longest wait between two attempts")
    send_wait_seconds: float = Field(300.0, ge=0, description="a run waits this long for postponed rows, then leaves them")
    smtp_timeout: float = Field(60.0, gt=0, description="seconds before a silent SMTP server counts as lost")
    db_retry_seconds: float = Field(30.0, ge=0, description="how long commands ride out a database that went away")
    bounce_threshold: int = Field(1, ge=1)
    imap_url: str | None = None
    confirm_token_max_age: int = Field(7 * 24 * 3600, ge=60)
    # scheduler
    draft_weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "fri"
    draft_time: str = "09:00"
    collect_every_minutes: int = Field(15, ge=1)
    digest_time: str = "08:00"
    send_grace_minutes: int = Field(60, ge=0)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = os.environ.get(f"{ENV_PREFIX}CONFIG")
        return (init_settings, env_settings, _TomlSource(settings_cls, Path(path) if path else None))

    @field_validator("database_url")
    @classmethod
    def _check_db(cls, value: str) -> str:
        scheme = value.split(":", 1)[0]
        if not (scheme.startswith("sqlite") or scheme.startswith("postgresql")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _check_smtp(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("smtp", "smtps", "smtp+starttls") or not parts.hostname:
            raise ValueError("must look like smtp://host:port, smtps://host:465 or smtp+starttls://host:587")
        return value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an absolute http(s) URL such as https://news.example.org")
        return value.rstrip("/")

    @field_validator("footer_signup_url", "footer_contact_url", "footer_donate_url", "footer_privacy_url")
    @classmethod
    def _check_footer_url(cls, value: str | None) -> str | None:
        """Footer links go into every email and page: absolute http(s) or mailto, nothing else."""
        value = (value or "").strip()
        if not value:
            return None
        parts = urlsplit(value)
        if any(c in value for c in " \t\r\n<>\"'`"):
            raise ValueError("must not contain spaces, quotes or angle brackets")
        if parts.scheme == "mailto" and "@" in parts.path:
            return value
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an absolute http(s) URL (or mailto:) such as https://example.org/donate")
        return value

    @field_validator("footer_contact_email")
    @classmethod
    def _check_footer_email(cls, value: str | None) -> str | None:
        value = (value or "").strip().removeprefix("mailto:")
        if not value:
            return None
        if not re.fullmatch(r"[^@\s<>\"'`,;]+@[^@\s<>\"'`,;]+\.[^@\s<>\"'`,;]+", value):
            raise ValueError("must be an email address such as contact@example.org")
        return value

    @field_validator("languages", mode="before")
    @classmethod
    def _split_languages(cls, value: Any) -> Any:
        """NEWSLETTER_LANGUAGES=en,ru (a comma list) or a TOML array."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("languages")
    @classmethod
    def _check_languages(cls, value: list[str]) -> list[str]:
        seen: list[str] = []
        for tag in value:
            if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", tag):
                raise ValueError(f"{tag!r} is not a language tag such as en, ru or kk")
            if tag in seen:
                raise ValueError(f"{tag!r} is listed twice")
            seen.append(tag)
        return seen

    @field_validator("timezone")
    @classmethod
    def _check_tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Almaty)") from exc
        return value

    @field_validator("draft_time", "digest_time")
    @classmethod
    def _check_hhmm(cls, value: str) -> str:
        try:
            hh, mm = value.split(":")
            if not (0 <= int(hh) < 24 and 0 <= int(mm) < 60):
                raise ValueError
        except ValueError as exc:
            raise ValueError("must be a time of day as HH:MM") from exc
        return value

    @model_validator(mode="after")
    def _default_edition(self) -> "Settings":
        """With NEWSLETTER_LANGUAGES, its first language is the default one (what `language` names)."""
        if self.languages:
            self.language = self.languages[0]
        return self

    @model_validator(mode="after")
    def _check_dkim(self) -> "Settings":
        dkim = [self.dkim_key_file, self.dkim_selector, self.dkim_domain]
        if any(dkim) and not all(dkim):
            raise ValueError("NEWSLETTER_DKIM_KEY_FILE, NEWSLETTER_DKIM_SELECTOR and NEWSLETTER_DKIM_DOMAIN go together")
        ed25519 = [self.dkim_ed25519_key_file, self.dkim_ed25519_selector]
        if any(ed25519) and not (all(ed25519) and all(dkim)):
            raise ValueError("NEWSLETTER_DKIM_ED25519_KEY_FILE and NEWSLETTER_DKIM_ED25519_SELECTOR go together, "
                             "beside the RSA key (receivers that do not know Ed25519 check that one)")
        return self

    @property
    def editions(self) -> list[str]:
        """The languages an issue is published in, the default edition first."""
        return list(self.languages) or [self.language]

    @property
    def default_language(self) -> str:
        return self.editions[0]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def template_dirs(self) -> list[Path]:
        """User folder first so any bundled template can be overridden file by file."""
        dirs = [self.templates_dir] if self.templates_dir else []
        return [*dirs, BUNDLED_TEMPLATES]

    @property
    def secret(self) -> str:
        assert self.secret_key is not None, "load_settings() always sets the secret key"
        return self.secret_key.get_secret_value()

    def __repr_args__(self):  # type: ignore[override]
        """Keep passwords inside URLs out of reprs and therefore out of logs."""
        for name, value in super().__repr_args__():
            if name in ("database_url", "smtp_url", "imap_url") and isinstance(value, str):
                value = redact_url(value)
            yield name, value


def redact_url(url: str) -> str:
    """Replace the password of a URL with *** for display."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


def _format_error(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        name = loc[0] if loc else "settings"
        env = "NEWSLETTER_FROM" if name == "from_address" else f"{ENV_PREFIX}{name.upper()}"
        msg = err.get("msg", "invalid value").removeprefix("Value error, ")
        lines.append(f"{env}: {msg}" if loc else msg)
    return "invalid settings:\n  " + "\n  ".join(lines)


def _is_local_host(host: str) -> bool:
    """True for names no other mail server can reach or verify: localhost, *.localhost, IP literals."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if not name or name == "localhost" or name.endswith(".localhost") or name.startswith("ipv6:"):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _address_host(address: str) -> str:
    """The domain of an address such as 'Monitor <news@example.org>' (empty when there is none)."""
    mailbox = parseaddr(address)[1] or address
    return mailbox.rsplit("@", 1)[1] if "@" in mailbox else ""


def _list_id_host(value: str) -> str:
    """The domain part of a List-Id (RFC 2919: 'phrase <label.domain>'); a trailing IPv4 counts as a whole."""
    ident = value.rsplit("<", 1)[-1].split(">", 1)[0].strip()
    parts = ident.split(".")
    if len(parts) >= 4 and all(p.isdigit() for p in parts[-4:]):
        return ".".join(parts[-4:])
    return parts[-1] if parts[-1] == "localhost" else ident


def production_problems(settings: Settings) -> list[str]:
    """What breaks delivery or privacy on a real server; each line starts with the setting to fix."""
    problems: list[str] = []
    if urlsplit(settings.base_url).scheme != "https":
        problems.append(f"NEWSLETTER_BASE_URL: {settings.base_url} must use https:// in production mode "
                        "(mail providers accept one-click unsubscribe, RFC 8058, only over https; "
                        "the forms and desk cookies need it too)")
    from_host = _address_host(settings.from_address)
    if not from_host or _is_local_host(from_host):
        problems.append(f"NEWSLETTER_FROM: {settings.from_address!r} must be an address at your real mail domain "
                        "in production mode (mail from localhost or an IP address is rejected or filed as spam)")
    if settings.list_id and _is_local_host(_list_id_host(settings.list_id)):
        problems.append(f"NEWSLETTER_LIST_ID: {settings.list_id!r} must end in a domain you own in production mode, "
                        "not localhost or an IP address (e.g. monitor.news.example.org)")
    dkim_on = all([settings.dkim_key_file, settings.dkim_selector, settings.dkim_domain])
    if settings.unsubscribe_mailto:
        host = _address_host(settings.unsubscribe_mailto.removeprefix("mailto:"))
        if not host or _is_local_host(host):
            problems.append(f"NEWSLETTER_UNSUBSCRIBE_MAILTO: {settings.unsubscribe_mailto!r} must be a mailbox at "
                            "your real mail domain in production mode, not localhost or an IP address")
    elif not dkim_on:
        problems.append("NEWSLETTER_UNSUBSCRIBE_MAILTO: required in production mode while DKIM is off "
                        "(NEWSLETTER_DKIM_KEY_FILE, _SELECTOR, _DOMAIN unset): providers honour the https "
                        "one-click unsubscribe only on DKIM-signed mail, so the mailto: address is the readers' "
                        "only working way out; set it to a mailbox that `newsletter bounces process --imap` "
                        "reads, or configure DKIM")
    return problems


def _ensure_secret(settings: Settings) -> None:
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        if len(settings.secret_key.get_secret_value()) < 32:
            raise SettingsError("NEWSLETTER_SECRET_KEY: must be at least 32 characters long")
        return
    if settings.mode == "production":
        raise SettingsError("NEWSLETTER_SECRET_KEY: required in production mode (generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')")
    path = settings.data_dir / "secret_key"
    if path.exists():
        key = path.read_text().strip()
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key + "\n")
    settings.secret_key = SecretStr(key)


def load_settings(**overrides: Any) -> Settings:
    """Build and validate the settings; raise SettingsError with the offending setting's name."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_format_error(exc)) from None
    if settings.mode == "production":
        problems = production_problems(settings)
        if problems:
            raise SettingsError("settings refused in production mode (NEWSLETTER_MODE=production):\n  "
                                + "\n  ".join(problems))
    _ensure_secret(settings)
    return settings
