"""The volunteer form <-> SubmissionIn: reading posted fields, and errors placed next to their fields."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from newsletter.submissions.attachments import IncomingFile
from newsletter.i18n import _
from newsletter.submissions.schema import MAX_LINKS, MAX_PERSONS, MAX_TEXT, MIN_TEXT, SubmissionIn

HONEYPOT = "website"
_PERSON_KEY = re.compile(r"^persons-(\d{1,3})-(name|role|alias)$")


@dataclass
class FormState:
    """What the form shows: the volunteer's values as typed, and errors keyed by field id."""

    values: dict[str, str] = field(default_factory=dict)
    persons: list[dict[str, str]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


SIMPLE_FIELDS = ("what", "kind", "occurred_on", "date_precision", "city", "region", "country", "links", "contact",
                 "consent")


def read_form(form: FormData) -> FormState:
    state = FormState()
    for name in SIMPLE_FIELDS:
        value = form.get(name)
        state.values[name] = value if isinstance(value, str) else ""
    rows: dict[int, dict[str, str]] = {}
    for key, value in form.multi_items():
        m = _PERSON_KEY.match(key)
        if m and isinstance(value, str) and int(m.group(1)) < MAX_PERSONS * 2:
            rows.setdefault(int(m.group(1)), {"name": "", "role": "", "alias": ""})[m.group(2)] = value
    state.persons = [rows[i] for i in sorted(rows)]
    return state


def uploaded_files(form: FormData) -> list[UploadFile]:
    """The chosen files; an empty file input still posts one nameless, empty part, which is skipped."""
    return [f for f in form.getlist("files") if isinstance(f, UploadFile) and (f.filename or f.size)]


async def read_files(uploads: list[UploadFile]) -> list[IncomingFile]:
    return [IncomingFile(name=u.filename or "file", content=await u.read()) for u in uploads]


def to_payload(state: FormState, language: str) -> dict[str, Any]:
    v = state.values
    persons = []
    for row in state.persons:
        if row["name"].strip():
            persons.append({"name": row["name"], "role": row["role"] or None, "is_alias": row["alias"] == "on"})
    return {
        "what": v["what"],
        "kind": v["kind"] or None,
        "occurred_on": v["occurred_on"] or None,
        "date_precision": v["date_precision"] or "day",
        "city": v["city"] or None,
        "region": v["region"] or None,
        "country": v["country"] or None,
        "persons": persons,
        "links": [line for line in v["links"].splitlines() if line.strip()],
        "contact": v["contact"] or None,
        "consent": v["consent"] or None,
        "language": language,
    }


def validate(state: FormState, language: str) -> SubmissionIn | None:
    """The validated report, or None with `state.errors` filled in the volunteer's language."""
    try:
        return SubmissionIn.model_validate(to_payload(state, language))
    except ValidationError as exc:
        named_rows = [i for i, row in enumerate(state.persons) if row["name"].strip()]
        for err in exc.errors():
            key, message = _message(err, named_rows)
            state.errors.setdefault(key, message)
        return None


def _message(err: Any, named_rows: list[int]) -> tuple[str, str]:
    loc = list(err.get("loc", ()))
    kind = err.get("type", "")
    name = str(loc[0]) if loc else "what"
    if name == "persons" and len(loc) >= 3 and isinstance(loc[1], int) and loc[1] < len(named_rows):
        row = named_rows[loc[1]]
        if loc[2] == "role":
            return f"persons-{row}-role", _("Choose a role from the list.")
        return f"persons-{row}-name", _("The name is too long (at most 300 characters).")
    if name == "persons":
        return "persons", _("At most %(n)s people per report.", n=MAX_PERSONS)
    if name == "what":
        if kind == "string_too_long":
            return name, _("The description is too long (at most %(n)s characters).", n=MAX_TEXT)
        return name, _("Describe what happened (at least %(n)s characters).", n=MIN_TEXT)
    if name == "kind":
        return name, _("Choose the kind of incident.")
    if name == "occurred_on":
        reason = str(err.get("msg", ""))
        if "future" in reason:
            return name, _("The date cannot be in the future.")
        if "too long ago" in reason:
            return name, _("Check the year of the date.")
        return name, _("Enter the date as year-month-day, for example 2026-11-18.")
    if name == "date_precision":
        return name, _("Choose how precise the date is.")
    if name == "links":
        if kind == "too_long" and len(loc) == 1:
            return name, _("At most %(n)s links per report.", n=MAX_LINKS)
        return name, _("Put one web address per line, each starting with http:// or https://.")
    if name == "consent":
        return name, _("Choose whether and how this report may be published.")
    if name in ("city", "region", "country", "contact"):
        return name, _("This is too long.")
    return "what", _("Check the report: something in it could not be read.")
