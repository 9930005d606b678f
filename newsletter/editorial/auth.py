"""Password hashing and login throttling for desk accounts.

Passwords are hashed with argon2id (argon2-cffi's RFC 9106 defaults). Login attempts are throttled,
never locked shut: after FREE_FAILURES failures in a row for one email, each further failure asks
for a growing wait (15 s, 30 s, ... at most MAX_DELAY), and attempts during the wait are refused
without being counted, so an attacker's guesses cannot keep the real editor out for longer than
MAX_DELAY after they stop. Unknown emails are throttled exactly like accounts (in memory, under a
keyed hash), and every answer does one argon2 verification, so neither the message nor the timing
says whether an account exists. Client addresses are throttled by the web layer, in memory only.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from newsletter.i18n import N_, Refusal
from newsletter.models import User

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
FREE_FAILURES = 5
FIRST_DELAY = timedelta(seconds=15)
MAX_DELAY = timedelta(minutes=5)
# A run of failures older than this is forgotten: the next failure starts from zero.
FORGET_AFTER = timedelta(hours=24)
MAX_TRACKED = 100_000

_hasher = PasswordHasher()
# Verified against when the email is unknown, so that a miss takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-only-for-timing")


class PasswordPolicyError(Refusal, ValueError):
    """The proposed password is too short or too long."""


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(N_("the password must be at least %(n)s characters long"), n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordPolicyError(N_("the password must be at most %(n)s characters long"), n=MAX_PASSWORD_LENGTH)


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


def delay_after(failures: int) -> timedelta | None:
    """The wait imposed after `failures` failures in a row: none for the first few, then doubling."""
    if failures < FREE_FAILURES:
        return None
    return min(FIRST_DELAY * 2 ** min(failures - FREE_FAILURES, 20), MAX_DELAY)


def _wait(until: datetime | None, now: datetime) -> int | None:
    if until is None or until <= now:
        return None
    return max(1, int((until - now).total_seconds() + 0.999))


def _restart(failures: int, until: datetime | None, last: datetime | None, now: datetime) -> int:
    """Forget a stale run of failures."""
    if last is not None and now - last > FORGET_AFTER and (until is None or until <= now):
        return 0
    return failures


def seconds_to_wait(user: User, now: datetime) -> int | None:
    """Seconds before this account may try again, or None."""
    return _wait(user.locked_until, now)


def register_failure(user: User, now: datetime) -> datetime | None:
    """Count a failed login; from the FREE_FAILURES-th failure on, ask for a doubling wait."""
    # Accounts keep no time of their last failure; the end of their last wait stands in for it.
    failures = _restart(user.failed_logins or 0, user.locked_until, user.locked_until, now) + 1
    user.failed_logins = failures
    delay = delay_after(failures)
    user.locked_until = now + delay if delay is not None else user.locked_until
    return now + delay if delay is not None else None


def register_success(user: User, now: datetime) -> None:
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now


class UnknownEmailThrottle:
    """The same throttle as accounts get, for emails that are no account, kept in memory.

    Emails are kept only as an HMAC under a random per-process key, never in clear.
    """

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._state: dict[bytes, tuple[int, datetime | None, datetime]] = {}

    def _digest(self, email: str) -> bytes:
        return hmac.new(self._key, email.strip().lower().encode("utf-8", "replace"), hashlib.sha256).digest()[:16]

    def seconds_to_wait(self, email: str, now: datetime) -> int | None:
        with self._lock:
            entry = self._state.get(self._digest(email))
        return _wait(entry[1], now) if entry else None

    def register_failure(self, email: str, now: datetime) -> None:
        key = self._digest(email)
        with self._lock:
            failures, until, last = self._state.pop(key, (0, None, now))
            failures = _restart(failures, until, last, now) + 1
            delay = delay_after(failures)
            if len(self._state) >= MAX_TRACKED:
                self._state.pop(next(iter(self._state)))
            self._state[key] = (failures, now + delay if delay is not None else until, now)
