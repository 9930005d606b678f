"""The issue's own texts in each further edition: title, intro, preheader, editor's note and its signature.

Items are translated one by one (newsletter.issues.translations); the words around them - what a reader
sees first, the subject line included - are translated here, one IssueTranslation row per further edition,
with the same states (missing -> draft -> done) and the same editor's leave to publish the original.

What needs translating is every non-empty text but an automatic title (the draft's week, which
editions.range_title writes in each language) and a signature without a note (it is never shown).
An edition is held back while such a text is neither done nor allowed in the original; when an
original text changes after its translation was done, the translation goes back to draft (mark_stale).

Services take a session and never commit. Texts are audited by their length only: an intro may name a
protected person, and the consent engine runs on every edition's snapshot, translated texts included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from newsletter import audit
from newsletter.db import utcnow
from newsletter.i18n import N_
from newsletter.issues.errors import IssueError, IssueLocked, Phrases, Words
from newsletter.models import TRANSLATION_STATES, Issue, IssueTranslation, User
from newsletter.states import issue_frozen

FIELDS = ("title", "intro", "preheader", "editors_note", "editors_note_signature")
# The Issue columns' own limits (issues/items.py): a translation may not be longer than an original may be.
LIMITS = {"title": 500, "intro": 20000, "preheader": 300, "editors_note": 10000, "editors_note_signature": 200}
LABELS = {"title": N_("title"), "intro": N_("intro"), "preheader": N_("preheader"), "editors_note": N_("editor's note"),
          "editors_note_signature": N_("signature of the editor's note")}
ONE_LINE = frozenset({"title", "preheader", "editors_note_signature"})  # a subject line or a signature has no breaks
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

__all__ = ["FIELDS", "IssueTexts", "LABELS", "LIMITS", "allow_original", "apply_words", "automatic_title", "blocks", "clean",
           "find", "mark_stale", "named", "original_texts", "row_for", "set_texts", "state_of", "to_translate"]


@dataclass(frozen=True)
class IssueTexts:
    """The issue's texts in one language (empty: nothing of that kind, or nothing to translate)."""

    title: str = ""
    intro: str = ""
    preheader: str = ""
    editors_note: str = ""
    editors_note_signature: str = ""

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in FIELDS}


# ---------------------------------------------------------------- what needs translating


def automatic_title(issue: Issue) -> bool:
    """The draft's own title (its week): every edition writes it in its language by itself."""
    from newsletter.issues.service import human_range

    return issue.title.strip() == human_range(issue.period_start, issue.period_end)


def original_texts(issue: Issue) -> IssueTexts:
    """The texts a translator works from: empty where there is nothing to translate."""
    note = (issue.editors_note or "").strip()
    return IssueTexts(
        title="" if automatic_title(issue) else issue.title.strip(), intro=(issue.intro or "").strip(),
        preheader=(issue.preheader or "").strip(), editors_note=note,
        editors_note_signature=(issue.editors_note_signature or "").strip() if note else "",
    )


def to_translate(issue: Issue) -> list[str]:
    """The names of the issue's texts an edition needs in its language (FIELDS order)."""
    return [name for name, value in original_texts(issue).as_dict().items() if value]


def find(issue: Issue, language: str) -> IssueTranslation | None:
    return next((t for t in issue.translations if t.language == language), None)


def row_for(issue: Issue, language: str) -> IssueTranslation:
    """The issue's row in `language`, or (not stored) an empty missing one: read-only use."""
    found = find(issue, language)
    if found is not None:
        return found
    return IssueTranslation(issue_id=issue.id, language=language, state="missing", allow_original=False,
                            updated_by=None, **IssueTexts().as_dict())


def state_of(issue: Issue, language: str) -> str:
    """For the desk: "none" (nothing to translate), "done", "allowed" (the original), "draft" or "missing"."""
    if not to_translate(issue):
        return "none"
    row = row_for(issue, language)
    if row.state == "done":
        return "done"
    return "allowed" if row.allow_original else row.state


def blocks(issue: Issue, language: str) -> bool:
    """The issue's texts hold the edition back: some need translating, and they are neither done nor allowed."""
    return state_of(issue, language) in ("draft", "missing")


def named(names: list[str]) -> Phrases:
    """The texts' names as a sentence part: "intro, editor's note" (in the desk's language on the desk)."""
    return Phrases([Words(LABELS[n]) for n in names], sep=", ")  # type: ignore[list-item]


# ---------------------------------------------------------------- editing


def clean(name: str, value: str) -> str:
    """A translated text kept as the original is: normalised line ends, no control characters, one line for a
    title, preheader or signature, and the original's length limit (IssueError naming the text otherwise)."""
    value = _CONTROL.sub("", (value or "").replace("\r\n", "\n").replace("\r", "\n")).strip()
    if name in ONE_LINE:
        value = " ".join(value.split())
    if len(value) > LIMITS[name]:
        raise IssueError(N_("the translated %(text)s is too long (%(length)d characters, at most %(limit)d)"),
                         text=Words(LABELS[name]), length=len(value), limit=LIMITS[name])
    return value


def _row(session: Session, issue: Issue, language: str, editions: list[str]) -> IssueTranslation:
    if language not in editions:
        listed = ", ".join(editions) or "-"
        raise IssueError(N_("%(language)r is not a further edition of this newsletter (further editions: %(listed)s)"),
                         language=language, listed=listed)
    found = find(issue, language)
    if found is None:
        found = IssueTranslation(language=language, state="missing", allow_original=False, updated_by=None,
                                 updated_at=utcnow(), **IssueTexts().as_dict())
        issue.translations.append(found)
        session.flush()
    return found


def _refuse_frozen(issue: Issue) -> None:
    raise IssueLocked(N_("issue %(number)d was already sent or published; its translations cannot change"),
                      number=issue.number)


def _editable(session: Session, issue: Issue, actor: User | str) -> None:
    """Frozen issues are read-only; an edit to a signed-off issue withdraws the sign-off (as item edits do)."""
    if issue_frozen(issue):
        _refuse_frozen(issue)
    if issue.state != "draft" or issue.approved_by_id is not None:
        from newsletter.issues.service import reopen_issue

        reopen_issue(session, issue, actor=actor, reason="translation edited after sign-off")


def set_texts(session: Session, issue: Issue, language: str, words: IssueTexts, *, state: str, editions: list[str],
              actor: User | str, allow_original: bool | None = None) -> IssueTranslation:
    """Save the issue's texts in one further edition (`editions`: the further editions' languages) and
    their state: done needs every text the original has; words given make a missing state a draft."""
    if state not in TRANSLATION_STATES:
        raise IssueError(N_("the state must be one of %(states)s"), states=", ".join(TRANSLATION_STATES))
    cleaned = {name: clean(name, value) for name, value in words.as_dict().items()}
    if state == "done":
        lacking = [n for n in to_translate(issue) if not cleaned[n]]
        if lacking:
            raise IssueError(N_("a done translation needs every text the original has; empty: %(texts)s"),
                             texts=named(lacking))
    if state == "missing" and any(cleaned.values()):
        state = "draft"
    if issue_frozen(issue):
        _refuse_frozen(issue)
    row = _row(session, issue, language, editions)
    changes = apply_words(session, issue, row, cleaned, state=state, allow_original=allow_original, actor=actor)
    if not changes:
        return row
    audit.record(session, actor=actor, action="issue.texts_translation_edited", entity_type="issue",
                 entity_id=issue.id, changes={"language": language, **changes})
    return row


def allow_original(session: Session, issue: Issue, language: str, allow: bool, *, editions: list[str],
                   actor: User | str) -> IssueTranslation:
    """An editor's explicit choice to publish the issue's original texts in one edition (audited: who, when)."""
    if issue_frozen(issue):
        _refuse_frozen(issue)
    row = _row(session, issue, language, editions)
    if row.allow_original == allow:
        return row
    _editable(session, issue, actor)
    before, row.allow_original = row.allow_original, allow
    _touch(row, actor)
    session.flush()
    audit.record(session, actor=actor, action="issue.texts_original_allowed" if allow
                 else "issue.texts_original_withdrawn", entity_type="issue", entity_id=issue.id,
                 changes={"language": language, "allow_original": audit.change(before, allow)})
    return row


def apply_words(session: Session, issue: Issue, row: Any, cleaned: dict[str, str], *, state: str,
                allow_original: bool | None, actor: User | str) -> dict[str, Any]:
    """Write cleaned words, a state and the editor's leave onto a translation row (the issue's texts' or an
    item's): the audit's changes (lengths only), {} when nothing changed (nothing written, no sign-off
    withdrawn)."""
    changes: dict[str, Any] = {n: audit.text_change(getattr(row, n), v) for n, v in cleaned.items() if getattr(row, n) != v}
    if row.state != state:
        changes["state"] = audit.change(row.state, state)
    if allow_original is not None and allow_original != row.allow_original:
        changes["allow_original"] = audit.change(row.allow_original, allow_original)
    if not changes:
        return changes
    _editable(session, issue, actor)
    for name, value in cleaned.items():
        setattr(row, name, value)
    row.state = state
    if allow_original is not None:
        row.allow_original = allow_original
    _touch(row, actor)
    session.flush()
    return changes


def _touch(row: Any, actor: User | str) -> None:
    row.updated_at = utcnow()
    row.updated_by = actor.email if isinstance(actor, User) else str(actor)


def mark_stale(session: Session, issue: Issue, changed: set[str], *, actor: User | str) -> list[str]:
    """The issue's original texts changed: done translations of them go back to draft, so editors see them
    again (as an item's do, translations.mark_stale). Returns the languages whose translation became stale."""
    if not changed & set(FIELDS):
        return []
    stale = [row for row in issue.translations if row.state == "done"]
    for row in stale:
        row.state = "draft"
        _touch(row, actor)
    if stale:
        session.flush()
        audit.record(session, actor=actor, action="issue.texts_translation_stale", entity_type="issue",
                     entity_id=issue.id, changes={"languages": [r.language for r in stale],
                                                  "fields": sorted(changed & set(FIELDS))})
    return [r.language for r in stale]
