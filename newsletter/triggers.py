"""When the recurring jobs run: a DST-safe daily/weekly trigger, and the next run times the active
scheduler keeps in the database.

Pure schedule maths and a read-only view of the plan live in the base so that the status service
(`newsletter status`, `newsletter jobs list`) can show next runs without importing the scheduler.

APScheduler 3's CronTrigger fires twice when the time falls into the repeated hour of a
fall-back change (02:30 CEST and again 02:30 CET on the last Sunday of October). A weekly
draft or a daily digest must not run twice, so the repeated wall time is skipped. A time that
does not exist (spring forward) fires once, an hour later in wall-clock terms, as APScheduler does.
Only the triggers' public `get_next_fire_time` is used (see tests/scheduler/test_public_api.py).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Column, Float, Index, LargeBinary, MetaData, Table, Unicode, select
from sqlalchemy.engine import Engine

# The table of planned runs: one row per job (and per pending retry), created by migration 0007.
# It keeps the name and the columns APScheduler's SQLAlchemyJobStore gave it, so an existing
# database needs no migration; `job_state` now holds a small JSON document instead of a pickle.
# It is not a model (newsletter.db.UNMODELLED_PREFIXES) and has its own metadata.
JOBS_TABLE = "apscheduler_jobs"
jobs_table = Table(
    JOBS_TABLE, MetaData(),
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), nullable=True),
    Column("job_state", LargeBinary, nullable=False),
    Index("ix_apscheduler_jobs_next_run_time", "next_run_time"),
)


class LocalTimeTrigger(CronTrigger):
    """A CronTrigger that never fires twice for the same local date and time."""

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        nxt = super().get_next_fire_time(previous_fire_time, now)
        if previous_fire_time is None:
            return nxt
        seen = _wall(previous_fire_time, self.timezone)
        for _ in range(3):
            if nxt is None or _wall(nxt, self.timezone) != seen:
                break
            # Search afresh from past the repeated wall time: CronTrigger's own search from the
            # previous fire time lands on the same ambiguous local time again.
            nxt = super().get_next_fire_time(None, nxt.astimezone(timezone.utc) + timedelta(minutes=1))
        return nxt


def _wall(moment: datetime, tz: Any) -> datetime:
    return moment.astimezone(tz).replace(tzinfo=None, fold=0)


def to_timestamp(moment: datetime | None) -> float | None:
    """How the plan stores an instant: seconds since the epoch (UTC), NULL for never."""
    return moment.timestamp() if moment is not None else None


def from_timestamp(value: float | None) -> datetime | None:
    """The stored instant back as an aware UTC datetime (NULL and NaN mean never)."""
    if value is None or math.isnan(value):
        return None
    return datetime.fromtimestamp(value, timezone.utc)


def next_runs(engine: Engine) -> dict[str, datetime | None]:
    """Next run time of every planned job (and pending retry, `NAME.retry`), as the active scheduler left it."""
    with engine.connect() as conn:
        rows = conn.execution_options(sqlite_begin="DEFERRED").execute(
            select(jobs_table.c.id, jobs_table.c.next_run_time)).all()
    return {row.id: from_timestamp(row.next_run_time) for row in rows}
