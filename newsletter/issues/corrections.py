"""Corrections: a dated, public note on an item of a published issue — never a silent edit.

A careful news organisation does not rewrite what it published: the frozen snapshot stays as it
was, and a correction (what was wrong, what is right) is filed beside the item, dated and audited.
Render shows it on the archive page, in the feed and in issue.json of the corrected issue, and the
next issue freezes the corrections filed since the issue before it (Snapshot.earlier_corrections).

A correction is published text, so it passes the same consent engine as the item it corrects
(issues.snapshot.check_item_text): it cannot name a protected person or a hidden place, in any
spelling the engine knows; it is refused, never redacted silently. Texts carry their language
(the default edition's), so translations can follow when an issue has several editions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from newsletter import audit
from newsletter.config import Settings
from newsletter.db import get_row, utcnow
from newsletter.issues.consent import ConsentViolation
from newsletter.i18n import N_
from newsletter.issues.errors import IssueError, Phrases, Words
from newsletter.models import Correction, CorrectionTranslation, Issue, IssueItem, User
from newsletter.snapshot import CorrectionNote, parse_snapshot
from newsletter.states import issue_frozen

__all__ = ["CorrectionError", "CorrectionNotAllowed", "CorrectionRefused", "TEXT_LIMIT", "archive_notes", "correctable", "file_correction",
           "find_item", "issues_of_incident", "get_correction", "list_corrections", "note", "notes_since", "request_notice",
           "set_translation", "translation_languages"]

TEXT_LIMIT = 2000


class CorrectionError(IssueError):
    """A correction cannot be filed as asked (empty text, unknown item, a draft issue); the message says why."""


class CorrectionNotAllowed(CorrectionError):
    """The issue was never published (a draft): it is edited, not corrected."""


class CorrectionRefused(CorrectionError):
    """The correction would publish a protected name or place; the message names where, never the word."""


def clean_text(text: str | None) -> str:
    """Line ends unified and outer blanks trimmed; the editor's words are otherwise kept as written."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def find_item(issue: Issue, incident_ref: str | int) -> IssueItem:
    """The item of `issue` about an incident given by its id or its external id."""
    ref = str(incident_ref).strip()
    if not ref:
        raise CorrectionError(N_("name the corrected item: --incident takes an incident id or an external id"))
    items = [i for i in issue.items if i.incident is not None]
    found = [i for i in items if ref.isdigit() and i.incident_id == int(ref)]
    found = found or [i for i in items if i.incident is not None and i.incident.external_id == ref]
    if not found:
        raise CorrectionError(N_("issue %(number)d (%(period)s) has no item about incident %(ref)r"),
                              number=issue.number, period=issue.period, ref=ref)
    return found[0]


def _published_item_ids(issue: Issue) -> dict[int, str]:
    snap = parse_snapshot(issue.snapshot or {})
    return {item.id: item.headline for section in snap.sections for item in section.items}


def file_correction(session: Session, issue: Issue, *, incident_ref: str | int, text: str, actor: User | str,
                    settings: Settings) -> Correction:
    """File a dated correction of one published item, audited; the caller commits (and re-renders the archive).

    Raises CorrectionError for empty or overlong text, a draft issue or an item the issue did not
    publish, CorrectionRefused when the text names a protected person or place.
    """
    body = clean_text(text)
    if not body:
        raise CorrectionError(N_("the correction is empty: say what was wrong and what is right"))
    if len(body) > TEXT_LIMIT:
        raise CorrectionError(N_("the correction is %(length)d characters long; keep it within %(limit)d"),
                              length=len(body), limit=TEXT_LIMIT)
    if not issue_frozen(issue) or issue.snapshot is None:
        raise CorrectionNotAllowed(N_("issue %(number)d (%(period)s) is a %(state)s and was not published: edit the "
                                      "draft instead of filing a correction"),
                                   number=issue.number, period=issue.period, state=Words(issue.state))
    item = find_item(issue, incident_ref)
    published = _published_item_ids(issue)
    if item.id not in published:
        raise CorrectionError(N_("incident %(ref)s was not published in issue %(number)d (it was withheld): there "
                                 "is nothing public to correct"), ref=str(incident_ref), number=issue.number)
    language = parse_snapshot(issue.snapshot).issue.language or settings.language
    from newsletter.issues.snapshot import check_item_text

    try:
        check_item_text(session, issue, item, body, field="correction", edition=language)
    except ConsentViolation as exc:
        where = Phrases([f.phrase() for f in exc.findings[:5]]) or Words(N_("the correction"))
        raise CorrectionRefused(N_("the consent check refused this correction (%(where)s): write it without the "
                                   "person's name or the withheld place, as the item itself refers to them"),
                                where=where) from None
    user = actor if isinstance(actor, User) else None
    row = Correction(issue_id=issue.id, item_id=item.id, incident_id=item.incident_id, headline=published[item.id],
                     language=language, text=body, filed_at=utcnow(), filed_by_id=user.id if user else None,
                     filed_by=user.email if user else str(actor))
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="correction.filed", entity_type="correction", entity_id=row.id,
                 changes={"issue": issue.number, "item": item.id, "incident": item.incident_id,
                          "text": audit.text_change(None, body)})
    return row


def request_notice(session: Session, correction: Correction, *, actor: User | str) -> bool:
    """Record that the recipients of the corrected issue are to be told; False when it was asked already."""
    if correction.notify_requested_at is not None:
        return False
    when = utcnow()
    audit.record(session, actor=actor, action="correction.notice_requested", entity_type="correction",
                 entity_id=correction.id, changes={"notify_requested_at": audit.change(None, when.isoformat())})
    correction.notify_requested_at = when
    return True


def correctable(issue: Issue) -> list[tuple[int, str]]:
    """(incident id, headline as published) of each item a correction may be filed on; none for a draft."""
    if not issue_frozen(issue) or issue.snapshot is None:
        return []
    published = _published_item_ids(issue)
    return [(i.incident_id, published[i.id]) for i in issue.items if i.incident_id is not None and i.id in published]


def issues_of_incident(session: Session, incident_id: int) -> list[Issue]:
    """The frozen issues that published an item about this incident (where it can be corrected)."""
    stmt = (select(Issue).join(IssueItem, IssueItem.issue_id == Issue.id)
            .where(IssueItem.incident_id == incident_id, Issue.snapshot.is_not(None)).order_by(Issue.number))
    return [i for i in session.scalars(stmt).unique() if any(inc == incident_id for inc, _ in correctable(i))]


def get_correction(session: Session, correction_id: int) -> Correction:
    row = get_row(session, Correction, correction_id)  # a number no key can hold is "no such correction"
    if row is None:
        raise CorrectionError(N_("there is no correction %(id)s"), id=correction_id)
    return row


def list_corrections(session: Session, issue: Issue | None = None) -> list[Correction]:
    """Corrections oldest first, of one issue or of all."""
    stmt = select(Correction).options(selectinload(Correction.issue)).order_by(Correction.filed_at, Correction.id)
    if issue is not None:
        stmt = stmt.where(Correction.issue_id == issue.id)
    return list(session.scalars(stmt))


def edition_headlines(issue: Issue, item_id: int) -> dict[str, str]:
    """The corrected issue's further editions, each with the item's headline as that edition published it."""
    out: dict[str, str] = {}
    for lang, frozen in sorted((issue.edition_snapshots or {}).items()):
        if isinstance(frozen, dict):
            out[lang] = _edition_headline(frozen, item_id)
    return out


def _edition_headline(frozen: dict[str, object], item_id: int) -> str:
    for section in frozen.get("sections") or ():  # type: ignore[attr-defined]
        for item in (section.get("items") or ()) if isinstance(section, dict) else ():
            if isinstance(item, dict) and item.get("id") == item_id:
                return str(item.get("headline") or "")
    return ""


def note(correction: Correction) -> CorrectionNote:
    """The correction as readers see it (render's typed input), with its words in each further language
    and the corrected issue's editions; outputs read it through CorrectionNote.in_language."""
    return CorrectionNote(id=correction.id, issue_number=correction.issue.number, issue_period=correction.issue.period,
                          item_id=correction.item_id, headline=correction.headline, text=correction.text,
                          language=correction.language, filed_at=correction.filed_at,
                          translations={t.language: t.text for t in correction.translations if t.text.strip()},
                          editions=edition_headlines(correction.issue, correction.item_id))


def archive_notes(session: Session) -> dict[str, list[CorrectionNote]]:
    """Every correction of an issue in the public archive, by the issue's period, oldest first."""
    out: dict[str, list[CorrectionNote]] = {}
    rows = session.scalars(select(Correction).join(Issue, Issue.id == Correction.issue_id)
                           .where(Issue.published_at.is_not(None))
                           .options(selectinload(Correction.issue), selectinload(Correction.translations))
                           .order_by(Correction.filed_at, Correction.id))
    for row in rows:
        out.setdefault(row.issue.period, []).append(note(row))
    return out


def _went_out(issue: Issue) -> dt.datetime | None:
    if issue.snapshot is None:
        return None
    return parse_snapshot(issue.snapshot).issue.published_at or issue.published_at or issue.sent_at


def notes_since(session: Session, issue: Issue) -> list[CorrectionNote]:
    """The corrections `issue` carries in its "Corrections" block: of earlier issues, filed after the
    issue before it was frozen (so each correction is announced in exactly one later issue)."""
    previous = session.scalar(select(Issue).where(Issue.number < issue.number, Issue.snapshot.is_not(None))
                              .order_by(Issue.number.desc()).limit(1))
    if previous is None:
        return []
    stmt = (select(Correction).join(Issue, Issue.id == Correction.issue_id).where(Issue.number < issue.number)
            .options(selectinload(Correction.issue), selectinload(Correction.translations))
            .order_by(Correction.filed_at, Correction.id))
    cutoff = _went_out(previous)
    if cutoff is not None:
        stmt = stmt.where(Correction.filed_at > cutoff)
    return [note(c) for c in session.scalars(stmt)]


def earlier_sequence(notes: Sequence[CorrectionNote]) -> list[dict[str, object]]:
    """The block in the JSON form frozen with the snapshot."""
    return [n.model_dump(mode="json") for n in notes]



# ---------------------------------------------------------------- translations


def translation_languages(correction: Correction, settings: Settings) -> list[str]:
    """The further editions a correction may be translated into: every configured edition but its own language."""
    return [lang for lang in settings.editions if lang != correction.language]


def _corrected_item(correction: Correction) -> IssueItem:
    found = next((i for i in correction.issue.items if i.id == correction.item_id), None)
    if found is None:  # the item's row went with a deleted incident: nothing left to check a text against
        raise CorrectionError(N_("the corrected item of correction %(id)d is no longer on record"), id=correction.id)
    return found


def set_translation(session: Session, correction: Correction, language: str, text: str, *, actor: User | str,
                    settings: Settings) -> CorrectionTranslation | None:
    """Save a correction's words in one further edition's language (empty: not translated, the row goes), audited;
    the caller commits and re-renders the archive.

    The words pass the same consent check as the original (check_item_text, for that edition): a protected
    person's name in any spelling the engine knows, Cyrillic included, refuses them (CorrectionRefused).
    """
    languages = translation_languages(correction, settings)
    if language not in languages:
        raise CorrectionError(N_("%(language)r is not a further edition of this correction (its editions: %(editions)s)"),
                              language=language, editions=", ".join(languages) or "-")
    body = clean_text(text)
    if len(body) > TEXT_LIMIT:
        raise CorrectionError(N_("the correction is %(length)d characters long; keep it within %(limit)d"),
                              length=len(body), limit=TEXT_LIMIT)
    row = next((t for t in correction.translations if t.language == language), None)
    before = row.text if row is not None else None
    if (before or "") == body:
        return row
    if body:
        from newsletter.issues.snapshot import check_item_text

        try:
            check_item_text(session, correction.issue, _corrected_item(correction), body, field="correction",
                            edition=language)
        except ConsentViolation as exc:
            where = Phrases([f.phrase() for f in exc.findings[:5]]) or Words(N_("the correction"))
            raise CorrectionRefused(N_("the consent check refused this correction (%(where)s): write it without the "
                                       "person's name or the withheld place, as the item itself refers to them"),
                                    where=where) from None
    who = actor.email if isinstance(actor, User) else str(actor)
    if not body:
        assert row is not None
        correction.translations.remove(row)
        row = None
    elif row is None:
        row = CorrectionTranslation(language=language, text=body, updated_by=who)
        correction.translations.append(row)
    else:
        row.text, row.updated_by = body, who
    session.flush()
    audit.record(session, actor=actor, action="correction.translated", entity_type="correction", entity_id=correction.id,
                 changes={"language": language, "text": audit.text_change(before, body or None)})
    return row
