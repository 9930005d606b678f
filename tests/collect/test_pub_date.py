"""The plain-RSS reader's date fast path gives exactly feedparser's _parse_date value, for any string."""

from __future__ import annotations

import random

import pytest
from feedparser import datetimes
from feedparser.datetimes import _parse_date, _parse_date_w3dtf
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from newsletter.collect import plainrss
from newsletter.collect.plainrss import _pub_date

WEEKDAYS = ["Mon, ", "Thu, ", "Sat, ", "Tue, ", "Sun, ", "", "", "mon, ", "MON, ", "Mon ", "Monday, ", "Xyz, ", "Tue,"]
DAYS = ["05", "30", "31", "29", "00", "1", "5", "01", "32", "99", "O1"]
MONTHS = ["Nov", "Feb", "Oct", "Sep", "Dec", "Jan", "nov", "NOV", "Sept", "November", "Okt", "Tue"]
YEARS = ["2026", "2024", "2100", "1999", "0001", "0000", "9999", "26", "89", "90", "95", "1", "20267", "-2026"]
TIMES = ["10:00:00", "23:59:59", "00:00:00", "24:00:00", "23:60:00", "23:59:60", "9:5:1", "10:00", "10", "ab:cd:ef",
         "10:00:00.5", "99:99:99"]
ZONES = ["+0000", "GMT", "-0500", "+0530", "-1230", "+1400", "+0099", "+9999", "-9959", "UT", "Z", "EST", "gmt",
         "GMT+3", "GMT-05:00", "+05:30", "Etc/GMT", "+05", "", "MSK", "+00000", "A", "y", "-0000"]


def same(value: str) -> None:
    assert _pub_date(value) == _parse_date(value), repr(value)
    assert type(_pub_date(value)) is type(_parse_date(value))


def test_fast_path_equals_feedparser_on_generated_dates() -> None:
    rng = random.Random(18)
    fast = 0
    for _ in range(30_000):
        sep = rng.choice([" "] * 12 + ["  ", "\t"])
        date = (f"{rng.choice(WEEKDAYS)}{rng.choice(DAYS)}{sep}{rng.choice(MONTHS)} {rng.choice(YEARS)} "
                f"{rng.choice(TIMES)} {rng.choice(ZONES)}")
        if rng.random() < 0.5:  # the usual shape, one field at most unusual
            fields = [rng.choice(WEEKDAYS[:5]), rng.choice(DAYS[:5]), rng.choice(MONTHS[:6]), rng.choice(YEARS[:7]),
                      rng.choice(TIMES[:6]), rng.choice(ZONES[:9])]
            odd = rng.randrange(9)
            if odd < 6:
                fields[odd] = rng.choice([WEEKDAYS, DAYS, MONTHS, YEARS, TIMES, ZONES][odd])
            date = "{}{} {} {} {} {}".format(*fields)
        if rng.random() < 0.05:
            date = rng.choice([" ", "x", "\n"]) + date
        same(date)
        same(date.rstrip())
        fast += plainrss._RFC822.fullmatch(date) is not None
    assert fast > 3_000  # the fast path was taken often, not only the fallback


@hsettings(max_examples=1_000, deadline=None)
@given(st.text(alphabet="0123456789 :+-,GMTtUZaenovNSep\t", max_size=36))
def test_fast_path_equals_feedparser_for_any_text(tail: str) -> None:
    same(tail)
    same("Mon, 05 Nov 2026 " + tail)
    same(tail + " Nov 2026 10:00:00 +0000")


def test_feedparser_w3dtf_reader_never_reads_the_fast_shape() -> None:
    """Why the fast path may skip it: feedparser tries W3C-DTF first; it must not accept any such string."""
    rng = random.Random(7)
    for _ in range(20_000):
        date = (f"{rng.choice(['Mon, ', 'Tue, ', 'Wed, ', 'Thu, ', 'Fri, ', 'Sat, ', 'Sun, ', ''])}"
                f"{rng.randrange(100):02d} {rng.choice(list(plainrss._MONTHS))} {rng.randrange(10000):04d} "
                f"{rng.randrange(100):02d}:{rng.randrange(100):02d}:{rng.randrange(100):02d} "
                f"{rng.choice(['GMT', '+', '-'])}")
        if not date.endswith("GMT"):
            date += f"{rng.randrange(100):02d}{rng.randrange(100):02d}"
        assert plainrss._RFC822.fullmatch(date)
        try:
            assert _parse_date_w3dtf(date) is None, date
        except (KeyError, OverflowError, ValueError, AttributeError):
            pass  # _parse_date catches these and moves on, as for None
        same(date)


def test_a_handler_registered_before_them_still_comes_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datetimes, "_date_handlers", [lambda s: (1999,) + (0,) * 8, *datetimes._date_handlers])
    assert _pub_date("Mon, 05 Nov 2026 10:00:00 +0000") == (1999,) + (0,) * 8
