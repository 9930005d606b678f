"""`newsletter users ...`: passwords only from a prompt or stdin, clear errors, audited."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.editorial import auth
from newsletter.models import AuditLog, User
from tests.editorial.helpers import DEFAULT_PASSWORD


def test_users_add_reads_the_password_from_stdin(cli, session: Session) -> None:
    result = cli("users", "add", "--email", "Chief@Example.org", "--role", "admin", input=DEFAULT_PASSWORD + "\n")
    assert "created admin chief@example.org" in result.output
    user = session.scalar(select(User))
    assert user is not None and user.role == "admin"
    assert auth.verify_password(user.password_hash, DEFAULT_PASSWORD)
    audit = session.scalar(select(AuditLog).where(AuditLog.action == "user.create"))
    assert audit is not None and audit.actor == "cli" and DEFAULT_PASSWORD not in str(audit.changes)


def test_users_add_refuses_a_password_argument_and_short_passwords(cli, session: Session) -> None:
    bad = cli("users", "add", "--email", "a@example.org", "--password", "x" * 20, input="", expect=2)
    assert "No such option" in bad.output
    short = cli("users", "add", "--email", "a@example.org", input="short\n", expect=1)
    assert "at least 12 characters" in short.output
    assert session.scalar(select(User)) is None


def test_users_set_list_and_duplicate(cli, session: Session) -> None:
    cli("users", "add", "--email", "boss@example.org", "--role", "admin", input=DEFAULT_PASSWORD + "\n")
    cli("users", "add", "--email", "ed@example.org", input=DEFAULT_PASSWORD + "\n")
    dup = cli("users", "add", "--email", "ed@example.org", input=DEFAULT_PASSWORD + "\n", expect=1)
    assert "already exists" in dup.output
    cli("users", "set", "--email", "ed@example.org", "--disable")
    last_admin = cli("users", "set", "--email", "boss@example.org", "--role", "editor", expect=1)
    assert "last active admin" in last_admin.output
    cli("users", "set", "--email", "ed@example.org", "--password", input="a brand new password\n")
    listing = cli("users", "list").output
    assert "boss@example.org\tadmin\tactive" in listing and "ed@example.org\teditor\tdisabled" in listing
    ed = session.scalar(select(User).where(User.email == "ed@example.org"))
    assert ed is not None and auth.verify_password(ed.password_hash, "a brand new password")
    missing = cli("users", "set", "--email", "ghost@example.org", "--enable", expect=1)
    assert "no user with the email ghost@example.org" in missing.output
