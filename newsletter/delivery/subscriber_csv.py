"""Strict reading of a subscriber CSV: every problem found, by line and field, before anything is stored.

A spreadsheet saved the wrong way (another encoding, semicolons, a quote left open) must not
quietly become wrong subscribers: an open quote used to swallow the next person's row. So each
physical line is one record (no field of this file holds a line break), every line is checked,
and the caller imports nothing unless the whole file is clean.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from newsletter.config import Settings
from newsletter.delivery.addresses import InvalidEmail, normalize_email
from newsletter.i18n import catalog_languages
from newsletter.models import SUBSCRIBER_STATES

COLUMNS = ("email", "name", "language", "state", "consent_source", "consent_at", "confirmed_at",
           "unsubscribed_at", "bounce_count")
DATE_COLUMNS = ("consent_at", "confirmed_at", "unsubscribed_at")
MAX_FIELD = {"email": 254, "name": 200, "consent_source": 200}
_OTHER_DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class CsvRefused(ValueError):
    """The file was refused as a whole; `errors` lists every problem as 'line N, field F: message'."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class Row:
    """One checked data line, values normalised."""

    line: int
    email: str
    name: str | None
    language: str
    state: str
    consent_source: str | None
    dates: dict[str, datetime | None]
    bounce_count: int


def known_languages(settings: Settings | None) -> list[str]:
    """Languages a reader may have: the default edition's and those with a translation catalog."""
    found = catalog_languages()
    default = settings.language if settings else "en"
    return [default, *sorted(found - {default})]


def decode(data: bytes, name: str) -> str:
    """UTF-8 (with or without a byte-order mark) or UTF-16 with one; anything else is refused with advice."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise CsvRefused([f"{name}: UTF-32 text is not accepted; save the file as 'CSV UTF-8'"])
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise CsvRefused([f"{name}: starts like UTF-16 but byte {exc.start} is not valid UTF-16; "
                              "save the file as 'CSV UTF-8'"]) from None
    if b"\x00" in data[:4096]:
        raise CsvRefused([f"{name}: contains NUL bytes, most likely UTF-16 without a byte-order mark; "
                          "save the file as 'CSV UTF-8'"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise CsvRefused([f"{name}: line {line}: byte 0x{data[exc.start]:02x} is not UTF-8; the file is in "
                          "another encoding (e.g. Windows-1251 or Latin-1): save it as 'CSV UTF-8'"]) from None


def _split(text: str, line: int, columns: list[str] | None = None) -> list[str]:
    """One line into fields; an unbalanced quote or stray text after a closing quote is an error."""
    try:
        return next(csv.reader([text], strict=True))
    except csv.Error as exc:
        problem = str(exc)
        index = text[:_quote_start(text)].count(",")
        field = columns[index] if columns and index < len(columns) else str(index + 1)
        if "unexpected end of data" in problem or "newline inside string" in problem:
            raise ValueError(f"line {line}, field {field}: a quote opens and is never closed "
                             "(a line break inside a field is not allowed; close the quote)") from None
        raise ValueError(f"line {line}, field {field}: text after a closing quote ({problem}); "
                         'write a quote inside a quoted field as ""') from None


def _quote_start(text: str) -> int:
    """Where the last field that starts with a quote begins (for naming the broken field)."""
    start, inside = 0, False
    for i, ch in enumerate(text):
        if ch == '"':
            if not inside and (i == 0 or text[i - 1] == ","):
                start = i
            inside = not inside
    return start


def _header(text: str) -> list[str]:
    try:
        columns = [c.strip().lower() for c in _split(text, 1)]
    except ValueError as exc:
        raise CsvRefused([str(exc)]) from None
    if "email" not in columns:
        for delimiter, label in _OTHER_DELIMITERS.items():
            if delimiter in text and "email" in [c.strip().lower() for c in text.split(delimiter)]:
                raise CsvRefused([f"line 1: the columns are separated by {label}, not commas; "
                                  "save the file as comma-separated 'CSV UTF-8'"])
        raise CsvRefused([f"line 1: no 'email' column (columns found: {', '.join(c for c in columns if c) or 'none'})"])
    errors = []
    for i, column in enumerate(columns, start=1):
        if column not in COLUMNS:
            errors.append(f"line 1, field {i}: unknown column {column!r} (known: {', '.join(COLUMNS)})")
        elif columns.index(column) != i - 1:
            errors.append(f"line 1, field {i}: column {column!r} appears twice")
    if errors:
        raise CsvRefused(errors)
    return columns


def _when(value: str) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value[:40]!r} is not an ISO date/time such as 2026-11-20T09:30:00+00:00") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _row(line: int, values: dict[str, str], languages: list[str], errors: list[str]) -> Row | None:
    """Check one record; append one message per bad field and return None when any was bad."""
    before = len(errors)

    def bad(column: str, message: str) -> None:
        errors.append(f"line {line}, field {column}: {message}")

    for column, limit in MAX_FIELD.items():
        if len(values.get(column, "")) > limit:
            bad(column, f"longer than {limit} characters")
    email = ""
    try:
        email = normalize_email(values.get("email", ""))
    except InvalidEmail as exc:
        bad("email", str(exc))
    language = values.get("language", "").lower() or languages[0]
    if language not in languages:
        bad("language", f"{values['language'][:20]!r} is not a language of this newsletter (use one of: {', '.join(languages)})")
    state = values.get("state", "").lower() or "confirmed"
    if state not in SUBSCRIBER_STATES:
        bad("state", f"{values['state'][:20]!r} is not one of {', '.join(SUBSCRIBER_STATES)}")
    dates: dict[str, datetime | None] = {}
    for column in DATE_COLUMNS:
        try:
            dates[column] = _when(values.get(column, ""))
        except ValueError as exc:
            bad(column, str(exc))
    raw_count = values.get("bounce_count", "") or "0"
    count = int(raw_count) if raw_count.isdigit() and len(raw_count) < 6 else -1
    if count < 0:
        bad("bounce_count", f"{raw_count[:20]!r} is not a whole number of 0 or more")
    if len(errors) > before:
        return None
    return Row(line=line, email=email, name=values.get("name") or None, language=language, state=state,
               consent_source=values.get("consent_source") or None, dates=dates, bounce_count=count)


def read_rows(path: Path, settings: Settings | None) -> list[Row]:
    """Every data row of the file, checked; raise CsvRefused listing every problem in the file."""
    text = decode(path.read_bytes(), path.name)
    lines = _LINE_BREAK.split(text)
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise CsvRefused([f"{path.name}: the file is empty (expected a header line with an 'email' column)"])
    columns = _header(lines[0])
    languages = known_languages(settings)
    errors: list[str] = []
    rows: list[Row] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(lines[1:], start=2):
        if not raw.strip():
            continue
        try:
            fields = _split(raw, number, columns)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        if len(fields) != len(columns):
            errors.append(f"line {number}: {len(fields)} fields where the header has {len(columns)} "
                          f"({', '.join(columns)}); a comma inside a value needs quotes, e.g. \"Carol, Jr\"")
            continue
        row = _row(number, {c: v.strip() for c, v in zip(columns, fields)}, languages, errors)
        if row is None:
            continue
        if row.email in seen:
            errors.append(f"line {number}, field email: {row.email} repeats line {seen[row.email]}")
            continue
        seen[row.email] = number
        rows.append(row)
    if errors:
        raise CsvRefused(errors)
    return rows
