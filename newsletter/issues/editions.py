"""The further editions of an issue (NEWSLETTER_LANGUAGES after the first): one snapshot per language.

The default edition is the issue as the editors wrote it (issues/snapshot.py). Each further edition is
built by the very same builder, in its language, from the items' translations (ItemTranslation, state
`done`), or from the original words where an editor allowed it for that item (the item then carries
`original_language`, and readers see a short note in their language). The issue's own title, intro,
preheader and editor's note come from its IssueTranslation (issue_texts) the same way. Building through the same code
means every edition passes the same consent rules and final check: a protected person's spelling in any
script is redacted or refused in a translation exactly as in the original, and a refusal names the edition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from newsletter import i18n
from newsletter.i18n import N_
from newsletter.config import Settings
from newsletter.issues import issue_texts
from newsletter.issues.errors import ApprovalError
from newsletter.models import Issue, IssueItem, ItemTranslation

__all__ = ["EditionNotReady", "build_edition_data", "build_further_editions", "default_language",
           "edition_languages", "further_languages"]


# The seeded sections (migration 0001): their titles and descriptions are translated per edition through
# the catalog; a section an editor created keeps the words they gave it in every edition.
SEEDED_SECTION_WORDS = (
    N_("Repression of independent voices"), N_("Intensified political persecution"),
    N_("Political persecution – Punitive psychiatry"), N_("Solidary action"), N_("“Silencing state”"),
    N_("International corner"), N_("Pressure on journalists, bloggers and civil society voices."),
    N_("Detentions, arrests, charges, trials and sentences of activists."),
    N_("Forced psychiatric examinations and placements."),
    N_("Solidarity actions organised by human rights defenders on the ground."),
    N_("Laws, rulings and official practice that restrict rights and freedoms."),
    N_("Reactions of foreign governments, parliaments and international bodies."),
)


class EditionNotReady(ApprovalError):
    """An item of a further edition has neither a finished translation nor an editor's leave to show the original."""


def default_language(issue: Issue, settings: Settings) -> str:
    """The default edition's language: the issue's own (what its items are written in)."""
    return issue.language or settings.default_language


def further_languages(issue: Issue, settings: Settings) -> list[str]:
    """The languages of the issue's further editions, in NEWSLETTER_LANGUAGES order; none in one-language setups."""
    default = default_language(issue, settings)
    return [lang for lang in settings.editions if lang != default]


def edition_languages(issue: Issue, settings: Settings) -> list[str]:
    """Every edition of the issue, the default first."""
    return [default_language(issue, settings), *further_languages(issue, settings)]


class _TranslatedItem:
    """An issue item whose reader-facing words come from one translation; everything else (persons,
    incident, links, section, position, format) is the item's own, so consent applies as on the original.

    A quote or photo caption is replaced only where the translation has one, in the shape the item keeps
    it (a string, or the text/caption of a dict), so an edition never loses the original's quote or photo.
    """

    def __init__(self, item: IssueItem, found: ItemTranslation) -> None:
        self._item = item
        self.headline = found.headline
        self.text = found.text
        for name, key, value in (("quote", "text", found.quote), ("photo", "caption", found.photo_caption),
                                 ("photo_caption", None, found.photo_caption)):
            current = getattr(item, name, None)
            if not (value or "").strip() or current is None:
                continue
            if isinstance(current, dict) and key:
                setattr(self, name, {**current, key: value})
            elif isinstance(current, str):
                setattr(self, name, value)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._item, name)


@dataclass
class _EditionIssue:
    """The issue as one edition's builder sees it: its items and its own texts swapped for their translations."""

    _issue: Issue
    items: list[Any]
    language: str
    title: str
    intro: str
    preheader: str
    editors_note: str
    editors_note_signature: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self._issue, name)


def _translation(item: IssueItem, language: str) -> ItemTranslation | None:
    return next((t for t in item.translations if t.language == language), None)


def item_language(item: IssueItem, issue: Issue, settings: Settings) -> str:
    """The language an item's own words are in: its incident's (an import or a feed in Russian), else the issue's."""
    tag = (item.incident.language or "").strip() if item.incident is not None else ""
    return tag.replace("_", "-").split("-")[0].lower() or default_language(issue, settings)


def _edition_item(item: IssueItem, language: str, *, strict: bool, original: str) -> tuple[Any, bool]:
    """The item's words in `language`, and whether it shows the original instead (allowed by an editor;
    or, outside `strict` - a draft's preview - because no translation is done yet). An item written in
    the edition's language needs no translation."""
    found = _translation(item, language)
    if found is None and original == language:
        return item, False
    if found is not None and found.state == "done" and found.headline.strip():
        return _TranslatedItem(item, found), False
    if found is not None and found.allow_original or not strict:
        return item, True
    raise EditionNotReady(N_("the %(language)s edition is not ready: item %(item)d (%(headline)r) has no finished "
                             "%(language)s translation and the original is not allowed"),
                          language=language, item=item.id, headline=item.headline.strip()[:60])


def _edition_texts(issue: Issue, language: str, *, strict: bool) -> issue_texts.IssueTexts:
    """The issue's title, intro, preheader and editor's note in `language`: the done translation's, else the
    original's (nothing to translate, the original allowed, or - outside `strict` - a draft's preview).
    An automatic title stays the original's: build_edition_data writes the week in the edition's language."""
    original = issue_texts.IssueTexts(issue.title, issue.intro, issue.preheader, issue.editors_note or "",
                                      issue.editors_note_signature or "")
    state = issue_texts.state_of(issue, language)
    if state == "done":
        row = issue_texts.row_for(issue, language)
        words = {name: getattr(row, name) or "" for name in issue_texts.FIELDS}
        if issue_texts.automatic_title(issue) or not words["title"].strip():
            words["title"] = original.title
        return issue_texts.IssueTexts(**words)
    if state in ("draft", "missing") and strict:
        raise EditionNotReady(N_("the %(language)s edition is not ready: the issue's texts (%(texts)s) have no "
                                 "finished %(language)s translation and the original is not allowed"),
                              language=language, texts=issue_texts.named(issue_texts.to_translate(issue)))
    return original


def build_edition_data(session: Session, issue: Issue, language: str, *, settings: Settings,
                       today: date | None = None, strict: bool = True) -> dict[str, Any]:
    """One further edition's snapshot (JSON form). Raises EditionNotReady (strict: freezing) when an
    item is neither translated nor allowed in the original, ConsentViolation naming this edition."""
    from newsletter.issues.service import human_range
    from newsletter.issues.snapshot import build_snapshot_data

    shown_original: dict[int, str] = {}
    items: list[Any] = []
    for item in issue.items:
        if item.incident is not None and item.incident.publication == "internal":
            items.append(item)  # only counted, never shown: nothing to translate
            continue
        own = item_language(item, issue, settings)
        edition_item, original = _edition_item(item, language, strict=strict, original=own)
        if original:
            shown_original[item.id] = own
        items.append(edition_item)
    view: Any = _EditionIssue(issue, items=items, language=language,
                              **_edition_texts(issue, language, strict=strict).as_dict())
    data = build_snapshot_data(session, view, settings=settings, today=today, edition=language)
    if issue.title.strip() == human_range(issue.period_start, issue.period_end):
        data["issue"]["title"] = range_title(issue.period_start, issue.period_end, language)  # the draft's own title
    return _mark_edition(data, language, shown_original)


def range_title(start: date, end: date, language: str) -> str:
    """The draft's automatic title (its week, service.human_range) in the edition's language:
    "16–22 ноября 2026", "30 ноября – 6 декабря 2026"."""
    from babel.dates import format_date

    locale = i18n.babel_locale(language)
    if start.year != end.year:
        return f"{format_date(start, 'd MMMM y', locale=locale)} – {format_date(end, 'd MMMM y', locale=locale)}"
    if start.month != end.month:
        return f"{format_date(start, 'd MMMM', locale=locale)} – {format_date(end, 'd MMMM y', locale=locale)}"
    return f"{start.day}–{format_date(end, 'd MMMM y', locale=locale)}"


def _mark_edition(data: dict[str, Any], language: str, shown_original: dict[int, str]) -> dict[str, Any]:
    """Tag the snapshot as the `language` edition, its untranslated items, and its seeded section titles
    in that language (a section an editor created keeps the title they gave it)."""
    catalog = i18n.translations_for(language)
    data["edition"] = language
    data["issue"]["language"] = language
    for section in data["sections"]:
        section["title"] = catalog.gettext(section["title"])
        if section.get("description"):
            section["description"] = catalog.gettext(section["description"])
        for item in section["items"]:
            if item["id"] in shown_original:
                item["original_language"] = shown_original[item["id"]]
    return data


def build_further_editions(session: Session, issue: Issue, *, settings: Settings, today: date | None = None,
                           strict: bool = True) -> dict[str, dict[str, Any]]:
    """Every further edition's snapshot by language ({} with one language): what freezing stores in
    Issue.edition_snapshots. The first refusal (consent, or an untranslated item) stops it."""
    return {lang: build_edition_data(session, issue, lang, settings=settings, today=today, strict=strict)
            for lang in further_languages(issue, settings)}


def published_editions(session: Session) -> dict[str, dict[str, Any]]:
    """The further editions of every issue in the public archive, by period: what the archive shows beside
    the default ones (service.published_snapshots)."""
    from sqlalchemy import select

    rows = session.execute(select(Issue.period, Issue.edition_snapshots)
                           .where(Issue.published_at.is_not(None), Issue.snapshot.is_not(None),
                                  Issue.edition_snapshots.is_not(None)))
    return {period: dict(editions) for period, editions in rows if editions}
