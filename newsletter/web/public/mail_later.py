"""Mail from the reader pages (/subscribe, /unsubscribe) leaves after the response, within caps.

Sending before the response would let anyone time the page to learn whether an address is
subscribed (a relay takes hundreds of milliseconds); so the request only commits, and the mails it
committed are sent by a background task once the answer has gone out. A form must not be a way to
flood someone's mailbox either: each address gets at most settings.mails_per_address_per_hour
such mails, and each client may post these forms at most settings.submit_rate_per_minute times a
minute. Both counters live in memory under keyed hashes that are thrown away (ratelimit.py);
neither an address typed into the form nor a client address is stored or logged.
"""

from __future__ import annotations

import threading

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from newsletter.config import Settings
from newsletter.delivery.transactional import Mail, deliver, hand_over_after_commit
from newsletter.submissions.ratelimit import RateLimiter
from newsletter.web.submit.common import client_key, limiter

HOUR = 3600.0
_lock = threading.Lock()


def address_limiter(request: Request) -> RateLimiter:
    """Mails per recipient address per hour, one counter per app."""
    state = request.app.state
    found = getattr(state, "mail_address_limiter", None)
    if found is None:
        with _lock:
            found = getattr(state, "mail_address_limiter", None)
            if found is None:
                runtime = request.app.state.runtime
                found = RateLimiter(runtime.settings.mails_per_address_per_hour,
                                    clock=lambda: runtime.clock.now().timestamp(), window=HOUR)
                state.mail_address_limiter = found
    return found


def client_wait(request: Request) -> float | None:
    """Count one post of a reader form; seconds to wait when this client posts too often."""
    return limiter(request, "reader_forms").hit(client_key(request))


def mail_after_response(request: Request, session: Session) -> BackgroundTask:
    """A task for the response: it sends what the request's transaction committed, capped per address."""
    mails = hand_over_after_commit(session)
    return BackgroundTask(_send, request.app.state.runtime.settings, mails, address_limiter(request))


def _send(settings: Settings, mails: list[Mail], per_address: RateLimiter) -> None:
    for mail in mails:
        if per_address.hit(mail.to.strip().lower()) is None:
            deliver(settings, mail)
