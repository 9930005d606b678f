"""The SMTP relay named by settings.smtp_url, for the async sender and for single transactional mails."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from aiosmtplib import SMTP

from newsletter.config import Settings

DEFAULT_PORTS = {"smtp": 25, "smtps": 465, "smtp+starttls": 587}


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool

    @property
    def display(self) -> str:
        """Host and port only, for messages and logs (never the credentials)."""
        return f"{self.host}:{self.port}"


def smtp_target(settings: Settings) -> SmtpTarget:
    parts = urlsplit(settings.smtp_url)
    return SmtpTarget(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or DEFAULT_PORTS[parts.scheme],
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=parts.scheme == "smtps",
        start_tls=parts.scheme == "smtp+starttls",
    )


def async_client(target: SmtpTarget, *, timeout: float = 60) -> SMTP:
    return SMTP(
        hostname=target.host,
        port=target.port,
        username=target.username,
        password=target.password,
        use_tls=target.use_tls,
        start_tls=True if target.start_tls else False,
        timeout=timeout,
    )


def send_sync(settings: Settings, sender: str, recipients: list[str], message: bytes, *,
              timeout: float | None = None) -> None:
    """One message over one connection (confirmation mails); raises smtplib/OSError errors to the caller.

    The timeout defaults to settings.smtp_timeout, like the bulk sender's."""
    target = smtp_target(settings)
    timeout = settings.smtp_timeout if timeout is None else timeout
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if target.use_tls:
        client = smtplib.SMTP_SSL(target.host, target.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(target.host, target.port, timeout=timeout)
    with client:
        if target.start_tls:
            client.starttls(context=context)
        if target.username:
            client.login(target.username, target.password or "")
        client.sendmail(sender, recipients, message)
