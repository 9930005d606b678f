"""The sources file: format, validation reported by feed name and field, synchronisation into the database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.collect.sources import (
    DISABLED_IN_FILE, REMOVED_REASON, SourcesFileError, load_sources_file, parse_interval, sync_sources,
)
from newsletter.models import Source
from newsletter.runtime import Runtime

GOOD = """
[rules]
include = ["political prisoner"]
exclude = ["horoscope"]
require_match = true
[rules.watchlist]
persons = ["Aigul Utepova"]
cities = ["Almaty", "Shymkent"]
articles = ["Article 174"]
[rules.sections]
punitive-psychiatry = ["psychiatr*"]

[[feed]]
name = "Example human rights news"
url = "https://example.org/feed.xml"
section = "persecution"
keywords = ["detained", "Article 174"]
exclude_keywords = ["sport"]
language = "ru"
every = "30m"

[[feed]]
name = "Court news"
url = "https://courts.example/rss"
enabled = false
"""


def test_interval_formats() -> None:
    assert parse_interval("30m") == 1800 and parse_interval("2h") == 7200 and parse_interval("1d") == 86400
    assert parse_interval(900) == 900 and parse_interval("90s") == 90
    for bad in ("3x", "10s", "30d", True, "m"):
        with pytest.raises(ValueError):
            parse_interval(bad)


def test_full_format_loads(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(GOOD)
    parsed = load_sources_file(path, known_sections={"persecution", "punitive-psychiatry"})
    assert parsed.errors == []
    first, second = parsed.feeds
    assert (first.section, first.keywords, first.exclude_keywords, first.language, first.every) == (
        "persecution", ["detained", "Article 174"], ["sport"], "ru", 1800)
    assert second.enabled is False and second.every is None
    rules = parsed.rules
    assert rules.require_match and rules.watchlist == ("Aigul Utepova", "Almaty", "Shymkent", "Article 174")
    assert rules.sections == (("punitive-psychiatry", ("psychiatr*",)),)


def test_bad_entries_are_reported_by_name_and_field_and_the_rest_synced(tmp_path: Path, session: Session) -> None:
    path = tmp_path / "s.toml"
    path.write_text("""
[[feed]]
name = "Good one"
url = "https://good.example/feed"

[[feed]]
name = "Typo"
url = "https://typo.example/feed"
keyword = ["x"]

[[feed]]
name = "Bad values"
url = "ftp://bad.example/"
every = "soon"
section = "sports"
language = 7
enabled = "yes"

[[feed]]
url = "https://noname.example/"

[[feed]]
name = "Good one"
url = "https://other.example/"

[[feed]]
name = "Same URL"
url = "https://good.example/feed"
""")
    synced = sync_sources(session, path)
    assert [s.name for s in synced] == ["Good one"]
    errors = "\n".join(synced.errors)
    assert "feed \"Typo\": unknown field 'keyword' (did you mean 'keywords'?)" in errors
    for field in ("url", "every", "section", "language", "enabled"):
        assert f"feed \"Bad values\": field '{field}'" in errors, field
    assert "unknown section 'sports'" in errors
    assert "feed #4: field 'name': required" in errors
    assert "field 'name': duplicate name" in errors
    assert 'same URL as feed "Good one"' in errors
    assert len(synced.errors) == 9


@pytest.mark.parametrize(("text", "message"), [
    ("[[feed]\nname = 1", "not valid TOML"),
    ("feed = 3", "array of tables"),
])
def test_unreadable_file_is_one_clear_error(tmp_path: Path, session: Session, text: str, message: str) -> None:
    path = tmp_path / "s.toml"
    path.write_text(text)
    with pytest.raises(SourcesFileError, match=message):
        sync_sources(session, path)
    with pytest.raises(SourcesFileError, match="not found"):
        sync_sources(session, tmp_path / "missing.toml")


def test_sync_updates_disables_removed_and_keeps_gone_feeds_disabled(tmp_path: Path, session: Session) -> None:
    path = tmp_path / "s.toml"
    path.write_text(GOOD)
    sync_sources(session, path)
    example = session.scalar(select(Source).where(Source.name == "Example human rights news"))
    court = session.scalar(select(Source).where(Source.name == "Court news"))
    assert example.enabled and example.poll_interval == 1800 and example.keywords == ["detained", "Article 174"]
    assert not court.enabled and court.disabled_reason == DISABLED_IN_FILE
    # the collector saw 410 Gone: a re-sync must not re-enable it
    example.enabled, example.disabled_reason = False, "HTTP 410 Gone: the publisher removed this feed"
    path.write_text(GOOD.replace('every = "30m"', 'every = "1h"').replace("enabled = false", "enabled = true"))
    sync_sources(session, path, default_interval=600)
    assert not example.enabled and example.poll_interval == 3600
    assert court.enabled and court.disabled_reason is None and court.poll_interval == 600
    # ...unless its URL changes; and a feed removed from the file is disabled, not deleted
    path.write_text("""
[[feed]]
name = "Example human rights news"
url = "https://example.org/new-feed.xml"
""")
    synced = sync_sources(session, path)
    assert len(synced) == 1 and example.enabled and example.url == "https://example.org/new-feed.xml"
    assert not court.enabled and court.disabled_reason == REMOVED_REASON


def test_resync_of_an_unchanged_file_writes_nothing_and_a_renamed_feed_stays_enabled(tmp_path: Path, session: Session) -> None:
    """Feeds are compared as plain rows: an unchanged feed is not written; a rename (matched by URL) or a
    changed keyword is, and a feed renamed in the file is the same source, still enabled."""
    path = tmp_path / "s.toml"
    path.write_text(GOOD)
    sync_sources(session, path)
    session.commit()
    example = session.scalar(select(Source).where(Source.name == "Example human rights news"))
    court = session.scalar(select(Source).where(Source.name == "Court news"))
    stamps = (example.updated_at, court.updated_at)
    synced = sync_sources(session, path)
    session.commit()
    session.expire_all()
    assert (example.updated_at, court.updated_at) == stamps
    assert sorted(s.name for s in synced) == ["Court news", "Example human rights news"]
    path.write_text(GOOD.replace('name = "Example human rights news"', 'name = "Example news"')
                    .replace('"detained", "Article 174"', '"detained"'))
    synced = sync_sources(session, path)
    session.commit()
    session.expire_all()
    assert example.name == "Example news" and example.enabled and example.keywords == ["detained"]
    assert example.updated_at > stamps[0] and court.updated_at == stamps[1]
    assert session.scalar(select(Source).where(Source.name == "Example human rights news")) is None


def test_cli_feeds_sync_and_health(cli, runtime: Runtime) -> None:
    runtime.settings.sources.write_text(GOOD + '\n[[feed]]\nname = "Broken"\nurl = "https://b.example/"\nevery = "3x"\n')
    output = " ".join(cli("feeds", "sync", expect=1).output.split())  # rich wraps long lines
    assert "feed \"Broken\": field 'every'" in output and "2 feed(s) synced, 1 problem(s)" in output
    listing = cli("feeds").output
    assert "Example human rights news" in listing and "Court news" in listing and "disabled" in listing
    assert "never" in listing
    missing = cli("feeds", "sync", "--sources", "/nonexistent/sources.toml", expect=1)
    assert "sources file not found" in " ".join(missing.output.split())
