"""Tokens behind the confirm and unsubscribe links.

The unsubscribe token is a random secret stored on the subscriber: it never expires, because an
unsubscribe link in a two-year-old email must still work. The confirmation token is signed and
timestamped (itsdangerous), so an old confirmation email cannot be used to subscribe someone
long after they forgot about it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

_CONFIRM_SALT = "newsletter.delivery.confirm"


class TokenInvalid(Exception):
    """The token was tampered with, truncated or never issued."""


class TokenExpired(TokenInvalid):
    """The token was genuine but is older than settings.confirm_token_max_age."""


def new_subscriber_token() -> str:
    return secrets.token_urlsafe(32)


def make_confirm_token(secret: str, subscriber_token: str) -> str:
    return URLSafeTimedSerializer(secret, salt=_CONFIRM_SALT).dumps(subscriber_token)


def read_confirm_token(secret: str, token: str, max_age: int) -> str:
    """Return the subscriber token inside a confirmation token, or raise TokenExpired/TokenInvalid."""
    serializer = URLSafeTimedSerializer(secret, salt=_CONFIRM_SALT)
    try:
        value = serializer.loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise TokenExpired("this confirmation link has expired") from exc
    except BadSignature as exc:
        raise TokenInvalid("this confirmation link is not valid") from exc
    if not isinstance(value, str):
        raise TokenInvalid("this confirmation link is not valid")
    return value


@lru_cache(maxsize=8)
def _keyed(secret: str) -> hmac.HMAC:
    """The HMAC with its key already absorbed: a send tags every message, the key setup need happen once."""
    return hmac.new(secret.encode(), digestmod=hashlib.sha256)


def message_id_tag(secret: str, issue_id: int, delivery_id: int) -> str:
    """A short keyed hash so a Message-ID cannot be forged to point a fake bounce at a delivery."""
    mac = _keyed(secret).copy()
    mac.update(f"{issue_id}:{delivery_id}".encode())
    return mac.hexdigest()[:12]
