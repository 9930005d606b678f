"""The plan: when each job runs next, kept in the database so that it survives restarts and a
run missed during downtime is noticed when a scheduler becomes active again.

One row per job (id = the job's name) and one per pending retry (`NAME.retry`). A row keeps the
text of the schedule it was planned with, so a scheduler notices a changed setting and plans the
job afresh. Only the lease holder writes; each call is its own short transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError

from newsletter.triggers import from_timestamp, jobs_table, to_timestamp

RETRY_SUFFIX = ".retry"


@dataclass(frozen=True)
class Planned:
    id: str  # the job's name, or NAME.retry for a pending retry
    schedule: str | None  # the schedule's text when planned; None for a row APScheduler's own store wrote
    next_run_time: datetime | None  # None: never (a schedule with no further time)

    @property
    def job(self) -> str:
        return self.id.removesuffix(RETRY_SUFFIX)

    @property
    def is_retry(self) -> bool:
        return self.id.endswith(RETRY_SUFFIX)


class JobStore:
    """Reads and writes the plan in `apscheduler_jobs` (see newsletter.triggers)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _read(self) -> Connection:
        """A read-only connection: on SQLite a deferred transaction takes no write lock."""
        return self.engine.connect().execution_options(sqlite_begin="DEFERRED")

    def get(self, job_id: str) -> Planned | None:
        with self._read() as conn:
            row = conn.execute(select(jobs_table).where(jobs_table.c.id == job_id)).first()
        return _planned(row) if row is not None else None

    def all(self) -> list[Planned]:
        with self._read() as conn:
            rows = conn.execute(select(jobs_table).order_by(jobs_table.c.id)).all()
        return [_planned(row) for row in rows]

    def due(self, now: datetime) -> list[Planned]:
        """Rows whose next run time has come, earliest first."""
        with self._read() as conn:
            rows = conn.execute(select(jobs_table).where(jobs_table.c.next_run_time <= to_timestamp(now))
                                .order_by(jobs_table.c.next_run_time, jobs_table.c.id)).all()
        return [_planned(row) for row in rows]

    def next_run_time(self) -> datetime | None:
        """The earliest planned run, so the loop knows how long it may sleep."""
        with self._read() as conn:
            rows = conn.execute(select(jobs_table.c.next_run_time).where(jobs_table.c.next_run_time.is_not(None))
                                .order_by(jobs_table.c.next_run_time).limit(1)).all()
        return from_timestamp(rows[0][0]) if rows else None

    def put(self, job_id: str, schedule: str, next_run_time: datetime | None) -> None:
        """Plan (or re-plan) a job's next run."""
        values = {"next_run_time": to_timestamp(next_run_time), "job_state": _state(schedule)}
        with self.engine.begin() as conn:
            if conn.execute(update(jobs_table).where(jobs_table.c.id == job_id).values(**values)).rowcount:
                return
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(jobs_table).values(id=job_id, **values))
        except IntegrityError:  # planned meanwhile (a scheduler that had not yet noticed it lost the lease)
            with self.engine.begin() as conn:
                conn.execute(update(jobs_table).where(jobs_table.c.id == job_id).values(**values))

    def remove(self, job_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(jobs_table).where(jobs_table.c.id == job_id))


def _state(schedule: str) -> bytes:
    return json.dumps({"schedule": schedule}).encode()


def _planned(row: Row[Any]) -> Planned:
    schedule: str | None = None
    try:
        state = json.loads(row.job_state)
    except (ValueError, UnicodeDecodeError):
        state = None  # a pickled APScheduler job from before: never unpickled, only its next run time is read
    if isinstance(state, dict) and isinstance(state.get("schedule"), str):
        schedule = state["schedule"]
    return Planned(row.id, schedule, from_timestamp(row.next_run_time))
