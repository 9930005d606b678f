"""Logging setup. Nothing here or anywhere logs a client address, a password or a secret."""

from __future__ import annotations

import ipaddress
import logging
import re

from newsletter.config import Settings

_URL_PASSWORD = re.compile(r"(\w+://[^:/@\s]+:)[^@\s]+@")
# Candidates for IPv4 and IPv6 literals (with an optional port), masked in the web server's own records.
_ADDRESS_LIKE = re.compile(r"\[?[0-9A-Fa-f:.]*[:.][0-9A-Fa-f:.]*\]?(?::\d+)?")


def _mask_address(match: re.Match[str]) -> str:
    token = match.group()
    host = token[1:token.index("]")] if token.startswith("[") and "]" in token else token
    for candidate in (host, host.rsplit(":", 1)[0]):
        try:
            ipaddress.ip_address(candidate.strip("[]"))
        except ValueError:
            continue
        return "[address]"
    return token


def mask_addresses(text: str) -> str:
    """Replace every IPv4 or IPv6 address (and its port) in text by "[address]"."""
    return _ADDRESS_LIKE.sub(_mask_address, text)


class RedactingFilter(logging.Filter):
    """Last line of defence: strip passwords embedded in URLs from any log message, and any network
    address from uvicorn's records (the server is configured never to log a client's address; see
    newsletter/web/server.py)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _URL_PASSWORD.sub(r"\1***@", message)
        if record.name.startswith("uvicorn"):
            cleaned = mask_addresses(cleaned)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # Access logs would record client addresses: they are never enabled.
    logging.getLogger("uvicorn.access").disabled = True
    for noisy in ("httpx", "alembic", "mail.log"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
