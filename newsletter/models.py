"""The data model shared by every domain: one incident model from intake to the email.

Values of the string "enum" columns are listed in the constants below; they are plain strings
(not database enums) so that adding a value needs no migration on PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    LargeBinary,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    Subquery,
    false,
    func,
    select,
    text as sql_text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from newsletter.db import Base, utcnow

INCIDENT_STATES = ("new", "accepted", "rejected", "duplicate", "needs_info", "scheduled", "published")
PUBLICATION_LEVELS = ("public", "anonymised", "internal")
ORIGINS = ("feed", "volunteer", "editor", "import")
DATE_PRECISIONS = ("day", "week", "month")
LOCATION_PRECISIONS = ("city", "region", "country")
INCIDENT_KINDS = (
    "search", "summons", "detention", "arrest", "charge", "trial", "verdict", "fine",
    "psychiatric_examination", "psychiatric_placement", "assault", "dismissal", "blocking",
    "pressure_on_relatives", "solidarity_action", "legislation", "international", "other",
)
PERSON_ROLES = (
    "activist", "journalist", "blogger", "lawyer", "trade_unionist", "human_rights_defender",
    "relative", "politician", "religious_believer", "citizen", "other",
)
# How a person may be named in public outputs: full name, their chosen alias, initials, or not at all.
PERSON_CONSENT = ("name", "alias", "initials", "none")
CASE_STATUSES = (
    "summoned", "searched", "detained", "pre_trial_detention", "house_arrest", "charged",
    "on_trial", "convicted_prison", "restricted_freedom", "suspended_sentence", "fined",
    "forced_psychiatric_examination", "forced_psychiatric_placement", "released", "acquitted",
    "in_exile", "extradition_requested", "prosecution_continues",
)
ISSUE_STATES = ("draft", "approved", "scheduled", "sending", "sent")
SUBSCRIBER_STATES = ("pending", "confirmed", "unsubscribed", "bounced")
DELIVERY_STATES = ("pending", "sending", "sent", "failed", "bounced")
USER_ROLES = ("editor", "admin")
SOURCE_KINDS = ("feed", "volunteer", "api", "import")
# Where a link of an incident came from. Only feed articles and links an editor added on purpose may
# reach a public output: a link a volunteer or partner typed may lead back to the person who sent it.
LINK_ORIGINS = ("feed", "editor", "volunteer", "api", "import")
PUBLIC_LINK_ORIGINS = ("feed", "editor")
# How an item is told (migration 0016): a news item (headline, text, sources), a testimony (photo, pull
# quote and its speaker), a statement (an appeal or a letter: who, to whom, the quote), a timeline (dated lines).
ITEM_FORMATS = ("news", "testimony", "statement", "timeline")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


incident_sections = Table(
    "incident_sections",
    Base.metadata,
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
    Column("section_id", ForeignKey("sections.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_incident_sections_section_id", "section_id"),  # triage filter by section (migration 0004)
)

incident_persons = Table(
    "incident_persons",
    Base.metadata,
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True),
)

# Two incidents an editor (or an import's `related`) declared related: stored in both directions, so
# "related to X" is one lookup on incident_id. "See also" reads it (issues/snapshot.py see_also).
incident_relations = Table(
    "incident_relations",
    Base.metadata,
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
    Column("related_id", ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
)


class Section(Base):
    """A newsletter section ("Punitive psychiatry", "International corner", ...)."""

    __tablename__ = "sections"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Source(Base):
    """Where incidents come from: a polled feed, or a channel such as the volunteer form."""

    __tablename__ = "sources"
    __table_args__ = (CheckConstraint(_in("kind", SOURCE_KINDS), name="kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="feed")
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str | None] = mapped_column(String(2000), unique=True)
    site_url: Mapped[str | None] = mapped_column(String(2000))
    title: Mapped[str | None] = mapped_column(String(500))
    language: Mapped[str | None] = mapped_column(String(16))
    default_section: Mapped[str | None] = mapped_column(String(64))
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    exclude_keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    poll_interval: Mapped[int] = mapped_column(Integer, default=3600)  # seconds
    max_entries: Mapped[int | None] = mapped_column(Integer)  # None: NEWSLETTER_COLLECT_MAX_ENTRIES
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    moved_to: Mapped[str | None] = mapped_column(String(2000))  # remembered permanent redirect of `url`
    next_check_at: Mapped[datetime | None] = mapped_column(index=True)
    last_checked_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Incident(Base):
    """One event of persecution or solidarity, whatever channel reported it."""

    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint(_in("state", INCIDENT_STATES), name="state"),
        CheckConstraint(_in("publication", PUBLICATION_LEVELS), name="publication"),
        CheckConstraint(_in("origin", ORIGINS), name="origin"),
        CheckConstraint(_in("date_precision", DATE_PRECISIONS), name="date_precision"),
        CheckConstraint(_in("location_precision", LOCATION_PRECISIONS), name="location_precision"),
        CheckConstraint(_in("format", ITEM_FORMATS), name="format"),
        Index("ix_incidents_state_created", "state", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")  # sanitised HTML
    # Translations brought by an import ({"ru": {"title", "summary", "body", "quote"}}): a draft copies them
    # into its items' ItemTranslation rows, where translators and editors work on them.
    translations: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # How the item is told (ITEM_FORMATS) and its parts, chosen on the desk or imported; the issue item reads
    # them when its issue freezes. quote: {"text", "speaker", "addressee"}; timeline: [{"date", "text"}];
    # photo: {"web", "email" (Media names), "alt", "caption", "credit", "no_one_identifiable", "origin"}.
    format: Mapped[str] = mapped_column(String(16), default="news", server_default="news")
    quote: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    timeline: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    photo: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    kind: Mapped[str | None] = mapped_column(String(40))
    occurred_on: Mapped[date | None] = mapped_column(Date, index=True)
    date_precision: Mapped[str] = mapped_column(String(8), default="day")
    country: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(200), index=True)
    location_precision: Mapped[str] = mapped_column(String(8), default="city")
    language: Mapped[str | None] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(16), default="editor")
    state: Mapped[str] = mapped_column(String(16), default="new", index=True)
    state_reason: Mapped[str | None] = mapped_column(Text)  # e.g. why rejected
    info_request: Mapped[str | None] = mapped_column(Text)  # editor's question to the volunteer
    publication: Mapped[str] = mapped_column(String(16), default="public")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    matched_keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    relevant: Mapped[bool] = mapped_column(Boolean, default=True)  # False: matched no rule, kept out of triage
    suggested_section: Mapped[str | None] = mapped_column(String(64))
    # not indexed: nothing looks an incident up by it (migration 0022)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    sources: Mapped[list[IncidentSource]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="IncidentSource.id"
    )
    sections: Mapped[list[Section]] = relationship(secondary=incident_sections, order_by="Section.position")
    persons: Mapped[list[Person]] = relationship(secondary=incident_persons, back_populates="incidents")
    merged_into: Mapped[Incident | None] = relationship(remote_side="Incident.id")


class IncidentSource(Base):
    """A link that reports an incident; one incident can have many (several outlets, a volunteer).

    `origin` (LINK_ORIGINS) is required and has no default: whoever stores a link must say where it
    came from, because only PUBLIC_LINK_ORIGINS may be published (migration 0008).
    """

    __tablename__ = "incident_sources"
    __table_args__ = (
        Index("ix_incident_sources_source_guid", "source_id", "guid"),
        # a feed's known entries are looked up by guid, link or content hash (migration 0024)
        Index("ix_incident_sources_source_content_hash", "source_id", "content_hash"),
        CheckConstraint(_in("origin", LINK_ORIGINS), name="origin"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    origin: Mapped[str] = mapped_column(String(16), nullable=False)
    url: Mapped[str | None] = mapped_column(String(2000))
    canonical_url: Mapped[str | None] = mapped_column(String(2000), index=True)
    guid: Mapped[str | None] = mapped_column(String(1000))
    title: Mapped[str | None] = mapped_column(String(500))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="sources")
    source: Mapped[Source | None] = relationship()


class DuplicateCandidate(Base):
    """Two incidents that look like the same event; an editor merges or dismisses, never the machine."""

    __tablename__ = "duplicate_candidates"
    __table_args__ = (
        UniqueConstraint("incident_id", "other_id"),
        CheckConstraint("state IN ('open', 'merged', 'dismissed')", name="state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    other_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    score: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(40), default="fuzzy")
    state: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    incident: Mapped[Incident] = relationship(foreign_keys=[incident_id])
    other: Mapped[Incident] = relationship(foreign_keys=[other_id])


class DuplicateCheck(Base):
    """A volunteer's or partner's report whose near-duplicates are still to be looked for.

    Intake stores the mark with the report, in the same transaction, and leaves the scoring to the
    `duplicates` job or to the desk (flows/intake.score_pending), which removes the mark in the
    transaction that stores the pairs: a crash in between leaves the mark, and the next run scores it.
    """

    __tablename__ = "duplicate_checks"
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True,
                                             autoincrement=False)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)


class Person(Base):
    """A person of concern. `consent` decides how they may be named in public outputs."""

    __tablename__ = "persons"
    __table_args__ = (CheckConstraint(_in("consent", PERSON_CONSENT), name="consent"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    alias: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(40))
    consent: Mapped[str] = mapped_column(String(16), default="name")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    statuses: Mapped[list[CaseStatus]] = relationship(
        back_populates="person", cascade="all, delete-orphan", order_by="CaseStatus.occurred_on"
    )
    incidents: Mapped[list[Incident]] = relationship(secondary=incident_persons, back_populates="persons")
    spellings: Mapped[list[PersonSpelling]] = relationship(
        back_populates="person", cascade="all, delete-orphan", order_by="PersonSpelling.id", lazy="selectin"
    )

    @property
    def all_spellings(self) -> list[str]:
        """The name and every other spelling (other scripts, transliterations) the consent engine hides."""
        return list(dict.fromkeys([self.name, *(s.spelling for s in self.spellings)]))


class PersonSpelling(Base):
    """Another spelling of a person's name (Cyrillic, Kazakh, a transliteration); protected like the name."""

    __tablename__ = "person_spellings"
    __table_args__ = (UniqueConstraint("person_id", "spelling", name="uq_person_spellings_person_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    spelling: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship(back_populates="spellings")


class CaseStatus(Base):
    """One dated step in a person's case (detained, charged under article N, released, ...)."""

    __tablename__ = "case_statuses"
    __table_args__ = (CheckConstraint(_in("status", CASE_STATUSES), name="status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(40))
    occurred_on: Mapped[date] = mapped_column(Date)
    article: Mapped[str | None] = mapped_column(String(100))  # e.g. "Article 174 of the Criminal Code"
    note: Mapped[str] = mapped_column(Text, default="")
    source_url: Mapped[str | None] = mapped_column(String(2000))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship(back_populates="statuses")

    @classmethod
    def latest_as_of(cls, as_of: date) -> Subquery:
        """Subquery (person_id, status, occurred_on): each person's latest step on or before `as_of`
        (ties: the step recorded last). The register and the issue's summary both count from it."""
        rank = func.row_number().over(partition_by=cls.person_id,
                                      order_by=(cls.occurred_on.desc(), cls.id.desc())).label("rank")
        ranked = select(cls.person_id, cls.status, cls.occurred_on, rank).where(cls.occurred_on <= as_of).subquery()
        return select(ranked.c.person_id, ranked.c.status, ranked.c.occurred_on).where(ranked.c.rank == 1).subquery()


class Issue(Base):
    """One issue of the newsletter. `snapshot` is frozen when it is published or sent."""

    __tablename__ = "issues"
    __table_args__ = (CheckConstraint(_in("state", ISSUE_STATES), name="state"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    period: Mapped[str] = mapped_column(String(32), unique=True)  # "2026-W47"
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(500), default="")
    intro: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(16), default="en")
    state: Mapped[str] = mapped_column(String(16), default="draft")
    show_withheld_count: Mapped[bool] = mapped_column(Boolean, default=True)
    show_persons_summary: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    preheader: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # The editor's note: issue-level Markdown shown after the intro, optionally signed.
    editors_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    editors_note_signature: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Incidents an editor removed from this draft, so re-drafting the period does not bring them back.
    excluded_incident_ids: Mapped[list[int]] = mapped_column(JSON, default=list, server_default=sql_text("'[]'"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None]
    second_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    second_approved_at: Mapped[datetime | None]
    scheduled_for: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The frozen snapshots of the further editions, by language ({"ru": {...}}); `snapshot` is the default one.
    edition_snapshots: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    items: Mapped[list[IssueItem]] = relationship(
        back_populates="issue", cascade="all, delete-orphan", order_by="IssueItem.position"
    )
    # The issue's own texts (title, intro, preheader, editor's note) in each further edition's language.
    translations: Mapped[list[IssueTranslation]] = relationship(
        back_populates="issue", cascade="all, delete-orphan", order_by="IssueTranslation.language"
    )


class IssueItem(Base):
    """An entry of an issue: an incident (or a case update on a person) in a section, with the editor's text."""

    __tablename__ = "issue_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    section_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    headline: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    # "plain": paragraphs split on blank lines (drafted text, and every item from before Markdown);
    # "markdown": text an editor wrote on the desk (newsletter.markup renders it when the issue freezes).
    text_format: Mapped[str] = mapped_column(String(16), default="plain", server_default="plain")
    # Layout (the seed's): the lead story renders first and larger; items sharing a sub-head group
    # under it inside their section; a paragraph item is shown without its headline.
    lead: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    subhead: Mapped[str] = mapped_column(String(200), default="", server_default="")
    paragraph: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    issue: Mapped[Issue] = relationship(back_populates="items")
    incident: Mapped[Incident | None] = relationship()
    person: Mapped[Person | None] = relationship()
    section: Mapped[Section | None] = relationship()
    translations: Mapped[list[ItemTranslation]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="ItemTranslation.language"
    )


TRANSLATION_STATES = ("missing", "draft", "done")


class ItemTranslation(Base):
    """One item of an issue in one further edition's language (NEWSLETTER_LANGUAGES after the first).

    The original stays on the IssueItem; each other edition reads its words from here. `state` is the
    translator's progress; `allow_original` is an editor's explicit choice to publish the original in
    this edition (readers see a short note in their language) when no translation will come.
    """

    __tablename__ = "item_translations"
    __table_args__ = (
        UniqueConstraint("item_id", "language"),
        CheckConstraint(_in("state", TRANSLATION_STATES), name="state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("issue_items.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(16))
    headline: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    quote: Mapped[str] = mapped_column(Text, default="")
    photo_caption: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="missing")
    allow_original: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(320))

    item: Mapped[IssueItem] = relationship(back_populates="translations")


class IssueTranslation(Base):
    """The issue's own texts (title, intro, preheader, editor's note and its signature) in one further
    edition's language; the originals stay on the Issue. `state` and `allow_original` mean what they
    mean on ItemTranslation: the translator's progress, and the editor's leave to publish the original."""

    __tablename__ = "issue_translations"
    __table_args__ = (
        UniqueConstraint("issue_id", "language"),
        CheckConstraint(_in("state", TRANSLATION_STATES), name="state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(500), default="")
    intro: Mapped[str] = mapped_column(Text, default="")
    preheader: Mapped[str] = mapped_column(String(300), default="")
    editors_note: Mapped[str] = mapped_column(Text, default="")
    editors_note_signature: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(16), default="missing")
    allow_original: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(320))

    issue: Mapped[Issue] = relationship(back_populates="translations")


class Subscriber(Base):
    """A reader. `token` is a random per-subscriber secret behind the unsubscribe link."""

    __tablename__ = "subscribers"
    __table_args__ = (CheckConstraint(_in("state", SUBSCRIBER_STATES), name="state"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    language: Mapped[str] = mapped_column(String(16), default="en")
    token: Mapped[str] = mapped_column(String(64), unique=True)
    consent_source: Mapped[str] = mapped_column(String(200), default="")  # "web form", "import: list.csv", ...
    consent_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    bounce_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Suppression(Base):
    """Addresses that must never be mailed again (unsubscribed, hard-bounced); imports cannot override."""

    __tablename__ = "suppressions"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    reason: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """The outbox: one row per (issue, subscriber), so a crash never loses or doubles a send."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("issue_id", "subscriber_id"),
        CheckConstraint(_in("state", DELIVERY_STATES), name="state"),
        Index("ix_deliveries_issue_state", "issue_id", "state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(300))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    first_failed_at: Mapped[datetime | None]  # start of the retry horizon for temporary failures
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    issue: Mapped[Issue] = relationship()
    subscriber: Mapped[Subscriber] = relationship()


class Correction(Base):
    """A dated correction of one item of a published issue: the frozen snapshot never changes,
    corrections are a separate layer rendered beside it (archive page, feed, issue.json, next issue)."""

    __tablename__ = "corrections"
    __table_args__ = (Index("ix_corrections_issue_id", "issue_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(Integer)  # the item's id in the issue's frozen snapshot
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    headline: Mapped[str] = mapped_column(String(500), default="")  # the item's headline as it was published
    language: Mapped[str] = mapped_column(String(16), default="en")  # the edition this text is written in
    text: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    filed_by: Mapped[str] = mapped_column(String(200), default="")
    notify_requested_at: Mapped[datetime | None]

    issue: Mapped[Issue] = relationship()
    translations: Mapped[list[CorrectionTranslation]] = relationship(
        back_populates="correction", cascade="all, delete-orphan", passive_deletes=True,
        order_by="CorrectionTranslation.language")


class CorrectionTranslation(Base):
    """A correction's words in a further edition's language: readers of that edition (pages, feed, issue.json,
    notice email, the next issue) see these instead of the original; no row means "not translated"."""

    __tablename__ = "correction_translations"
    __table_args__ = (UniqueConstraint("correction_id", "language"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    correction_id: Mapped[int] = mapped_column(ForeignKey("corrections.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(320))

    correction: Mapped[Correction] = relationship(back_populates="translations")


class CorrectionNotice(Base):
    """The outbox of correction emails: one row per (correction, subscriber), the same life as a Delivery."""

    __tablename__ = "correction_notices"
    __table_args__ = (
        UniqueConstraint("correction_id", "subscriber_id"),
        CheckConstraint(_in("state", DELIVERY_STATES), name="state"),
        Index("ix_correction_notices_correction_state", "correction_id", "state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    correction_id: Mapped[int] = mapped_column(ForeignKey("corrections.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(300))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    first_failed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HealthProbe(Base):
    """One row that /healthz rewrites: proof that the database still accepts writes."""

    __tablename__ = "health_probe"
    id: Mapped[int] = mapped_column(primary_key=True)
    checked_at: Mapped[datetime | None]


class User(Base):
    """An editor or admin of the desk."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", USER_ROLES), name="role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16), default="editor")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    language: Mapped[str] = mapped_column(String(16), default="en", server_default="en")  # the desk's language
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeskSession(Base):
    """One desk login. The cookie holds a random token and only its SHA-256 is stored here, so a
    session can be ended server-side (logout, password change, disabling, "sign out everywhere")."""

    __tablename__ = "desk_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class ApiToken(Base):
    """A token for partner tools posting to /api/incidents; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class Submission(Base):
    """The volunteer side of a reported incident: receipt (hashed), optional contact, follow-ups."""

    __tablename__ = "submissions"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(16), default="form")  # form | api
    api_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id", ondelete="SET NULL"))
    contact: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    incident: Mapped[Incident] = relationship()
    messages: Mapped[list[SubmissionMessage]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="SubmissionMessage.id"
    )


class SubmissionMessage(Base):
    """A follow-up on a report: the editor's question or the volunteer's added information."""

    __tablename__ = "submission_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(16))  # volunteer | editor
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="messages")


class Attachment(Base):
    """A file sent with a report, stored outside any web root under a random name, metadata stripped."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id", ondelete="SET NULL"))
    stored_name: Mapped[str] = mapped_column(String(100), unique=True)
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Media(Base):
    """A published copy of a photo (newsletter.media): bare JPEG bytes named by their SHA-256.

    Kept in the database, not in a folder, so that attaching a photo is part of the editor's transaction
    and publishing reads the very bytes that were checked; the archive gets them under
    issues/<period>/media/<name> after commit.
    """

    __tablename__ = "media"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)  # "<sha256>.jpg"
    data: Mapped[bytes] = mapped_column(LargeBinary)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditLog(Base):
    """Append-only record of every editorial transition, edit, merge, login and user change."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity_type", "entity_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    actor: Mapped[str] = mapped_column(String(200))  # user email, "cli", "collector", "volunteer", ...
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")


class JobRun(Base):
    """One run of a recurring job (collect, draft, send, ...), for `newsletter status` and alerts."""

    __tablename__ = "job_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(16), default="running")  # running | ok | error
    detail: Mapped[str] = mapped_column(Text, default="")


class SchedulerLease(Base):
    """A database lease so that only one scheduler is active, whatever the number started."""

    __tablename__ = "scheduler_leases"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
