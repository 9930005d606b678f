"""Subscribers and consent: double opt-in, unsubscribe, suppression, bounces, import and export.

The suppression list is the last word: an address on it is never mailed and never re-added by an
import. Only its owner lifts it, by asking again on the web form and confirming from the mailbox.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from newsletter import audit
from newsletter.config import Settings
from newsletter.db import utcnow
from newsletter.delivery.addresses import InvalidLanguage, normalize_email, normalize_language
from newsletter.delivery.subscriber_csv import known_languages, read_rows
from newsletter.delivery.tokens import (
    TokenInvalid,
    make_confirm_token,
    new_subscriber_token,
    read_confirm_token,
)
from newsletter.delivery.transactional import render_mail, send_after_commit
from newsletter.i18n import N_, Refusal
from newsletter.models import SUBSCRIBER_STATES, Subscriber, Suppression, User

# A repeated sign-up within this time sends no second confirmation: the form cannot be used to flood a mailbox.
RESEND_INTERVAL = timedelta(minutes=5)
EXPORT_FIELDS = ("email", "name", "language", "state", "consent_source", "consent_at", "confirmed_at",
                 "unsubscribed_at", "bounce_count")


class SubscriberError(Refusal, ValueError):
    """A request about a subscriber that cannot be honoured; the message is shown to the person."""


def find(session: Session, email: str) -> Subscriber | None:
    return session.scalar(select(Subscriber).where(Subscriber.email == email))


def suppression_of(session: Session, email: str) -> Suppression | None:
    return session.scalar(select(Suppression).where(Suppression.email == email))


def suppress(session: Session, email: str, reason: str) -> Suppression:
    """Put an address on the suppression list (idempotent; the first reason is kept)."""
    row = suppression_of(session, email)
    if row is None:
        row = Suppression(email=email, reason=reason)
        session.add(row)
        session.flush()
    return row


def reader_language(raw: str | None, settings: Settings) -> str:
    """A reader's language: one the newsletter has an edition or pages for (a typo such as 'xx'
    would leave the reader with mail in a language nobody chose)."""
    value = normalize_language(raw, settings.language)
    known = known_languages(settings)
    if value not in known:
        raise InvalidLanguage(N_("%(value)s is not a language of this newsletter; choose one of %(choices)s"),
                              value=repr(value), choices=", ".join(known))
    return value


def subscribe(session: Session, *, email: str, language: str, source: str, settings: Settings,
              name: str | None = None) -> Subscriber:
    """Record a sign-up as pending and email a confirmation link (sent after the commit).

    A confirmed address gets no mail and the caller shows the same page, so the form does not
    reveal who is subscribed.
    """
    address = normalize_email(email)
    lang = reader_language(language, settings)
    sub = find(session, address)
    now = utcnow()
    if sub is not None and sub.state == "confirmed":
        return sub
    if sub is None:
        sub = Subscriber(email=address, name=name, state="pending", language=lang,
                         token=new_subscriber_token(), consent_source=source)
        session.add(sub)
    else:
        recently = sub.state == "pending" and sub.updated_at and now - sub.updated_at < RESEND_INTERVAL
        sub.language = lang
        sub.consent_source = source
        if recently:
            return sub
        sub.state = "pending"
        sub.updated_at = now
    session.flush()
    send_confirmation(session, sub, settings=settings)
    return sub


def confirm_url(settings: Settings, sub: Subscriber) -> str:
    return f"{settings.base_url}/confirm/{make_confirm_token(settings.secret, sub.token)}"


def send_confirmation(session: Session, sub: Subscriber, *, settings: Settings) -> None:
    days = max(1, settings.confirm_token_max_age // 86400)
    mail = render_mail(settings, "confirm", sub.email, {
        "confirm_url": confirm_url(settings, sub), "valid_days": days,
    }, language=sub.language)
    send_after_commit(session, settings, mail)


def confirm(session: Session, token: str, *, settings: Settings) -> Subscriber:
    """Confirm a sign-up from the emailed link; lifts a suppression because the owner asked again."""
    sub_token = read_confirm_token(settings.secret, token, settings.confirm_token_max_age)
    sub = session.scalar(select(Subscriber).where(Subscriber.token == sub_token))
    if sub is None:
        raise TokenInvalid("this confirmation link is not valid")
    if sub.state != "confirmed":
        now = utcnow()
        sub.state = "confirmed"
        sub.confirmed_at = now
        sub.consent_at = now
        sub.unsubscribed_at = None
        sub.bounce_count = 0
        session.execute(delete(Suppression).where(Suppression.email == sub.email))
        session.flush()
    return sub


def reader_choices(settings: Settings) -> list[str]:
    """The languages a reader may choose on the web: the editions (NEWSLETTER_LANGUAGES), the default first;
    without that setting, as before editions existed, any language the pages speak."""
    return list(settings.languages) if settings.languages else known_languages(settings)


def change_language(session: Session, sub: Subscriber, language: str, *, settings: Settings) -> Subscriber:
    """The reader's own choice of edition (the preferences page): only a language they may choose."""
    if language not in reader_choices(settings):
        raise InvalidLanguage(N_("%(value)s is not a language of this newsletter; choose one of %(choices)s"),
                              value=repr(language), choices=", ".join(reader_choices(settings)))
    sub.language = language
    session.flush()
    return sub


def by_token(session: Session, token: str) -> Subscriber | None:
    if not token or len(token) > 64:
        return None
    return session.scalar(select(Subscriber).where(Subscriber.token == token))


def unsubscribe(session: Session, token: str) -> Subscriber:
    """Unsubscribe at once (link, one-click POST or mailto) and suppress the address for good."""
    sub = by_token(session, token)
    if sub is None:
        raise TokenInvalid("this unsubscribe link is not valid")
    mark_unsubscribed(session, sub)
    return sub


def mark_unsubscribed(session: Session, sub: Subscriber) -> None:
    if sub.state != "unsubscribed":
        sub.state = "unsubscribed"
        sub.unsubscribed_at = utcnow()
    suppress(session, sub.email, "unsubscribed")
    session.flush()


def record_hard_bounce(session: Session, sub: Subscriber, *, settings: Settings) -> bool:
    """Count a hard bounce; at settings.bounce_threshold the subscriber is bounced and suppressed."""
    sub.bounce_count = (sub.bounce_count or 0) + 1
    if sub.bounce_count >= settings.bounce_threshold and sub.state != "bounced":
        if sub.state != "unsubscribed":
            sub.state = "bounced"
        suppress(session, sub.email, "bounced")
        session.flush()
        return True
    session.flush()
    return False


# ---------------------------------------------------------------- desk


def add_by_editor(session: Session, *, email: str, name: str | None, language: str, consent_documented: bool,
                  settings: Settings, actor: User | str) -> Subscriber:
    """An editor adds a reader: confirmed when consent is on record elsewhere, else double opt-in."""
    address = normalize_email(email)
    blocked = suppression_of(session, address)
    if blocked is not None:
        raise SubscriberError(N_("%(address)s is on the suppression list (%(reason)s); only its owner can subscribe it again"),
                              address=address, reason=blocked.reason)
    if find(session, address) is not None:
        raise SubscriberError(N_("%(address)s is already on the list"), address=address)
    label = actor.email if isinstance(actor, User) else str(actor)
    if consent_documented:
        now = utcnow()
        sub = Subscriber(email=address, name=name or None, state="confirmed",
                         language=reader_language(language, settings), token=new_subscriber_token(),
                         consent_source=f"desk: added by {label}", consent_at=now, confirmed_at=now)
        session.add(sub)
        session.flush()
    else:
        sub = subscribe(session, email=address, language=language, source=f"desk: invited by {label}",
                        settings=settings, name=name or None)
    audit.record(session, actor=actor, action="subscriber.add", entity_type="subscriber", entity_id=sub.id,
                 changes={"state": sub.state})
    return sub


def unsubscribe_by_editor(session: Session, sub: Subscriber, *, actor: User | str) -> None:
    mark_unsubscribed(session, sub)
    audit.record(session, actor=actor, action="subscriber.unsubscribe", entity_type="subscriber", entity_id=sub.id)


@dataclass
class Page:
    rows: list[Subscriber]
    total: int
    page: int
    per_page: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def list_subscribers(session: Session, *, state: str | None = None, query: str | None = None,
                     page: int = 1, per_page: int = 50) -> Page:
    stmt = select(Subscriber)
    if state in SUBSCRIBER_STATES:
        stmt = stmt.where(Subscriber.state == state)
    if query:
        like = f"%{query.strip().lower().replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(func.lower(Subscriber.email).like(like), func.lower(Subscriber.name).like(like)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = max(1, page)
    rows = list(session.scalars(stmt.order_by(Subscriber.created_at.desc(), Subscriber.id.desc())
                                .offset((page - 1) * per_page).limit(per_page)))
    return Page(rows=rows, total=total, page=page, per_page=per_page, counts=state_counts(session))


def state_counts(session: Session) -> dict[str, int]:
    """How many subscribers are in each state: all that editors who are not admins may see of the list."""
    return dict(session.execute(select(Subscriber.state, func.count()).group_by(Subscriber.state)).all())


def sendable_by_language(session: Session) -> dict[str, int]:
    """Who a send would mail now, per reader language: confirmed and not on the suppression list
    (the same readers outbox.enqueue takes), for the desk's confirmation before a send."""
    suppressed = select(Suppression.id).where(Suppression.email == Subscriber.email).exists()
    rows = session.execute(select(Subscriber.language, func.count())
                           .where(Subscriber.state == "confirmed", ~suppressed)
                           .group_by(Subscriber.language).order_by(Subscriber.language)).all()
    return {language: n for language, n in rows}


def list_suppressions(session: Session, *, query: str | None = None, limit: int = 200) -> list[Suppression]:
    stmt = select(Suppression)
    if query:
        stmt = stmt.where(Suppression.email.like(f"%{query.strip().lower()}%"))
    return list(session.scalars(stmt.order_by(Suppression.created_at.desc()).limit(limit)))


# ---------------------------------------------------------------- import / export


@dataclass
class ImportReport:
    created: int = 0
    existing: int = 0
    suppressed: int = 0
    notes: list[str] = field(default_factory=list)


def import_subscribers(session: Session, path: Path | str, *, source: str | None = None,
                       settings: Settings | None = None) -> ImportReport:
    """Import a CSV (the export's columns; only `email` is required). All or nothing.

    Every line is checked first (encoding, quotes, column count, each field); any problem raises
    CsvRefused listing them all and nothing is added. Rows without a state are confirmed
    subscribers whose consent was collected elsewhere; `source` records where ("import: list.csv"
    by default). Rows exported as unsubscribed/bounced go onto the suppression list. A suppressed
    address is never re-added; an address already on the list is left as it is.
    """
    path = Path(path)
    rows = read_rows(path, settings)
    consent = source or f"import: {path.name}"
    report = ImportReport()
    suppressed = set(session.scalars(select(Suppression.email)))
    known = set(session.scalars(select(Subscriber.email)))
    now = utcnow()
    for row in rows:
        if row.email in suppressed:
            report.suppressed += 1
            report.notes.append(f"line {row.line}: {row.email} is on the suppression list, not imported")
            continue
        if row.email in known:
            report.existing += 1
            continue
        confirmed = row.state == "confirmed"
        sub = Subscriber(email=row.email, name=row.name, state=row.state, language=row.language,
                         token=new_subscriber_token(), consent_source=row.consent_source or consent,
                         consent_at=row.dates["consent_at"] or (now if confirmed else None),
                         confirmed_at=row.dates["confirmed_at"] or (now if confirmed else None),
                         bounce_count=row.bounce_count)
        if row.state in ("unsubscribed", "bounced"):
            sub.unsubscribed_at = row.dates["unsubscribed_at"] or (now if row.state == "unsubscribed" else None)
            session.add(Suppression(email=row.email, reason=row.state))
            suppressed.add(row.email)
        session.add(sub)
        known.add(row.email)
        report.created += 1
    session.flush()
    return report


def export_subscribers(session: Session) -> str:
    """All subscribers as CSV, every state, so that an export imports back with its suppressions."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_FIELDS)
    for sub in session.scalars(select(Subscriber).order_by(Subscriber.id)):
        writer.writerow([
            sub.email, sub.name or "", sub.language, sub.state, sub.consent_source,
            _iso(sub.consent_at), _iso(sub.confirmed_at), _iso(sub.unsubscribed_at), sub.bounce_count,
        ])
    return out.getvalue()


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""
