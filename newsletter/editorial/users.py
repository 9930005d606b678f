"""Desk accounts: creating, authenticating and managing editors and admins, every change audited."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.i18n import N_, Refusal
from newsletter import audit
from newsletter.db import utcnow
from newsletter.editorial import auth, sessions
from newsletter.models import USER_ROLES, User

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UserError(Refusal, ValueError):
    """A user change that cannot be made; the message says why."""


class LoginFailed(Exception):
    """Login refused; the message is safe to show (it never says which of email or password was wrong)."""


def normalise_email(email: str) -> str:
    value = (email or "").strip().lower()
    if len(value) > 320 or not EMAIL_RE.match(value):
        raise UserError(N_("not a valid email address: %(value)s"), value=repr(email))
    return value


def _check_role(role: str) -> str:
    if role not in USER_ROLES:
        raise UserError(N_("unknown role %(value)s (use one of: %(choices)s)"), value=repr(role), choices=", ".join(USER_ROLES))
    return role


def get_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def emails_by_id(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """The emails of these accounts (an issue's approvers), by id; unknown and None ids are left out."""
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return {u.id: u.email for u in session.scalars(select(User).where(User.id.in_(wanted)))}


def get_user(session: Session, user_id: int) -> User | None:
    """One account by id (the desk's error pages re-read who is logged in after a rollback)."""
    return session.get(User, user_id)


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.email)))


def create_user(session: Session, *, email: str, password: str, role: str, actor: User | str) -> User:
    """Create an active account; refuse a duplicate email, an unknown role or a weak password."""
    email = normalise_email(email)
    _check_role(role)
    if get_by_email(session, email) is not None:
        raise UserError(N_("a user with the email %(email)s already exists"), email=email)
    try:
        password_hash = auth.hash_password(password)
    except auth.PasswordPolicyError as exc:
        raise UserError.of(exc) from None
    user = User(email=email, password_hash=password_hash, role=role, active=True, failed_logins=0)
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="user.create", entity_type="user", entity_id=user.id,
                 changes={"email": email, "role": role})
    return user


class LoginThrottled(LoginFailed):
    """Too many failed logins for this email (or from this client): wait, then try again."""

    def __init__(self, wait: int) -> None:
        self.wait = wait
        super().__init__(throttle_message(wait))


def throttle_message(wait: int) -> str:
    """The one message for every throttle: it never says whether the email is an account."""
    return f"Too many failed logins. Wait {wait} seconds and try again."


WRONG = "Wrong email or password."


def authenticate(session: Session, *, email: str, password: str, unknown: auth.UnknownEmailThrottle,
                 now: datetime | None = None) -> User:
    """Return the account for a correct email and password.

    Unknown emails, wrong passwords, disabled accounts and throttled attempts all do one argon2
    verification and answer with the same two messages, so neither says whether an account exists.
    """
    now = now or utcnow()
    email = (email or "").strip()
    password = password or ""
    user = get_by_email(session, email)
    if user is None:
        auth.verify_password(None, password)
        wait = unknown.seconds_to_wait(email, now)
        if wait is not None:
            audit.record(session, actor="anonymous", action="user.login_refused", entity_type="user",
                         note="throttled")
            raise LoginThrottled(wait)
        unknown.register_failure(email, now)
        audit.record(session, actor="anonymous", action="user.login_failed", entity_type="user",
                     note="unknown account")
        raise LoginFailed(WRONG)
    wait = auth.seconds_to_wait(user, now)
    if wait is not None:
        auth.verify_password(None, password)
        audit.record(session, actor=user.email, action="user.login_refused", entity_type="user",
                     entity_id=user.id, note="throttled")
        raise LoginThrottled(wait)
    ok = auth.verify_password(user.password_hash, password)
    if not ok or not user.active:
        failed_before, locked_before = user.failed_logins, user.locked_until
        auth.register_failure(user, now)
        audit.record(session, actor=user.email, action="user.login_failed", entity_type="user", entity_id=user.id,
                     changes={"failed_logins": audit.change(failed_before, user.failed_logins),
                              "locked_until": audit.change(locked_before, user.locked_until)},
                     note="account disabled" if ok else "wrong password")
        raise LoginFailed(WRONG)
    auth.register_success(user, now)
    if auth.needs_rehash(user.password_hash):
        user.password_hash = auth.hash_password(password)
    audit.record(session, actor=user, action="user.login", entity_type="user", entity_id=user.id)
    return user


def start_session(session: Session, user: User, *, now: datetime, lifetime: timedelta,
                  replacing: str | None = None) -> str:
    """Open a desk session after a successful login; returns the cookie token. The browser's
    previous session (`replacing`, its old cookie) ends, so no token outlives a new login."""
    sessions.revoke(session, replacing, now=now)
    return sessions.open_session(session, user, now=now, lifetime=lifetime)


def session_user(session: Session, token: str | None, *, now: datetime, idle: timedelta,
                 lifetime: timedelta) -> User | None:
    return sessions.resolve(session, token, now=now, idle=idle, lifetime=lifetime)


def record_logout(session: Session, user: User, token: str | None, *, now: datetime | None = None) -> None:
    """End this browser's session (server-side: a copied cookie stops working too)."""
    sessions.revoke(session, token, now=now or utcnow())
    audit.record(session, actor=user, action="user.logout", entity_type="user", entity_id=user.id)


def sign_out_everywhere(session: Session, user: User, *, actor: User | str, now: datetime | None = None) -> int:
    """End every open session of `user` (a lost laptop, a shared computer); returns how many ended."""
    ended = sessions.revoke_all(session, user, now=now or utcnow())
    audit.record(session, actor=actor, action="user.signout", entity_type="user", entity_id=user.id,
                 changes={"sessions_ended": ended})
    return ended


def _admin_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True))) or 0


def update_user(session: Session, user: User, *, actor: User | str, role: str | None = None,
                active: bool | None = None) -> User:
    """Change role or active flag; never leave the desk without an active admin."""
    changes: dict[str, object] = {}
    if role is not None and role != user.role:
        changes["role"] = {"from": user.role, "to": _check_role(role)}
    if active is not None and active != user.active:
        changes["active"] = {"from": user.active, "to": active}
    if not changes:
        return user
    losing_admin = user.role == "admin" and user.active and (role not in (None, "admin") or active is False)
    if losing_admin and _admin_count(session) <= 1:
        raise UserError(N_("this is the last active admin; make another user admin first"))
    if role is not None:
        user.role = role
    if active is not None:
        user.active = active
        if not active:
            sessions.revoke_all(session, user, now=utcnow())
    session.flush()
    audit.record(session, actor=actor, action="user.update", entity_type="user", entity_id=user.id, changes=changes)
    return user


def set_language(session: Session, user: User, language: str | None, *, actor: User | str,
                 available: Iterable[str]) -> User:
    """The language the desk speaks to this account (None: follow the browser); only one with a catalog."""
    value = (language or "").strip().lower() or None
    if value is not None and value not in set(available):
        raise UserError(N_("%(value)s is not a language of the desk; choose one of %(choices)s"), value=repr(value), choices=", ".join(available))
    if value != user.language:
        changes = {"language": {"from": user.language, "to": value}}
        user.language = value
        session.flush()
        audit.record(session, actor=actor, action="user.language", entity_type="user", entity_id=user.id,
                     changes=changes)
    return user


def set_password(session: Session, user: User, password: str, *, actor: User | str) -> None:
    """Replace the password; this also ends every open session of the user."""
    try:
        user.password_hash = auth.hash_password(password)
    except auth.PasswordPolicyError as exc:
        raise UserError.of(exc) from None
    sessions.revoke_all(session, user, now=utcnow())
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, actor=actor, action="user.password", entity_type="user", entity_id=user.id)


def unlock(session: Session, user: User, *, actor: User | str) -> None:
    if user.locked_until is None and not user.failed_logins:
        return
    changes = {"failed_logins": {"from": user.failed_logins, "to": 0}, "locked_until": {"from": user.locked_until, "to": None}}
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, actor=actor, action="user.unlock", entity_type="user", entity_id=user.id, changes=changes)
