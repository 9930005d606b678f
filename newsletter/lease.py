"""Only one scheduler is active: it holds a row of `scheduler_leases` and renews it by heartbeat.

This sits in the base, not in newsletter.scheduler, because the status service and /healthz read
who holds the lease, and they must not import the scheduler (which sits on top of them).

A second scheduler finds the lease held and not expired, and waits. When the holder dies (crash,
SIGKILL, lost machine) it stops renewing; once `expires_at` has passed, the next attempt of a
waiting scheduler takes the lease over. Acquisition is one conditional UPDATE (or the INSERT of
the first row), so two processes can never both win: the database serialises them.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from newsletter.models import SchedulerLease

LEASE_NAME = "scheduler"


def make_holder_id() -> str:
    """host:pid:random, so an operator can tell which process holds the lease."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class LeaseInfo:
    holder: str
    expires_at: datetime
    acquired_at: datetime

    def active(self, now: datetime) -> bool:
        return self.expires_at > now


class Lease:
    """The lease as seen by one process. Uses its own short transactions on `engine`."""

    def __init__(self, engine: Engine, *, ttl: float = 60.0, holder: str | None = None, name: str = LEASE_NAME) -> None:
        if ttl <= 0:
            raise ValueError("lease time must be positive")
        self.engine = engine
        self.ttl = timedelta(seconds=ttl)
        self.holder = holder or make_holder_id()
        self.name = name

    def acquire(self, now: datetime) -> bool:
        """Take or renew the lease if it is free, expired or already ours; True when we hold it."""
        expires = now + self.ttl
        table = SchedulerLease.__table__
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(table)
                .where(table.c.name == self.name)
                .where((table.c.holder == self.holder) | (table.c.expires_at <= now))
                .values(holder=self.holder, expires_at=expires, acquired_at=now)
            ).rowcount
        if taken == 1:
            return True
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(table).values(name=self.name, holder=self.holder, expires_at=expires, acquired_at=now))
        except IntegrityError:
            return False
        return True

    def renew(self, now: datetime) -> bool:
        """Extend our lease; False when another process has taken it (we must stop scheduling)."""
        table = SchedulerLease.__table__
        with self.engine.begin() as conn:
            renewed = conn.execute(
                update(table)
                .where(table.c.name == self.name, table.c.holder == self.holder)
                .values(expires_at=now + self.ttl)
            ).rowcount
        return renewed == 1

    def release(self) -> None:
        """Give the lease up at once on a clean shutdown, so a waiting scheduler need not wait for expiry."""
        table = SchedulerLease.__table__
        with self.engine.begin() as conn:
            conn.execute(delete(table).where(table.c.name == self.name, table.c.holder == self.holder))


def current(engine: Engine, name: str = LEASE_NAME) -> LeaseInfo | None:
    """Who holds the lease and until when (`newsletter status`, /healthz); a read that never waits for a writer."""
    table = SchedulerLease.__table__
    with engine.connect() as conn:
        row = conn.execution_options(sqlite_begin="DEFERRED").execute(select(table.c.holder, table.c.expires_at, table.c.acquired_at).where(table.c.name == name)).first()
    return LeaseInfo(row.holder, row.expires_at, row.acquired_at) if row else None
