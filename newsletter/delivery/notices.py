"""The outbox of correction notices: one row per (correction, subscriber), with a Delivery's life.

A correction email goes to every reader whose delivery of the corrected issue was sent and who is
still subscribed, exactly once: rows are enqueued with ON CONFLICT DO NOTHING on
(correction_id, subscriber_id), and the same Sender (newsletter.delivery.sender) drains them with
the same claim / lease / retry / crash rules as an issue's outbox (see delivery.outbox), through the
functions below, which mirror outbox's signatures with a correction id in place of an issue id.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, delete, exists, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db import UTCDateTime, utcnow
from newsletter.delivery.outbox import Job, Outcome, _pid_alive, backoff, gives_up, retry_until
from newsletter.delivery.subscribers import record_hard_bounce
from newsletter.models import CorrectionNotice, Delivery, Subscriber, Suppression

N = CorrectionNotice


def _sendable_now() -> list[object]:
    return [Subscriber.state == "confirmed", ~exists().where(Suppression.email == Subscriber.email)]


def enqueue(session: Session, correction_id: int, issue_id: int) -> int:
    """A pending row for every reader who was sent `issue_id` and can still be mailed, unless queued already."""
    now = utcnow()
    source = select(
        literal(correction_id).label("correction_id"), Subscriber.id, literal("pending").label("state"),
        literal(0).label("attempts"), literal(now, UTCDateTime()).label("created_at"),
    ).where(
        *_sendable_now(),
        exists().where(Delivery.issue_id == issue_id, Delivery.subscriber_id == Subscriber.id, Delivery.state == "sent"),
        ~exists().where(N.correction_id == correction_id, N.subscriber_id == Subscriber.id),
    )
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(N).from_select(
        ["correction_id", "subscriber_id", "state", "attempts", "created_at"], source
    ).on_conflict_do_nothing().returning(N.id)
    return len(session.execute(stmt).all())


def _dead_local_claimers(session: Session, correction_id: int) -> list[str]:
    host = socket.gethostname()[:120]
    dead = []
    for claimer in session.scalars(select(N.claimed_by).where(N.correction_id == correction_id,
                                                              N.state == "sending").distinct()):
        parts = (claimer or "").split(":")
        if len(parts) == 3 and parts[0] == host and parts[1].isdigit() and not _pid_alive(int(parts[1])):
            dead.append(claimer)
    return dead


def drop_unsendable(session: Session, correction_id: int) -> int:
    """Pending rows of readers who left since they were queued are removed."""
    gone = select(Subscriber.id).where(or_(Subscriber.state != "confirmed",
                                           exists().where(Suppression.email == Subscriber.email)))
    result = session.execute(delete(N).where(N.correction_id == correction_id, N.state == "pending",
                                             N.subscriber_id.in_(gone)))
    return result.rowcount or 0


def claim(session: Session, correction_id: int, claimer: str, *, limit: int, lease: timedelta) -> list[Job]:
    """Take due rows (pending, or sending with an expired lease or a dead local claimer) and mark them ours."""
    now = utcnow()
    dead = _dead_local_claimers(session, correction_id)
    expired = and_(N.claimed_at < now - lease, N.claimed_by != claimer)
    stale = or_(expired, N.claimed_by.in_(dead)) if dead else expired
    rows = session.execute(
        select(N.id, N.subscriber_id, Subscriber.email, Subscriber.name, Subscriber.token, N.attempts,
               N.first_failed_at, Subscriber.language)
        .join(Subscriber, Subscriber.id == N.subscriber_id)
        .where(N.correction_id == correction_id,
               or_(and_(N.state == "pending", or_(N.next_attempt_at.is_(None), N.next_attempt_at <= now)),
                   and_(N.state == "sending", stale)),
               *_sendable_now())
        .order_by(N.id).limit(limit).with_for_update(skip_locked=True, of=N)
    ).all()
    if not rows:
        return []
    session.execute(update(N).where(N.id.in_([r.id for r in rows]))
                    .values(state="sending", claimed_by=claimer, claimed_at=now)
                    .execution_options(synchronize_session=False))
    return [Job(r.id, r.subscriber_id, r.email, r.name, r.token, r.attempts, r.first_failed_at, r.language)
            for r in rows]  # the language: which edition's notice the reader gets


def renew(session: Session, correction_id: int, claimer: str) -> int:
    result = session.execute(update(N).where(N.correction_id == correction_id, N.state == "sending",
                                             N.claimed_by == claimer).values(claimed_at=utcnow())
                             .execution_options(synchronize_session=False))
    return result.rowcount or 0


_MARK_SENT = (
    update(N.__table__).where(N.__table__.c.id == bindparam("b_id"))
    .values(state="sent", message_id=bindparam("b_mid"), sent_at=bindparam("b_now"), last_error=None,
            next_attempt_at=None)
)


def record_sent(conn: Connection, outcomes: Iterable[Outcome]) -> None:
    now = utcnow()
    conn.execute(_MARK_SENT, [{"b_id": o.job.delivery_id, "b_mid": o.message_id, "b_now": now} for o in outcomes])


def record(session: Session, outcomes: Iterable[Outcome], *, settings: Settings) -> dict[int, str]:
    """What the SMTP server said, as outbox.record writes it for deliveries."""
    now = utcnow()
    outcomes = list(outcomes)
    sent = [o for o in outcomes if o.kind == "sent"]
    if sent:
        record_sent(session.connection(), sent)
    states: dict[int, str] = {}
    for o in outcomes:
        if o.kind == "sent":
            continue
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
        session.execute(update(N).where(N.id == o.job.delivery_id).values(**values)
                        .execution_options(synchronize_session=False))
        if o.kind == "failed" and o.hard_bounce:
            sub = session.get(Subscriber, o.job.subscriber_id)
            if sub is not None:
                record_hard_bounce(session, sub, settings=settings)
    return states


def release(session: Session, correction_id: int, claimer: str) -> int:
    result = session.execute(update(N).where(N.correction_id == correction_id, N.state == "sending",
                                             N.claimed_by == claimer)
                             .values(state="pending", claimed_by=None, claimed_at=None)
                             .execution_options(synchronize_session=False))
    return result.rowcount or 0


def counts(session: Session, correction_id: int) -> dict[str, int]:
    rows = session.execute(select(N.state, func.count()).where(N.correction_id == correction_id).group_by(N.state))
    return {state: n for state, n in rows}


def next_retry_at(session: Session, correction_id: int) -> datetime | None:
    return session.scalar(
        select(func.min(func.coalesce(N.next_attempt_at, N.created_at), type_=UTCDateTime()))
        .where(N.correction_id == correction_id, N.state == "pending")
    )


def unfinished(session: Session) -> list[int]:
    """Correction ids with rows still pending or being sent."""
    return list(session.scalars(select(N.correction_id).where(N.state.in_(("pending", "sending")))
                                .distinct().order_by(N.correction_id)))
