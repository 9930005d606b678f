"""Bounces that are not RFC 3464 reports, and complaint reports (ARF, RFC 5965).

Many servers still answer in their own words: Exim, qmail, older Postfix, large webmail
providers. flufl.bounce (Mailman's detectors) reads those. Its heuristics look at free text, so
they are only trusted on mail that comes from a mail system (null sender, MAILER-DAEMON or
postmaster, Auto-Submitted, X-Failed-Recipients): a reader's reply that happens to say
"user unknown" must never cost them their subscription.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.utils import parseaddr

from flufl.bounce import all_failures

# flufl.bounce logs every detector it tries at INFO; that is noise in our logs.
logging.getLogger("flufl.bounce").setLevel(logging.WARNING)

_SYSTEM_SENDERS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "mail.daemon")
_MESSAGE_ID_LINE = re.compile(r"(?im)^message-id:\s*(<[^<>\s]+>)")
_UNSUBSCRIBE_TOKEN = re.compile(r"/unsubscribe/([A-Za-z0-9_-]{20,64})")


@dataclass(frozen=True)
class Complaint:
    """A recipient marked our mail as spam at their provider (ARF feedback-type abuse)."""

    recipient: str | None  # Original-Rcpt-To, when the provider tells (many redact it)
    message_id: str | None  # of our message, from the returned headers
    token: str | None  # the subscriber token in the returned List-Unsubscribe header
    feedback_type: str
    reporter: str  # Reporting-MTA or User-Agent, for the audit note


def from_mail_system(msg: Message) -> bool:
    """True for mail a mail server generated (the only mail whose free text we read as a bounce)."""
    if msg.get("X-Failed-Recipients"):
        return True
    if str(msg.get("Return-Path", "")).strip() == "<>":
        return True
    auto = str(msg.get("Auto-Submitted", "")).strip().lower()
    if auto and auto != "no":
        return True
    sender = parseaddr(str(msg.get("From", "")))[1].lower()
    return sender.split("@", 1)[0] in _SYSTEM_SENDERS


def returned_message_id(msg: Message) -> str | None:
    """The Message-ID of the returned original: an attached message or headers, else quoted in the text."""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            inner = part.get_payload()
            inner_msg = inner[0] if isinstance(inner, list) and inner else None
            if isinstance(inner_msg, Message) and inner_msg.get("Message-ID"):
                return " ".join(str(inner_msg["Message-ID"]).split())
        elif ctype in ("text/rfc822-headers", "message/rfc822-headers"):
            raw = part.get_payload(decode=True) or b""
            headers = HeaderParser().parsestr(raw.decode("utf-8", "replace"))
            if headers.get("Message-ID"):
                return " ".join(str(headers["Message-ID"]).split())
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            raw = part.get_payload(decode=True) or b""
            m = _MESSAGE_ID_LINE.search(raw.decode("utf-8", "replace"))
            if m:
                return m.group(1)
    return None


def _returned_text(msg: Message) -> str:
    """The returned original (attached message or headers) as text; empty when none came back."""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return inner[0].as_string()
        elif ctype in ("text/rfc822-headers", "message/rfc822-headers"):
            return (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    return ""


def other_format_failures(msg: Message) -> tuple[list[str], list[str]]:
    """(temporary, permanent) failed recipients of a non-DSN bounce, both empty when not recognised."""
    if not from_mail_system(msg):
        return [], []
    try:
        temporary, permanent = all_failures(msg)
    except Exception:  # a detector that chokes on odd input means "not recognised", never a crash
        return [], []
    perm = sorted(a.decode("ascii", "replace") for a in permanent)
    temp = sorted(a.decode("ascii", "replace") for a in temporary - permanent)
    return temp, perm


def parse_arf(msg: Message) -> Complaint | None:
    """An RFC 5965 feedback report (multipart/report; report-type=feedback-report), or None."""
    if msg.get_content_type() != "multipart/report":
        return None
    if str(msg.get_param("report-type", "", header="content-type")).lower() != "feedback-report":
        return None
    fields: Message | None = None
    for part in msg.walk():
        if part.get_content_type() == "message/feedback-report":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                fields = payload[0]
            elif isinstance(payload, str):
                fields = HeaderParser().parsestr(payload)
            break
    if fields is None:
        return None
    rcpt = " ".join(str(fields.get("Original-Rcpt-To", "")).split()) or None
    reporter = " ".join(str(fields.get("Reporting-MTA") or fields.get("User-Agent") or "unknown").split())[:200]
    token = _UNSUBSCRIBE_TOKEN.search(_returned_text(msg))
    return Complaint(recipient=rcpt, message_id=returned_message_id(msg), token=token.group(1) if token else None,
                     feedback_type=" ".join(str(fields.get("Feedback-Type", "")).split()).lower(), reporter=reporter)
