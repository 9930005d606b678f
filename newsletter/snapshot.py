"""The issue snapshot: one typed model, built by issues (issues/snapshot.py) and read by render.

A frozen issue stores it as JSON (Issue.snapshot); every reader validates that JSON against this
schema before use, so snapshots stored by earlier versions load as long as SNAPSHOT_VERSION holds.
Rendering trusts nothing but this schema: unknown keys are dropped (so a field added upstream by
mistake, such as a protected name, can never reach a public output) and every URL must be http(s).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import (
    BaseModel, ConfigDict, Field, SerializationInfo, ValidationError, field_validator, model_serializer, model_validator,
)
from pydantic.functional_serializers import SerializerFunctionWrapHandler

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


class _Additive(_Model):
    """A model that grew optional fields after snapshots were first stored: a new field left at its
    empty default is not written, so an old snapshot dumps (and publishes as issue.json) byte for byte
    as it did."""

    _ADDED: frozenset[str] = frozenset()
    _ADDED_DEFAULTS: dict[str, Any] = {}  # an added field whose default is not empty (Item.format: "news")

    @model_serializer(mode="wrap")
    def _omit_empty_additions(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> dict[str, Any]:
        data = handler(self)
        for name in self._ADDED:
            if name in data and (data[name] is False or data[name] in (None, [], {}) or
                                 (name in self._ADDED_DEFAULTS and data[name] == self._ADDED_DEFAULTS[name])):
                del data[name]
        return data


class Link(_Model):
    url: str
    title: str = ""

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)


class Subject(_Model):
    """A person of concern as a public item names them: the form their consent allows (name, alias or
    initials; a person who consented to nothing is never a subject) and their role, in the issue's language."""

    name: str = Field(min_length=1)
    role: str = ""


def _link_url(value: str) -> str:
    """A footer link: http(s) as everywhere, or a mailto: address (contact, privacy requests)."""
    value = value.strip()
    if value.lower().startswith("mailto:"):
        if "@" not in value or any(c in value for c in " \t\r\n<>\"'`"):
            raise ValueError("must be a mailto: address without spaces, quotes or angle brackets")
        return value
    return _http_url(value)


ItemFormat = Literal["news", "testimony", "statement", "timeline"]
MEDIA_FILE = r"^[0-9a-f]{64}\.jpg$"  # newsletter.media names a copy by its content hash


class Quote(_Model):
    """A pull quote (testimony) or the words of an appeal (statement), and who said or signed them."""

    text: str = Field(min_length=1)
    speaker: str = ""
    addressee: str = ""  # a statement's "to whom"


class TimelineLine(_Model):
    """One dated line of a timeline: the date as the editor wrote it ("January 4–5, 2022") and what happened."""

    date: str = Field(min_length=1, max_length=80)
    text: str = Field(min_length=1)


class Photo(_Model):
    """A photo as published: only file names inside the issue's own media/ folder (never a URL, so a
    snapshot cannot point readers' mail apps at anyone else's server), their sizes, and its words."""

    file: str = Field(pattern=MEDIA_FILE)
    width: int = Field(ge=1, le=1200)
    height: int = Field(ge=1, le=1800)
    email_file: str = Field(pattern=MEDIA_FILE)
    email_width: int = Field(ge=1, le=600)
    email_height: int = Field(ge=1, le=900)
    alt: str = Field(min_length=1)
    caption: str = ""
    credit: str = ""


class Item(_Additive):
    _ADDED = frozenset({"subjects", "kind_label", "related", "html", "original_language", "lead", "subhead", "paragraph",
                        "format", "quote", "timeline", "photo"})
    _ADDED_DEFAULTS = {"format": "news"}

    id: int
    # Required, except on a paragraph item (the seed's items that are only a paragraph): its text names it.
    headline: str = ""
    text: str = ""  # plain paragraphs: the text part, and the words of `html` when there is one
    html: str | None = None  # an editor's Markdown, rendered and sanitised; None: `text` is all there is
    date: dt.date | None = None
    date_precision: Literal["day", "week", "month"] = "day"
    place: str | None = None
    kind: str | None = None
    links: list[Link] = Field(default_factory=list)
    kind_label: str | None = None  # "Detention", in the issue's language (vocabulary.kind_label)
    subjects: list[Subject] = Field(default_factory=list)
    related: list[Link] = Field(default_factory=list)  # "See also": earlier issues' items, on our archive
    # Editions: set on an item of a further edition that shows the original words because an editor
    # allowed it (no translation yet); the original's language, so pages mark it and say so.
    original_language: str | None = Field(None, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
    lead: bool = False  # the issue's lead story: rendered first and larger
    subhead: str | None = None  # items of a section sharing a sub-head group under it, in order
    paragraph: bool = False  # shown without a headline (the text is the item)

    @model_validator(mode="after")
    def _named(self) -> "Item":
        """Every item keeps an accessible name: its headline, or for a paragraph item its text."""
        if not self.headline and not self.paragraph:
            raise ValueError("headline: an item needs a headline unless it is a paragraph item")
        if self.paragraph and not self.text:
            raise ValueError("text: a paragraph item needs its text")
        return self

    format: ItemFormat = "news"
    quote: Quote | None = None
    timeline: list[TimelineLine] = Field(default_factory=list)
    photo: Photo | None = None

    @property
    def media_files(self) -> list[str]:
        """The files this item publishes in its issue's media/ folder."""
        return [self.photo.file, self.photo.email_file] if self.photo else []

    @field_validator("html")
    @classmethod
    def _html(cls, value: str | None) -> str | None:
        """Cleaned again to the tags an item may carry, whoever wrote the snapshot."""
        return markup.clean(value) or None if value else None


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


class EditorsNote(_Model):
    """Issue-level words of the editors, shown after the intro: Markdown made into clean HTML at freezing."""

    html: str = Field(min_length=1)
    text: str = Field(min_length=1)  # the same as plain paragraphs (the text part, the consent check)
    signature: str = ""

    @field_validator("html")
    @classmethod
    def _html(cls, value: str) -> str:
        return markup.clean(value)


class Footer(_Model):
    """The issue's footer, frozen with it: how to subscribe (our /subscribe page) and the organisation's
    optional sign-up, contact, donation and privacy links (settings; http(s) or mailto)."""

    subscribe_url: str
    signup_url: str | None = None
    contact_url: str | None = None
    contact_email: str | None = None
    donate_url: str | None = None
    privacy_url: str | None = None

    @field_validator("subscribe_url")
    @classmethod
    def _subscribe(cls, value: str) -> str:
        return _http_url(value)

    @field_validator("signup_url", "contact_url", "donate_url", "privacy_url")
    @classmethod
    def _links(cls, value: str | None) -> str | None:
        return _link_url(value) if value else None

    @field_validator("contact_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if not value:
            return None
        if "@" not in value or any(c in value for c in " \t\r\n<>\"'`:/?"):
            raise ValueError("must be an email address")
        return value


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


class RoleGroup(_Model):
    """The persons of one status and one role: named only as each one's consent allows, the rest counted."""

    role: str = ""
    label: str = ""  # "civil activists", in the issue's language
    names: list[str] = Field(default_factory=list)
    unnamed: int = Field(0, ge=0)


class StatusCount(_Additive):
    _ADDED = frozenset({"groups"})

    status: str
    label: str
    count: int = Field(ge=0)
    groups: list[RoleGroup] = Field(default_factory=list)


class PersonsSummary(_Model):
    as_of: dt.date
    counts: list[StatusCount] = Field(default_factory=list)


class CorrectionNote(_Additive):
    """A dated correction of one item of a published issue, as readers see it.

    Render gets these beside the frozen snapshots (the archive page, feed and issue.json of the
    corrected issue), and a later issue freezes the ones filed since the issue before it
    (Snapshot.earlier_corrections, its "Corrections" block).

    Editions: the note as filed carries its `translations` (further language -> text) and the corrected
    issue's further `editions` (language -> the item's headline there); every output reads it through
    `in_language`, which leaves one language's words and the `edition` whose page it links to.
    """

    _ADDED = frozenset({"translations", "editions", "edition"})

    id: int = Field(ge=1)
    issue_number: int = Field(ge=1)
    issue_period: str = Field(pattern=r"^\d{4}-W\d{2}$")
    item_id: int
    headline: str = ""
    text: str = Field(min_length=1)
    language: str = Field("en", pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
    filed_at: dt.datetime
    translations: dict[str, str] = Field(default_factory=dict)
    editions: dict[str, str] = Field(default_factory=dict)
    edition: str | None = Field(None, pattern=r"^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")

    def in_language(self, language: str) -> "CorrectionNote":
        """The note as readers of the `language` edition see it: its translation when there is one (else the
        original words, whose `language` then differs, so pages mark them), the item's headline in that
        edition, and that edition of the corrected issue to link to when the issue has one. A note read
        once keeps what it was given (translations and editions are dropped, so outputs never carry them)."""
        if not self.translations and not self.editions:
            return self
        text = (self.translations.get(language) or "").strip() if language != self.language else ""
        return self.model_copy(update={
            "text": text or self.text, "language": language if text else self.language,
            "headline": self.editions.get(language) or self.headline,
            "edition": language if language in self.editions else None,
            "translations": {}, "editions": {},
        })


class PlaceCount(_Model):
    """This week's incidents in one region, or one city of it (city None: counted in the region only)."""

    region: str = Field(min_length=1)
    city: str | None = None
    count: int = Field(ge=1)


class Places(_Model):
    """Where this week's incidents happened: only as precise as consent allows (see issues/snapshot.py)."""

    rows: list[PlaceCount] = Field(default_factory=list)
    incidents: int = Field(0, ge=0)
    cities: int = Field(0, ge=0)  # "registered in N cities": every incident with a city, internal ones too


class Snapshot(_Additive):
    _ADDED = frozenset({"places", "earlier_corrections", "edition", "editors_note", "footer", "direct_links"})

    version: Literal[1]  # SNAPSHOT_VERSION; required, so a stray JSON object is never taken for a snapshot
    issue: IssueMeta
    organisation: Organisation
    sections: list[Section] = Field(default_factory=list)
    withheld: Withheld = Field(default_factory=Withheld)
    persons_summary: PersonsSummary | None = None
    places: Places | None = None
    # Corrections of earlier issues filed since the issue before this one (the "Corrections" block).
    earlier_corrections: list[CorrectionNote] = Field(default_factory=list)
    # Editions: the language of a further edition (published at issues/<period>/<edition>/); None for the
    # default edition, whose snapshot keeps its bytes.
    edition: str | None = Field(None, pattern=r"^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
    editors_note: EditorsNote | None = None
    footer: Footer | None = None  # None: an issue frozen before footers (rendered without one, as then)
    # The email links each item's primary source and its text's links directly (issues frozen since
    # then); False: an older issue, whose email linked our own site only and keeps its bytes.
    direct_links: bool = False

    @property
    def item_count(self) -> int:
        return sum(len(s.items) for s in self.sections)

    @property
    def media_files(self) -> list[str]:
        """Every file the issue publishes under issues/<period>/media/, in order, once each."""
        return list(dict.fromkeys(f for s in self.sections for i in s.items for f in i.media_files))


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
            msg = err["msg"].removeprefix("Value error, ")
            field, sep, rest = msg.partition(": ")
            if sep and field.isidentifier():  # a model check naming its field ("headline: ...")
                path, msg = f"{path}.{field}", rest
            problems.append(f"snapshot{path}: {msg}")
        raise InvalidSnapshot("invalid issue snapshot:\n  " + "\n  ".join(problems)) from None


def _dump(snapshot: Snapshot) -> dict[str, Any]:
    """Schema fields; an empty corrections block is left out so issues without one keep their bytes."""
    return snapshot.model_dump(mode="json")  # empty additions are left out (_Additive)


def public_json(snapshot: Snapshot, corrections: Sequence[CorrectionNote] = ()) -> dict[str, Any]:
    """The snapshot as published in issue.json: schema fields only, plus `corrections` (the dated
    corrections of this issue, oldest first) once there is one."""
    data = _dump(snapshot)
    if corrections:
        data["corrections"] = [c.model_dump(mode="json") for c in corrections]
    return data


def stored_json(snapshot: Snapshot) -> dict[str, Any]:
    """The JSON form to freeze on the issue (Issue.snapshot); parse_snapshot reads it back unchanged."""
    return _dump(snapshot)


def with_published_at(snapshot: Snapshot, when: dt.datetime) -> Snapshot:
    """The snapshot stamped with its publication time; a time already stamped is kept (a re-publish
    must not change the date readers saw)."""
    if snapshot.issue.published_at is not None:
        return snapshot
    return snapshot.model_copy(update={"issue": snapshot.issue.model_copy(update={"published_at": when})})
