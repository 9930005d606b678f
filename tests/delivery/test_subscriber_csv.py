"""Subscriber CSV import is strict: every problem reported by line and field, and then nothing imported.

Each fault has its own fixture in data/subscribers/; every faulty file starts with a good row
(anna@example.org) that must not be imported either.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from newsletter.delivery.service import import_subscribers
from newsletter.delivery.subscriber_csv import CsvRefused
from newsletter.models import Subscriber, Suppression

DATA = Path(__file__).parent / "data" / "subscribers"


def flat(result) -> str:
    return " ".join(result.output.split())


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(Subscriber)) or 0


@pytest.mark.parametrize(("fixture", "messages"), [
    ("unclosed_quote.csv", ["line 3, field name: a quote opens and is never closed"]),
    ("text_after_quote.csv", ["line 2, field name: text after a closing quote"]),
    ("column_count.csv", ["line 3: 4 fields where the header has 3", "line 4: 2 fields where the header has 3",
                          'a comma inside a value needs quotes, e.g. "Carol, Jr"']),
    ("semicolons.csv", ["line 1: the columns are separated by semicolons, not commas"]),
    ("tabs.csv", ["line 1: the columns are separated by tabs, not commas"]),
    ("unknown_language.csv", ["line 3, field language: 'xx' is not a language of this newsletter (use one of: en, ru)"]),
    ("bad_email.csv", ["line 3, field email: 'not-an-address' is not an email address"]),
    ("bad_state.csv", ["line 3, field state: 'active' is not one of"]),
    ("bad_date.csv", ["line 3, field consent_at: '20/11/2026' is not an ISO date/time"]),
    ("bad_bounce_count.csv", ["line 3, field bounce_count: '-1' is not a whole number"]),
    ("duplicate.csv", ["line 3, field email: anna@example.org repeats line 2"]),
    ("unknown_column.csv", ["line 1, field 3: unknown column 'phone'"]),
    ("no_email_column.csv", ["line 1: no 'email' column (columns found: mail, name)"]),
    ("empty.csv", ["empty.csv: the file is empty"]),
    ("latin1.csv", ["latin1.csv: line 3: byte 0xe9 is not UTF-8", "save it as 'CSV UTF-8'"]),
    ("windows1251.csv", ["windows1251.csv: line 2: byte 0xc0 is not UTF-8"]),
    ("utf16_no_bom.csv", ["most likely UTF-16 without a byte-order mark"]),
    ("utf32_bom.csv", ["UTF-32 text is not accepted"]),
])
def test_each_fault_is_named_and_nothing_is_imported(cli, session, fixture: str, messages: list[str]) -> None:
    result = cli("subscribers", "import", str(DATA / fixture), expect=1)
    out = flat(result)
    assert f"{fixture}: nothing imported" in out
    for message in messages:
        assert message in out
    assert count(session) == 0
    assert "Traceback" not in result.output


def test_the_unclosed_quote_of_the_bug_report_swallows_no_one(session, settings) -> None:
    """carol's open quote used to eat dave's line; now line 3 is refused and dave stays a separate record."""
    with pytest.raises(CsvRefused) as refused:
        import_subscribers(session, DATA / "unclosed_quote.csv", settings=settings)
    assert refused.value.errors == ["line 3, field name: a quote opens and is never closed "
                                    "(a line break inside a field is not allowed; close the quote)"]
    assert count(session) == 0


def test_every_problem_in_the_file_is_reported_at_once(cli, session) -> None:
    out = flat(cli("subscribers", "import", str(DATA / "many_faults.csv"), expect=1))
    assert "(5 problem(s))" in out
    for message in ("line 3, field email:", "line 3, field language: 'xx'", "line 3, field state: 'active'",
                    "line 4, field name: a quote opens and is never closed", "line 5: 3 fields where the header has 4"):
        assert message in out
    assert count(session) == 0


@pytest.mark.parametrize("fixture", ["good.csv", "utf8_bom.csv", "utf16_bom.csv", "utf16be_bom.csv"])
def test_accepted_encodings_import_the_same_people(cli, session, fixture: str) -> None:
    out = flat(cli("subscribers", "import", str(DATA / fixture)))
    assert "3 imported" in out
    rows = {s.email: (s.name, s.language, s.state) for s in session.scalars(select(Subscriber))}
    assert rows == {
        "anna@example.org": ("Anna", "ru", "confirmed"),
        "boris@example.org": ("Boris, Jr", "en", "confirmed"),
        "clara@example.org": (None, "en", "confirmed"),
    }


def test_default_edition_language_is_accepted(make_runtime, tmp_path) -> None:
    """A language with no catalog is still fine when it is the newsletter's own default edition."""
    rt = make_runtime(language="kk")
    f = tmp_path / "kk.csv"
    f.write_text("email,language\naigul@example.org,kk\nboris@example.org,\nanna@example.org,ru\n")
    with rt.session() as s:
        report = import_subscribers(s, f, settings=rt.settings)
        assert report.created == 3
        assert dict(s.execute(select(Subscriber.email, Subscriber.language)).all()) == {
            "aigul@example.org": "kk", "boris@example.org": "kk", "anna@example.org": "ru"}


def test_exported_fields_come_back(cli, session, tmp_path) -> None:
    f = tmp_path / "full.csv"
    f.write_text("email,name,language,state,consent_source,consent_at,confirmed_at,unsubscribed_at,bounce_count\n"
                 "anna@example.org,Anna,ru,confirmed,web form,2026-10-01T08:00:00+00:00,2026-10-01T08:05:00+00:00,,1\n"
                 "gone@example.org,,en,unsubscribed,web form,2026-09-01T08:00:00+00:00,,2026-11-01T10:00:00+00:00,0\n")
    cli("subscribers", "import", str(f))
    anna = session.scalar(select(Subscriber).where(Subscriber.email == "anna@example.org"))
    assert anna.consent_source == "web form" and anna.bounce_count == 1
    assert anna.confirmed_at.isoformat() == "2026-10-01T08:05:00+00:00"
    gone = session.scalar(select(Subscriber).where(Subscriber.email == "gone@example.org"))
    assert gone.unsubscribed_at.isoformat() == "2026-11-01T10:00:00+00:00"
    assert session.scalar(select(Suppression.reason).where(Suppression.email == "gone@example.org")) == "unsubscribed"
