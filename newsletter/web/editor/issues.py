"""Desk routes for issues: list and draft, edit the issue and its items (Markdown, previewed), preview,
test send, sign-off, and sending to subscribers (a confirmation, "send now" queued for the scheduler's
send job, a status page that refreshes itself until the send is done).

Handlers parse the form, call a newsletter.issues service or a lifecycle flow (newsletter.flows: draft,
approve, publish, preview, test send, requeue) and redirect (POST-redirect-GET); a refused
action shows the issue page again with the reason. Previews are served with their own CSP so that
the desk can frame them (frame-ancestors 'self') and the email's inline styles apply.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile
from markupsafe import Markup
from sqlalchemy.orm import Session

from newsletter import audit, formats, media
from newsletter.config import Settings
from newsletter.flows import corrections as corrections_flow
from newsletter.i18n import N_, NP_, Said
from newsletter.flows import issues as lifecycle
from newsletter.db import get_row
from newsletter.editorial.persons import search_persons
from newsletter.editorial.users import emails_by_id
from newsletter.issues import items as issue_items
from newsletter.issues import service
from newsletter.issues import translations
from newsletter.issues.errors import ConsentViolation, IssueError, NoSections, PeriodError
from newsletter.issues.review import consent_refusal
from newsletter.issues.sections import item_section, sections_in_order
from newsletter.models import ITEM_FORMATS, Incident, Issue, IssueItem, Person
from newsletter.runtime import Runtime
from newsletter.states import ISSUE_GONE_OUT
from newsletter.web.deps import get_runtime, get_session, get_settings
from newsletter.web.editor.auth import CurrentUser
from newsletter.web.errors import DeskRefusal, desk_error, mail_error_said
from newsletter.web.security import verify_csrf
from newsletter.web.templating import render

router = APIRouter()
DESK_CSS = Path(__file__).resolve().parents[3] / "templates" / "web" / "editor" / "issues" / "issues.css"
PREVIEW_CSP = ("default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data: {base}; "
               "frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
REFUSALS = (IssueError, ConsentViolation, PeriodError, NoSections)
MAX_TEST_ADDRESSES = 10
STATUS_REFRESH_SECONDS = 5
Csrf = Annotated[str, Form()]


def _issue(session: Session, issue_id: int) -> Issue:
    issue = get_row(session, Issue, issue_id)
    if issue is None:
        raise DeskRefusal(404, N_("There is no issue %(id)s."), id=issue_id)
    return issue


def _back(issue: Issue, done: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/editor/issues/{issue.id}?{urlencode({'done': done})}{anchor}", status_code=303)


def _page(request: Request, session: Session, settings: Settings, issue: Issue, *, error: object = None,
          status_code: int = 200, item_preview: ItemPreview | None = None) -> HTMLResponse:
    """The issue page: fields, items by section, additions, previews and sign-off."""
    sections = sections_in_order(session)
    grouped: dict[int, list[IssueItem]] = {s.id: [] for s in sections}
    for item in sorted(issue.items, key=lambda i: (i.position, i.id)):
        grouped[item_section(item, sections).id].append(item)
    consent_error = None if error else consent_refusal(session, issue, settings=settings)
    q = request.query_params.get("q", "").strip()[:100]
    sent = request.query_params.get("sent", "")
    notice = Said(*TEST_SENT, n=int(sent)) if sent.isdigit() else None
    requeued = request.query_params.get("requeued", "")
    if requeued.isdigit():
        notice = Said(*REQUEUED, n=int(requeued)) if int(requeued) else Said(N_("No failed delivery could be queued again."))
    done = ISSUE_NOTICES.get(request.query_params.get("done", ""))
    notice = Said(done) if done else notice
    users = emails_by_id(session, (issue.approved_by_id, issue.second_approved_by_id))
    return render(request, "editor/issues/issue.html.j2", {
        "active": "issues", "issue": issue, "sections": sections, "grouped": grouped, "error": error, "notice": notice,
        "consent_error": consent_error, "addable": issue_items.addable_incidents(session, limit=50),
        "q": q, "persons": search_persons(session, q) if q else [], "approvers": users,
        "frozen": lifecycle.issue_frozen(issue),
        "awaiting_second": service.awaiting_second_approval(issue), "period_label": describe_issue(issue),
        "publication": _publication,
        "second_required": settings.require_second_approval, "timezone": settings.timezone,
        "delivery": _delivery(session, issue), "item_preview": item_preview,
        "corrections": corrections_flow.listing(session, issue=issue) if lifecycle.issue_frozen(issue) else [],
        "correctable": corrections_flow.correctable(issue),
        "editions": translations.progress(issue, settings),  # the further editions' translation progress
        "photo_choices": lifecycle.photo_choices(session, issue), "timeline_text": formats.timeline_text,
        "item_formats": ITEM_FORMATS,
    }, status_code=status_code)


@dataclass(frozen=True)
class ItemPreview:
    """An item's unsaved Markdown shown back with its rendering (the Preview button saves nothing)."""

    item_id: int
    headline: str
    text: str
    html: Markup


def _delivery(session: Session, issue: Issue) -> Any:
    """The outbox's word on a sending or sent issue: counts, reasons, and what can be queued again."""
    if issue.state not in ISSUE_GONE_OUT:
        return None
    from newsletter.delivery.service import delivery_summary

    return delivery_summary(session, issue.id)


def _publication(item: IssueItem) -> str:
    """What readers get of an item: public, anonymised, internal (counted only), or a case update."""
    if item.incident is not None:
        return item.incident.publication
    if item.person is not None:
        return "public" if item.person.consent == "name" else "anonymised"
    return "public"


def describe_issue(issue: Issue) -> str:
    return f"{issue.period_start:%d %b} – {issue.period_end:%d %b %Y}"


# The issue page's own notices (the layout has the common ones), translated when the page renders.
TEST_SENT = NP_("Test sent to %(num)d address(es).", "Test sent to %(num)d address(es).")
REQUEUED = NP_("%(num)d failed delivery(ies) queued again: the retry job sends them within minutes.",
               "%(num)d failed delivery(ies) queued again: the retry job sends them within minutes.")
ISSUE_NOTICES = {"correction_filed": N_("Correction filed: the archive, the feed and the next issue show it."),
                 "correction_notified": N_("The correction was mailed to the readers of this issue.")}


def _refused(request: Request, session: Session, settings: Settings, issue_id: int, exc: Exception) -> HTMLResponse:
    session.rollback()
    return _page(request, session, settings, _issue(session, issue_id), error=desk_error(exc), status_code=409)


# ---------------------------------------------------------------- list and draft


@router.get("/editor/issues/", response_class=HTMLResponse, include_in_schema=False)
def issue_list(request: Request, user: CurrentUser, session: Session = Depends(get_session, scope="function"),
               settings: Settings = Depends(get_settings)) -> HTMLResponse:
    return _list_page(request, session, settings)


def _list_page(request: Request, session: Session, settings: Settings, *, error: str | None = None,
               period: str = "", status_code: int = 200) -> HTMLResponse:
    return render(request, "editor/issues/list.html.j2", {
        "active": "issues", "issues": service.list_issues(session), "error": error, "period": period,
        "period_kind": settings.period, "describe": describe_issue,
    }, status_code=status_code)


@router.post("/editor/issues/draft", include_in_schema=False)
def draft(request: Request, user: CurrentUser, csrf_token: Csrf = "",
          period: Annotated[str, Form(max_length=40)] = "", session: Session = Depends(get_session, scope="function"),
          settings: Settings = Depends(get_settings)) -> Response:
    verify_csrf(request, csrf_token)
    try:
        issue = lifecycle.draft(session, settings=settings, period=period.strip() or None, actor=user)
    except REFUSALS as exc:
        session.rollback()
        return _list_page(request, session, settings, error=desk_error(exc), period=period, status_code=409)
    return _back(issue, "saved")


@router.post("/editor/issues/markdown-preview", include_in_schema=False)
def markdown_preview(request: Request, user: CurrentUser, csrf_token: Csrf = "",
                     text: Annotated[str, Form(max_length=10000)] = "") -> Response:
    """The live preview's fragment: an item's Markdown rendered and cleaned as the issue will render it."""
    verify_csrf(request, csrf_token)
    try:
        fragment = issue_items.preview_text(text).html
    except IssueError as exc:
        return PlainTextResponse(str(desk_error(exc)), status_code=422)  # the account's language, bound by require_user
    return HTMLResponse(fragment, headers={"cache-control": "no-store"})


# ---------------------------------------------------------------- the issue page and its edits


@router.get("/editor/issues/issues.css", include_in_schema=False)
def desk_css() -> Response:
    return Response(DESK_CSS.read_text(encoding="utf-8"), media_type="text/css")


@router.get("/editor/issues/{issue_id}", response_class=HTMLResponse, include_in_schema=False)
def issue_page(request: Request, issue_id: int, user: CurrentUser, session: Session = Depends(get_session, scope="function"),
               settings: Settings = Depends(get_settings)) -> HTMLResponse:
    return _page(request, session, settings, _issue(session, issue_id))


@router.post("/editor/issues/{issue_id}/fields", include_in_schema=False)
def save_fields(request: Request, issue_id: int, user: CurrentUser, csrf_token: Csrf = "",
                title: Annotated[str, Form(max_length=1000)] = "", intro: Annotated[str, Form(max_length=40000)] = "",
                preheader: Annotated[str, Form(max_length=1000)] = "",
                show_withheld_count: Annotated[str, Form()] = "", show_persons_summary: Annotated[str, Form()] = "",
                editors_note: Annotated[str | None, Form(max_length=20000)] = None,
                editors_note_signature: Annotated[str | None, Form(max_length=1000)] = None,
                session: Session = Depends(get_session, scope="function"), settings: Settings = Depends(get_settings)) -> Response:
    verify_csrf(request, csrf_token)
    issue = _issue(session, issue_id)
    fields = issue_items.IssueFields(title, intro, preheader, bool(show_withheld_count), bool(show_persons_summary),
                                     editors_note=editors_note, editors_note_signature=editors_note_signature)
    try:
        issue_items.update_issue(session, issue, fields, actor=user)
    except REFUSALS as exc:
        return _refused(request, session, settings, issue_id, exc)
    return _back(issue, "saved")


@router.post("/editor/issues/{issue_id}/items/{item_id}", include_in_schema=False)
def item_action(request: Request, issue_id: int, item_id: int, user: CurrentUser, csrf_token: Csrf = "",
                action: Annotated[str, Form()] = "save", headline: Annotated[str, Form(max_length=1000)] = "",
                text: Annotated[str, Form(max_length=10000)] = "", section: Annotated[str, Form(max_length=64)] = "",
                session: Session = Depends(get_session, scope="function"), settings: Settings = Depends(get_settings)) -> Response:
    """One form per item: preview or save its text, move it, reorder it or remove it (the button pressed says which)."""
    verify_csrf(request, csrf_token)
    issue = _issue(session, issue_id)
    try:
        item = issue_items.get_item(issue, item_id)
        if action == "preview":
            shown = ItemPreview(item.id, headline, text, Markup(issue_items.preview_text(text).html))
            return _page(request, session, settings, issue, item_preview=shown)
        if action == "save":
            issue_items.update_item(session, issue, item, headline=headline, text=text, actor=user)
        elif action == "move":
            issue_items.move_item(session, issue, item, section, actor=user)
        elif action in ("up", "down"):
            issue_items.reorder_item(session, issue, item, action, actor=user)
        elif action == "remove":
            issue_items.remove_item(session, issue, item, actor=user)
            return _back(issue, "deleted")
        else:
            raise IssueError(N_("unknown action %(action)r"), action=action)
    except REFUSALS as exc:
        return _refused(request, session, settings, issue_id, exc)
    return _back(issue, "moved" if action in ("up", "down", "move") else "saved", f"#item-{item_id}")


@router.post("/editor/issues/{issue_id}/items/{item_id}/layout", include_in_schema=False)
def item_layout(request: Request, issue_id: int, item_id: int, user: CurrentUser, csrf_token: Csrf = "",
                lead: Annotated[str, Form()] = "", subhead: Annotated[str, Form(max_length=1000)] = "",
                paragraph: Annotated[str, Form()] = "",
                session: Session = Depends(get_session, scope="function"), settings: Settings = Depends(get_settings)) -> Response:
    """An item's place in the layout: lead story, sub-head, shown without a headline."""
    verify_csrf(request, csrf_token)
    issue = _issue(session, issue_id)
    try:
        item = issue_items.get_item(issue, item_id)
        issue_items.update_layout(session, issue, item, lead=bool(lead), subhead=subhead, paragraph=bool(paragraph),
                                  actor=user)
    except REFUSALS as exc:
        return _refused(request, session, settings, issue_id, exc)
    return _back(issue, "saved", f"#item-{item_id}")


@router.post("/editor/issues/{issue_id}/items/{item_id}/format", include_in_schema=False)
def item_format(request: Request, issue_id: int, item_id: int, user: CurrentUser, csrf_token: Csrf = "",
                format: Annotated[str, Form(max_length=20)] = "news",  # noqa: A002
                quote_text: Annotated[str, Form(max_length=5000)] = "",
                quote_speaker: Annotated[str, Form(max_length=1000)] = "",
                addressee: Annotated[str, Form(max_length=1000)] = "",
                timeline: Annotated[str, Form(max_length=70000)] = "",
                session: Session = Depends(get_session, scope="function"), settings: Settings = Depends(get_settings)) -> Response:
    """How the item is told: its format, quote (speaker; a statement's addressee) and timeline lines."""
    verify_csrf(request, csrf_token)
    issue = _issue(session, issue_id)
    try:
        item = issue_items.get_item(issue, item_id)
        fields = issue_items.FormatFields(format, quote_text, quote_speaker, addressee, timeline)
        issue_items.update_item_format(session, issue, item, fields, actor=user)
    except REFUSALS as exc:
        return _refused(request, session, settings, issue_id, exc)
    return _back(issue, "saved", f"#item-{item_id}")


@router.post("/editor/issues/{issue_id}/items/{item_id}/photo", include_in_schema=False)
async def item_photo(request: Request, issue_id: int, item_id: int, user: CurrentUser,
                     session: Session = Depends(get_session, scope="function"),
                     settings: Settings = Depends(get_settings)) -> Response:
    """Attach a photo (an upload, or one of the volunteer's cleaned pictures), edit its words, or remove it."""
    form = await request.form(max_files=1, max_fields=20, max_part_size=100_000)
    verify_csrf(request, str(form.get("csrf_token") or ""))
    issue = _issue(session, issue_id)
    words = {k: str(form.get(k) or "")[:2000] for k in ("alt", "caption", "credit")}
    shows_no_one = bool(form.get("no_one_identifiable"))
    action = str(form.get("action") or "save")
    upload = form.get("photo")
    try:
        item = issue_items.get_item(issue, item_id)
        if action == "remove":
            issue_items.remove_photo(session, issue, item, actor=user)
        elif isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read(media.MAX_BYTES + 1)
            issue_items.attach_photo(session, issue, item, data, **words, no_one_identifiable=shows_no_one,
                                     origin="upload", actor=user)
        elif str(form.get("attachment") or "").isdigit():
            lifecycle.attach_attachment_photo(session, issue, item, int(str(form.get("attachment"))), settings=settings,
                                              user=user, **words, no_one_identifiable=shows_no_one)
        else:
            issue_items.update_photo_words(session, issue, item, **words, no_one_identifiable=shows_no_one, actor=user)
    except REFUSALS as exc:
        return _refused(request, session, settings, issue_id, exc)
    return _back(issue, "saved", f"#item-{item_id}")


@router.get("/editor/media/{name}", include_in_schema=False)
def media_file(name: str, user: CurrentUser, session: Session = Depends(get_session, scope="function")) -> Response:
    """A published copy of a photo, for the desk's item editor (the archive serves its own after publishing)."""
    found = media.load(session, [name])
    if name not in found:
        raise HTTPException(status_code=404, detail=N_("There is no such photo."))
    return Response(found[name], media_type="image/jpeg", headers={"cache-control": "private, max-age=86400"})


@router.post("/editor/issues/{issue_id}/add", include_in_schema=False)
def add(request: Request, issue_id: int, user: CurrentUser, csrf_token: Csrf = "",
        incident_id: Annotated[int | None, Form()] = None, person_id: Annotated[int | None, Form()] = None,
        section: Annotated[str, Form(max_length=64)] = "persecution",
        session: Session = Depends(get_session, scope="function"), settings: Settings = Depends(get_settings)) -> Response:
    """Add an accepted incident from any period, or an update on a case from the persons register."""
    verify_csrf(request, csrf_token)
    issue = _issue(session, issue_id)
    try:
        if incident_id is not None:
            incident = get_row(session, Incident, incident_id)
            if incident is None:
                raise IssueError(N_("there is no incident %(id)s"), id=incident_id)
            issue_items.add_incident(session, issue, incident, actor=user)
        elif person_id is not None:
            person = get_row(session, Person, person_id)
            if person is None:
                raise IssueError(N_("there is no person %(id)s"), id=person_id)
            issue_items.add_case_update(session, issue, person, actor=user, section_slug=section)
        else:
            raise IssueError(N_("choose an incident or a person to add"))
    except REFUSALS as exc:
        return _refused(request, session, settings, issue_id, exc)
    return _back(issue, "created")


# ---------------------------------------------------------------- sign-off


@router.post("/editor/issues/{issue_id}/signoff", include_in_schema=False)
def signoff(request: Request, issue_id: int, user: CurrentUser, csrf_token: Csrf = "",
            action: Annotated[str, Form()] = "", when: Annotated[str, Form(max_length=40)] = "",
            session: Session = Depends(get_session, scope="function"), settings: Settings = Depends(get_settings)) -> Response:
    """approve | reopen | schedule | unschedule | publish."""
    verify_csrf(request, csrf_token)
    issue = _issue(session, issue_id)
    try:
        if action == "approve":
            lifecycle.approve(session, issue, user=user, settings=settings)
        elif action == "reopen":
            service.reopen_issue(session, issue, actor=user, reason="reopened in the desk")
        elif action == "schedule":
            service.schedule_issue(session, issue, _local_time(when, settings), actor=user)
        elif action == "unschedule":
            from newsletter.flows.send import cancel_scheduled

            cancel_scheduled(session, issue, actor=user)
        elif action == "publish":
            lifecycle.publish(session, issue, settings=settings, actor=user)  # commits, then writes the archive
        else:
            raise IssueError(N_("unknown action %(action)r"), action=action)
    except REFUSALS as exc:
        return _refused(request, session, settings, issue_id, exc)
    except Exception as exc:
        from newsletter.render import ArchiveWriteError, InvalidSnapshot, RenderError

        if isinstance(exc, (InvalidSnapshot, RenderError, ArchiveWriteError)):
            return _refused(request, session, settings, issue_id, exc)
        raise
    return _back(issue, f"issue_{action}")


def _local_time(text: str, settings: Settings) -> datetime:
    """A datetime-local form value, read in the organisation's time zone."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise IssueError(N_("give the send time as a date and time, e.g. 2026-11-23T09:00")) from None
    return value if value.tzinfo else value.replace(tzinfo=settings.tz)


# ---------------------------------------------------------------- sending to subscribers


def _send_page(request: Request, session: Session, settings: Settings, issue: Issue, *, error: str | None = None,
               when: str = "", status_code: int = 200) -> HTMLResponse:
    """The confirmation before a send: who receives which edition, send now or at a time."""
    from newsletter.flows.send import send_plan

    return render(request, "editor/issues/send.html.j2", {
        "active": "issues", "issue": issue, "plan": send_plan(session, issue, settings), "error": error, "when": when,
        "timezone": settings.timezone, "period_label": describe_issue(issue),
    }, status_code=status_code)


@router.get("/editor/issues/{issue_id}/send", response_class=HTMLResponse, include_in_schema=False)
def send_confirm(request: Request, issue_id: int, user: CurrentUser, session: Session = Depends(get_session, scope="function"),
                 settings: Settings = Depends(get_settings)) -> Response:
    issue = _issue(session, issue_id)
    if issue.state in ISSUE_GONE_OUT:  # nothing left to confirm: show how it goes
        return RedirectResponse(f"/editor/issues/{issue.id}/status", status_code=303)
    return _send_page(request, session, settings, issue)


@router.post("/editor/issues/{issue_id}/send", include_in_schema=False)
def send(request: Request, issue_id: int, user: CurrentUser, csrf_token: Csrf = "",
         action: Annotated[str, Form()] = "", when: Annotated[str, Form(max_length=40)] = "",
         session: Session = Depends(get_session, scope="function"), settings: Settings = Depends(get_settings)) -> Response:
    """now: queue for the scheduler's send job (never sent inside this request) | schedule: at a time."""
    from newsletter.flows.send import queue_now

    verify_csrf(request, csrf_token)
    issue = _issue(session, issue_id)
    try:
        if action == "now":
            queue_now(session, issue, settings=settings, actor=user)
        elif action == "schedule":
            service.schedule_issue(session, issue, _local_time(when, settings), actor=user)
            return _back(issue, "issue_schedule", "#sending")
        else:
            raise IssueError(N_("unknown action %(action)r"), action=action)
    except REFUSALS as exc:
        session.rollback()
        return _send_page(request, session, settings, _issue(session, issue_id), error=desk_error(exc), when=when,
                          status_code=409)
    return RedirectResponse(f"/editor/issues/{issue.id}/status", status_code=303)


@router.get("/editor/issues/{issue_id}/status", response_class=HTMLResponse, include_in_schema=False)
def send_status(request: Request, issue_id: int, user: CurrentUser, session: Session = Depends(get_session, scope="function"),
                runtime: Runtime = Depends(get_runtime)) -> HTMLResponse:
    """Sent, failed and remaining, refreshed by a meta refresh (no JavaScript) while the send is queued or under way."""
    from newsletter.db import utcnow
    from newsletter.flows.status import send_progress

    issue = _issue(session, issue_id)
    session.commit()  # the progress is read in its own read-only transaction; hold nothing meanwhile
    progress = send_progress(runtime, issue.id, now=utcnow())
    return render(request, "editor/issues/status.html.j2", {
        "active": "issues", "issue": issue, "progress": progress, "period_label": describe_issue(issue),
        "refresh": STATUS_REFRESH_SECONDS if progress and progress.waiting else None,
    })


@router.post("/editor/issues/{issue_id}/requeue", include_in_schema=False)
def requeue(request: Request, issue_id: int, user: CurrentUser, csrf_token: Csrf = "",
            session: Session = Depends(get_session, scope="function")) -> Response:
    """Queue the failed deliveries of still-subscribed readers again; the retry job sends them."""
    from newsletter.flows.send import requeue_failed

    verify_csrf(request, csrf_token)
    issue = _issue(session, issue_id)
    requeued = requeue_failed(session, issue, actor=user)
    return RedirectResponse(f"/editor/issues/{issue.id}?requeued={requeued}#delivery", status_code=303)


@router.post("/editor/issues/{issue_id}/test-send", include_in_schema=False)
def send_test_copy(request: Request, issue_id: int, user: CurrentUser, csrf_token: Csrf = "",
              addresses: Annotated[str, Form(max_length=4000)] = "", session: Session = Depends(get_session, scope="function"),
              runtime: Runtime = Depends(get_runtime)) -> Response:
    """Send the issue as readers will get it to a few addresses (no subscriber is mailed)."""
    from newsletter.flows.send import send_test

    verify_csrf(request, csrf_token)
    issue = _issue(session, issue_id)
    to = [a.strip() for a in addresses.replace(",", "\n").replace(";", "\n").splitlines() if a.strip()]
    try:
        if not to:
            raise IssueError(N_("give at least one address for the test send"))
        if len(to) > MAX_TEST_ADDRESSES:
            raise IssueError(N_("a test goes to at most %(limit)d addresses"), limit=MAX_TEST_ADDRESSES)
        session.commit()  # send_test reads the issue in its own transaction; hold no lock meanwhile
        sent = send_test(runtime, issue, to)
    except (ValueError, ConsentViolation, IssueError) as exc:
        return _refused(request, session, runtime.settings, issue_id, exc)
    except OSError as exc:
        return _refused(request, session, runtime.settings, issue_id,
                        IssueError(N_("the test was not sent: %(why)s"), why=mail_error_said(exc)))
    audit.record(session, actor=user, action="issue.test_sent", entity_type="issue", entity_id=issue_id,
                 changes={"recipients": len(sent)})
    return RedirectResponse(f"/editor/issues/{issue_id}?{urlencode({'sent': len(sent)})}#test-send", status_code=303)


# ---------------------------------------------------------------- previews


@router.get("/editor/issues/{issue_id}/preview", response_class=HTMLResponse, include_in_schema=False)
def preview(request: Request, issue_id: int, user: CurrentUser, session: Session = Depends(get_session, scope="function"),
            settings: Settings = Depends(get_settings)) -> HTMLResponse:
    issue = _issue(session, issue_id)
    try:
        rendered = _render(session, issue, settings)
    except Exception as exc:  # noqa: BLE001 - any failure is shown to the editor instead of the preview
        return _page(request, session, settings, issue, error=Said(N_("cannot preview: %(why)s"), why=desk_error(exc)),
                     status_code=409)
    return render(request, "editor/issues/preview.html.j2", {
        "active": "issues", "issue": issue, "subject": rendered.subject, "text": rendered.email_text,
        "html_kb": len(rendered.email_html.encode()) / 1024, "warnings": rendered.warnings,
    })


def _render(session: Session, issue: Issue, settings: Settings) -> Any:
    return lifecycle.preview(session, issue, settings=settings).rendered


def _framed(body: str, media_type: str, settings: Settings, status_code: int = 200) -> Response:
    return Response(body, media_type=media_type, status_code=status_code, headers={
        "content-security-policy": PREVIEW_CSP.format(base=settings.base_url),
        "x-frame-options": "SAMEORIGIN",
    })


def _framed_part(session: Session, issue_id: int, settings: Settings, part: str, media_type: str) -> Response:
    """One rendered part for the preview frames, or a short 409 page saying why the issue cannot render
    (a consent refusal names the item and field, never the protected words)."""
    from newsletter.render import InvalidSnapshot, RenderError

    issue = _issue(session, issue_id)
    try:
        body = getattr(_render(session, issue, settings), part)
    except (ConsentViolation, InvalidSnapshot, RenderError) as exc:
        text = str(Said(N_("This issue cannot be previewed: %(why)s"), why=desk_error(exc)))  # the account's language
        if media_type == "text/plain":
            return PlainTextResponse(text, status_code=409)
        title = html.escape(str(Said(N_("Preview refused"))))
        return _framed(f"<!doctype html><meta charset=\"utf-8\"><title>{title}</title><p>{html.escape(text)}</p>",
                       media_type, settings, status_code=409)
    if media_type == "text/plain":
        return PlainTextResponse(body)
    return _framed(body, media_type, settings)


@router.get("/editor/issues/{issue_id}/preview/email.html", include_in_schema=False)
def preview_email(issue_id: int, user: CurrentUser, session: Session = Depends(get_session, scope="function"),
                  settings: Settings = Depends(get_settings)) -> Response:
    return _framed_part(session, issue_id, settings, "email_html", "text/html")


@router.get("/editor/issues/{issue_id}/preview/email.txt", include_in_schema=False)
def preview_text(issue_id: int, user: CurrentUser, session: Session = Depends(get_session, scope="function"),
                 settings: Settings = Depends(get_settings)) -> Response:
    return _framed_part(session, issue_id, settings, "email_text", "text/plain")


@router.get("/editor/issues/{issue_id}/preview/web/", include_in_schema=False)
def preview_web(issue_id: int, user: CurrentUser, session: Session = Depends(get_session, scope="function"),
                settings: Settings = Depends(get_settings)) -> Response:
    return _framed_part(session, issue_id, settings, "web_html", "text/html")


@router.get("/editor/issues/{issue_id}/preview/web/{name}", include_in_schema=False)
def preview_asset(issue_id: int, name: str, settings: Settings = Depends(get_settings)) -> Response:
    """The archive's own CSS and JS beside the previewed page (public files; no issue data)."""
    from newsletter.render.web import ASSETS, load_assets

    if name not in ASSETS:
        raise HTTPException(status_code=404, detail=N_("Not found."))
    media = "text/css" if name.endswith(".css") else "text/javascript"
    return Response(load_assets(settings)[name], media_type=media)


# Filing corrections and mailing their notices (newsletter.web.editor.corrections) live on the issue pages.
from newsletter.web.editor import corrections as _corrections  # noqa: E402 - needs _page and _issue above

router.include_router(_corrections.router)
