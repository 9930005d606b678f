"""Server-side desk sessions. Never commits.

The desk cookie holds a random token; the database keeps only its SHA-256, so a stolen database
yields no usable cookie, and any session can be ended at once: logout revokes one row; a password
change, disabling an account or an admin's "sign out everywhere" revoke all rows of that user.
A session also ends when unused for the idle timeout, and at the latest after its lifetime.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from newsletter.models import DeskSession, User

# last_seen_at is written at most this often, so a busy editor does not write on every request.
LAST_SEEN_STEP = timedelta(seconds=60)
MAX_TOKEN_LENGTH = 100


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def open_session(session: Session, user: User, *, now: datetime, lifetime: timedelta) -> str:
    """Start a session for `user`; returns the token for the cookie (stored nowhere in clear)."""
    session.execute(delete(DeskSession).where(DeskSession.user_id == user.id, or_(
        DeskSession.revoked_at.is_not(None), DeskSession.created_at < now - lifetime)))
    token = secrets.token_urlsafe(32)
    session.add(DeskSession(token_hash=_digest(token), user_id=user.id, created_at=now, last_seen_at=now))
    session.flush()
    return token


def resolve(session: Session, token: str | None, *, now: datetime, idle: timedelta,
            lifetime: timedelta) -> User | None:
    """The active user of a live session, or None (unknown, revoked, idle too long, too old, user disabled)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = session.scalar(select(DeskSession).where(DeskSession.token_hash == _digest(token)))
    if row is None or row.revoked_at is not None:
        return None
    if now - row.created_at >= lifetime or now - row.last_seen_at >= idle:
        row.revoked_at = now
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    if now - row.last_seen_at >= LAST_SEEN_STEP:
        row.last_seen_at = now
    return user


def revoke(session: Session, token: str | None, *, now: datetime) -> None:
    """End the session of this cookie token (logout)."""
    if token and len(token) <= MAX_TOKEN_LENGTH:
        session.execute(update(DeskSession).where(DeskSession.token_hash == _digest(token),
                                                  DeskSession.revoked_at.is_(None)).values(revoked_at=now))


def revoke_all(session: Session, user: User, *, now: datetime) -> int:
    """End every open session of `user`; returns how many were open."""
    result = session.execute(update(DeskSession).where(DeskSession.user_id == user.id,
                                                       DeskSession.revoked_at.is_(None)).values(revoked_at=now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
