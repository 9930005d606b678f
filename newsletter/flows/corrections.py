"""Correcting a published issue: file the dated note, re-render the archive, tell the readers once.

The issues domain files the correction (consent-checked, audited); render draws it beside the frozen
snapshot; delivery mails the notice through its own outbox. As with publishing, the archive is
rendered beside the real one inside the transaction and moved into place only after the commit, so
the archive never shows a correction the database does not hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from newsletter import media
from newsletter.config import Settings
from newsletter.delivery import service as delivery
from newsletter.delivery.service import NoticeReport
from newsletter.issues import corrections
from newsletter.issues import service as issues
from newsletter.issues.corrections import CorrectionError, CorrectionRefused
from newsletter.i18n import N_, NP_, Said
from newsletter.models import Correction, Issue, User
from newsletter.issues.editions import published_editions
from newsletter.render import StagedArchive, render_correction_email, stage_archive
from newsletter.runtime import Runtime

__all__ = ["CorrectionError", "CorrectionRefused", "CorrectionRow", "NoticeReport", "correctable", "file", "file_ref", "get",
           "for_incident", "issue_of", "listing",
           "notify_correction", "notify_issue", "stage_public_archive", "translate", "translation_page"]


@dataclass(frozen=True)
class CorrectionRow:
    """A correction as the desk and `newsletter corrections list` show it, with its notice state."""

    id: int
    issue_number: int
    issue_period: str
    issue_id: int
    item_id: int
    incident_id: int | None
    headline: str
    text: str
    filed_at: str
    filed_by: str
    notify_requested: bool
    notices: dict[str, int] = field(default_factory=dict)

    @property
    def notice_state(self) -> str:
        """In English (the command line)."""
        return self.notice_said.english()

    @property
    def notice_said(self) -> Said:
        """The notice's state as the desk shows it, in the account's language."""
        if not self.notify_requested:
            return Said(N_("not notified"))
        sent, total = self.notices.get("sent", 0), sum(self.notices.values())
        waiting = self.notices.get("pending", 0) + self.notices.get("sending", 0)
        failed = self.notices.get("failed", 0)
        counts = {"sent": sent, "failed": failed, "waiting": waiting}
        if failed and waiting:
            return Said(*NOTICE_FAILED_WAITING, n=total, **counts)
        if failed:
            return Said(*NOTICE_FAILED, n=total, **counts)
        if waiting:
            return Said(*NOTICE_WAITING, n=total, **counts)
        return Said(*NOTICE_SENT, n=total, **counts)


# The notice states, plural by the number of readers (the English keeps its "reader(s)").
NOTICE_SENT = NP_("notice sent to %(sent)s of %(num)d reader(s)", "notice sent to %(sent)s of %(num)d reader(s)")
NOTICE_FAILED = NP_("notice sent to %(sent)s of %(num)d reader(s), %(failed)s failed",
                    "notice sent to %(sent)s of %(num)d reader(s), %(failed)s failed")
NOTICE_WAITING = NP_("notice sent to %(sent)s of %(num)d reader(s), %(waiting)s waiting",
                     "notice sent to %(sent)s of %(num)d reader(s), %(waiting)s waiting")
NOTICE_FAILED_WAITING = NP_("notice sent to %(sent)s of %(num)d reader(s), %(failed)s failed, %(waiting)s waiting",
                            "notice sent to %(sent)s of %(num)d reader(s), %(failed)s failed, %(waiting)s waiting")


def stage_public_archive(session: Session, settings: Settings, *, corrected: str | None = None) -> StagedArchive:
    """The whole archive (frozen snapshots with their corrections) rendered beside the real one; the
    corrected issue's print version (issue.pdf) is made again so it carries the note too."""
    return stage_archive(settings.issues_dir, issues.published_snapshots(session), settings,
                         corrections.archive_notes(session), pdf_periods={corrected} if corrected else (),
                         editions=published_editions(session),  # a correction shows in every edition
                         media=lambda names: media.load(session, names))


def file(session: Session, issue: Issue, *, incident_ref: str | int, text: str, actor: User | str,
         settings: Settings, notify: bool = False) -> Correction:
    """File a correction, commit, then move the re-rendered archive into place (this flow commits).

    `notify` records that the readers are to be told; the caller then runs notify_correction (mail
    goes out after the commit, never inside a transaction). Raises CorrectionError/CorrectionRefused
    (nothing stored), ArchiveWriteError (nothing stored; the caller rolls back).
    """
    row = corrections.file_correction(session, issue, incident_ref=incident_ref, text=text, actor=actor,
                                      settings=settings)
    if notify:
        corrections.request_notice(session, row, actor=actor)
    _commit_with_archive(session, settings, issue)
    return row


def translate(session: Session, correction: Correction, language: str, text: str, *, actor: User | str,
              settings: Settings) -> None:
    """Save a correction's words in a further edition's language (empty: not translated), commit, then move the
    re-rendered archive into place (this flow commits): that edition's page, feed and index show them.
    Raises CorrectionError/CorrectionRefused (nothing stored), ArchiveWriteError (the caller rolls back)."""
    corrections.set_translation(session, correction, language, text, actor=actor, settings=settings)
    issue = correction.issue
    _commit_with_archive(session, settings, issue)  # its PDFs carry the words too


def file_ref(session: Session, issue_ref: str, *, incident_ref: str | int, text: str, actor: User | str,
             settings: Settings, notify: bool = False) -> Correction:
    """`newsletter corrections add`: the issue by reference (period, number or latest)."""
    return file(session, issues.resolve_issue(session, issue_ref), incident_ref=incident_ref, text=text, actor=actor,
                settings=settings, notify=notify)


def notify_correction(runtime: Runtime, correction_id: int, *, actor: User | str = "cli") -> NoticeReport:
    """Mail the notice of one correction to every reader the corrected issue was sent to and who is still
    subscribed, exactly once each (safe to run again, also after a crash: its own outbox rows)."""
    with runtime.session() as session:
        row = corrections.get_correction(session, correction_id)
        corrections.request_notice(session, row, actor=actor)
        report = NoticeReport(correction_id=row.id, enqueued=delivery.enqueue_notices(session, row.id, row.issue_id))
        snapshot, note = row.issue.snapshot or {}, corrections.note(row)
        default = row.issue.language or runtime.settings.default_language
        languages = [lang for lang in (row.issue.edition_snapshots or {}) if lang != default]
    # One notice per edition the corrected issue had: each reader gets theirs (their edition's words and
    # chrome), else the default one, as with the issue itself.
    email = render_correction_email(snapshot, note, runtime.settings, language=default)
    editions = {lang: render_correction_email(snapshot, note, runtime.settings, language=lang) for lang in languages}
    delivery.deliver_notices(runtime, correction_id, email, report, editions=editions, default_edition=default)
    with runtime.session() as session:
        report.counts = delivery.notice_counts(session, correction_id)
    return report


def notify_issue(runtime: Runtime, issue_ref: str, *, actor: User | str = "cli") -> list[NoticeReport]:
    """`newsletter corrections notify ISSUE`: the notice of every correction of the issue; nothing twice."""
    with runtime.session() as session:
        issue = issues.resolve_issue(session, issue_ref)
        ids = [c.id for c in corrections.list_corrections(session, issue)]
        if not ids:
            raise CorrectionError(f"issue {issue.number} ({issue.period}) has no corrections to notify")
    return [notify_correction(runtime, cid, actor=actor) for cid in ids]


def get(session: Session, correction_id: int) -> Correction:
    """A correction by id (CorrectionError when there is none)."""
    return corrections.get_correction(session, correction_id)


def issue_of(session: Session, correction_id: int) -> Issue:
    """The corrected issue of a correction (CorrectionError when there is no such correction)."""
    return corrections.get_correction(session, correction_id).issue


def correctable(issue: Issue) -> list[tuple[int, str]]:
    """The items of a published issue a correction may be filed on: (incident id, headline)."""
    return corrections.correctable(issue)


def for_incident(session: Session, incident_id: int) -> list[tuple[Issue, list[tuple[int, str]]]]:
    """For an incident's desk page: each published issue that carried it, with the item to correct."""
    return [(issue, [c for c in corrections.correctable(issue) if c[0] == incident_id])
            for issue in corrections.issues_of_incident(session, incident_id)]


def listing(session: Session, issue_ref: str | None = None, *, issue: Issue | None = None) -> list[CorrectionRow]:
    """Corrections oldest first (of one issue, or all) with the state of their notices."""
    if issue is None and issue_ref is not None:
        issue = issues.resolve_issue(session, issue_ref)
    return [CorrectionRow(
        id=c.id, issue_number=c.issue.number, issue_period=c.issue.period, issue_id=c.issue_id, item_id=c.item_id,
        incident_id=c.incident_id, headline=c.headline, text=c.text, filed_at=f"{c.filed_at:%Y-%m-%d %H:%M} UTC",
        filed_by=c.filed_by, notify_requested=c.notify_requested_at is not None,
        notices=delivery.notice_counts(session, c.id),
    ) for c in corrections.list_corrections(session, issue)]


@dataclass(frozen=True)
class TranslationPage:
    """A correction's desk page: the original words, and each further edition's words (empty: not translated)."""

    correction: CorrectionRow
    language: str  # the original's
    texts: dict[str, str]  # further language -> its words ("" when not translated)


def translation_page(session: Session, correction_id: int, settings: Settings) -> TranslationPage:
    """What the correction page shows (CorrectionError when there is no such correction)."""
    row = corrections.get_correction(session, correction_id)
    listed = next(r for r in listing(session, issue=row.issue) if r.id == row.id)
    found = {t.language: t.text for t in row.translations}
    return TranslationPage(correction=listed, language=row.language,
                           texts={lang: found.get(lang, "") for lang in corrections.translation_languages(row, settings)})


def _commit_with_archive(session: Session, settings: Settings, issue: Issue) -> None:
    """Commit, then move the re-rendered public archive of a published issue into place: staged before the
    commit (a write error rolls back the database), discarded if the commit fails."""
    staged = (stage_public_archive(session, settings, corrected=issue.period)
              if issue.published_at is not None else None)
    try:
        session.commit()
    except BaseException:
        if staged is not None:
            staged.discard()
        raise
    if staged is not None:
        staged.commit()
