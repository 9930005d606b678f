"""Desk routes for an issue's further editions: each edition's list (the issue's own texts first, then every
item) with its translation state, and the issue's texts or one item's translation edited beside the original
(left read-only, right the form: words, state, and "publish the original in this edition").

Handlers read the form and call newsletter.issues.translations; a refused save shows the page again with
the reason (409) and the words as typed. A frozen issue's pages are read-only, like the rest of it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db import get_row
from newsletter.i18n import LANGUAGES, N_
from newsletter.issues import issue_texts
from newsletter.issues import translations as tr
from newsletter.issues.editions import range_title
from newsletter.issues.errors import IssueError
from newsletter.issues.items import get_item
from newsletter.models import Issue, IssueItem
from newsletter.states import issue_frozen
from newsletter.web.deps import get_session, get_settings
from newsletter.web.editor.auth import CurrentUser
from newsletter.web.errors import DeskRefusal, desk_error
from newsletter.web.security import verify_csrf
from newsletter.web.templating import render

router = APIRouter()
Text = Annotated[str, Form(max_length=12000)]


def _edition(session: Session, settings: Settings, issue_id: int, lang: str) -> Issue:
    """The issue the path names, when `lang` is one of its further editions (404 otherwise)."""
    issue = get_row(session, Issue, issue_id)
    if issue is None:
        raise DeskRefusal(404, N_("There is no issue %(id)s."), id=issue_id)
    if lang not in tr.further_editions(settings):
        raise DeskRefusal(404, N_("There is no %(lang)s edition to translate."), lang=repr(lang[:16]))
    return issue


def _item(issue: Issue, item_id: int) -> IssueItem:
    try:
        item = get_item(issue, item_id)
    except IssueError:
        raise DeskRefusal(404, N_("Issue %(number)s has no item %(id)s."), number=issue.number, id=item_id) from None
    if item not in tr.translatable_items(issue):
        raise HTTPException(status_code=404, detail=N_("Internal items are only counted, never shown: nothing to translate."))
    return item


def _base(issue: Issue, lang: str) -> str:
    return f"/editor/issues/{issue.id}/translations/{lang}"


@router.get("/editor/issues/{issue_id}/translations/{lang}", response_class=HTMLResponse, include_in_schema=False)
def edition_page(request: Request, issue_id: int, lang: str, user: CurrentUser,
                 session: Session = Depends(get_session, scope="function"),
                 settings: Settings = Depends(get_settings)) -> HTMLResponse:
    """Every published item of the issue with its state in this edition, the ones holding approval first marked."""
    issue = _edition(session, settings, issue_id, lang)
    rows = [(item, tr.row_for(item, lang, issue), tr.original_language(item, issue)) for item in tr.translatable_items(issue)]
    progress = next(p for p in tr.progress(issue, settings) if p.language == lang)
    return render(request, "editor/issues/translations.html.j2", {
        "active": "issues", "issue": issue, "edition": lang, "language_name": LANGUAGES.get(lang, lang), "rows": rows,
        "progress": progress, "frozen": issue_frozen(issue), "base": _base(issue, lang),
        "texts_row": issue_texts.row_for(issue, lang),
    })


def _texts_page(request: Request, issue: Issue, lang: str, *, form: dict[str, Any] | None = None,
                error: str | None = None, status_code: int = 200) -> HTMLResponse:
    row = issue_texts.row_for(issue, lang)
    shown = form or {**{name: getattr(row, name) or "" for name in issue_texts.FIELDS}, "state": row.state,
                     "allow_original": row.allow_original}
    return render(request, "editor/issues/translation_texts.html.j2", {
        "active": "issues", "issue": issue, "edition": lang, "language_name": LANGUAGES.get(lang, lang),
        "original": issue_texts.original_texts(issue), "needed": issue_texts.to_translate(issue), "row": row,
        "automatic_title": range_title(issue.period_start, issue.period_end, lang), "form": shown,
        "states": tr.TRANSLATION_STATES, "frozen": issue_frozen(issue), "base": _base(issue, lang), "error": error,
    }, status_code=status_code)


# Registered before the item routes: "texts" would otherwise be read as an item id.
@router.get("/editor/issues/{issue_id}/translations/{lang}/texts", response_class=HTMLResponse,
            include_in_schema=False)
def texts_page(request: Request, issue_id: int, lang: str, user: CurrentUser,
               session: Session = Depends(get_session, scope="function"),
               settings: Settings = Depends(get_settings)) -> HTMLResponse:
    """The issue's title, intro, preheader and editor's note beside their translation into `lang`."""
    return _texts_page(request, _edition(session, settings, issue_id, lang), lang)


@router.post("/editor/issues/{issue_id}/translations/{lang}/texts", include_in_schema=False)
def save_texts(request: Request, issue_id: int, lang: str, user: CurrentUser,
               csrf_token: Annotated[str, Form()] = "", title: Text = "", intro: Annotated[str, Form(max_length=40000)] = "",
               preheader: Text = "", editors_note: Annotated[str, Form(max_length=20000)] = "",
               editors_note_signature: Text = "", state: Annotated[str, Form(max_length=16)] = "draft",
               allow_original: Annotated[str, Form(max_length=8)] = "",
               session: Session = Depends(get_session, scope="function"),
               settings: Settings = Depends(get_settings)) -> Response:
    """Save the issue's texts, their state and the allow-original choice together; back to the edition's list."""
    verify_csrf(request, csrf_token)
    issue = _edition(session, settings, issue_id, lang)
    words = issue_texts.IssueTexts(title, intro, preheader, editors_note, editors_note_signature)
    try:
        issue_texts.set_texts(session, issue, lang, words, state=state, editions=tr.further_editions(settings),
                              actor=user, allow_original=bool(allow_original))
    except IssueError as exc:
        session.rollback()
        issue = _edition(session, settings, issue_id, lang)
        form = {**words.as_dict(), "state": state, "allow_original": bool(allow_original)}
        return _texts_page(request, issue, lang, form=form, error=desk_error(exc), status_code=409)
    return RedirectResponse(f"{_base(issue, lang)}?done=saved#issue-texts", status_code=303)


def _item_page(request: Request, issue: Issue, item: IssueItem, lang: str, *, form: dict[str, Any] | None = None,
               error: str | None = None, status_code: int = 200) -> HTMLResponse:
    row = tr.row_for(item, lang, issue)
    shown = form or {**{name: getattr(row, name) for name in tr.FIELDS}, "state": row.state,
                     "allow_original": row.allow_original}
    return render(request, "editor/issues/translation_item.html.j2", {
        "active": "issues", "issue": issue, "item": item, "edition": lang, "language_name": LANGUAGES.get(lang, lang),
        "original": tr.original_fields(item), "original_language": tr.original_language(item, issue), "row": row,
        "form": shown, "states": tr.TRANSLATION_STATES, "frozen": issue_frozen(issue), "base": _base(issue, lang),
        "error": error,
    }, status_code=status_code)


@router.get("/editor/issues/{issue_id}/translations/{lang}/{item_id}", response_class=HTMLResponse,
            include_in_schema=False)
def item_page(request: Request, issue_id: int, lang: str, item_id: int, user: CurrentUser,
              session: Session = Depends(get_session, scope="function"),
              settings: Settings = Depends(get_settings)) -> HTMLResponse:
    issue = _edition(session, settings, issue_id, lang)
    return _item_page(request, issue, _item(issue, item_id), lang)


@router.post("/editor/issues/{issue_id}/translations/{lang}/{item_id}", include_in_schema=False)
def save_item(request: Request, issue_id: int, lang: str, item_id: int, user: CurrentUser,
              csrf_token: Annotated[str, Form()] = "", headline: Text = "", text: Text = "", quote: Text = "",
              photo_caption: Text = "", state: Annotated[str, Form(max_length=16)] = "draft",
              allow_original: Annotated[str, Form(max_length=8)] = "",
              session: Session = Depends(get_session, scope="function"),
              settings: Settings = Depends(get_settings)) -> Response:
    """Save the words, their state and the allow-original choice together; back to the edition's list."""
    verify_csrf(request, csrf_token)
    issue = _edition(session, settings, issue_id, lang)
    item = _item(issue, item_id)
    words = tr.TranslationFields(headline, text, quote, photo_caption)
    try:
        tr.set_translation(session, issue, item, lang, words, state=state, settings=settings, actor=user,
                           allow_original=bool(allow_original))
    except IssueError as exc:
        session.rollback()
        issue = _edition(session, settings, issue_id, lang)
        form = {**words.as_dict(), "state": state, "allow_original": bool(allow_original)}
        return _item_page(request, issue, _item(issue, item_id), lang, form=form, error=desk_error(exc), status_code=409)
    return RedirectResponse(f"{_base(issue, lang)}?done=saved#item-{item_id}", status_code=303)
