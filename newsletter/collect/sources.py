"""The sources file (feeds/sources.toml) and its synchronisation into the `sources` table.

Format (documented in the README):

    [rules]                                   # optional, applies to every feed
    include = ["political prisoner"]          # an entry matching one of these is relevant
    exclude = ["horoscope"]                   # an entry matching one of these never is
    require_match = false                     # true: feeds without keywords are filtered as well
    [rules.watchlist]
    persons = ["Aigul Utepova"]
    cities = ["Almaty"]
    articles = ["Article 174"]
    [rules.sections]                          # suggested section when a keyword matches
    punitive-psychiatry = ["psychiatr*"]

    [[feed]]
    name = "Example human rights news"        # required, unique
    url = "https://example.org/feed.xml"      # required, http(s), unique
    section = "persecution"                   # optional default section (a section slug)
    keywords = ["detained", "Article 174"]    # optional: keep only matching entries
    exclude_keywords = ["sport"]              # optional
    language = "ru"                           # optional
    every = "30m"                             # optional poll interval: 90s, 30m, 2h, 1d
    max_entries = 2000                        # optional: read more (or fewer) entries than NEWSLETTER_COLLECT_MAX_ENTRIES
    enabled = true                            # optional

A bad entry is reported with the feed's name and field and skipped; the others are synced.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from newsletter.collect.rules import GlobalRules
from newsletter.models import Section, Source

FEED_FIELDS = ("name", "url", "section", "keywords", "exclude_keywords", "language", "every", "enabled", "max_entries")
MAX_ENTRIES_LIMIT = 100_000
RULES_FIELDS = ("include", "exclude", "require_match", "watchlist", "sections")
WATCHLIST_FIELDS = ("persons", "cities", "articles")
MIN_INTERVAL = 60
MAX_INTERVAL = 7 * 24 * 3600
REMOVED_REASON = "not in the sources file"
DISABLED_IN_FILE = "disabled in the sources file"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class SourcesFileError(Exception):
    """The sources file cannot be read at all (missing, not TOML, wrong top-level shape)."""


@dataclass
class FeedSpec:
    name: str
    url: str
    section: str | None = None
    keywords: list[str] = field(default_factory=list)
    exclude_keywords: list[str] = field(default_factory=list)
    language: str | None = None
    every: int | None = None
    enabled: bool = True
    max_entries: int | None = None


@dataclass
class SourcesFile:
    feeds: list[FeedSpec]
    rules: GlobalRules
    errors: list[str]
    names: set[str]  # every name in the file, including entries with errors (they are not "removed")


class SyncedSources(list[Any]):
    """The synced sources, plus the problems found and the global rules (a list, as the contract says).

    Items have the sources' columns as attributes: a Source for a feed the sync changed or added, a
    plain row of the sources table for one it left as it was."""

    def __init__(self, sources: list[Any], errors: list[str], rules: GlobalRules) -> None:
        super().__init__(sources)
        self.errors = errors
        self.rules = rules


def parse_interval(value: Any) -> int:
    """'30m' -> 1800. Bare integers are seconds."""
    if isinstance(value, bool):
        raise ValueError("must be a duration such as 30m, 2h or 1d")
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str) and (m := re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", value.lower())):
        seconds = int(m.group(1)) * _UNITS[m.group(2) or "s"]
    else:
        raise ValueError(f"{value!r} is not a duration such as 30m, 2h or 1d")
    if not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
        raise ValueError(f"{value!r} is out of range (1m to 7d)")
    return seconds


def _unknown(keys: Any, allowed: tuple[str, ...]) -> list[str]:
    out = []
    for key in keys:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            out.append(f"unknown field '{key}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
    return out


def _str_list(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError("must be a list of non-empty strings")
    return [v.strip() for v in value]


def _parse_feed(raw: Any, index: int, known_sections: set[str] | None) -> tuple[FeedSpec | None, str, list[str]]:
    if not isinstance(raw, dict):
        return None, f"#{index}", ["must be a table ([[feed]])"]
    name = raw.get("name")
    label = f'"{name}"' if isinstance(name, str) and name.strip() else f"#{index}"
    problems = _unknown(raw, FEED_FIELDS)
    values: dict[str, Any] = {}
    if not isinstance(name, str) or not name.strip():
        problems.append("field 'name': required, a non-empty string")
    elif len(name) > 200:
        problems.append("field 'name': longer than 200 characters")
    else:
        values["name"] = name.strip()
    url = raw.get("url")
    if not isinstance(url, str) or not url.strip():
        problems.append("field 'url': required, an http(s) URL")
    else:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append(f"field 'url': {url!r} is not an http(s) URL")
        else:
            values["url"] = url.strip()
    for key, parse in (("keywords", _str_list), ("exclude_keywords", _str_list), ("every", parse_interval)):
        if key in raw:
            try:
                values[key] = parse(raw[key])
            except ValueError as exc:
                problems.append(f"field '{key}': {exc}")
    if "section" in raw:
        section = raw["section"]
        if not isinstance(section, str) or not section.strip():
            problems.append("field 'section': must be a section slug")
        elif known_sections is not None and section not in known_sections:
            problems.append(f"field 'section': unknown section '{section}' (known: {', '.join(sorted(known_sections))})")
        else:
            values["section"] = section
    if "language" in raw:
        lang = raw["language"]
        if not isinstance(lang, str) or not re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*", lang):
            problems.append(f"field 'language': {lang!r} is not a language code such as 'en' or 'ru'")
        else:
            values["language"] = lang
    if "max_entries" in raw:
        limit = raw["max_entries"]
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_ENTRIES_LIMIT:
            problems.append(f"field 'max_entries': must be a whole number from 1 to {MAX_ENTRIES_LIMIT}")
        else:
            values["max_entries"] = limit
    if "enabled" in raw:
        if not isinstance(raw["enabled"], bool):
            problems.append("field 'enabled': must be true or false")
        else:
            values["enabled"] = raw["enabled"]
    if problems:
        return None, label, problems
    return FeedSpec(**values), label, []


def _parse_rules(raw: Any, known_sections: set[str] | None, errors: list[str]) -> GlobalRules:
    if raw is None:
        return GlobalRules()
    if not isinstance(raw, dict):
        errors.append("[rules]: must be a table")
        return GlobalRules()
    problems = _unknown(raw, RULES_FIELDS)
    values: dict[str, Any] = {}
    for key in ("include", "exclude"):
        if key in raw:
            try:
                values[key] = tuple(_str_list(raw[key]))
            except ValueError as exc:
                problems.append(f"field '{key}': {exc}")
    if "require_match" in raw:
        if isinstance(raw["require_match"], bool):
            values["require_match"] = raw["require_match"]
        else:
            problems.append("field 'require_match': must be true or false")
    watch = raw.get("watchlist", {})
    if not isinstance(watch, dict):
        problems.append("field 'watchlist': must be a table with persons, cities, articles")
    else:
        problems += [f"watchlist: {p}" for p in _unknown(watch, WATCHLIST_FIELDS)]
        for key in WATCHLIST_FIELDS:
            if key in watch:
                try:
                    values[key] = tuple(_str_list(watch[key]))
                except ValueError as exc:
                    problems.append(f"field 'watchlist.{key}': {exc}")
    sections = raw.get("sections", {})
    if not isinstance(sections, dict):
        problems.append("field 'sections': must be a table of section slug = [keywords]")
    else:
        pairs = []
        for slug, words in sections.items():
            if known_sections is not None and slug not in known_sections:
                problems.append(f"field 'sections.{slug}': unknown section (known: {', '.join(sorted(known_sections))})")
                continue
            try:
                pairs.append((slug, tuple(_str_list(words))))
            except ValueError as exc:
                problems.append(f"field 'sections.{slug}': {exc}")
        values["sections"] = tuple(pairs)
    errors.extend(f"[rules]: {p}" for p in problems)
    return GlobalRules(**values)


def load_sources_file(path: Path, *, known_sections: set[str] | None = None) -> SourcesFile:
    """Read and validate the file; problems in single entries are collected, not raised."""
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise SourcesFileError(f"{path}: sources file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise SourcesFileError(f"{path}: not valid TOML: {exc}") from None
    errors: list[str] = [f"{path}: {p}" for p in _unknown(raw, ("feed", "rules"))]
    feeds_raw = raw.get("feed", [])
    if not isinstance(feeds_raw, list):
        raise SourcesFileError(f"{path}: 'feed' must be an array of tables ([[feed]])")
    rules_errors: list[str] = []
    rules = _parse_rules(raw.get("rules"), known_sections, rules_errors)
    errors += [f"{path}: {e}" for e in rules_errors]
    feeds: list[FeedSpec] = []
    names: set[str] = set()
    seen_names: set[str] = set()
    seen_urls: dict[str, str] = {}
    for index, item in enumerate(feeds_raw, start=1):
        spec, label, problems = _parse_feed(item, index, known_sections)
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            names.add(item["name"].strip())
        if spec is not None:
            if spec.name in seen_names:
                problems = [f"field 'name': duplicate name (feed #{index})"]
            elif spec.url in seen_urls:
                problems = [f"field 'url': same URL as feed \"{seen_urls[spec.url]}\""]
        if problems:
            errors += [f"{path}: feed {label}: {p}" for p in problems]
            continue
        assert spec is not None
        seen_urls[spec.url] = spec.name
        seen_names.add(spec.name)
        feeds.append(spec)
    return SourcesFile(feeds, rules, errors, names)


def sync_sources(session: Session, path: Path, *, default_interval: int = 3600) -> SyncedSources:
    """Upsert the file's feeds (matched by name, then URL); disable feeds no longer listed.

    Sources disabled by the collector (410 Gone) stay disabled unless their URL changes in the file.
    The feeds are compared as plain rows first: only a feed the file changes is loaded as an ORM
    object (on most runs none is; loading all of them cost more than the rest of the sync).
    """
    known = set(session.scalars(select(Section.slug)))
    parsed = load_sources_file(path, known_sections=known)
    table = Source.__table__
    rows = list(session.execute(select(*(table.c[name] for name in _SYNCED)).where(table.c.kind == "feed")))
    by_name: dict[str, Any] = {r.name: r for r in rows}
    by_url: dict[str | None, Any] = {r.url: r for r in rows}
    plan: list[tuple[FeedSpec, Any]] = []
    changed: set[int] = set()
    for spec in parsed.feeds:
        row = by_name.get(spec.name) or by_url.get(spec.url)
        plan.append((spec, row))
        if row is not None and not _unchanged(row, spec, default_interval):
            changed.add(row.id)
    # a feed the file no longer lists (by name or URL; an entry with errors still counts as listed) is disabled
    matched = {row.id for _, row in plan if row is not None}
    removed = [r.id for r in rows if r.id not in matched and r.name not in parsed.names and r.enabled]
    changed.update(removed)
    loaded = {s.id: s for s in session.scalars(select(Source).where(Source.id.in_(changed)))} if changed else {}
    synced: list[Source | Row[Any]] = []
    added: dict[str, Source] = {}
    for spec, row in plan:
        if row is None:
            source = added.get(spec.name)
            if source is None:
                clash = session.scalar(select(Source).where(Source.name == spec.name))
                if clash is not None:
                    parsed.errors.append(f"{path}: feed \"{spec.name}\": field 'name': already used by a {clash.kind} channel")
                    continue
                source = Source(kind="feed", name=spec.name, url=spec.url, error_count=0)
                session.add(source)
                added[spec.name] = source
            _apply(source, spec, default_interval)
            synced.append(source)
        elif row.id in loaded:
            _apply(loaded[row.id], spec, default_interval)
            synced.append(loaded[row.id])
        else:
            synced.append(row)
    for source_id in removed:
        loaded[source_id].enabled = False
        loaded[source_id].disabled_reason = REMOVED_REASON
    session.flush()
    return SyncedSources(synced, parsed.errors, parsed.rules)


_SYNCED = ("id", "name", "url", "enabled", "disabled_reason", "default_section", "keywords", "exclude_keywords",
           "language", "poll_interval", "max_entries")


def _unchanged(row: Any, spec: FeedSpec, default_interval: int) -> bool:
    """Whether _apply would leave this feed's row as it is (its rules, in the same order)."""
    if row.url != spec.url:
        return False
    if (row.name, row.default_section, row.keywords, row.exclude_keywords, row.language, row.poll_interval,
            row.max_entries) != (spec.name, spec.section, list(spec.keywords), list(spec.exclude_keywords), spec.language,
                                 spec.every or default_interval, spec.max_entries):
        return False
    if not spec.enabled:
        return row.enabled is False and row.disabled_reason == DISABLED_IN_FILE
    if row.disabled_reason in (DISABLED_IN_FILE, REMOVED_REASON) or row.enabled is None:
        return False
    return not (not row.enabled and not row.disabled_reason)


def _apply(source: Source, spec: FeedSpec, default_interval: int) -> None:
    if source.url != spec.url:
        source.url = spec.url
        source.etag = source.last_modified = None
        source.moved_to = None
        source.next_check_at = None
        if source.disabled_reason and source.disabled_reason != DISABLED_IN_FILE:
            source.disabled_reason = None
            source.enabled = True
    # Assigned only when different: each assignment is tracked by the ORM, for 1,000 feeds a run.
    for key, value in (("name", spec.name), ("default_section", spec.section), ("keywords", list(spec.keywords)),
                       ("exclude_keywords", list(spec.exclude_keywords)), ("language", spec.language),
                       ("poll_interval", spec.every or default_interval), ("max_entries", spec.max_entries)):
        if getattr(source, key) != value:
            setattr(source, key, value)
    if not spec.enabled:
        source.enabled = False
        source.disabled_reason = DISABLED_IN_FILE
    elif source.disabled_reason in (DISABLED_IN_FILE, REMOVED_REASON) or (source.enabled is None):
        source.enabled = True
        source.disabled_reason = None
    elif not source.enabled and not source.disabled_reason:
        source.enabled = True
