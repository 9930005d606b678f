"""Builders for delivery tests: an approved issue with a frozen snapshot, confirmed subscribers, SMTP sinks."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from email import message_from_bytes
from email.header import decode_header, make_header
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import insert
from sqlalchemy.orm import Session

from newsletter.db import utcnow
from newsletter.delivery.tokens import new_subscriber_token
from newsletter.models import Issue, Subscriber
from tests.support.net import free_port


def snapshot(number: int = 1, period: str = "2026-W47") -> dict[str, Any]:
    return {
        "version": 1,
        "issue": {"number": number, "period": period, "period_start": "2026-11-16", "period_end": "2026-11-22",
                  "title": "Searches and detentions of activists", "intro": "This week volunteers in six cities reported.",
                  "language": "en", "preheader": "Searches in Almaty", "published_at": None},
        "organisation": {"name": "Test Monitor", "base_url": "http://127.0.0.1:8000"},
        "sections": [{"slug": "persecution", "title": "Intensified political persecution", "description": "",
                      "items": [{"id": 1, "headline": "Search at a journalist's flat", "text": "Police searched the flat.",
                                 "date": "2026-11-18", "date_precision": "day", "place": "Almaty", "kind": "search",
                                 "links": [{"url": "https://example.org/a", "title": "Report"}]}]}],
        "withheld": {"incidents": 2, "cities": 1},
        "persons_summary": None,
    }


RU_HEADLINE = "Обыск в квартире журналиста"


def ru_edition(number: int = 1, period: str = "2026-W47") -> dict[str, Any]:
    """The Russian edition of snapshot(): its words translated, as freezing an en,ru issue stores it."""
    data = snapshot(number, period)
    data["edition"] = "ru"
    data["issue"] |= {"language": "ru", "title": "Обыски и задержания активистов"}
    data["sections"][0]["title"] = "Усиление политического преследования"
    data["sections"][0]["items"][0] |= {"headline": RU_HEADLINE, "text": "Полиция провела обыск в квартире."}
    return data


def make_issue(session: Session, *, state: str = "approved", number: int = 1, period: str = "2026-W47",
               frozen: bool = True, editions: tuple[str, ...] = ()) -> Issue:
    """`editions=("ru",)`: an en,ru issue, its Russian edition frozen beside the default one."""
    issue = Issue(number=number, period=period, period_start=date(2026, 11, 16), period_end=date(2026, 11, 22),
                  title="Searches and detentions of activists", state=state,
                  snapshot=snapshot(number, period) if frozen else None,
                  edition_snapshots={lang: ru_edition(number, period) for lang in editions} if frozen and editions
                  else None,
                  approved_at=utcnow() if state != "draft" else None)
    session.add(issue)
    session.flush()
    return issue


def add_subscribers(session: Session, n: int, *, state: str = "confirmed", prefix: str = "reader",
                    language: str = "en") -> list[str]:
    now = utcnow()
    rows = [{"email": f"{prefix}{i}@example.org", "state": state, "language": language, "token": new_subscriber_token(),
             "consent_source": "test", "consent_at": now, "confirmed_at": now, "bounce_count": 0,
             "created_at": now, "updated_at": now} for i in range(n)]
    session.execute(insert(Subscriber), rows)
    session.flush()
    return [r["email"] for r in rows]


@dataclass
class Recorder:
    """An aiosmtpd handler keeping (recipient, Message-ID) pairs; `answer` can refuse some messages."""

    answer: Callable[[str, int], str | None] | None = None
    seen: list[tuple[str, str]] = field(default_factory=list)
    subjects: dict[str, set[str]] = field(default_factory=dict)  # recipient -> the (decoded) subjects they got
    raw: list[bytes] = field(default_factory=list)
    attempts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    keep_raw: bool = True

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        rcpt = envelope.rcpt_tos[0]
        with self.lock:
            self.attempts[rcpt] += 1
            n = self.attempts[rcpt]
        if self.answer is not None:
            reply = self.answer(rcpt, n)
            if reply:
                return reply
        data = bytes(envelope.content)
        head = data.split(b"\r\n\r\n", 1)[0]
        msg = message_from_bytes(head + b"\r\n\r\n")
        subject = str(make_header(decode_header(msg["Subject"] or "")))
        with self.lock:
            self.seen.append((rcpt, str(msg["Message-ID"])))
            self.subjects.setdefault(rcpt, set()).add(subject)
            if self.keep_raw:
                self.raw.append(data)
        return "250 OK"

    def per_recipient(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for rcpt, mid in self.seen:
            out.setdefault(rcpt, set()).add(mid)
        return out


@contextmanager
def recording_smtp(answer: Callable[[str, int], str | None] | None = None, *, keep_raw: bool = True) -> Iterator[tuple[str, Recorder]]:
    handler = Recorder(answer=answer, keep_raw=keep_raw)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", handler
    finally:
        controller.stop()
