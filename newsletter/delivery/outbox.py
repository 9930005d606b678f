"""The outbox: Delivery rows claimed in batches, so any number of sender processes share one issue.

Life of a row: pending -> sending (claimed_by, claimed_at; committed BEFORE the SMTP transaction)
-> sent (message_id, committed right after the server's 250) | pending again with next_attempt_at
(4xx, lost connection: growing backoff, for settings.send_retry_hours from the row's first
temporary failure) | failed (5xx, or the retry horizon is over) | bounced (a DSN arrived later).
A relay-wide refusal (421, connection refused) releases rows without counting an attempt.
An editor can put failed rows back to pending on purpose (requeue_failed).

Claiming uses SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL, so processes on several machines
never take the same row; on SQLite the engine opens every transaction with BEGIN IMMEDIATE, which
serialises the claim just as well. A row left in `sending` by a process that died is taken again
once its lease has run out, or at once when the claimer ran on this host and its pid is gone.
A live sender renews the lease of the rows it holds (renew) and never re-takes its own rows.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, bindparam, delete, exists, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db import UTCDateTime, utcnow
from newsletter.delivery.subscribers import record_hard_bounce
from newsletter.models import Delivery, Subscriber, Suppression

FINAL_STATES = ("sent", "failed", "bounced")


def worker_id() -> str:
    """host:pid:nonce; the host and pid let a restart on the same machine spot its dead predecessor."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True)
class Job:
    delivery_id: int
    subscriber_id: int
    email: str
    name: str | None
    token: str
    attempts: int
    first_failed_at: datetime | None = None
    language: str | None = None  # the subscriber's: which edition they get


@dataclass(frozen=True)
class Outcome:
    job: Job
    kind: Literal["sent", "retry", "failed", "release"]
    message_id: str | None = None
    error: str | None = None
    hard_bounce: bool = False
    not_before: datetime | None = None  # a released row waits for the relay's pause to end


def enqueue(session: Session, issue_id: int) -> int:
    """Add a pending row for every confirmed, non-suppressed subscriber who has none for this issue."""
    now = utcnow()
    source = select(
        literal(issue_id).label("issue_id"),
        Subscriber.id,
        literal("pending").label("state"),
        literal(0).label("attempts"),
        literal(now, UTCDateTime()).label("created_at"),
    ).where(
        Subscriber.state == "confirmed",
        ~exists().where(Suppression.email == Subscriber.email),
        ~exists().where(and_(Delivery.issue_id == issue_id, Delivery.subscriber_id == Subscriber.id)),
    )
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(Delivery).from_select(
        ["issue_id", "subscriber_id", "state", "attempts", "created_at"], source
    ).on_conflict_do_nothing().returning(Delivery.id)
    return len(session.execute(stmt).all())


def _dead_local_claimers(session: Session, issue_id: int) -> list[str]:
    host = socket.gethostname()[:120]
    claimers = session.scalars(
        select(Delivery.claimed_by).where(Delivery.issue_id == issue_id, Delivery.state == "sending").distinct()
    )
    dead = []
    for claimer in claimers:
        if not claimer:
            continue
        parts = claimer.split(":")
        if len(parts) == 3 and parts[0] == host and parts[1].isdigit() and not _pid_alive(int(parts[1])):
            dead.append(claimer)
    return dead


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def drop_unsendable(session: Session, issue_id: int) -> int:
    """Pending rows of readers who unsubscribed or were suppressed after enqueue are simply removed."""
    gone = select(Subscriber.id).where(
        or_(Subscriber.state != "confirmed", exists().where(Suppression.email == Subscriber.email))
    )
    result = session.execute(
        delete(Delivery).where(Delivery.issue_id == issue_id, Delivery.state == "pending",
                               Delivery.subscriber_id.in_(gone))
    )
    return result.rowcount or 0


def drop_untried(session: Session, issue_id: int) -> int:
    """Rows queued but never attempted, removed when an editor cancels a send before it started."""
    result = session.execute(
        delete(Delivery).where(Delivery.issue_id == issue_id, Delivery.state == "pending", Delivery.attempts == 0,
                               Delivery.last_error.is_(None), Delivery.claimed_by.is_(None))
    )
    return result.rowcount or 0


def claim(session: Session, issue_id: int, claimer: str, *, limit: int, lease: timedelta) -> list[Job]:
    """Take up to `limit` due rows (pending, or sending with an expired lease) and mark them ours."""
    now = utcnow()
    dead = _dead_local_claimers(session, issue_id)
    expired = and_(Delivery.claimed_at < now - lease, Delivery.claimed_by != claimer)  # never our own live rows
    stale = or_(expired, Delivery.claimed_by.in_(dead)) if dead else expired
    stmt = (
        select(Delivery.id, Delivery.subscriber_id, Subscriber.email, Subscriber.name, Subscriber.token,
               Delivery.attempts, Delivery.first_failed_at, Subscriber.language)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(
            Delivery.issue_id == issue_id,
            or_(
                and_(Delivery.state == "pending",
                     or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now)),
                and_(Delivery.state == "sending", stale),
            ),
            Subscriber.state == "confirmed",
            ~exists().where(Suppression.email == Subscriber.email),
        )
        .order_by(Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Delivery)
    )
    rows = session.execute(stmt).all()
    if not rows:
        return []
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_([r.id for r in rows]))
        .values(state="sending", claimed_by=claimer, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return [Job(r.id, r.subscriber_id, r.email, r.name, r.token, r.attempts, r.first_failed_at, r.language)
            for r in rows]


def renew(session: Session, issue_id: int, claimer: str) -> int:
    """Refresh the lease of every row this live sender holds, so no other sender takes them over."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.issue_id == issue_id, Delivery.state == "sending", Delivery.claimed_by == claimer)
        .values(claimed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def backoff(attempts: int, settings: Settings) -> timedelta:
    """send_backoff_seconds, doubling with each attempt up to send_backoff_max_seconds: a greylisting
    relay is retried within minutes, a mailbox that stays full is not hammered for two days."""
    seconds = settings.send_backoff_seconds * 2.0 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, max(settings.send_backoff_max_seconds, settings.send_backoff_seconds)))


def retry_until(job: Job, settings: Settings, now: datetime) -> datetime:
    """The end of a row's retry horizon: its first temporary failure plus send_retry_hours."""
    return (job.first_failed_at or now) + timedelta(hours=settings.send_retry_hours)


def gives_up(job: Job, settings: Settings, now: datetime) -> bool:
    """Whether a temporary failure now ends the row: its horizon is over (or the optional attempt cap)."""
    if settings.send_max_attempts and job.attempts + 1 >= settings.send_max_attempts:
        return True
    return now >= retry_until(job, settings, now)


_MARK_SENT = (
    update(Delivery.__table__)
    .where(Delivery.__table__.c.id == bindparam("b_id"))
    .values(state="sent", message_id=bindparam("b_mid"), sent_at=bindparam("b_now"), last_error=None,
            next_attempt_at=None)
)


def record_sent(conn: Connection, outcomes: Iterable[Outcome]) -> None:
    """The common case, on a bare connection: a session costs more than the UPDATE itself at 1,000 msg/s."""
    now = utcnow()
    conn.execute(_MARK_SENT, [{"b_id": o.job.delivery_id, "b_mid": o.message_id, "b_now": now} for o in outcomes])


def record(session: Session, outcomes: Iterable[Outcome], *, settings: Settings) -> dict[int, str]:
    """Write what the SMTP server said; one transaction for a group of outcomes.

    Returns the state each non-sent row ended in, so the caller counts what the outbox says.
    """
    now = utcnow()
    sent, other = [], []
    for o in outcomes:
        (sent if o.kind == "sent" else other).append(o)
    if sent:
        record_sent(session.connection(), sent)
    states: dict[int, str] = {}
    for o in other:
        values: dict[str, object]
        if o.kind == "release":
            values = {"state": "pending", "claimed_by": None, "claimed_at": None}
            if o.not_before is not None:
                values["next_attempt_at"] = o.not_before
            if o.error:
                values["last_error"] = o.error
        elif o.kind == "retry" and not gives_up(o.job, settings, now):
            values = {"state": "pending", "attempts": o.job.attempts + 1, "last_error": o.error,
                      "first_failed_at": o.job.first_failed_at or now,
                      "next_attempt_at": min(now + backoff(o.job.attempts + 1, settings),
                                             retry_until(o.job, settings, now)),
                      "claimed_by": None, "claimed_at": None}
        else:
            values = {"state": "failed", "attempts": o.job.attempts + 1, "last_error": o.error,
                      "message_id": o.message_id, "claimed_by": None, "claimed_at": None,
                      "first_failed_at": o.job.first_failed_at or now}
        states[o.job.delivery_id] = str(values["state"])
        session.execute(update(Delivery).where(Delivery.id == o.job.delivery_id).values(**values)
                        .execution_options(synchronize_session=False))
        if o.kind == "failed" and o.hard_bounce:
            sub = session.get(Subscriber, o.job.subscriber_id)
            if sub is not None:
                record_hard_bounce(session, sub, settings=settings)
    return states


def release(session: Session, issue_id: int, claimer: str) -> int:
    """Give back rows this process claimed but never tried (clean shutdown), so others take them at once."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.issue_id == issue_id, Delivery.state == "sending", Delivery.claimed_by == claimer)
        .values(state="pending", claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def counts(session: Session, issue_id: int) -> dict[str, int]:
    rows = session.execute(
        select(Delivery.state, func.count()).where(Delivery.issue_id == issue_id).group_by(Delivery.state)
    ).all()
    return {state: n for state, n in rows}


def next_retry_at(session: Session, issue_id: int) -> datetime | None:
    """When the earliest postponed row becomes due; None when nothing is pending."""
    return session.scalar(
        select(func.min(func.coalesce(Delivery.next_attempt_at, Delivery.created_at), type_=UTCDateTime()))
        .where(Delivery.issue_id == issue_id, Delivery.state == "pending")
    )


def _sendable() -> Any:
    return select(Subscriber.id).where(
        Subscriber.state == "confirmed", ~exists().where(Suppression.email == Subscriber.email))


def requeueable(session: Session, issue_id: int) -> int:
    """Failed rows that requeue_failed would put back (their readers can still be mailed)."""
    return session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.issue_id == issue_id, Delivery.state == "failed", Delivery.subscriber_id.in_(_sendable()))) or 0


def requeue_failed(session: Session, issue_id: int) -> int:
    """An editor's deliberate retry: failed rows of readers who can still be mailed become pending
    again with a fresh horizon. Hard-bounced, unsubscribed or suppressed readers stay failed."""
    sendable = _sendable()
    result = session.execute(
        update(Delivery)
        .where(Delivery.issue_id == issue_id, Delivery.state == "failed", Delivery.subscriber_id.in_(sendable))
        .values(state="pending", attempts=0, first_failed_at=None, next_attempt_at=None, claimed_by=None,
                claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def reason_class(error: str | None) -> str:
    """Group errors for a summary line: the SMTP code and its text, or the kind of network failure."""
    if not error:
        return "no reason recorded"
    head, _, rest = error.partition(": ")
    if head[:3].isdigit():
        return error[:60].rstrip()
    if rest[:3].isdigit():
        return f"{head}: {rest[:3]}"
    return head[:60]


def undelivered(session: Session, issue_id: int) -> dict[str, dict[str, int]]:
    """Rows not delivered, per state (failed, pending) and reason class, for reports and checks."""
    rows = session.execute(
        select(Delivery.state, Delivery.last_error, func.count())
        .where(Delivery.issue_id == issue_id, Delivery.state.in_(("failed", "pending", "sending")))
        .group_by(Delivery.state, Delivery.last_error)
    ).all()
    out: dict[str, dict[str, int]] = {}
    for state, error, n in rows:
        if state != "failed" and not error:
            continue  # not tried yet: nothing went wrong
        key = "failed" if state == "failed" else "postponed"
        per = out.setdefault(key, {})
        cls = reason_class(error)
        per[cls] = per.get(cls, 0) + n
    return out

