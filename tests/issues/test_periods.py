"""Period edges: ISO week 53, year boundaries, fortnights and the organisation's time zone."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from newsletter.issues.periods import PeriodError, current_period, describe, parse_period, period_containing


def test_iso_week_53_belongs_to_the_year_it_starts_in() -> None:
    p = period_containing(date(2027, 1, 2))
    assert (p.label, p.start, p.end) == ("2026-W53", date(2026, 12, 28), date(2027, 1, 3))
    assert parse_period("2026-W53") == p


def test_first_days_of_january_can_be_week_1_of_next_year() -> None:
    p = period_containing(date(2024, 12, 30))
    assert p.label == "2025-W01" and p.start == date(2024, 12, 30)


def test_year_without_week_53_is_refused_with_a_clear_message() -> None:
    with pytest.raises(PeriodError, match="2025 has no ISO week 53"):
        parse_period("2025-W53")
    with pytest.raises(PeriodError, match="no ISO week 0"):
        parse_period("2026-W0")


@pytest.mark.parametrize("text", ["", "2026", "W47", "2026-47", "next week"])
def test_malformed_periods_are_refused(text: str) -> None:
    with pytest.raises(PeriodError, match="ISO week such as 2026-W47"):
        parse_period(text)


def test_lenient_spellings_are_accepted() -> None:
    assert parse_period("2026w7").label == "2026-W07"
    assert parse_period(" 2026-W47 ").start == date(2026, 11, 16)


def test_fortnights_are_14_days_without_gaps_across_week_53() -> None:
    p = period_containing(date(2026, 11, 1), "biweekly")
    seen = []
    for _ in range(30):
        nxt = period_containing(p.end.fromordinal(p.end.toordinal() + 1), "biweekly")
        assert (nxt.start - p.end).days == 1 and (nxt.end - nxt.start).days == 13
        seen.append(describe(p))
        p = nxt
    assert "2026-W53-W01" in seen or "2026-W52-W53" in seen


def test_either_week_of_a_fortnight_names_it() -> None:
    first = parse_period("2026-W47", "biweekly")
    assert parse_period("2026-W48", "biweekly") == first
    assert parse_period("2026-W47-W48", "biweekly") == first
    assert describe(first) == "2026-W47-W48"
    with pytest.raises(PeriodError, match="the fortnight containing week 48 is 2026-W47-W48"):
        parse_period("2026-W48-W49", "biweekly")


def test_weekly_setting_refuses_a_fortnight() -> None:
    with pytest.raises(PeriodError, match="issues are weekly"):
        parse_period("2026-W47-W48", "weekly")


def test_current_period_uses_the_organisation_time_zone() -> None:
    # Sunday 23:30 UTC is already Monday in Tokyo: the next week has begun there.
    now = datetime(2026, 11, 22, 23, 30, tzinfo=timezone.utc)
    assert current_period("weekly", ZoneInfo("UTC"), now).label == "2026-W47"
    assert current_period("weekly", ZoneInfo("Asia/Tokyo"), now).label == "2026-W48"


def test_utc_bounds_follow_local_midnight() -> None:
    lo, hi = parse_period("2026-W47").utc_bounds(ZoneInfo("Asia/Tokyo"))
    assert lo == datetime(2026, 11, 15, 15, 0, tzinfo=timezone.utc)
    assert hi == datetime(2026, 11, 22, 15, 0, tzinfo=timezone.utc)
