"""Issue periods: ISO weeks or fortnights, in the organisation's time zone.

A period is labelled by the ISO week of its first day ("2026-W47"), weekly or biweekly, so labels
fit the archive's folder names. Fortnights are counted without gaps from Monday 2001-01-01 (ISO
2001-W01), so every biweekly issue covers exactly 14 days, also across a year with an ISO week 53.
Input may name either week of a fortnight, or both ("2026-W47-W48").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Literal
from zoneinfo import ZoneInfo

from newsletter.i18n import N_, Refusal

PeriodKind = Literal["weekly", "biweekly"]
FORTNIGHT_EPOCH = date(2001, 1, 1)
_LABEL = re.compile(r"^\s*(\d{4})-?W(\d{1,2})(?:-W(\d{1,2}))?\s*$", re.IGNORECASE)


class PeriodError(Refusal, ValueError):
    """The period text is not a valid ISO week or fortnight; the message says what is expected."""


@dataclass(frozen=True)
class Period:
    label: str
    start: date  # Monday, first day
    end: date  # Sunday, last day (inclusive)

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def utc_bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) as aware UTC datetimes: local midnight of the first day to the day after the last."""
        lo = datetime.combine(self.start, time.min, tzinfo=tz).astimezone(timezone.utc)
        hi = datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=tz).astimezone(timezone.utc)
        return lo, hi


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def period_containing(day: date, kind: PeriodKind = "weekly") -> Period:
    """The weekly or biweekly period a calendar day belongs to."""
    monday = _monday(day)
    if kind == "weekly":
        return Period(_week_label(monday), monday, monday + timedelta(days=6))
    start = monday - timedelta(days=((monday - FORTNIGHT_EPOCH).days % 14))
    return Period(_week_label(start), start, start + timedelta(days=13))


def parse_period(text: str, kind: PeriodKind = "weekly") -> Period:
    """Read "2026-W47" (weekly; for biweekly: the fortnight containing that week) or "2026-W47-W48"."""
    match = _LABEL.match(text or "")
    if not match:
        if kind == "biweekly":
            raise PeriodError(N_("period %(text)s is not an ISO week such as 2026-W47 or a fortnight such as 2026-W47-W48"),
                              text=repr(text))
        raise PeriodError(N_("period %(text)s is not an ISO week such as 2026-W47"), text=repr(text))
    year, week = int(match.group(1)), int(match.group(2))
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        raise PeriodError(N_("period %(text)s: %(year)s has no ISO week %(week)s"), text=repr(text), year=year,
                          week=week) from None
    if match.group(3) is not None and kind == "weekly":
        raise PeriodError(N_("period %(text)s is a fortnight, but issues are weekly (setting NEWSLETTER_PERIOD); use e.g. "
                             "%(example)s"), text=repr(text), example=f"{year}-W{week:02d}")
    period = period_containing(monday, kind)
    if match.group(3) is not None and (
        period.start != monday or (period.end - timedelta(days=6)).isocalendar()[1] != int(match.group(3))
    ):
        raise PeriodError(N_("period %(text)s is not a fortnight of this newsletter; the fortnight containing week "
                             "%(week)s is %(fortnight)s"), text=repr(text), week=week, fortnight=describe(period))
    return period


def describe(period: Period) -> str:
    """A label that shows both weeks of a fortnight, for messages and the desk."""
    if (period.end - period.start).days < 7:
        return period.label
    return f"{period.label}-W{(period.end - timedelta(days=6)).isocalendar()[1]:02d}"


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    """The calendar day of an aware datetime in the organisation's time zone."""
    return moment.astimezone(tz).date()


def current_period(kind: PeriodKind, tz: ZoneInfo, now: datetime | None = None) -> Period:
    """The period containing today in the organisation's time zone (the scheduler drafts the running week)."""
    return period_containing(local_day(now or datetime.now(timezone.utc), tz), kind)
