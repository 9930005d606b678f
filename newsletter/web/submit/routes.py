"""Volunteer pages: the report form (/submit) and the receipt pages (/receipt, /receipt/{code}).

Every request that carries a receipt code counts against the receipt limiter before anything
else (CSRF check, code lookup, files), and a code that matches no report, malformed or not, gets
one answer on every path: the lookup page, 404, the same message, after the same work (one hash
and one indexed lookup; files are not even read for a wrong code).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from newsletter.submissions import attachments, labels, receipts
from newsletter.i18n import _
from newsletter.flows.intake import submit_report as store_report
from newsletter.submissions.schema import MAX_PERSONS, MAX_TEXT
from newsletter.submissions.service import (
    FollowUpError,
    ReceiptNotFound,
    add_followup,
    find_submission,
    receipt_status,
)
from newsletter.web.language import language_name, page_languages
from newsletter.web.security import verify_csrf
from newsletter.web.submit.common import (
    LimitedRoute,
    NotStored,
    client_key,
    in_transaction,
    limiter,
    not_stored_message,
    use_language,
)
from newsletter.web.submit.forms import HONEYPOT, FormState, read_files, read_form, uploaded_files, validate
from newsletter.web.templating import render

router = APIRouter(route_class=LimitedRoute, include_in_schema=False)
BLANK_PERSON = {"name": "", "role": "", "alias": ""}
FORM_LIMITS: dict[str, Any] = {"max_files": attachments.MAX_FILES + 1, "max_fields": 400,
                               "max_part_size": MAX_TEXT * 4 + 4096}


def _page(request: Request, template: str, lang: str, ctx: dict[str, Any], status_code: int = 200) -> Response:
    languages = {code: language_name(code) for code in page_languages(request.app.state.runtime.settings)}
    base = {"labels": labels, "languages": languages, "lang": lang, "limits": _limits(request)}
    return render(request, template, base | ctx, status_code=status_code)


def _limits(request: Request) -> dict[str, Any]:
    settings = request.app.state.runtime.settings
    return {"file": attachments.human_size(settings.max_upload_bytes), "file_bytes": settings.max_upload_bytes,
            "total": attachments.human_size(settings.max_submission_bytes),
            "total_bytes": settings.max_submission_bytes, "files": attachments.MAX_FILES}


def _form(request: Request, lang: str, state: FormState, status_code: int = 200) -> Response:
    if not state.persons:
        state.persons = [dict(BLANK_PERSON)]
    return _page(request, "submit/form.html.j2", lang, {"state": state}, status_code)


async def _read(request: Request) -> FormData | str:
    """The posted form, or a message saying why it could not be read."""
    try:
        return await request.form(**FORM_LIMITS)
    except StarletteHTTPException as exc:
        return _("The form could not be read (%(reason)s). Go back and send it again.", reason=exc.detail)
    except (ValueError, KeyError, UnicodeDecodeError):
        return _("The form could not be read. Go back and send it again.")


def _csrf_ok(request: Request, form: FormData) -> bool:
    token = form.get("csrf_token")
    try:
        verify_csrf(request, token if isinstance(token, str) else None)
    except HTTPException:
        return False
    return True


@router.get("/submit")
def submit_page(request: Request) -> Response:
    return _form(request, use_language(request), FormState())


@router.post("/submit")
async def submit_report(request: Request) -> Response:
    lang = use_language(request)
    form = await _read(request)
    if isinstance(form, str):
        return _page(request, "submit/problem.html.j2", lang, {"title": _("Not sent"), "message": form}, 400)
    try:
        state = read_form(form)
        if not _csrf_ok(request, form):
            state.errors["form"] = _("The page was open too long or cookies are blocked. Your text is kept "
                                     "below: check it and send again.")
            return _form(request, lang, state, 403)
        if form.get(HONEYPOT):
            state.errors["form"] = _("Leave the field marked “leave this empty” empty, then send again.")
            return _form(request, lang, state, 400)
        if form.get("action") == "add_person":
            if len(state.persons) < MAX_PERSONS:
                state.persons.append(dict(BLANK_PERSON))
            return _form(request, lang, state)
        wait = limiter(request).hit(client_key(request))
        if wait is not None:
            state.errors["form"] = _("Too many reports from your connection in a short time. Your text is kept: "
                                     "wait %(s)s seconds and send again.", s=int(wait))
            return _form(request, lang, state, 429)
        data = validate(state, lang)
        settings = request.app.state.runtime.settings
        files = await read_files(uploaded_files(form))
        cleaned, file_errors = (await run_in_threadpool(attachments.clean_all, files, settings)) if files else ([], [])
        if file_errors:
            state.errors["files"] = " ".join(file_errors)
        if data is None or state.errors:
            if files:
                state.errors.setdefault("files", _("For your safety, chosen files are not kept when the form "
                                                   "is shown again: choose them again."))
            return _form(request, lang, state, 400)
        written: list[Any] = []
        try:
            _incident, code = await in_transaction(request, lambda s: store_report(
                s, data, cleaned, settings=settings, channel="form", written=written, load=False))
        except NotStored:
            attachments.discard(written)
            state.errors["form"] = not_stored_message()
            if files:
                state.errors.setdefault("files", _("For your safety, chosen files are not kept when the form "
                                                   "is shown again: choose them again."))
            return _form(request, lang, state, 503)
        except BaseException:
            attachments.discard(written)
            raise
        return _page(request, "submit/done.html.j2", lang, {"code": code, "files": len(cleaned)})
    finally:
        await form.close()


@router.get("/receipt")
def receipt_lookup(request: Request) -> Response:
    lang = use_language(request)
    return _page(request, "submit/lookup.html.j2", lang, {"code": "", "error": None})


@router.get("/receipt/{code}")
async def receipt_page(request: Request, code: str) -> Response:
    """A typed-in link still works; the pages themselves post the code so it stays out of browser history."""
    lang = use_language(request)
    wait = _count_lookup(request)
    if wait is not None:
        return _too_many(request, lang, wait)
    return await _receipt(request, lang, code)


def _count_lookup(request: Request) -> float | None:
    """Count one use of a receipt code by this client; seconds to wait when over the limit."""
    return limiter(request, "receipt").hit(client_key(request))


def _wrong_code(request: Request, lang: str, code: str) -> Response:
    """The one answer to a code that matches no report, on every path."""
    return _page(request, "submit/lookup.html.j2", lang, {"code": code, "error": _(
        "No report has this receipt code. Check it for typos and try again.")}, 404)


@router.post("/receipt")
@router.post("/receipt/{path_code}")
async def receipt_post(request: Request, path_code: str | None = None) -> Response:
    """Show a report (action=show) or add the volunteer's information and files to it (action=add)."""
    lang = use_language(request)
    form = await _read(request)
    if isinstance(form, str):
        return _page(request, "submit/problem.html.j2", lang, {"title": _("Not sent"), "message": form}, 400)
    try:
        raw_code, raw_text = form.get("code"), form.get("text")
        code = raw_code if isinstance(raw_code, str) and raw_code else path_code or ""
        text = raw_text if isinstance(raw_text, str) else ""
        wait = _count_lookup(request)
        if wait is not None:
            return _too_many(request, lang, wait)
        if form.get("action") == "add" or path_code:
            return await _followup(request, lang, form, code, text)
        if not _csrf_ok(request, form):
            return _page(request, "submit/lookup.html.j2", lang, {"code": code, "error": _(
                "The page was open too long or cookies are blocked. Send the code again.")}, 403)
        return await _receipt(request, lang, code)
    finally:
        await form.close()


def _too_many(request: Request, lang: str, wait: float) -> Response:
    return _page(request, "submit/problem.html.j2", lang, {"title": _("Please wait"), "message": _(
        "Too many requests from your connection in a short time. Wait %(s)s seconds and try again.",
        s=int(wait))}, 429)


async def _receipt(request: Request, lang: str, code: str, *, notice: str | None = None,
                   errors: dict[str, str] | None = None, text: str = "", status_code: int = 200) -> Response:
    def load(session: Any) -> dict[str, Any]:
        status = receipt_status(session, code)
        messages = [{"author": m.author, "text": m.text, "at": m.created_at} for m in status.submission.messages]
        return {"status": status.status, "question": status.question, "messages": messages,
                "received_at": status.submission.created_at}

    try:
        ctx = await in_transaction(request, load)
    except ReceiptNotFound:
        return _wrong_code(request, lang, code)
    except NotStored:
        return _page(request, "submit/problem.html.j2", lang, {"title": _("Not sent"), "message": _(
            "The service cannot reach its database at the moment. Please try again in a few minutes.")}, 503)
    ctx |= {"code": receipts.normalise(code), "notice": notice, "errors": errors or {}, "text": text}
    return _page(request, "submit/receipt.html.j2", lang, ctx, status_code)


async def _followup(request: Request, lang: str, form: FormData, code: str, text: str) -> Response:
    """Add the volunteer's text and files to a report; the caller has counted the code's use."""
    try:
        await in_transaction(request, lambda s: find_submission(s, code))
    except ReceiptNotFound:
        return _wrong_code(request, lang, code)
    if not _csrf_ok(request, form):
        return await _receipt(request, lang, code, text=text, status_code=403, errors={"text": _(
            "The page was open too long or cookies are blocked. Your text is kept: send it again.")})
    wait = limiter(request).hit(client_key(request))
    if wait is not None:
        return await _receipt(request, lang, code, text=text, status_code=429, errors={"text": _(
            "Too many requests from your connection. Your text is kept: wait %(s)s seconds and send again.",
            s=int(wait))})
    settings = request.app.state.runtime.settings
    files = await read_files(uploaded_files(form))
    cleaned, file_errors = await run_in_threadpool(attachments.clean_all, files, settings)
    if file_errors:
        return await _receipt(request, lang, code, text=text, status_code=400, errors={"files": " ".join(file_errors)})
    written: list[Any] = []
    try:
        await in_transaction(request, lambda s: add_followup(s, code, text, cleaned, settings=settings,
                                                             written=written))
    except ReceiptNotFound:
        return _wrong_code(request, lang, code)
    except FollowUpError as exc:
        attachments.discard(written)
        return await _receipt(request, lang, code, text=text, status_code=400, errors={"text": str(exc)})
    except NotStored:
        attachments.discard(written)
        return await _receipt(request, lang, code, text=text, status_code=503, errors={"text": not_stored_message()})
    except BaseException:
        attachments.discard(written)
        raise
    return await _receipt(request, lang, code, notice=_("Thank you. Your information was added to the report."))
