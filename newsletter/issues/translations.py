"""Item translations: each item of an issue in each further edition's language (NEWSLETTER_LANGUAGES after the first).

The original words stay on the IssueItem (the default edition reads them); every other edition reads an
ItemTranslation row (headline, text, quote, photo caption) with the translator's progress in `state`
(missing -> draft -> done) and the editor's `allow_original` (publish the original in that edition, with
a note to readers) for an item no translation will come for. An edition is ready when each of its
published items is done or allowed the original; approval checks that (`check_editions_ready`).

An item's original language is its incident's `language` when that is set, else the issue's (the default
edition). An item whose original is a further edition's language (a Russian report in an en,ru issue):
its row in that language holds the original words and is done at once, and the default edition's text on
the item becomes the translation to make -- from the incident's import translation when it brought one.
Until the item's text differs from the original words, approval names it like a missing translation.

Services take a session and never commit. Texts are audited by their length only (a text may name a
protected person; the consent engine applies to every edition when the snapshot is built).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from newsletter import audit
from newsletter.config import Settings
from newsletter.db import utcnow
from newsletter.i18n import N_
from newsletter.issues import issue_texts
from newsletter.issues.errors import ApprovalError, IssueError, IssueLocked, Phrase, Phrases, Words
from newsletter.models import TRANSLATION_STATES, Issue, IssueItem, ItemTranslation, User
from newsletter.states import issue_frozen

FIELDS = ("headline", "text", "quote", "photo_caption")
# The parts' names as a refusal names them, in the catalog so the desk names them in its language.
FIELD_LABELS = {"headline": N_("headline"), "text": N_("text"), "quote": N_("quote"), "photo_caption": N_("photo caption")}
LIMITS = {"headline": 500, "text": 5000, "quote": 2000, "photo_caption": 1000}
# What an import's {"ru": {"title", "summary", "body", "quote"}} fills in an item's row.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

__all__ = [
    "EditionBlockers", "EditionProgress", "FIELDS", "LIMITS", "TranslationFields", "allow_original", "blockers", "check_editions_ready",
    "clean_field", "edition_ready", "ensure_rows", "further_editions", "mark_stale", "original_fields",
    "original_language", "progress", "row_for", "set_translation", "translatable_items",
]


@dataclass(frozen=True)
class TranslationFields:
    """The words of one item in one language (empty: the original has no such part)."""

    headline: str = ""
    text: str = ""
    quote: str = ""
    photo_caption: str = ""

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in FIELDS}


@dataclass
class EditionProgress:
    """One further edition's translation progress over the issue's published items."""

    language: str
    total: int = 0
    done: int = 0
    allowed: int = 0  # not done, but the editor allowed the original
    draft: int = 0
    missing: int = 0
    blocking: list[IssueItem] = field(default_factory=list)
    # The issue's own texts (issue_texts.state_of): none, done, allowed, draft or missing.
    texts: str = "none"

    @property
    def texts_blocking(self) -> bool:
        return self.texts in ("draft", "missing")

    @property
    def ready(self) -> bool:
        return not self.blocking and not self.texts_blocking


@dataclass
class EditionBlockers:
    """What keeps one edition from approval: items, and whether the issue's own texts are still untranslated."""

    items: list[IssueItem] = field(default_factory=list)
    issue_texts: list[str] = field(default_factory=list)  # the texts' names (issue_texts.FIELDS)


# ---------------------------------------------------------------- what needs translating


def further_editions(settings: Settings) -> list[str]:
    """The editions after the default one: the languages items are translated into."""
    return list(settings.editions[1:])


def translatable_items(issue: Issue) -> list[IssueItem]:
    """The items readers get (internal incidents are only counted, never shown, so need no translation)."""
    return [i for i in sorted(issue.items, key=lambda i: (i.position, i.id))
            if not (i.incident is not None and i.incident.publication == "internal")]


def original_language(item: IssueItem, issue: Issue) -> str:
    """The language the item's words were first written in: its incident's language, else the issue's."""
    language = (item.incident.language or "").strip() if item.incident is not None else ""
    return language.split("-")[0].split("_")[0].lower() or issue.language


def original_fields(item: IssueItem) -> TranslationFields:
    """The item's own words (the default edition). Quote and photo caption exist once items carry them."""
    quote = getattr(item, "quote", None)  # a text, or {"text", "speaker"}
    caption = getattr(item, "photo_caption", None)
    if caption is None and isinstance(photo := getattr(item, "photo", None), dict):  # {"path", "alt", "caption", ...}
        caption = photo.get("caption")
    return TranslationFields(
        headline=item.headline or "", text=item.text or "",
        quote=str((quote.get("text") if isinstance(quote, dict) else quote) or ""),
        photo_caption=str(caption or "") if isinstance(caption, str) else "",
    )


def _imported(item: IssueItem, language: str) -> TranslationFields | None:
    """The incident's import translation into `language` ({"title", "summary", "body", "quote"}), if any."""
    data = (item.incident.translations or {}).get(language) if item.incident is not None else None
    if not isinstance(data, dict):
        return None
    from newsletter.issues.service import html_to_text  # the same first-paragraph rule as the drafted text

    summary = str(data.get("summary") or "").strip()
    text = summary or html_to_text(str(data.get("body") or "")).split("\n\n", 1)[0]
    fields = TranslationFields(headline=str(data.get("title") or "").strip()[:LIMITS["headline"]],
                               text=text[:LIMITS["text"]], quote=str(data.get("quote") or "").strip()[:LIMITS["quote"]])
    return fields if any(fields.as_dict().values()) else None


def _find(item: IssueItem, language: str) -> ItemTranslation | None:
    return next((t for t in item.translations if t.language == language), None)


def row_for(item: IssueItem, language: str, issue: Issue) -> ItemTranslation:
    """The item's row in `language`, or (not yet stored) what ensure_rows would store: read-only use."""
    found = _find(item, language)
    if found is not None:
        return found
    return ItemTranslation(item_id=item.id, language=language, allow_original=False, updated_by=None,
                           **_first_words(item, language, issue))


def _first_words(item: IssueItem, language: str, issue: Issue) -> dict[str, Any]:
    """A new row's words and state: the original itself (done), the import's translation (draft), or nothing."""
    if original_language(item, issue) == language:
        return {**original_fields(item).as_dict(), "state": "done"}
    imported = _imported(item, language)
    if imported is not None:
        return {**imported.as_dict(), "state": "draft"}
    return {**TranslationFields().as_dict(), "state": "missing"}


def ensure_rows(session: Session, issue: Issue, settings: Settings, *, actor: User | str = "draft") -> int:
    """Store a row for every published item in every further edition; returns how many were added.

    The draft calls it, and so does every translation action, so items added by hand get theirs too.
    A new row copies the incident's import translation (state draft: a human marks it done). For an
    item first written in a further edition's language, that row is the original (done) and the
    item's default-language text comes from the import's translation when there is one.
    """
    if issue_frozen(issue):
        return 0
    added = 0
    for item in translatable_items(issue):
        for language in further_editions(settings):
            if _find(item, language) is not None:
                continue
            words = _first_words(item, language, issue)
            item.translations.append(ItemTranslation(language=language, allow_original=False, updated_by=None,
                                                     updated_at=utcnow(), **words))
            added += 1
            if words["state"] == "done":
                _default_from_import(session, issue, item, settings, actor=actor)
    if added:
        session.flush()
    return added


def _default_from_import(session: Session, issue: Issue, item: IssueItem, settings: Settings, *,
                         actor: User | str) -> None:
    """An item first written in a further edition's language: its default-language text from the import."""
    imported = _imported(item, settings.default_language)
    if imported is None or not imported.headline:
        return
    item.headline = imported.headline
    if imported.text:
        item.text = imported.text
    audit.record(session, actor=actor, action="issue.item_translated_original", entity_type="issue",
                 entity_id=issue.id, changes={"item": item.id, "original": original_language(item, issue),
                                              "from": "import"})


# ---------------------------------------------------------------- editing


def clean_field(name: str, value: str) -> str:
    """A translated text as item text is kept: normalised line ends, no control characters, a length limit."""
    value = _CONTROL.sub("", (value or "").replace("\r\n", "\n").replace("\r", "\n")).strip()
    if len(value) > LIMITS[name]:
        raise IssueError(N_("the translated %(part)s is too long (%(length)d characters, at most %(limit)d)"),
                         part=name.replace("_", " "), length=len(value), limit=LIMITS[name])
    return value


def _editable(session: Session, issue: Issue, actor: User | str) -> None:
    """Frozen issues are read-only; an edit to a signed-off issue withdraws the sign-off (as item edits do)."""
    if issue_frozen(issue):
        raise IssueLocked(N_("issue %(number)d was already sent or published; its translations cannot change"),
                          number=issue.number)
    if issue.state != "draft" or issue.approved_by_id is not None:
        from newsletter.issues.service import reopen_issue

        reopen_issue(session, issue, actor=actor, reason="translation edited after sign-off")


def _row(session: Session, issue: Issue, item: IssueItem, language: str, settings: Settings,
         actor: User | str) -> ItemTranslation:
    if language not in further_editions(settings):
        editions = ", ".join(further_editions(settings)) or "none (NEWSLETTER_LANGUAGES lists one language)"
        raise IssueError(N_("%(language)r is not a further edition of this newsletter (further editions: %(editions)s)"),
                         language=language, editions=editions)
    if item not in issue.items:
        raise IssueError(N_("item %(item)d is not part of issue %(number)d"), item=item.id, number=issue.number)
    if item not in translatable_items(issue):
        raise IssueError(N_("item %(item)d is internal: it is only counted, never shown, so it is not translated"),
                         item=item.id)
    ensure_rows(session, issue, settings, actor=actor)
    row = _find(item, language)
    assert row is not None
    return row


def set_translation(session: Session, issue: Issue, item: IssueItem, language: str, words: TranslationFields, *,
                    state: str, settings: Settings, actor: User | str,
                    allow_original: bool | None = None) -> ItemTranslation:
    """Save an item's words in one edition and their state (draft or done; missing only when empty)."""
    if state not in TRANSLATION_STATES:
        raise IssueError(N_("the state must be one of %(states)s"), states=", ".join(TRANSLATION_STATES))
    row = _row(session, issue, item, language, settings, actor)
    cleaned = {name: clean_field(name, value) for name, value in words.as_dict().items()}
    original = original_fields(item).as_dict()
    if state == "done":
        lacking = [n for n in FIELDS if original[n].strip() and not cleaned[n]]
        if lacking:
            raise IssueError(N_("a done translation needs every part the original has: the %(parts)s is empty"),
                             parts=Phrases([Words(FIELD_LABELS[n]) for n in lacking], sep=", "))  # type: ignore[list-item]
    if state == "missing" and any(cleaned.values()):
        state = "draft"  # words were given: they are a draft at least
    changes = issue_texts.apply_words(session, issue, row, cleaned, state=state, allow_original=allow_original,
                                      actor=actor)
    if not changes:
        return row
    audit.record(session, actor=actor, action="issue.translation_edited", entity_type="issue", entity_id=issue.id,
                 changes={"item": item.id, "language": language, **changes})
    return row


def allow_original(session: Session, issue: Issue, item: IssueItem, language: str, allow: bool, *,
                   settings: Settings, actor: User | str) -> ItemTranslation:
    """An editor's explicit choice to publish the original of one item in one edition (audited: who, when)."""
    row = _row(session, issue, item, language, settings, actor)
    if row.allow_original == allow:
        return row
    _editable(session, issue, actor)
    before, row.allow_original = row.allow_original, allow
    _touch(row, actor)
    session.flush()
    audit.record(session, actor=actor, action="issue.translation_original_allowed" if allow
                 else "issue.translation_original_withdrawn", entity_type="issue", entity_id=issue.id,
                 changes={"item": item.id, "language": language, "allow_original": audit.change(before, allow)})
    return row


def _touch(row: ItemTranslation, actor: User | str) -> None:
    row.updated_at = utcnow()
    row.updated_by = actor.email if isinstance(actor, User) else str(actor)


def mark_stale(session: Session, issue: Issue, item: IssueItem, changed: set[str], *, actor: User | str) -> list[str]:
    """The original of an item changed: done translations of it go back to draft, so editors see them again.

    `changed` names the original's fields that changed (headline, text, quote, photo_caption). The row
    that holds the original words itself (an item first written in that language) is left alone.
    Returns the languages whose translation became stale.
    """
    if not changed & set(FIELDS):
        return []
    source = original_language(item, issue)
    stale = [row for row in item.translations if row.state == "done" and row.language != source]
    for row in stale:
        row.state = "draft"
        _touch(row, actor)
    if stale:
        session.flush()
        audit.record(session, actor=actor, action="issue.translation_stale", entity_type="issue", entity_id=issue.id,
                     changes={"item": item.id, "languages": [r.language for r in stale], "fields": sorted(changed)})
    return [r.language for r in stale]


# ---------------------------------------------------------------- progress and readiness


def _blocks(row: ItemTranslation) -> bool:
    """A row holds its edition back unless it is translated (done) or the editor allowed the original."""
    return not (row.state == "done" or row.allow_original)


def _default_untranslated(item: IssueItem, issue: Issue, settings: Settings) -> bool:
    """An item first written in a further edition's language whose default-language text is still the original."""
    source = original_language(item, issue)
    if source not in further_editions(settings):
        return False
    row = _find(item, source)
    return row is not None and (row.headline, row.text) == (item.headline, item.text)


def progress(issue: Issue, settings: Settings) -> list[EditionProgress]:
    """Per further edition: done, allowed-original, draft and missing counts, the items holding it back,
    and the state of the issue's own texts there."""
    result = []
    items = translatable_items(issue)
    for language in further_editions(settings):
        p = EditionProgress(language, total=len(items), texts=issue_texts.state_of(issue, language))
        for item in items:
            row = row_for(item, language, issue)
            if row.state == "done":
                p.done += 1
            elif row.allow_original:
                p.allowed += 1
            elif row.state == "draft":
                p.draft += 1
            else:
                p.missing += 1
            if _blocks(row):
                p.blocking.append(item)
        result.append(p)
    return result


def edition_ready(issue: Issue, lang: str) -> bool:
    """True when the issue's texts and every published item are translated into `lang`, or allowed their original there."""
    return not issue_texts.blocks(issue, lang) and all(
        not _blocks(row_for(item, lang, issue)) for item in translatable_items(issue))


def blockers(issue: Issue, settings: Settings) -> dict[str, EditionBlockers]:
    """What keeps each edition from approval: its untranslated items and issue texts (the default edition:
    items still in another language)."""
    found = {p.language: EditionBlockers(p.blocking, issue_texts.to_translate(issue) if p.texts_blocking else [])
             for p in progress(issue, settings) if not p.ready}
    untranslated = [i for i in translatable_items(issue) if _default_untranslated(i, issue, settings)]
    if untranslated:
        found = {settings.default_language: EditionBlockers(untranslated), **found}
    return found


def check_editions_ready(issue: Issue, settings: Settings) -> None:
    """Refuse approval while an edition has an item, or the issue's own texts, neither translated (done) nor
    allowed the original."""
    waiting = blockers(issue, settings)
    if not waiting:
        return
    parts = []
    for language, waiting_here in waiting.items():
        if waiting_here.issue_texts:  # named by kind, never quoted: an intro can name a person
            parts.append(Phrase(N_("the %(language)s edition: the issue's texts are not translated (%(texts)s: "
                                   "neither done nor allowed the original)"),
                                language=language, texts=issue_texts.named(waiting_here.issue_texts)))
        items = waiting_here.items
        if not items:
            continue
        # Items by position and id, not by headline: the message may reach a terminal log (a headline can name a person).
        named = Phrases([Phrase(N_("item %(id)d (position %(position)d)"), id=i.id, position=i.position)
                         for i in items[:10]], sep=", ")
        more = Phrase(N_(" and %(count)d more"), count=len(items) - 10) if len(items) > 10 else ""
        if language == settings.default_language:
            parts.append(Phrase(N_("the %(language)s edition still has the original words of %(count)d item(s) first "
                                   "written in another language: %(items)s%(more)s"),
                                language=language, count=len(items), items=named, more=more))
        else:
            parts.append(Phrase(N_("the %(language)s edition has %(count)d item(s) neither translated (done) nor "
                                   "allowed the original: %(items)s%(more)s"),
                                language=language, count=len(items), items=named, more=more))
    raise ApprovalError(N_("issue %(number)d cannot be approved yet: %(reasons)s. Finish them on the translation page "
                           "(or allow the original), then approve."), number=issue.number, reasons=Phrases(parts))
