"""Logging setup. Nothing here or anywhere logs a client address, a password or a secret."""

from __future__ import annotations

import logging
import re

from newsletter.config import Settings

_URL_PASSWORD = re.compile(r"(\w+://[^:/@\s]+:)[^@\s]+@")


class RedactingFilter(logging.Filter):
    """Last line of defence: strip passwords embedded in URLs from any log message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _URL_PASSWORD.sub(r"\1***@", message)
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
