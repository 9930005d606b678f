"""Bounces (RFC 3464 reports and, via flufl.bounce, other formats), complaints (ARF) and mailto
unsubscribes, from a file, stdin or IMAP.

A DSN names the failed recipient and usually returns the headers of our message; our Message-IDs
carry the delivery id and a keyed tag, so a bounce is tied to the exact outbox row when possible
and to the address otherwise. Only permanent failures (Action: failed, Status: 5.x.x) count
towards settings.bounce_threshold; delays and 4.x.x are reported and ignored. A complaint (the
reader pressed "spam", ARF feedback-type abuse) unsubscribes and suppresses at once, audited.
"""

from __future__ import annotations

import hmac
import imaplib
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from email.parser import HeaderParser
from email.utils import parseaddr
from urllib.parse import unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter import audit
from newsletter.config import Settings
from newsletter.db import utcnow
from newsletter.delivery.addresses import InvalidEmail, normalize_email
from newsletter.delivery.bounce_formats import Complaint, other_format_failures, parse_arf, returned_message_id
from newsletter.delivery.subscribers import by_token, mark_unsubscribed, record_hard_bounce, suppress
from newsletter.delivery.tokens import message_id_tag
from newsletter.models import Delivery, Subscriber

_OUR_MESSAGE_ID = re.compile(r"<[^.<>]+\.(\d+)\.(\d+)\.([0-9a-f]{12})@[^<>]+>")
_UNSUBSCRIBE_SUBJECT = re.compile(r"^\s*unsubscribe\s+([A-Za-z0-9_-]{20,64})\s*$", re.IGNORECASE)
_MBOX_SEPARATOR = re.compile(rb"(?m)^From [^\r\n]*\r?\n")


@dataclass(frozen=True)
class Bounce:
    recipient: str | None
    action: str
    status: str
    diagnostic: str
    message_id: str | None

    @property
    def hard(self) -> bool:
        return self.action == "failed" and self.status.startswith("5")


@dataclass
class BounceReport:
    messages: int = 0
    hard: int = 0
    soft: int = 0
    duplicates: int = 0
    unknown: int = 0
    unsubscribed: int = 0
    complaints: int = 0
    ignored: int = 0
    bounced_subscribers: int = 0
    details: list[str] = field(default_factory=list)


def split_messages(data: bytes) -> list[bytes]:
    """One message, or an mbox of several (lines starting with "From " separate them)."""
    if not data.startswith(b"From "):
        return [data] if data.strip() else []
    parts = _MBOX_SEPARATOR.split(data)
    return [re.sub(rb"(?m)^>(>*From )", rb"\1", p) for p in parts if p.strip()]


def _header_block_value(block: Message, name: str) -> str:
    return " ".join(str(block.get(name, "")).split())


def parse_dsn(msg: Message) -> list[Bounce]:
    """The per-recipient results of a multipart/report; report-type=delivery-status (empty if not a DSN)."""
    if msg.get_content_type() != "multipart/report":
        return []
    original_id: str | None = None
    blocks: list[Message] = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            payload = part.get_payload()
            if isinstance(payload, list):
                blocks = [b for b in payload if isinstance(b, Message)]
            elif isinstance(payload, str):
                blocks = [HeaderParser().parsestr(chunk) for chunk in re.split(r"\r?\n\r?\n", payload) if chunk.strip()]
        elif ctype in ("message/rfc822", "message/global") and original_id is None:
            inner = part.get_payload()
            inner_msg = inner[0] if isinstance(inner, list) and inner else None
            if isinstance(inner_msg, Message):
                original_id = _header_block_value(inner_msg, "Message-ID") or None
        elif ctype in ("text/rfc822-headers", "message/rfc822-headers") and original_id is None:
            text = part.get_payload(decode=True) or b""
            headers = HeaderParser().parsestr(text.decode("utf-8", "replace"))
            original_id = _header_block_value(headers, "Message-ID") or None
    bounces = []
    for block in blocks[1:] if len(blocks) > 1 else blocks:
        action = _header_block_value(block, "Action").lower()
        if not action:
            continue
        recipient = _header_block_value(block, "Final-Recipient") or _header_block_value(block, "Original-Recipient")
        address = recipient.split(";", 1)[-1].strip() if recipient else None
        status = _header_block_value(block, "Status").split(" ")[0]
        bounces.append(Bounce(address or None, action, status, _header_block_value(block, "Diagnostic-Code")[:500],
                              original_id))
    return bounces


def _our_delivery(session: Session, settings: Settings, message_id: str | None) -> Delivery | None:
    if not message_id:
        return None
    m = _OUR_MESSAGE_ID.search(message_id)
    if not m:
        return None
    issue_id, delivery_id, tag = int(m.group(1)), int(m.group(2)), m.group(3)
    if not hmac.compare_digest(tag, message_id_tag(settings.secret, issue_id, delivery_id)):
        return None
    delivery = session.get(Delivery, delivery_id)
    return delivery if delivery is not None and delivery.issue_id == issue_id else None


def _subscriber_by_address(session: Session, address: str | None) -> Subscriber | None:
    if not address:
        return None
    try:
        email = normalize_email(address)
    except InvalidEmail:
        return None
    return session.scalar(select(Subscriber).where(Subscriber.email == email))


def process_messages(session: Session, messages: Iterable[bytes | Message], *, settings: Settings) -> BounceReport:
    """Apply DSNs (hard bounces count; at the threshold the reader is bounced and suppressed) and
    mailto unsubscribes ("unsubscribe <token>" in the subject, as our List-Unsubscribe asks)."""
    report = BounceReport()
    for raw in messages:
        msg = raw if isinstance(raw, Message) else message_from_bytes(raw, policy=policy.compat32)
        report.messages += 1
        bounces = parse_dsn(msg)
        if not bounces:
            complaint = parse_arf(msg)
            if complaint is not None:
                _complain(session, settings, complaint, report)
                continue
            bounces = _other_format(msg)
        if not bounces:
            _maybe_unsubscribe(session, msg, report)
            continue
        for bounce in bounces:
            _apply(session, settings, bounce, report)
    session.flush()
    return report


def _apply(session: Session, settings: Settings, bounce: Bounce, report: BounceReport) -> None:
    if not bounce.hard:
        report.soft += 1
        return
    delivery = _our_delivery(session, settings, bounce.message_id)
    if delivery is not None and delivery.state == "bounced":
        report.duplicates += 1
        return
    sub = delivery.subscriber if delivery is not None else _subscriber_by_address(session, bounce.recipient)
    if sub is None:
        report.unknown += 1
        report.details.append(f"hard bounce for an unknown recipient ({bounce.status})")
        return
    if delivery is not None:
        delivery.state = "bounced"
        delivery.last_error = f"{bounce.status} {bounce.diagnostic}".strip()
    report.hard += 1
    if record_hard_bounce(session, sub, settings=settings):
        report.bounced_subscribers += 1
        report.details.append(f"subscriber #{sub.id} bounced after {sub.bounce_count} hard bounce(s) and is suppressed")


def _other_format(msg: Message) -> list[Bounce]:
    """Exim, qmail, old Postfix, webmail bounces through flufl.bounce (which gives no status codes)."""
    temporary, permanent = other_format_failures(msg)
    if not temporary and not permanent:
        return []
    original = returned_message_id(msg)
    return ([Bounce(a, "failed", "5.0.0", "permanent failure (non-DSN bounce)", original) for a in permanent]
            + [Bounce(a, "delayed", "4.0.0", "temporary failure (non-DSN bounce)", original) for a in temporary])


def _complain(session: Session, settings: Settings, complaint: Complaint, report: BounceReport) -> None:
    """A spam complaint is the clearest "stop": unsubscribe and suppress at once, and audit it."""
    if complaint.feedback_type != "abuse":
        report.ignored += 1
        report.details.append(f"feedback report of type {complaint.feedback_type or 'unknown'!r} ignored")
        return
    delivery = _our_delivery(session, settings, complaint.message_id)
    sub = delivery.subscriber if delivery is not None else by_token(session, complaint.token or "")
    if sub is None:
        sub = _subscriber_by_address(session, complaint.recipient)
    if sub is None:
        report.unknown += 1
        report.details.append(f"complaint from {complaint.reporter} for an unknown recipient")
        return
    before = sub.state
    if sub.state != "unsubscribed":
        sub.state = "unsubscribed"
        sub.unsubscribed_at = utcnow()
    suppress(session, sub.email, "complaint")
    audit.record(session, actor="feedback loop", action="subscriber.complaint", entity_type="subscriber",
                 entity_id=sub.id, changes={"state": audit.change(before, sub.state)},
                 note=f"ARF abuse report from {complaint.reporter}")
    report.complaints += 1
    report.details.append(f"subscriber #{sub.id} complained (marked as spam): unsubscribed and suppressed")


def _maybe_unsubscribe(session: Session, msg: Message, report: BounceReport) -> None:
    m = _UNSUBSCRIBE_SUBJECT.match(str(msg.get("Subject", "")))
    sub = by_token(session, m.group(1)) if m else None
    if sub is None:
        report.ignored += 1
        return
    sender = parseaddr(str(msg.get("From", "")))[1].lower()
    if sender and sender != sub.email:
        # A forwarded mailbox may answer from another address; the token alone proves the link came to them.
        report.details.append(f"subscriber #{sub.id} unsubscribed by mail from another address")
    mark_unsubscribed(session, sub)
    report.unsubscribed += 1


# ---------------------------------------------------------------- IMAP


@dataclass
class ImapBox:
    client: imaplib.IMAP4
    uids: list[bytes] = field(default_factory=list)

    def fetch_unseen(self, limit: int = 1000) -> list[bytes]:
        status, data = self.client.uid("SEARCH", None, "UNSEEN")  # type: ignore[arg-type]
        if status != "OK":
            raise ImapError(f"IMAP SEARCH failed: {data!r}")
        self.uids = (data[0] or b"").split()[:limit]
        messages = []
        for uid in self.uids:
            status, parts = self.client.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
            if status != "OK":
                raise ImapError(f"IMAP FETCH failed for message {uid.decode()}")
            for part in parts:
                if isinstance(part, tuple):
                    messages.append(part[1])
        return messages

    def mark_seen(self) -> None:
        """Called after the database commit, so a crash in between re-reads rather than loses a bounce."""
        for uid in self.uids:
            self.client.uid("STORE", uid.decode(), "+FLAGS", "(\\Seen)")


class ImapError(Exception):
    """The mailbox could not be read; the message names the server, never the password."""


@contextmanager
def imap_mailbox(settings: Settings) -> Iterator[ImapBox]:
    """imap://user:pass@host[:port]/MAILBOX (or imaps:// for TLS); the mailbox defaults to INBOX."""
    if not settings.imap_url:
        raise ImapError("NEWSLETTER_IMAP_URL is not set (e.g. imaps://bounces%40example.org:password@mail.example.org/INBOX)")
    parts = urlsplit(settings.imap_url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise ImapError("NEWSLETTER_IMAP_URL must look like imaps://user:password@host/INBOX")
    host = parts.hostname
    try:
        if parts.scheme == "imaps":
            client: imaplib.IMAP4 = imaplib.IMAP4_SSL(host, parts.port or 993, timeout=60)
        else:
            client = imaplib.IMAP4(host, parts.port or 143, timeout=60)
    except OSError as exc:
        raise ImapError(f"cannot connect to IMAP server {host}: {exc}") from exc
    try:
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        mailbox = unquote(parts.path.lstrip("/")) or "INBOX"
        status, _ = client.select(mailbox)
        if status != "OK":
            raise ImapError(f"IMAP mailbox {mailbox!r} not found on {host}")
        yield ImapBox(client)
    except imaplib.IMAP4.error as exc:
        raise ImapError(f"IMAP error from {host}: {exc}") from exc
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
