"""Import and export of incidents as JSON or CSV, with the same fields both ways.

Import is all-or-nothing: every row is validated first, and any error (reported with its row
number and field) leaves the database untouched. Re-importing a file changes nothing: rows are
matched on external_id, then on any of their source URLs.

Links carry their origin (`links: [{"url", "title", "origin"}]`, JSON only) because only `feed` and
`editor` links may ever be published. An export written by this program says so for each link and
the import keeps it; a link without an origin (the older `sources: [url, ...]` list, every CSV file,
a partner's file) is an `import` link: kept for editors, never published until an editor re-adds it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from newsletter import audit, formats, markup, media
from newsletter.consent.text import name_key
from newsletter.incidents import NewIncident, NewLink, create_incidents
from newsletter.models import (
    DATE_PRECISIONS,
    INCIDENT_KINDS,
    INCIDENT_STATES,
    LINK_ORIGINS,
    PERSON_CONSENT,
    PERSON_ROLES,
    PUBLICATION_LEVELS,
    Incident,
    IncidentSource,
    Person,
    PersonSpelling,
    Section,
    incident_relations,
)
from newsletter.urls import canonical_url

FIELDS = (
    "external_id", "title", "summary", "body", "kind", "occurred_on", "date_precision",
    "country", "region", "city", "language", "sections", "persons", "publication", "sources", "state", "links",
    "translations", "related", "format", "quote", "timeline", "photo",
)
# A CSV cell cannot carry a link's origin (CSV links are `import` links, the `sources` column), a set of
# translations, a quote, dated lines or a photo.
JSON_ONLY = ("links", "translations", "quote", "timeline", "photo")
CSV_FIELDS = tuple(f for f in FIELDS if f not in JSON_ONLY)
MAX_RELATED = 50
IMPORT_ORIGIN = "import"
MAX_LINK_TITLE = 500
LIST_SEPARATOR = ";"


class ImportFailed(Exception):
    """The file was rejected; `errors` lists every problem as 'row N, field F: message'."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ids: list[int] = field(default_factory=list)
    created_ids: list[int] = field(default_factory=list)  # the new incidents, scored for duplicates by the intake flow


@dataclass
class Row:
    """One validated incident row, ready to be written."""

    number: int
    values: dict[str, Any]
    sections: list[str]
    persons: list[dict[str, Any]]
    sources: list[str]
    # (url, title, origin) of every link, `links` first, then `sources` URLs not already listed
    links: list[tuple[str, str | None, str]] = field(default_factory=list)
    related: list[str] = field(default_factory=list)  # external ids of related incidents (this file or stored)
    photo: ImportedPhoto | None = None


@dataclass
class ImportedPhoto:
    """A row's photo: the published copies derived from the file beside the JSON (or, without a path, the
    incident's current photo named by `file`, as an export writes it), and its words."""

    words: dict[str, Any]
    derived: media.Derived | None = None
    file: str | None = None


# ---------------------------------------------------------------- reading


def read_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Parse a .json or .csv file into (row number, raw dict) pairs. Row numbers are 1-based data rows."""
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed([f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    if suffix == ".json":
        return parse_json(text)
    if suffix == ".csv":
        return parse_csv(text)
    raise ImportFailed([f"{path.name}: unknown format (use a .json or .csv file)"])


def parse_json(text: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFailed([f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"]) from None
    if isinstance(data, dict) and isinstance(data.get("incidents"), list):
        data = data["incidents"]
    if not isinstance(data, list):
        raise ImportFailed(['JSON must be a list of incidents or {"incidents": [...]}'])
    rows: list[tuple[int, dict[str, Any]]] = []
    errors = []
    for i, item in enumerate(data, start=1):
        if isinstance(item, dict):
            rows.append((i, item))
        else:
            errors.append(f"row {i}: expected an object, got {type(item).__name__}")
    if errors:
        raise ImportFailed(errors)
    return rows


def parse_csv(text: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise ImportFailed(["CSV file is empty (expected a header row)"])
    unknown = [f for f in reader.fieldnames if f not in CSV_FIELDS]
    if unknown:
        raise ImportFailed([f"header: unknown column(s) {', '.join(unknown)}; allowed: {', '.join(CSV_FIELDS)}"])
    rows = []
    for i, raw in enumerate(reader, start=1):
        if None in raw:
            raise ImportFailed([f"row {i}: more values than columns"])
        item: dict[str, Any] = {k: v for k, v in raw.items() if v not in (None, "")}
        for key in ("sections", "sources", "related"):
            if key in item:
                item[key] = _split(item[key])
        if "persons" in item:
            item["persons"] = [{"name": n} for n in _split(item["persons"])]
        rows.append((i, item))
    return rows


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]


# ---------------------------------------------------------------- validation


def _text(item: dict[str, Any], key: str, errors: list[str], n: int, *, required: bool = False, limit: int = 0) -> str | None:
    value = item.get(key)
    if value is None or value == "":
        if required:
            errors.append(f"row {n}, field {key}: is required")
        return None
    if not isinstance(value, str):
        errors.append(f"row {n}, field {key}: must be text")
        return None
    value = value.strip()
    if limit and len(value) > limit:
        errors.append(f"row {n}, field {key}: longer than {limit} characters")
    return value


def _choice(item: dict[str, Any], key: str, allowed: tuple[str, ...], default: str | None, errors: list[str], n: int) -> str | None:
    value = item.get(key) or default
    if value is not None and value not in allowed:
        errors.append(f"row {n}, field {key}: {value!r} is not one of {', '.join(allowed)}")
    return value


def _photo(item: dict[str, Any], errors: list[str], n: int, base_dir: Path | None,
           publication: str | None) -> ImportedPhoto | None:
    """`photo: {"path", "alt", "caption", "credit", "no_one_identifiable"}`: the path relative to the JSON
    file and inside its folder; the picture is rebuilt now (newsletter.media), so a bad one fails its row."""
    raw = item.get("photo")
    if raw in (None, {}):
        return None
    if not isinstance(raw, dict):
        errors.append(f'row {n}, field photo: must be an object {{"path", "alt", "caption", "credit"}}')
        return None
    unknown = sorted(set(raw) - {"path", "file", "alt", "caption", "credit", "no_one_identifiable"})
    if unknown:
        errors.append(f"row {n}, field photo: unknown field {unknown[0]!r} (allowed: path, alt, caption, credit, "
                      "no_one_identifiable)")
        return None
    if publication != "public":
        errors.append(f"row {n}, field photo: an anonymised or internal incident never carries a photo")
        return None
    try:
        words = {"alt": media.clean_words(raw.get("alt"), media.ALT_MAX, "alt text", required=True),
                 "caption": media.clean_words(raw.get("caption"), media.CAPTION_MAX, "caption"),
                 "credit": media.clean_words(raw.get("credit"), media.CREDIT_MAX, "credit"),
                 "no_one_identifiable": raw.get("no_one_identifiable") is True}
    except media.PhotoRefused as exc:
        errors.append(f"row {n}, field photo: {exc}")
        return None
    path = raw.get("path")
    if path in (None, ""):
        if isinstance(raw.get("file"), str) and media.FILE_NAME.match(raw["file"]):
            return ImportedPhoto(words, file=raw["file"])  # an export's photo: kept if the incident has it
        errors.append(f"row {n}, field photo: path is required (a picture file beside the JSON file)")
        return None
    if not isinstance(path, str) or base_dir is None:
        errors.append(f"row {n}, field photo: path must be a file name relative to the JSON file")
        return None
    folder = base_dir.resolve()
    target = (folder / path).resolve()
    if not target.is_relative_to(folder) or Path(path).is_absolute():
        errors.append(f"row {n}, field photo: path {path[:100]!r} must stay inside the JSON file's folder")
        return None
    try:
        if target.stat().st_size > media.MAX_BYTES:
            raise media.PhotoRefused(f"the file is too large (at most {media.MAX_BYTES // (1024 * 1024)} MB)")
        return ImportedPhoto(words, derived=media.derive(target.read_bytes()))
    except FileNotFoundError:
        errors.append(f"row {n}, field photo: no file {path[:100]!r} beside the JSON file")
    except (IsADirectoryError, PermissionError):
        errors.append(f"row {n}, field photo: {path[:100]!r} cannot be read")
    except media.PhotoRefused as exc:
        errors.append(f"row {n}, field photo: {path[:100]!r}: {exc}")
    return None


def _format_fields(item: dict[str, Any], values: dict[str, Any], errors: list[str], n: int) -> None:
    for key, check in (("format", formats.check_format), ("quote", formats.clean_quote),
                       ("timeline", formats.clean_timeline)):
        try:
            values[key] = check(item.get(key))
        except formats.FormatError as exc:
            errors.append(f"row {n}, field {key}: {exc}")
    values["timeline"] = values.get("timeline") or None
    fmt = values.get("format")
    if fmt == "timeline" and not values.get("timeline"):
        errors.append(f'row {n}, field timeline: a timeline needs its lines [{{"date", "text"}}, ...]')
    if fmt in ("testimony", "statement") and "quote" in values and values["quote"] is None:
        errors.append(f'row {n}, field quote: a {fmt} needs its quote {{"text", "speaker"}}')


def validate_row(n: int, item: dict[str, Any], section_slugs: set[str],
                 languages: Sequence[str] | None = None,
                 base_dir: Path | None = None) -> tuple[Row | None, list[str]]:
    errors: list[str] = []
    unknown = sorted(set(item) - set(FIELDS))
    if unknown:
        errors.append(f"row {n}, field {unknown[0]}: unknown field (allowed: {', '.join(FIELDS)})")
    values: dict[str, Any] = {
        "external_id": _text(item, "external_id", errors, n, limit=200),
        "title": _text(item, "title", errors, n, required=True, limit=500),
        "summary": _text(item, "summary", errors, n) or "",
        "body": _text(item, "body", errors, n) or "",
        "country": _text(item, "country", errors, n, limit=100),
        "region": _text(item, "region", errors, n, limit=200),
        "city": _text(item, "city", errors, n, limit=200),
        "language": _text(item, "language", errors, n, limit=16),
        "kind": _choice(item, "kind", INCIDENT_KINDS, None, errors, n),
        "date_precision": _choice(item, "date_precision", DATE_PRECISIONS, "day", errors, n),
        "publication": _choice(item, "publication", PUBLICATION_LEVELS, "public", errors, n),
        "state": _choice(item, "state", INCIDENT_STATES, "new", errors, n),
        "occurred_on": None,
    }
    raw_date = item.get("occurred_on")
    if raw_date not in (None, ""):
        try:
            values["occurred_on"] = date.fromisoformat(str(raw_date))
        except ValueError:
            errors.append(f"row {n}, field occurred_on: {raw_date!r} is not a date (expected YYYY-MM-DD)")
    if values["state"] == "duplicate":
        errors.append(f"row {n}, field state: 'duplicate' cannot be imported (merge in the desk instead)")
    _format_fields(item, values, errors, n)
    photo = _photo(item, errors, n, base_dir, values["publication"])

    sections = item.get("sections") or []
    if not (isinstance(sections, list) and all(isinstance(s, str) for s in sections)):
        errors.append(f"row {n}, field sections: must be a list of section slugs")
        sections = []
    for slug in sections:
        if slug not in section_slugs:
            errors.append(f"row {n}, field sections: unknown section {slug!r} (known: {', '.join(sorted(section_slugs))})")

    sources = item.get("sources") or []
    if not (isinstance(sources, list) and all(isinstance(s, str) for s in sources)):
        errors.append(f"row {n}, field sources: must be a list of URLs")
        sources = []
    for url in sources:
        if not url.startswith(("http://", "https://")):
            errors.append(f"row {n}, field sources: {url!r} is not an http(s) URL")

    links = _links(item, list(dict.fromkeys(sources)), errors, n)
    values["translations"] = _translations(item, values["language"], languages, errors, n)

    persons = item.get("persons") or []
    if not isinstance(persons, list):
        errors.append(f"row {n}, field persons: must be a list")
        persons = []
    clean_persons = []
    for p in persons:
        if isinstance(p, str):
            p = {"name": p}
        if not isinstance(p, dict) or not isinstance(p.get("name"), str) or not p["name"].strip():
            errors.append(f"row {n}, field persons: each person needs a name")
            continue
        if p.get("role") is not None and p["role"] not in PERSON_ROLES:
            errors.append(f"row {n}, field persons: role {p['role']!r} is not one of {', '.join(PERSON_ROLES)}")
        if p.get("consent") is not None and p["consent"] not in PERSON_CONSENT:
            errors.append(f"row {n}, field persons: consent {p['consent']!r} is not one of {', '.join(PERSON_CONSENT)}")
        spellings = p.get("spellings") or []
        if not isinstance(spellings, list) or not all(isinstance(x, str) and 0 < len(x.strip()) <= 300 for x in spellings):
            errors.append(f"row {n}, field persons: spellings must be a list of names (1 to 300 characters each)")
            spellings = []
        clean_persons.append({k: p.get(k) for k in ("name", "alias", "city", "role", "consent")}
                             | {"name": p["name"].strip(), "spellings": [x.strip() for x in spellings]})

    related = item.get("related") or []
    if not (isinstance(related, list) and all(isinstance(r, str) and 0 < len(r.strip()) <= 200 for r in related)):
        errors.append(f"row {n}, field related: must be a list of external ids (1 to 200 characters each)")
        related = []
    related = list(dict.fromkeys(r.strip() for r in related))
    if len(related) > MAX_RELATED:
        errors.append(f"row {n}, field related: at most {MAX_RELATED} related incidents")
    if values["external_id"] and values["external_id"] in related:
        errors.append(f"row {n}, field related: an incident cannot be related to itself")

    if errors:
        return None, errors
    return Row(n, values, list(dict.fromkeys(sections)), clean_persons, [url for url, _, _ in links], links,
               related, photo), []


# The parts of an incident a translation may carry, with their length limits (body: sanitised HTML).
TRANSLATION_PARTS = {"title": 500, "summary": 5000, "body": 100_000, "quote": 2000}


def _translations(item: dict[str, Any], language: str | None, languages: Sequence[str] | None, errors: list[str],
                  n: int) -> dict[str, dict[str, str]] | None:
    """`translations`: {"ru": {"title", "summary", "body", "quote"}} into the configured editions only.

    `languages` are the configured editions (default first); the incident's own language needs none.
    """
    raw = item.get("translations")
    if raw in (None, {}):
        return None
    if not isinstance(raw, dict):
        errors.append(f'row {n}, field translations: must be an object such as {{"ru": {{"title": "..."}}}}')
        return None
    own = (language or (languages[0] if languages else "")).split("-")[0].lower()
    clean: dict[str, dict[str, str]] = {}
    for lang, parts in raw.items():
        where = f"row {n}, field translations.{lang}"
        if languages is not None and lang not in languages:
            errors.append(f"{where}: {lang!r} is not an edition of this newsletter "
                          f"(NEWSLETTER_LANGUAGES: {', '.join(languages)})")
            continue
        if lang == own:
            errors.append(f"{where}: {lang!r} is the incident's own language; put that text in title, summary, body")
            continue
        if not isinstance(parts, dict) or not parts:
            errors.append(f"{where}: must be an object with any of {', '.join(TRANSLATION_PARTS)}")
            continue
        unknown = sorted(set(parts) - set(TRANSLATION_PARTS))
        if unknown:
            errors.append(f"{where}.{unknown[0]}: unknown part (allowed: {', '.join(TRANSLATION_PARTS)})")
            continue
        words: dict[str, str] = {}
        for part, limit in TRANSLATION_PARTS.items():
            value = parts.get(part)
            if value is None:
                continue
            if not isinstance(value, str):
                errors.append(f"{where}.{part}: must be text")
                continue
            value = "".join(ch for ch in value.strip() if ch in "\n\t" or ch >= " " and ch != "\x7f")
            if len(value) > limit:
                errors.append(f"{where}.{part}: longer than {limit} characters")
                continue
            words[part] = markup.clean(value) if part == "body" else value
        clean[lang] = words
    return clean or None


def _links(item: dict[str, Any], sources: list[str], errors: list[str], n: int) -> list[tuple[str, str | None, str]]:
    """The row's links with their origins: `links` objects as given, then `sources` URLs as import links."""
    raw = item.get("links") or []
    if not isinstance(raw, list):
        errors.append(f"row {n}, field links: must be a list of {{url, title, origin}} objects")
        raw = []
    out: dict[str, tuple[str, str | None, str]] = {}
    for i, link in enumerate(raw, start=1):
        if not isinstance(link, dict) or not isinstance(link.get("url"), str):
            errors.append(f"row {n}, field links: link {i} needs a url")
            continue
        url = link["url"].strip()
        title = link.get("title")
        origin = link.get("origin") or IMPORT_ORIGIN
        if not url.startswith(("http://", "https://")):
            errors.append(f"row {n}, field links: link {i} {url[:100]!r} is not an http(s) URL")
        if title is not None and (not isinstance(title, str) or len(title) > MAX_LINK_TITLE):
            errors.append(f"row {n}, field links: link {i} title must be text of at most {MAX_LINK_TITLE} characters")
            title = None
        if origin not in LINK_ORIGINS:
            errors.append(f"row {n}, field links: link {i} origin {str(origin)[:40]!r} is not one of {', '.join(LINK_ORIGINS)}")
        out.setdefault(url, (url, title, origin))
    for url in sources:
        out.setdefault(url, (url, None, IMPORT_ORIGIN))
    return list(out.values())


# ---------------------------------------------------------------- writing


def import_incidents(session: Session, path: Path, *, actor: str = "import",
                     languages: Sequence[str] | None = None) -> ImportResult:
    """Validate the whole file, then write it; raise ImportFailed (nothing written) on any bad row.

    `languages`: the configured editions (settings.editions), the only languages `translations` may use.
    """
    return import_rows(session, read_rows(path), actor=actor, label=path.name, languages=languages,
                       base_dir=path.parent)


def import_rows(session: Session, raw_rows: list[tuple[int, dict[str, Any]]], *, actor: str, label: str = "",
                languages: Sequence[str] | None = None, base_dir: Path | None = None) -> ImportResult:
    sections = {s.slug: s for s in session.scalars(select(Section))}
    rows: list[Row] = []
    errors: list[str] = []
    seen_ids: dict[str, int] = {}
    consents: dict[frozenset[str], tuple[str, int]] = {}
    for n, item in raw_rows:
        row, row_errors = validate_row(n, item, set(sections), languages, base_dir)
        errors.extend(row_errors)
        for i, p in enumerate(row.persons if row else (), start=1):
            if p.get("consent"):
                # One person in any script or spelling: "Saule Zhaksylykova" and "Сауле Жаксылыкова".
                keys = [k for k in (name_key(x) for x in [p["name"], *p.get("spellings", [])]) if k]
                first = next((consents[k] for k in keys if k in consents), (p["consent"], n))
                for k in keys:
                    consents.setdefault(k, first)
                if first[0] != p["consent"]:
                    # A person's safety must not depend on row order: refuse, let the editor decide.
                    errors.append(f"row {n}, field persons: person {i} of this row has consent {p['consent']!r} "
                                  f"here but {first[0]!r} in row {first[1]}; give one consent")
        if row and row.values["external_id"]:
            first = seen_ids.setdefault(row.values["external_id"], n)
            if first != n:
                errors.append(f"row {n}, field external_id: {row.values['external_id']!r} repeats row {first}")
        if row:
            rows.append(row)
    in_file = {r.values["external_id"] for r in rows if r.values["external_id"]}
    for row in rows:
        for ref in row.related:
            if ref not in in_file and _by_external_id(session, ref) is None:
                errors.append(f"row {row.number}, field related: no incident {ref!r} in this file or stored")
    if errors:
        raise ImportFailed(errors)

    result = ImportResult()
    persons_by_name: dict[str, Person] = {}
    for row in rows:
        incident = _find_existing(session, row)
        if incident is None:
            incident = _create(session, row)
            changed: dict[str, Any] = {"created": True}
            result.created += 1
            if incident.sources:
                changed["sources_added"] = [s.url for s in incident.sources]
        else:
            changed = _apply(incident, row.values)
        if row.photo is not None:
            photo_error = _apply_photo(session, incident, row.photo, changed)
            if photo_error:
                errors.append(f"row {row.number}, field photo: {photo_error}")
        new_sections = [sections[s] for s in row.sections]
        if [s.id for s in incident.sections] != [s.id for s in new_sections]:
            incident.sections = new_sections
            changed["sections"] = row.sections
        new_persons = [_person(session, p, persons_by_name) for p in row.persons]
        if sorted(p.name for p in incident.persons) != sorted(p.name for p in new_persons):
            incident.persons = new_persons
            changed["persons"] = [p.name for p in new_persons]
        known = {s.canonical_url for s in incident.sources}
        for url, title, origin in row.links:
            # A link already known keeps its origin: an import never makes an existing link public.
            if canonical_url(url) not in known:
                incident.sources.append(IncidentSource(url=url, canonical_url=canonical_url(url), title=title,
                                                       origin=origin))
                known.add(canonical_url(url))
                changed.setdefault("sources_added", []).append(url)
        session.flush()
        result.ids.append(incident.id)
        if "created" in changed:
            result.created_ids.append(incident.id)
        else:
            if changed:
                result.updated += 1
            else:
                result.unchanged += 1
        if changed:
            audit.record(session, actor=actor, action="incident.import", entity_type="incident",
                         entity_id=incident.id, changes=changed, note=label)
    for row, incident_id in zip(rows, result.ids):
        added = _relate(session, incident_id, row.related)
        if added:
            audit.record(session, actor=actor, action="incident.related", entity_type="incident",
                         entity_id=incident_id, changes={"related": added}, note=label)
    if errors:  # found only while writing (a photo named by an export's `file` the incident does not have)
        raise ImportFailed(errors)
    return result


def _by_external_id(session: Session, ref: str) -> Incident | None:
    """An incident by the external id an export wrote: its own, or `incident-N` for one that had none."""
    found = session.scalar(select(Incident).where(Incident.external_id == ref))
    if found is None and ref.startswith("incident-") and ref[9:].isdigit():
        found = session.get(Incident, int(ref[9:]))
    return found


def _relate(session: Session, incident_id: int, refs: list[str]) -> list[int]:
    """Relate the incident to each referenced one, both ways; relations already there are kept as they are
    (an import adds relations, it never removes one an editor made)."""
    added = []
    for ref in refs:
        other = _by_external_id(session, ref)
        if other is None or other.id == incident_id:
            continue
        exists = session.scalar(select(incident_relations.c.incident_id).where(
            incident_relations.c.incident_id == incident_id, incident_relations.c.related_id == other.id))
        if exists is None:
            session.execute(incident_relations.insert(), [{"incident_id": incident_id, "related_id": other.id},
                                                          {"incident_id": other.id, "related_id": incident_id}])
            added.append(other.id)
    return added


def _apply_photo(session: Session, incident: Incident, photo: ImportedPhoto, changed: dict[str, Any]) -> str | None:
    """Put the row's photo on the incident; an error message when it names a photo the incident lacks."""
    current = incident.photo or {}
    if photo.derived is not None:
        media.store(session, photo.derived)
        record = media.photo_record(photo.derived, origin="import", **photo.words)
    elif current.get("web") == photo.file:
        record = {**current, **photo.words}
    else:
        return "path is required (this incident has no photo named by `file`; export does not write picture files)"
    if record != current:
        incident.photo = record
        changed["photo"] = record["web"]  # the file name only: alt and caption may name people
    return None


def _create(session: Session, row: Row) -> Incident:
    """A new incident through the one creation path, with the row's links (first of each canonical URL)."""
    links: dict[str, NewLink] = {}
    for url, title, origin in row.links:
        canon = canonical_url(url)
        links.setdefault(canon, NewLink(origin, url=url, title=title, canonical=canon))
    [incident_id] = create_incidents(session, [NewIncident("import", row.values, links=list(links.values()))])
    incident = session.get(Incident, incident_id)
    assert incident is not None
    return incident


def _find_existing(session: Session, row: Row) -> Incident | None:
    if row.values["external_id"]:
        found = session.scalar(select(Incident).where(Incident.external_id == row.values["external_id"]))
        if found:
            return found
    for url in row.sources:
        found = session.scalar(
            select(Incident).join(IncidentSource).where(IncidentSource.canonical_url == canonical_url(url)).limit(1)
        )
        if found:
            return found
    return None


def _apply(incident: Incident, values: dict[str, Any]) -> dict[str, Any]:
    changed = {}
    for key, value in values.items():
        if key == "external_id" and value is None:
            continue
        if getattr(incident, key) != value:
            changed[key] = {"from": getattr(incident, key), "to": value}
            setattr(incident, key, value)
    return changed


def _person(session: Session, data: dict[str, Any], cache: dict[str, Person]) -> Person:
    name = data["name"]
    if name in cache:
        return cache[name]
    person = session.scalar(select(Person).where(Person.name == name).limit(1))
    if person is None:
        # The same person registered under another script or spelling is the same person.
        wanted = {k for k in (name_key(x) for x in [name, *data.get("spellings", [])]) if k}
        person = next((p for p in cache.values() if wanted & {name_key(x) for x in p.all_spellings}), None)
        if person is None and wanted:
            from sqlalchemy.orm import selectinload

            person = next((p for p in session.scalars(select(Person).options(selectinload(Person.spellings)))
                           if wanted & {name_key(x) for x in p.all_spellings}), None)
        if person is not None and name not in person.all_spellings:
            person.spellings.append(PersonSpelling(spelling=name))
    if person is None:
        person = Person(name=name, consent=data.get("consent") or "name")
        session.add(person)
    for key in ("alias", "city", "role", "consent"):
        if data.get(key) is not None and getattr(person, key) != data[key]:
            setattr(person, key, data[key])
    known = {s.spelling for s in person.spellings}
    for spelling in data.get("spellings") or ():
        if spelling not in known and spelling != name:
            person.spellings.append(PersonSpelling(spelling=spelling))
            known.add(spelling)
    cache[name] = person
    return person


# ---------------------------------------------------------------- export


def export_records(session: Session, *, state: str | None = None) -> list[dict[str, Any]]:
    """Every incident (optionally of one state) as plain dicts with exactly FIELDS, oldest first."""
    query = select(Incident).options(
        selectinload(Incident.sections), selectinload(Incident.persons), selectinload(Incident.sources)
    ).order_by(Incident.id)
    if state:
        query = query.where(Incident.state == state)
    records = []
    related = _related_ids(session)
    for inc in session.scalars(query):
        records.append({
            "external_id": inc.external_id or f"incident-{inc.id}",
            "title": inc.title,
            "summary": inc.summary,
            "body": inc.body,
            "kind": inc.kind,
            "occurred_on": inc.occurred_on.isoformat() if inc.occurred_on else None,
            "date_precision": inc.date_precision,
            "country": inc.country,
            "region": inc.region,
            "city": inc.city,
            "language": inc.language,
            "sections": [s.slug for s in inc.sections],
            "persons": [
                {k: getattr(p, k) for k in ("name", "alias", "city", "role", "consent")}
                | {"spellings": [s.spelling for s in p.spellings]} for p in inc.persons
            ],
            "publication": inc.publication,
            "sources": [s.url for s in inc.sources if s.url],
            "state": inc.state,
            "links": [{"url": s.url, "title": s.title, "origin": s.origin} for s in inc.sources if s.url],
            "translations": inc.translations or {},
            "related": related.get(inc.id, []),
            "format": inc.format or "news",
            "quote": _export_quote(inc.quote),
            "timeline": inc.timeline or None,
            "photo": _export_photo(inc.photo),
        })
    return records


def _related_ids(session: Session) -> dict[int, list[str]]:
    """Every incident's related incidents by the external id the export writes for them."""
    rows = session.execute(
        select(incident_relations.c.incident_id, Incident.id, Incident.external_id)
        .join(Incident, Incident.id == incident_relations.c.related_id)
        .order_by(incident_relations.c.incident_id, Incident.id)
    ).all()
    out: dict[int, list[str]] = {}
    for incident_id, other_id, external in rows:
        out.setdefault(incident_id, []).append(external or f"incident-{other_id}")
    return out


def _export_quote(quote: dict[str, Any] | None) -> dict[str, str] | None:
    if not quote:
        return None
    return {k: quote[k] for k in ("text", "speaker", "addressee") if quote.get(k) or k == "text"}


def _export_photo(photo: dict[str, Any] | None) -> dict[str, Any] | None:
    """The photo's words and its published file name; export writes no picture files (it prints to stdout),
    so re-importing keeps the photo only on the incident that has it, and a new one needs a `path`."""
    if not photo:
        return None
    return {"file": photo["web"], "alt": photo.get("alt", ""), "caption": photo.get("caption", ""),
            "credit": photo.get("credit", ""), "no_one_identifiable": bool(photo.get("no_one_identifiable"))}


def dump(records: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(records, ensure_ascii=False, indent=2) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for rec in records:
        flat = dict(rec)
        flat["sections"] = LIST_SEPARATOR.join(rec["sections"])
        flat["sources"] = LIST_SEPARATOR.join(rec["sources"])
        flat["persons"] = LIST_SEPARATOR.join(p["name"] for p in rec["persons"])
        flat["related"] = LIST_SEPARATOR.join(rec.get("related", []))
        writer.writerow({k: ("" if v is None else v) for k, v in flat.items()})
    return out.getvalue()
