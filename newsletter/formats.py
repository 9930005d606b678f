"""How an item is told: its format and the parts a format adds (a quote, dated timeline lines).

One set of rules for the desk and for import (exchange.py), so a file can never store what the desk
would refuse. Photos have their own module (newsletter.media).
"""

from __future__ import annotations

import re
from typing import Any

from newsletter.models import ITEM_FORMATS

QUOTE_MAX = 2000
SPEAKER_MAX = 300
TIMELINE_LINES = 60
TIMELINE_DATE_MAX = 80
TIMELINE_TEXT_MAX = 1000
# "January 4–5, 2022: ..." - the date is whatever precedes the first colon followed by a space (a time
# such as 10:30 has no space after its colon); a Markdown list marker in front is allowed.
_LINE = re.compile(r"^\s*(?:[-*+]|\d+[.)])?\s*(?P<date>.+?):\s+(?P<text>\S.*)$")


class FormatError(ValueError):
    """A format, quote or timeline an item cannot have; the message says which and why."""


def check_format(value: object) -> str:
    value = "news" if value in (None, "") else value
    if value not in ITEM_FORMATS:
        raise FormatError(f"format {str(value)[:40]!r} is not one of {', '.join(ITEM_FORMATS)}")
    return str(value)


def _words(value: object, limit: int, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FormatError(f"the {what} must be text")
    value = value.replace("\r\n", "\n").strip()
    if len(value) > limit:
        raise FormatError(f"the {what} is too long ({len(value)} characters, at most {limit})")
    return value


def clean_quote(value: object) -> dict[str, str] | None:
    """{"text", "speaker", "addressee"} or None when there is no quote text; FormatError otherwise."""
    if value in (None, "", {}):
        return None
    if not isinstance(value, dict):
        raise FormatError('the quote must be an object {"text", "speaker"} (a statement may add "addressee")')
    unknown = sorted(set(value) - {"text", "speaker", "addressee"})
    if unknown:
        raise FormatError(f"the quote has an unknown field {unknown[0]!r} (allowed: text, speaker, addressee)")
    quote = {"text": _words(value.get("text"), QUOTE_MAX, "quote"),
             "speaker": " ".join(_words(value.get("speaker"), SPEAKER_MAX, "quote's speaker").split()),
             "addressee": " ".join(_words(value.get("addressee"), SPEAKER_MAX, "statement's addressee").split())}
    if not quote["text"]:
        if quote["speaker"] or quote["addressee"]:
            raise FormatError("the quote has a speaker or addressee but no text")
        return None
    return quote


def parse_timeline(text: str) -> list[dict[str, str]]:
    """Lines "date: what happened" (one a line, blank lines ignored) as [{"date", "text"}]; FormatError
    names the first line that is not of that form."""
    lines = []
    for number, raw in enumerate((text or "").replace("\r\n", "\n").split("\n"), start=1):
        if not raw.strip():
            continue
        match = _LINE.match(raw)
        if match is None:
            raise FormatError(f'timeline line {number} is not "date: what happened" ({raw.strip()[:60]!r})')
        lines.append({"date": match["date"].strip(), "text": match["text"].strip()})
    return clean_timeline(lines)


def clean_timeline(value: object) -> list[dict[str, str]]:
    """A timeline given as a list of {"date", "text"} objects or of "date: text" strings."""
    if value in (None, "", []):
        return []
    if isinstance(value, str):
        return parse_timeline(value)
    if not isinstance(value, list):
        raise FormatError('the timeline must be a list of {"date", "text"} objects or "date: text" lines')
    out = []
    for n, line in enumerate(value, start=1):
        if isinstance(line, str):
            parsed = parse_timeline(line)
            if len(parsed) != 1:
                raise FormatError(f'timeline line {n} is not "date: what happened"')
            line = parsed[0]
        if not isinstance(line, dict) or set(line) - {"date", "text"}:
            raise FormatError(f'timeline line {n} must be {{"date", "text"}}')
        date = " ".join(_words(line.get("date"), TIMELINE_DATE_MAX, f"date of timeline line {n}").split())
        words = _words(line.get("text"), TIMELINE_TEXT_MAX, f"text of timeline line {n}")
        if not date or not words:
            raise FormatError(f"timeline line {n} needs both a date and a text")
        out.append({"date": date, "text": words})
    if len(out) > TIMELINE_LINES:
        raise FormatError(f"the timeline has {len(out)} lines (at most {TIMELINE_LINES})")
    return out


def timeline_text(lines: list[dict[str, Any]] | None) -> str:
    """The timeline as the desk shows it for editing: one "date: text" line each."""
    return "\n".join(f"{line.get('date', '')}: {line.get('text', '')}" for line in lines or ())
