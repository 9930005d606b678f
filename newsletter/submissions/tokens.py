"""API tokens for partner tools (a messenger bot, a form service) posting to /api/incidents.

The plaintext is shown once at creation; only its SHA-256 is stored, so a database leak does not
hand out working tokens. A high-entropy random token needs no slow hash: SHA-256 cannot be
brute-forced back to 256 random bits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.i18n import N_, Refusal
from newsletter import audit
from newsletter.db import utcnow
from newsletter.models import ApiToken, User

TOKEN_PREFIX = "nlt_"
MAX_NAME_LENGTH = 200


class TokenError(Refusal, ValueError):
    """A token operation was refused; the message says why."""


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def create_token(session: Session, *, name: str, actor: User | str) -> tuple[ApiToken, str]:
    """Create a token named for the partner tool using it; return the row and the plaintext (shown once)."""
    name = (name or "").strip()
    if not name:
        raise TokenError(N_("A token needs a name that says which tool uses it."))
    if len(name) > MAX_NAME_LENGTH:
        raise TokenError(N_("A token name can be at most %(n)s characters long."), n=MAX_NAME_LENGTH)
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        token_hash=hash_token(plaintext),
        created_by_id=actor.id if isinstance(actor, User) else None,
    )
    session.add(token)
    session.flush()
    audit.record(session, actor=actor, action="api_token.create", entity_type="api_token",
                 entity_id=token.id, changes={"name": name})
    return token, plaintext


def revoke_token(session: Session, token_id: int, *, actor: User | str) -> ApiToken:
    """Revoke a token at once; revoking twice is harmless and keeps the first revocation time."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise TokenError(N_("There is no API token with id %(id)s."), id=token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(session, actor=actor, action="api_token.revoke", entity_type="api_token",
                     entity_id=token.id, changes={"name": token.name})
    return token


def list_tokens(session: Session) -> list[ApiToken]:
    """All tokens, active first, newest first within each group."""
    rows = session.scalars(select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).all()
    return sorted(rows, key=lambda t: t.revoked_at is not None)


def authenticate(session: Session, plaintext: str | None) -> ApiToken | None:
    """The active token matching `plaintext`, or None; records when it was last used."""
    if not plaintext or not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 200:
        return None
    digest = hash_token(plaintext)
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if token is None or token.revoked_at is not None or not hmac.compare_digest(token.token_hash, digest):
        return None
    token.last_used_at = utcnow()
    return token
