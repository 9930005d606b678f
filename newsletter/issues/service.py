"""Issue assembly and sign-off: draft a period, approve, schedule, freeze the snapshot, mark it published or sent.

Issue states (the table is newsletter.states): draft -> approved -> scheduled -> sending -> sent.
`published_at` and the frozen `snapshot` mark an issue that went public (sent or written to the
archive); after that it never changes. Every change is audited; nothing here commits, renders or
writes files: newsletter.flows.issues and newsletter.flows.send do that around these functions.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from typing import Any

import nh3
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsletter import audit, markup
from newsletter.config import Settings
from newsletter.db import utcnow
from newsletter.i18n import N_
from newsletter.issues.errors import ApprovalError, IssueError, IssueLocked, IssueNotFound, Words
from newsletter.issues.periods import Period, current_period, parse_period
from newsletter.issues.sections import section_for_incident, sections_in_order
from newsletter.issues.editions import build_further_editions
from newsletter.issues.snapshot import build_snapshot_data as build_snapshot  # the JSON form frozen on the issue
from newsletter.models import PUBLIC_LINK_ORIGINS, Incident, Issue, IssueItem, User
from newsletter.states import ISSUE_GONE_OUT, ISSUE_SENDABLE, issue_frozen, move_issue, transition

__all__ = [
    "ApprovalError", "IssueError", "IssueLocked", "IssueNotFound", "SendRefused", "approve_issue", "build_snapshot",
    "draft_issue", "due_issues", "freeze_snapshot", "list_issues", "mark_published", "mark_sent", "overdue_issues",
    "published_snapshots", "reopen_issue", "resolve_issue", "resume_sending", "schedule_issue", "send_now", "SendRefused",
    "sending_issues",
    "start_sending", "unschedule_issue",
]

_NUMBER = re.compile(r"^\s*#?(\d+)\s*$")
_WEEK = re.compile(r"^\s*(\d{4})-?W(\d{1,2})(?:-W\d{1,2})?\s*$", re.IGNORECASE)
TEXT_LIMIT = 600


# ---------------------------------------------------------------- finding issues


def resolve_issue(session: Session, ref: str | int) -> Issue:
    """An issue by its period ("2026-W47", any week it covers), its number, or "latest"."""
    text = str(ref).strip()
    issue: Issue | None = None
    if text.lower() == "latest":
        issue = session.scalar(select(Issue).order_by(Issue.number.desc()).limit(1))
        if issue is None:
            raise IssueNotFound("there are no issues yet; draft one with `newsletter draft`")
        return issue
    if m := _NUMBER.match(text):
        issue = session.scalar(select(Issue).where(Issue.number == int(m.group(1))))
    elif m := _WEEK.match(text):
        try:
            monday = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
        except ValueError:
            raise IssueNotFound(f"{text!r} is not a valid ISO week") from None
        issue = session.scalar(
            select(Issue).where(Issue.period_start <= monday, Issue.period_end >= monday).order_by(Issue.number).limit(1)
        )
    else:
        raise IssueNotFound(f"{text!r} is not an issue reference: use a period such as 2026-W47, a number, or latest")
    if issue is None:
        raise IssueNotFound(f"no issue for {text!r}; list them with `newsletter issues`")
    return issue


def list_issues(session: Session, limit: int = 200) -> list[Issue]:
    return list(session.scalars(select(Issue).order_by(Issue.number.desc()).limit(limit)))


# ---------------------------------------------------------------- drafting


def draft_issue(session: Session, *, settings: Settings, period: str | Period | None = None,
                actor: User | str) -> Issue:
    """Create (or top up) the period's draft with its accepted incidents, grouped by section.

    Idempotent: incidents already in an issue, or removed from this one by an editor, are not added again.
    """
    kind = settings.period
    if period is None:
        p = current_period(kind, settings.tz)
    elif isinstance(period, Period):
        p = period
    else:
        p = parse_period(period, kind)
    # Row lock (PostgreSQL): a concurrent re-draft waits, then sees this one's items and adds nothing twice.
    issue = session.scalar(select(Issue).where(Issue.period == p.label).with_for_update()
                           .execution_options(populate_existing=True))
    if issue is None:
        issue = _new_issue(session, p, settings=settings, actor=actor)
    elif issue_frozen(issue):
        raise IssueLocked(N_("issue %(number)d (%(period)s) was already sent or published; it cannot change"),
                          number=issue.number, period=issue.period)
    elif issue.state != "draft":
        raise IssueLocked(N_("issue %(number)d (%(period)s) is %(state)s; reopen it in the desk to add newly "
                             "accepted incidents"), number=issue.number, period=issue.period, state=Words(issue.state))
    added = add_incidents(session, issue, period_incidents(session, issue, p, settings), actor=actor)
    if added:
        audit.record(session, actor=actor, action="issue.items_added", entity_type="issue", entity_id=issue.id,
                     changes={"incidents": [i.id for i in added]})
    return issue


def _new_issue(session: Session, p: Period, *, settings: Settings, actor: User | str) -> Issue:
    """Create the period's issue with the next number; a concurrent draft of the same period wins politely."""
    for _attempt in range(3):
        number = (session.scalar(select(func.max(Issue.number))) or 0) + 1
        issue = Issue(number=number, period=p.label, period_start=p.start, period_end=p.end,
                      title=human_range(p.start, p.end), intro="", language=settings.language,
                      state="draft", excluded_incident_ids=[])
        try:
            with _savepoint(session):
                session.add(issue)
                session.flush()
        except IntegrityError:
            existing = session.scalar(select(Issue).where(Issue.period == p.label))
            if existing is not None:
                return existing
            continue
        audit.record(session, actor=actor, action="issue.drafted", entity_type="issue", entity_id=issue.id,
                     changes={"number": number, "period": p.label})
        return issue
    raise IssueError(N_("could not create the issue for %(period)s: other issues were being created at the same time; "
                         "try again"), period=p.label)


@contextmanager
def _savepoint(session: Session) -> Iterator[None]:
    """A savepoint inside the caller's transaction; none is needed (or possible) on an autocommit connection."""
    if session.connection().get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        yield
        return
    with session.begin_nested():
        yield


def human_range(start: date, end: date) -> str:
    """"16–22 November 2026", "28 December 2026 – 10 January 2027"."""
    if start.year != end.year:
        return f"{start.day} {start:%B %Y} – {end.day} {end:%B %Y}"
    if start.month != end.month:
        return f"{start.day} {start:%B} – {end.day} {end:%B %Y}"
    return f"{start.day}–{end.day} {end:%B %Y}"


def period_incidents(session: Session, issue: Issue, p: Period, settings: Settings) -> list[Incident]:
    """Accepted incidents of the period (by date, or by arrival when the date is unknown), not yet in an issue."""
    lo, hi = p.utc_bounds(settings.tz)
    in_any_issue = select(IssueItem.incident_id).where(IssueItem.incident_id.is_not(None))
    query = (
        select(Incident)
        .where(
            Incident.state == "accepted",
            or_(
                and_(Incident.occurred_on.is_not(None), Incident.occurred_on >= p.start, Incident.occurred_on <= p.end),
                and_(Incident.occurred_on.is_(None), Incident.created_at >= lo, Incident.created_at < hi),
            ),
            Incident.id.not_in(in_any_issue),
        )
        .order_by(Incident.occurred_on.is_(None), Incident.occurred_on, Incident.created_at, Incident.id)
    )
    excluded = set(issue.excluded_incident_ids or [])
    return [i for i in session.scalars(query) if i.id not in excluded]


def add_incidents(session: Session, issue: Issue, incidents: list[Incident], *, actor: User | str) -> list[Incident]:
    """Append incidents as items in their sections and move them accepted -> scheduled."""
    if not incidents:
        return []
    sections = sections_in_order(session)
    position = max((i.position for i in issue.items), default=0)
    for incident in incidents:
        position += 1
        text, text_format = drafted_text(incident)
        issue.items.append(IssueItem(
            incident=incident, section=section_for_incident(incident, sections), position=position,
            headline=incident.title.strip()[:500], text=text, text_format=text_format,
        ))
        transition(session, incident, "scheduled", actor=actor, reason=f"placed in issue {issue.number}")
    session.flush()
    return incidents


def default_text(incident: Incident) -> str:
    """The editor's starting text: the summary, else the first paragraph of the body, as plain text."""
    text = (incident.summary or "").strip() or html_to_text(incident.body or "").split("\n\n", 1)[0]
    if len(text) <= TEXT_LIMIT:
        return text
    cut = text[:TEXT_LIMIT]
    end = max(cut.rfind(". "), cut.rfind(".\n"))
    return cut[: end + 1] if end > TEXT_LIMIT // 3 else cut.rsplit(" ", 1)[0] + "…"


def drafted_text(incident: Incident) -> tuple[str, str]:
    """The starting text and its format: plain, or Markdown when the words of a link in the incident's
    body occur in it, so "Read the union's statement." keeps its link.

    Only the body of a feed's or an editor's incident lends its links (the same origins whose source
    links are published): a volunteer's report may link back to them, so its links stay on the desk.
    """
    text = default_text(incident)
    if incident.origin not in PUBLIC_LINK_ORIGINS or not text:
        return text, "plain"
    linked = markup.link_words(text, markup.body_links(incident.body or ""))
    if linked is None or len(linked) > TEXT_LIMIT * 2:
        return text, "plain"
    return linked, "markdown"


def html_to_text(body: str) -> str:
    """Sanitised HTML to plain paragraphs (block ends become blank lines)."""
    marked = re.sub(r"(?i)<br\s*/?>", "\n", body)
    marked = re.sub(r"(?i)</(p|div|li|h[1-6]|blockquote|tr)>", "\n\n", marked)
    text = html.unescape(nh3.clean(marked, tags=set()))
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)


# ---------------------------------------------------------------- sign-off


def approve_issue(session: Session, issue: Issue, *, user: User, settings: Settings | None = None) -> Issue:
    """Sign the issue off. With settings.require_second_approval a second, different editor must approve too.

    Approval checks that the issue is ready: a title, at least one published item, and a snapshot
    that passes the consent check (ConsentViolation otherwise).
    """
    _refuse_frozen(issue)
    if not user.active:
        raise ApprovalError(N_("%(email)s is deactivated and cannot approve"), email=user.email)
    if issue.state != "draft":
        raise ApprovalError(N_("issue %(number)d is already %(state)s"), number=issue.number, state=Words(issue.state))
    check_ready(session, issue, settings)
    before, now = issue.state, utcnow()
    second = bool(settings and settings.require_second_approval)
    if second and issue.approved_by_id is not None:
        if issue.approved_by_id == user.id:
            raise ApprovalError(N_("issue %(number)d needs a second approval from a different editor "
                                   "(you approved it already)"), number=issue.number)
        issue.second_approved_by_id, issue.second_approved_at = user.id, now
        move_issue(issue, "approved")
        action = "issue.approved"
    else:
        issue.approved_by_id, issue.approved_at = user.id, now
        if not second:
            move_issue(issue, "approved")
        action = "issue.approved_first" if second else "issue.approved"
    session.flush()
    audit.record(session, actor=user, action=action, entity_type="issue", entity_id=issue.id,
                 changes={"state": audit.change(before, issue.state)})
    return issue


def check_ready(session: Session, issue: Issue, settings: Settings | None) -> dict[str, Any] | None:
    """Refuse an issue that cannot go out; returns the snapshot it would publish when settings are given."""
    if not issue.title.strip():
        raise ApprovalError(N_("issue %(number)d has no title"), number=issue.number)
    published = [i for i in issue.items if not (i.incident is not None and i.incident.publication == "internal")]
    if not published:
        raise ApprovalError(N_("issue %(number)d has no items to publish"), number=issue.number)
    for item in published:
        if not item.headline.strip():
            raise ApprovalError(N_("an item of issue %(number)d (position %(position)d) has no headline"),
                                number=issue.number, position=item.position)
    if settings is None:
        return None
    snapshot = build_snapshot(session, issue, settings=settings)
    # Editions: every further edition passes the same consent check (a refusal names its edition) and
    # must be translated or allowed in the original, item by item, before the issue can go out.
    build_further_editions(session, issue, settings=settings)
    return snapshot


def awaiting_second_approval(issue: Issue) -> bool:
    return issue.state == "draft" and issue.approved_by_id is not None


def reopen_issue(session: Session, issue: Issue, *, actor: User | str, reason: str = "") -> Issue:
    """Back to draft: withdraws every approval and any scheduled send (edits after sign-off need a new sign-off)."""
    _refuse_frozen(issue)
    if issue.state == "draft" and issue.approved_by_id is None:
        return issue
    before = issue.state
    if issue.state != "draft":  # a first approval alone leaves the issue a draft
        move_issue(issue, "draft")
    issue.approved_by_id = issue.approved_at = None
    issue.second_approved_by_id = issue.second_approved_at = None
    issue.scheduled_for = None
    session.flush()
    audit.record(session, actor=actor, action="issue.reopened", entity_type="issue", entity_id=issue.id,
                 changes={"state": {"from": before, "to": "draft"}}, note=reason)
    return issue


def schedule_issue(session: Session, issue: Issue, when: datetime, *, actor: User | str) -> Issue:
    """Set the send time of an approved issue (published or not); the scheduler sends it then."""
    _refuse_gone_out(issue)
    if issue.state not in ("approved", "scheduled"):
        raise ApprovalError(N_("issue %(number)d must be approved before it can be scheduled"), number=issue.number)
    if when.tzinfo is None:
        raise IssueError(N_("the send time needs a time zone"))
    if when <= utcnow():
        raise IssueError(N_("the send time must be in the future"))
    issue.scheduled_for = when.astimezone(timezone.utc)
    if issue.state != "scheduled":  # a scheduled issue may get a new time
        move_issue(issue, "scheduled")
    session.flush()
    audit.record(session, actor=actor, action="issue.scheduled", entity_type="issue", entity_id=issue.id,
                 changes={"scheduled_for": issue.scheduled_for.isoformat()})
    return issue


def unschedule_issue(session: Session, issue: Issue, *, actor: User | str) -> Issue:
    """Take a scheduled (or sent-now but not yet started) send back: the issue stays approved."""
    _refuse_gone_out(issue)
    if issue.state != "scheduled":
        raise IssueError(N_("issue %(number)d is not scheduled"), number=issue.number)
    move_issue(issue, "approved")
    issue.scheduled_for = None
    session.flush()
    audit.record(session, actor=actor, action="issue.unscheduled", entity_type="issue", entity_id=issue.id)
    return issue


def _refuse_frozen(issue: Issue) -> None:
    if issue_frozen(issue):
        raise IssueLocked(N_("issue %(number)d was already sent or published; it cannot change"), number=issue.number)


def _refuse_gone_out(issue: Issue) -> None:
    """When an issue is mailed is not its content: a published issue may still be scheduled, but once the
    send has started, the time is history."""
    if issue.state in ISSUE_GONE_OUT:
        raise SendRefused(N_("issue %(number)d is already %(state)s; its send cannot be scheduled or cancelled"),
                          number=issue.number, state=Words(issue.state))


def send_now(session: Session, issue: Issue, *, settings: Settings, actor: User | str, now: datetime | None = None) -> bool:
    """Make an approved (or published, or scheduled) issue due at once, for the scheduler's send job.

    The snapshot is frozen here, so a consent refusal reaches the editor who pressed the button, not a
    job log. False when the issue is already due, sending or sent: a second press changes nothing.
    """
    now = now or utcnow()
    if issue.state in ISSUE_GONE_OUT:
        return False
    if issue.state not in ("approved", "scheduled"):
        raise SendRefused(N_("issue %(number)d is %(state)s: an editor must approve it before it is sent"),
                          number=issue.number, state=Words(issue.state))
    grace = timedelta(minutes=settings.send_grace_minutes)
    if issue.state == "scheduled" and issue.scheduled_for is not None and now - grace < issue.scheduled_for <= now:
        return False
    freeze_snapshot(session, issue, settings=settings)
    before = issue.state
    issue.scheduled_for = now
    if issue.state != "scheduled":
        move_issue(issue, "scheduled")
    session.flush()
    audit.record(session, actor=actor, action="issue.send_now", entity_type="issue", entity_id=issue.id,
                 changes={"state": audit.change(before, issue.state), "scheduled_for": now.isoformat()})
    return True


# ---------------------------------------------------------------- going public


def freeze_snapshot(session: Session, issue: Issue, *, settings: Settings) -> dict[str, Any]:
    """Fix forever what readers get (consent applied) and mark its incidents published.

    Called by publishing and by sending; the second call returns the same snapshot.
    """
    if issue.snapshot is not None:
        return issue.snapshot
    session.flush()
    session.refresh(issue, with_for_update=True)  # a concurrent send or publish waits, then finds it frozen
    if issue.snapshot is not None:
        return issue.snapshot
    if issue.state == "draft":
        raise ApprovalError(N_("issue %(number)d is not approved; an editor must approve it before it goes out"),
                            number=issue.number)
    snapshot = check_ready(session, issue, settings)
    assert snapshot is not None
    if snapshot["issue"].get("published_at") is None:
        # The issue's date as readers see it; the column published_at stays for the web archive alone.
        snapshot["issue"]["published_at"] = (issue.published_at or utcnow()).isoformat()
    issue.snapshot = snapshot
    editions = {lang: {**data, "issue": {**data["issue"], "published_at": snapshot["issue"]["published_at"]}}
                for lang, data in build_further_editions(session, issue, settings=settings).items()}
    issue.edition_snapshots = editions or None
    for item in issue.items:
        if item.incident is not None and item.incident.state == "scheduled":
            transition(session, item.incident, "published", actor=f"issue {issue.number}")
    session.flush()
    audit.record(session, actor=f"issue {issue.number}", action="issue.frozen", entity_type="issue", entity_id=issue.id,
                 changes={"items": sum(len(s["items"]) for s in snapshot["sections"]),
                          "withheld": snapshot["withheld"]["incidents"]})
    return snapshot


def mark_published(session: Session, issue: Issue, *, settings: Settings, actor: User | str) -> None:
    """Freeze the issue if needed and record that it goes into the public archive (files are the flow's job).

    Publishing again is allowed: the archive is then rewritten from the frozen snapshots.
    """
    if issue.state == "draft":
        raise ApprovalError(N_("issue %(number)d is not approved; an editor must approve it before publishing"),
                            number=issue.number)
    if issue.published_at is None:
        issue.published_at = utcnow()
    freeze_snapshot(session, issue, settings=settings)
    audit.record(session, actor=actor, action="issue.published", entity_type="issue", entity_id=issue.id,
                 changes={"issues_dir": str(settings.issues_dir)})


def published_snapshots(session: Session) -> list[dict[str, Any]]:
    """The frozen snapshots of every issue in the public archive, oldest first: what the archive shows."""
    return [i.snapshot for i in session.scalars(
        select(Issue).where(Issue.published_at.is_not(None)).order_by(Issue.number)) if i.snapshot]


# ---------------------------------------------------------------- sending (called by newsletter.flows.send)


class SendRefused(IssueError):
    """The issue cannot be sent in its current state; the message says what to do."""


def start_sending(session: Session, issue: Issue, *, settings: Settings, actor: str = "sender") -> bool:
    """Freeze the issue and move it to `sending`; False when it was sent completely already.

    Raises SendRefused for an issue no editor approved.
    """
    if issue.state == "sent":
        return False
    if issue.state not in ISSUE_SENDABLE:
        raise SendRefused(N_("issue %(number)d (%(period)s) is %(state)s: an editor must approve it before it is sent"),
                          number=issue.number, period=issue.period, state=Words(issue.state))
    freeze_snapshot(session, issue, settings=settings)
    if issue.state != "sending":
        change = move_issue(issue, "sending")
        audit.record(session, actor=actor, action="issue.sending", entity_type="issue", entity_id=issue.id,
                     changes={"state": change})
    return True


def resume_sending(session: Session, issue: Issue, *, actor: User | str) -> None:
    """A sent issue whose failed deliveries were queued again is `sending` once more."""
    if issue.state == "sent":
        change = move_issue(issue, "sending")
        audit.record(session, actor=actor, action="issue.sending", entity_type="issue", entity_id=issue.id,
                     changes={"state": change})


def mark_sent(session: Session, issue: Issue, *, counts: dict[str, int], actor: str = "sender") -> None:
    """Every delivery of a `sending` issue is final: the issue is `sent` (audited with the outbox's counts)."""
    if issue.state != "sending":
        return
    move_issue(issue, "sent")
    issue.sent_at = utcnow()
    audit.record(session, actor=actor, action="issue.sent", entity_type="issue", entity_id=issue.id,
                 changes=dict(counts))


def due_issues(session: Session, *, now: datetime) -> list[Issue]:
    """Scheduled issues whose send time has come."""
    return list(session.scalars(
        select(Issue).where(Issue.state == "scheduled", Issue.scheduled_for.is_not(None), Issue.scheduled_for <= now)
        .order_by(Issue.scheduled_for)
    ))


def overdue_issues(session: Session, *, settings: Settings, now: datetime) -> list[Issue]:
    """Scheduled issues whose send time passed more than the grace ago: they wait for an editor."""
    limit = now - timedelta(minutes=settings.send_grace_minutes)
    return list(session.scalars(
        select(Issue).where(Issue.state == "scheduled", Issue.scheduled_for.is_not(None), Issue.scheduled_for < limit)
        .order_by(Issue.scheduled_for)
    ))


def sending_issues(session: Session) -> list[Issue]:
    """Issues with a send under way (deliveries waiting for a retry, or a sender that stopped)."""
    return list(session.scalars(select(Issue).where(Issue.state == "sending").order_by(Issue.number)))
