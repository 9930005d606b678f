"""Password hashing and login throttling for desk accounts.

Passwords are hashed with argon2id (argon2-cffi's RFC 9106 defaults). Repeated failures lock the
account for a while instead of throttling by client address, because client addresses are never
stored or logged anywhere in this project.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from newsletter.models import User

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
FAILURES_BEFORE_LOCK = 5
LOCK_MINUTES = 15
MAX_LOCK_MINUTES = 24 * 60

_hasher = PasswordHasher()
# Verified against when the email is unknown, so that a miss takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-only-for-timing")


class PasswordPolicyError(ValueError):
    """The proposed password is too short or too long."""


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters long")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"the password must be at most {MAX_PASSWORD_LENGTH} characters long")


def hash_password(password: str) -> str:
    check_password_policy(password)
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; always spends the same work, even without a hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def register_failure(user: User, now: datetime) -> datetime | None:
    """Count a failed login; every FAILURES_BEFORE_LOCK-th failure locks the account, doubling each time."""
    user.failed_logins = (user.failed_logins or 0) + 1
    if user.failed_logins % FAILURES_BEFORE_LOCK:
        return None
    rounds = user.failed_logins // FAILURES_BEFORE_LOCK
    minutes = min(LOCK_MINUTES * 2 ** (rounds - 1), MAX_LOCK_MINUTES)
    user.locked_until = now + timedelta(minutes=minutes)
    return user.locked_until


def register_success(user: User, now: datetime) -> None:
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
