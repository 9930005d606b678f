"""An issue's lifecycle across domains: draft, approve, preview, publish.

The issues domain decides what an issue is and may become; render turns a snapshot into files.
Here the two meet, in the order that keeps the public archive honest: the archive is rendered
beside the real one inside the transaction (a full disk refuses the publish and rolls it back),
and moved into place only after the transaction committed — never before.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from newsletter import media
from newsletter.i18n import N_
from newsletter.config import Settings
from newsletter.editorial.users import get_by_email
from newsletter.issues import items as issue_items
from newsletter.issues import service
from newsletter.issues import translations
from newsletter.issues.corrections import archive_notes, list_corrections, note
from newsletter.issues.errors import IssueError
from newsletter.issues.editions import (
    build_edition_data, default_language, edition_languages, further_languages, published_editions,
)
from newsletter.issues.snapshot import build_snapshot
from newsletter.snapshot import Snapshot, parse_snapshot
from newsletter.models import Issue, IssueItem, User
from newsletter.render import RenderedIssue, render_issue, stage_archive
from newsletter.render.pdf import pdf_unavailable
from newsletter.runtime import Runtime
from newsletter.snapshot import CorrectionNote
from newsletter.states import issue_frozen

__all__ = ["MissingEdition", "Preview", "UnknownEditor", "approve", "approve_as", "draft", "issue_frozen", "pdf_note",
           "preview", "preview_ref", "publish", "snapshot_for"]


class UnknownEditor(IssueError):
    """No desk account has the address given as the approving editor."""


class MissingEdition(IssueError):
    """The issue has no edition in the language asked for (not configured, or frozen before it was)."""


def draft(session: Session, *, settings: Settings, period: str | None = None, actor: User | str) -> Issue:
    """Create or top up the period's draft from its accepted incidents (scheduling them), with a translation
    row per item and further edition (an incident's import translations copied in as drafts)."""
    issue = service.draft_issue(session, settings=settings, period=period, actor=actor)
    translations.ensure_rows(session, issue, settings, actor=actor)
    return issue


def approve(session: Session, issue: Issue, *, user: User, settings: Settings) -> Issue:
    """Sign the issue off as `user` (the consent check runs on the snapshot it would publish).

    Every further edition must be ready first: each item translated (done) or allowed its original.
    """
    if issue.state == "draft" and not issue_frozen(issue):
        translations.check_editions_ready(issue, settings)
    return service.approve_issue(session, issue, user=user, settings=settings)


def approve_as(session: Session, issue_ref: str, *, email: str, settings: Settings) -> tuple[Issue, User]:
    """The command line's sign-off: the editor named by address, the issue by reference."""
    user = get_by_email(session, email)
    if user is None:
        raise UnknownEditor(f"no user {email!r}; add one with `newsletter users add`")
    return approve(session, service.resolve_issue(session, issue_ref), user=user, settings=settings), user


def snapshot_for(session: Session, issue: Issue, *, settings: Settings,
                 lang: str | None = None) -> tuple[Snapshot, bool]:
    """What readers get of the issue, typed: its frozen snapshot, else one built now (not saved); and whether it was frozen.

    The one place that chooses between the two, for `newsletter render`, the desk's previews and test sends.
    `lang` picks an edition (None or the issue's language: the default one). A draft's further edition
    shows an item without a finished translation in the original, flagged, as a preview; freezing refuses it.
    Raises MissingEdition for a language the issue has no edition in.
    """
    if lang is None or lang == default_language(issue, settings):
        if issue.snapshot is not None:
            return parse_snapshot(issue.snapshot), True
        return build_snapshot(session, issue, settings=settings), False
    if issue.snapshot is not None:
        frozen = (issue.edition_snapshots or {}).get(lang)
        if frozen is None:
            have = ", ".join([default_language(issue, settings), *(issue.edition_snapshots or {})])
            raise MissingEdition(f"issue {issue.number} was frozen without a {lang} edition (its editions: {have})")
        return parse_snapshot(frozen), True
    if lang not in further_languages(issue, settings):
        raise MissingEdition(f"there is no {lang} edition: NEWSLETTER_LANGUAGES lists "
                             f"{', '.join(edition_languages(issue, settings))}")
    return parse_snapshot(build_edition_data(session, issue, lang, settings=settings, strict=False)), False


def edition_snapshots(session: Session, issue: Issue, *, settings: Settings) -> dict[str, Snapshot]:
    """Every edition of the issue by language, the default first (frozen, else built now as a preview)."""
    return {lang: snapshot_for(session, issue, settings=settings, lang=lang)[0]
            for lang in ([default_language(issue, settings), *(issue.edition_snapshots or {})]
                         if issue.snapshot is not None else edition_languages(issue, settings))}


@dataclass(frozen=True)
class Preview:
    period: str
    frozen: bool
    rendered: RenderedIssue


def preview(session: Session, issue: Issue, *, settings: Settings, lang: str | None = None) -> Preview:
    """The issue (in the `lang` edition) rendered to every output, as it is now (or as it was frozen, with its corrections)."""
    snapshot, frozen = snapshot_for(session, issue, settings=settings, lang=lang)
    return Preview(issue.period, frozen, render_issue(snapshot, settings, _corrections(session, issue, frozen)))


def _corrections(session: Session, issue: Issue, frozen: bool) -> list[CorrectionNote]:
    """A frozen issue's dated corrections, rendered beside it as in the archive."""
    return [note(c) for c in list_corrections(session, issue)] if frozen else []


def pdf_note() -> str | None:
    """One line for the commands that promise issue.pdf, when this machine cannot make it (pip-only install)."""
    reason = pdf_unavailable()
    return f"issue.pdf skipped: {reason}" if reason else None


def preview_ref(runtime: Runtime, issue_ref: str, *, pdf: bool = False, lang: str | None = None) -> Preview:
    """`newsletter render [--lang]`: read the snapshot, end the transaction (hold no lock), then render (with issue.pdf if asked)."""
    with runtime.session() as session:
        issue = service.resolve_issue(session, issue_ref)
        snapshot, frozen = snapshot_for(session, issue, settings=runtime.settings, lang=lang)
        fixes = _corrections(session, issue, frozen)
        period = issue.period
        photos = media.load(session, snapshot.media_files)
        session.rollback()
    return Preview(period, frozen, render_issue(snapshot, runtime.settings, fixes, pdf=pdf, media=photos))


def publish(session: Session, issue: Issue, *, settings: Settings, actor: User | str) -> Path:
    """Freeze the issue, commit, then move the re-rendered archive into place; returns the issue's folder.

    This flow owns the caller's transaction: it commits it. The archive is rendered into a stage
    first (ArchiveWriteError on a full disk: nothing committed, the caller rolls back); a failed
    commit drops the stage, so the archive never shows what the database does not. Publishing
    again rewrites the archive from the frozen snapshots (e.g. after a template change) and remakes
    this issue's issue.pdf (`pdf_note()` says when this machine cannot).
    """
    service.mark_published(session, issue, settings=settings, actor=actor)
    staged = stage_archive(settings.issues_dir, service.published_snapshots(session), settings,
                           archive_notes(session),  # the corrections are rendered beside the snapshots
                           pdf_periods={issue.period}, media=lambda names: media.load(session, names),
                           editions=published_editions(session))  # each further edition at <period>/<lang>/
    folder = Path(settings.issues_dir) / issue.period
    try:
        session.commit()
    except BaseException:
        staged.discard()
        raise
    staged.commit()
    return folder


# ---------------------------------------------------------------- photos from the desk


def photo_choices(session: Session, issue: Issue) -> dict[int, list[int]]:
    """For each item, the volunteer's cleaned pictures an editor may publish: only on a public incident (the
    volunteer chose publication with names) - an anonymised or internal item never carries a photo."""
    from newsletter.submissions import attachments

    out: dict[int, list[int]] = {}
    for item in issue.items:
        incident = item.incident
        if incident is not None and incident.publication == "public":
            pictures = [a.id for a in attachments.for_incident(session, incident.id) if attachments.is_picture(a)]
            if pictures:
                out[item.id] = pictures
    return out


def attach_attachment_photo(session: Session, issue: Issue, item: IssueItem, attachment_id: int, *, settings: Settings,
                            user: User, alt: str, caption: str = "", credit: str = "",
                            no_one_identifiable: bool = False) -> IssueItem:
    """Publish one of the incident's cleaned attachments as the item's photo (rebuilt again, like any upload)."""
    from newsletter.submissions import attachments

    if attachment_id not in photo_choices(session, issue).get(item.id, []):
        raise IssueError(N_("that picture is not one of this item's publishable attachments"))
    assert item.incident is not None
    stored = attachments.download(session, incident_id=item.incident.id, attachment_id=attachment_id,
                                  settings=settings, actor=user)
    return issue_items.attach_photo(session, issue, item, stored.content, alt=alt, caption=caption, credit=credit,
                                    no_one_identifiable=no_one_identifiable, origin=f"attachment:{attachment_id}",
                                    actor=user)
