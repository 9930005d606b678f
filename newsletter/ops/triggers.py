"""Triggers that fire at a local wall-clock time exactly once per day, whatever daylight saving does.

APScheduler 3's CronTrigger fires twice when the time falls into the repeated hour of a
fall-back change (02:30 CEST and again 02:30 CET on the last Sunday of October). A weekly
draft or a daily digest must not run twice, so the repeated wall time is skipped. A time that
does not exist (spring forward) fires once, an hour later in wall-clock terms, as APScheduler does.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from apscheduler.triggers.cron import CronTrigger


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
