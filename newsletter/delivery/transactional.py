"""One-off emails to one person (the subscription confirmation), from templates/email/<name>/.

Each email is a folder with subject.txt.j2, body.txt.j2 and body.html.j2, overridable file by file
from the user's template folder (newsletter.templating, kind MAIL). Mails are queued on the session
and sent only after its commit, so a rolled-back request never sends a link to a row that does not
exist. A caller that must not
wait for the relay (a web page whose timing would tell a subscriber from a stranger) takes the
committed mails with `hand_over_after_commit` and sends them itself, after its response.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db import utcnow
from newsletter.delivery.message import address_domain
from newsletter.delivery.smtp import send_sync
from newsletter.i18n import use_language
from newsletter.templating import MAIL, environment

log = logging.getLogger(__name__)
_QUEUE_KEY = "delivery.transactional"
_HANDOVER_KEY = "delivery.transactional.handover"


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str


def render_mail(settings: Settings, name: str, to: str, context: dict[str, Any], *, language: str | None = None) -> Mail:
    """Render one mail; `language` (the reader's) binds its words, whatever the page around it uses."""
    env = environment(settings, MAIL)
    lang = language or settings.language
    ctx = {"settings": settings, "org_name": settings.org_name, "language": lang, **context}
    with use_language(lang):
        subject = " ".join(env.get_template(f"{name}/subject.txt.j2").render(ctx).split())
        text = env.get_template(f"{name}/body.txt.j2").render(ctx)
        html = env.get_template(f"{name}/body.html.j2").render(ctx)
    return Mail(to=to, subject=subject, text=text, html=html)


def to_bytes(settings: Settings, mail: Mail) -> bytes:
    msg = EmailMessage()
    msg["From"] = settings.from_address
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(utcnow().replace(microsecond=0))
    msg["Message-ID"] = make_msgid(domain=address_domain(settings.from_address))
    msg["Auto-Submitted"] = "auto-generated"
    if settings.reply_to:
        msg["Reply-To"] = settings.reply_to
    msg.set_content(mail.text)
    msg.add_alternative(mail.html, subtype="html")
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def send_after_commit(session: Session, settings: Settings, mail: Mail) -> None:
    """Queue a mail on the session; it leaves when the session commits and is dropped on rollback."""
    queue: list[Mail] | None = session.info.get(_QUEUE_KEY)
    if queue is None:
        queue = session.info[_QUEUE_KEY] = []

        def flush(sess: Session) -> None:
            pending = list(sess.info.get(_QUEUE_KEY, []))
            sess.info[_QUEUE_KEY] = []
            handover: list[Mail] | None = sess.info.get(_HANDOVER_KEY)
            if handover is not None:
                handover.extend(pending)
                return
            for item in pending:
                deliver(settings, item)

        def drop(sess: Session) -> None:
            sess.info[_QUEUE_KEY] = []

        event.listen(session, "after_commit", flush)
        event.listen(session, "after_rollback", drop)
    queue.append(mail)


def hand_over_after_commit(session: Session) -> list[Mail]:
    """From now on, mails this session commits land in the returned list instead of being sent:
    the caller sends them (e.g. after its response). Rolled-back mails never land there."""
    handover: list[Mail] = []
    session.info[_HANDOVER_KEY] = handover
    return handover


def deliver(settings: Settings, mail: Mail) -> bool:
    """Send now; a relay failure is logged without the address and reported as False."""
    try:
        send_sync(settings, parseaddr(settings.from_address)[1], [mail.to], to_bytes(settings, mail))
    except (OSError, Exception) as exc:  # noqa: BLE001 - smtplib raises many unrelated types
        log.warning("transactional mail %r not sent: %s", mail.subject, type(exc).__name__)
        return False
    return True
