"""The issue snapshot: one typed model, built by issues (issues/snapshot.py) and read by render.

A frozen issue stores it as JSON (Issue.snapshot); every reader validates that JSON against this
schema before use, so snapshots stored by earlier versions load as long as SNAPSHOT_VERSION holds.
Rendering trusts nothing but this schema: unknown keys are dropped (so a field added upstream by
mistake, such as a protected name, can never reach a public output) and every URL must be http(s).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_serializer

from newsletter import markup

SNAPSHOT_VERSION: Literal[1] = 1


class InvalidSnapshot(ValueError):
    """The snapshot does not follow the schema; the message names each offending field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)


def _http_url(value: str) -> str:
    value = value.strip()
    scheme = value.split(":", 1)[0].lower()
    if scheme not in ("http", "https") or "://" not in value:
        raise ValueError("must be an absolute http(s) URL")
    if any(c in value for c in " \t\r\n<>\"'`"):
        raise ValueError("must not contain spaces, quotes or angle brackets")
    return value


class Link(_Model):
    url: str
    title: str = ""

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)


class Item(_Model):
    id: int
    headline: str = Field(min_length=1)
    text: str = ""  # plain paragraphs: the text part, and the words of `html` when there is one
    html: str | None = None  # an editor's Markdown, rendered and sanitised; None: `text` is all there is
    date: dt.date | None = None
    date_precision: Literal["day", "week", "month"] = "day"
    place: str | None = None
    kind: str | None = None
    links: list[Link] = Field(default_factory=list)


    @field_validator("html")
    @classmethod
    def _html(cls, value: str | None) -> str | None:
        """Cleaned again to the tags an item may carry, whoever wrote the snapshot."""
        return markup.clean(value) or None if value else None

    @model_serializer(mode="wrap")
    def _without_empty_html(self, handler: Any) -> Any:
        """Items without Markdown serialise exactly as they always did (stored snapshots, issue.json)."""
        data = handler(self)
        if isinstance(data, dict) and data.get("html") is None:
            data.pop("html", None)
        return data


class Section(_Model):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str = Field(min_length=1)
    description: str = ""
    items: list[Item] = Field(default_factory=list)


class IssueMeta(_Model):
    number: int = Field(ge=1)
    period: str = Field(pattern=r"^\d{4}-W\d{2}$")
    period_start: dt.date
    period_end: dt.date
    title: str = ""
    intro: str = ""
    language: str = Field("en", pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
    preheader: str = ""
    published_at: dt.datetime | None = None


class Organisation(_Model):
    name: str = Field(min_length=1)
    base_url: str

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str) -> str:
        return _http_url(value).rstrip("/")


class Withheld(_Model):
    incidents: int = Field(0, ge=0)
    cities: int = Field(0, ge=0)


class StatusCount(_Model):
    status: str
    label: str
    count: int = Field(ge=0)


class PersonsSummary(_Model):
    as_of: dt.date
    counts: list[StatusCount] = Field(default_factory=list)


class Snapshot(_Model):
    version: Literal[1]  # SNAPSHOT_VERSION; required, so a stray JSON object is never taken for a snapshot
    issue: IssueMeta
    organisation: Organisation
    sections: list[Section] = Field(default_factory=list)
    withheld: Withheld = Field(default_factory=Withheld)
    persons_summary: PersonsSummary | None = None

    @property
    def item_count(self) -> int:
        return sum(len(s.items) for s in self.sections)


def parse_snapshot(data: dict[str, Any] | Snapshot) -> Snapshot:
    """Validate a snapshot dict; raise InvalidSnapshot listing every problem by its path."""
    if isinstance(data, Snapshot):
        return data
    if not isinstance(data, dict):
        raise InvalidSnapshot(f"snapshot must be a JSON object, not {type(data).__name__}")
    try:
        return Snapshot.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
            problems.append(f"snapshot{path}: {err['msg'].removeprefix('Value error, ')}")
        raise InvalidSnapshot("invalid issue snapshot:\n  " + "\n  ".join(problems)) from None


def public_json(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot as published in issue.json: schema fields only."""
    return snapshot.model_dump(mode="json")


def stored_json(snapshot: Snapshot) -> dict[str, Any]:
    """The JSON form to freeze on the issue (Issue.snapshot); parse_snapshot reads it back unchanged."""
    return snapshot.model_dump(mode="json")


def with_published_at(snapshot: Snapshot, when: dt.datetime) -> Snapshot:
    """The snapshot stamped with its publication time; a time already stamped is kept (a re-publish
    must not change the date readers saw)."""
    if snapshot.issue.published_at is not None:
        return snapshot
    return snapshot.model_copy(update={"issue": snapshot.issue.model_copy(update={"published_at": when})})
