"""Admin pages of the desk: users, sections, sources, API tokens and the (read-only) audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from newsletter.editorial import audit_log, sections, sources, users
from newsletter.i18n import N_
from newsletter.models import Section, User
from newsletter.submissions import tokens
from newsletter.web.deps import get_session
from newsletter.web.editor.account import desk_languages
from newsletter.web.editor.auth import CurrentAdmin
from newsletter.web.editor.common import done, get_or_404, query_dict, refused
from newsletter.web.errors import desk_error
from newsletter.web.security import verify_csrf
from newsletter.web.templating import render

router = APIRouter()
F = Annotated[str, Form()]

# ------------------------------------------------------------------ users


def _users_context(session: Session, request: Request | None = None) -> dict[str, Any]:
    languages = desk_languages(request) if request is not None else {}
    return {"users": users.list_users(session), "languages": languages}


@router.get("/editor/users/", response_class=HTMLResponse, include_in_schema=False)
def users_page(request: Request, admin: CurrentAdmin, session: Session = Depends(get_session, scope="function")) -> HTMLResponse:
    return render(request, "editor/users.html.j2", _users_context(session, request))


@router.post("/editor/users/", include_in_schema=False)
def users_create(request: Request, admin: CurrentAdmin, session: Session = Depends(get_session, scope="function"), csrf_token: F = "",
                 email: F = "", role: F = "editor", password: F = "") -> Response:
    verify_csrf(request, csrf_token)
    try:
        users.create_user(session, email=email, password=password, role=role, actor=admin)
    except users.UserError as exc:
        return refused(request, session, "editor/users.html.j2", lambda: _users_context(session, request), desk_error(exc),
                       new_email=email, new_role=role)
    return done("/editor/users/", "created")


@router.post("/editor/users/{user_id}", include_in_schema=False)
def users_update(request: Request, user_id: int, admin: CurrentAdmin, session: Session = Depends(get_session, scope="function"),
                 csrf_token: F = "", role: F = "", active: F = "", password: F = "", unlock: F = "",
                 language: Annotated[str | None, Form(max_length=16)] = None) -> Response:
    verify_csrf(request, csrf_token)
    target = get_or_404(session, User, user_id, "user")
    try:
        if role or active:
            users.update_user(session, target, actor=admin, role=role or None,
                              active=None if not active else active == "1")
        if password:
            users.set_password(session, target, password, actor=admin)
        if unlock:
            users.unlock(session, target, actor=admin)
        if language is not None:
            users.set_language(session, target, language, actor=admin, available=desk_languages(request))
    except users.UserError as exc:
        return refused(request, session, "editor/users.html.j2", lambda: _users_context(session, request), desk_error(exc))
    return done("/editor/users/", "saved")


@router.post("/editor/users/{user_id}/signout", include_in_schema=False)
def users_signout(request: Request, user_id: int, admin: CurrentAdmin,
                  session: Session = Depends(get_session, scope="function"), csrf_token: F = "") -> Response:
    """End every open session of the account, this admin's own included when they pick themselves."""
    verify_csrf(request, csrf_token)
    target = get_or_404(session, User, user_id, "user")
    users.sign_out_everywhere(session, target, actor=admin, now=request.app.state.runtime.clock.now())
    return done("/editor/users/", "signed_out")


# ------------------------------------------------------------------ sections


def _sections_context(session: Session) -> dict[str, Any]:
    return {"sections": sections.list_sections(session), "usage": sections.usage(session)}


@router.get("/editor/sections/", response_class=HTMLResponse, include_in_schema=False)
def sections_page(request: Request, admin: CurrentAdmin, session: Session = Depends(get_session, scope="function")) -> HTMLResponse:
    return render(request, "editor/sections.html.j2", _sections_context(session))


@router.post("/editor/sections/", include_in_schema=False)
def sections_create(request: Request, admin: CurrentAdmin, session: Session = Depends(get_session, scope="function"),
                    csrf_token: F = "", slug: F = "", title: F = "", description: F = "") -> Response:
    verify_csrf(request, csrf_token)
    try:
        sections.create_section(session, slug=slug, title=title, description=description, actor=admin)
    except sections.SectionError as exc:
        return refused(request, session, "editor/sections.html.j2", lambda: _sections_context(session), desk_error(exc),
                       new={"slug": slug, "title": title, "description": description})
    return done("/editor/sections/", "created")


@router.post("/editor/sections/{section_id}", include_in_schema=False)
def sections_update(request: Request, section_id: int, admin: CurrentAdmin, session: Session = Depends(get_session, scope="function"),
                    csrf_token: F = "", title: F = "", description: F = "") -> Response:
    verify_csrf(request, csrf_token)
    section = get_or_404(session, Section, section_id, "section")
    try:
        sections.update_section(session, section, title=title, description=description, actor=admin)
    except sections.SectionError as exc:
        return refused(request, session, "editor/sections.html.j2", lambda: _sections_context(session), desk_error(exc))
    return done("/editor/sections/", "saved")


@router.post("/editor/sections/{section_id}/move", include_in_schema=False)
def sections_move(request: Request, section_id: int, admin: CurrentAdmin, session: Session = Depends(get_session, scope="function"),
                  csrf_token: F = "", direction: F = "") -> Response:
    verify_csrf(request, csrf_token)
    section = get_or_404(session, Section, section_id, "section")
    try:
        sections.move_section(session, section, direction, actor=admin)
    except sections.SectionError as exc:
        return refused(request, session, "editor/sections.html.j2", lambda: _sections_context(session), desk_error(exc))
    return done("/editor/sections/", "moved")


@router.post("/editor/sections/{section_id}/delete", include_in_schema=False)
def sections_delete(request: Request, section_id: int, admin: CurrentAdmin, session: Session = Depends(get_session, scope="function"),
                    csrf_token: F = "") -> Response:
    verify_csrf(request, csrf_token)
    section = get_or_404(session, Section, section_id, "section")
    try:
        sections.delete_section(session, section, actor=admin)
    except sections.SectionError as exc:
        return refused(request, session, "editor/sections.html.j2", lambda: _sections_context(session), desk_error(exc),
                       status_code=409)
    return done("/editor/sections/", "deleted")


# ------------------------------------------------------------------ sources


@router.get("/editor/sources/", response_class=HTMLResponse, include_in_schema=False)
def sources_page(request: Request, admin: CurrentAdmin, session: Session = Depends(get_session, scope="function")) -> HTMLResponse:
    return render(request, "editor/sources.html.j2", {"sources": sources.list_sources(session)})


@router.post("/editor/sources/{source_id}/enabled", include_in_schema=False)
def sources_toggle(request: Request, source_id: int, admin: CurrentAdmin, session: Session = Depends(get_session, scope="function"),
                   csrf_token: F = "", enabled: F = "", reason: F = "") -> Response:
    verify_csrf(request, csrf_token)
    try:
        if enabled not in ("0", "1"):
            raise sources.SourceError(N_("say whether to enable (1) or disable (0) the source"))
        sources.set_enabled(session, source_id, enabled == "1", reason=reason, actor=admin)
    except sources.SourceError as exc:
        return refused(request, session, "editor/sources.html.j2",
                       lambda: {"sources": sources.list_sources(session)}, desk_error(exc))
    return done("/editor/sources/", "saved")


# ------------------------------------------------------------------ API tokens


@router.get("/editor/tokens/", response_class=HTMLResponse, include_in_schema=False)
def tokens_page(request: Request, admin: CurrentAdmin, session: Session = Depends(get_session, scope="function")) -> HTMLResponse:
    return render(request, "editor/tokens.html.j2", {"tokens": tokens.list_tokens(session)})


@router.post("/editor/tokens/", response_class=HTMLResponse, include_in_schema=False)
def tokens_create(request: Request, admin: CurrentAdmin, session: Session = Depends(get_session, scope="function"),
                  csrf_token: F = "", name: F = "") -> Response:
    """Shows the plaintext once, in this response only (never stored, never in a URL)."""
    verify_csrf(request, csrf_token)
    try:
        token, plaintext = tokens.create_token(session, name=name, actor=admin)
    except tokens.TokenError as exc:
        return refused(request, session, "editor/tokens.html.j2", lambda: {"tokens": tokens.list_tokens(session)},
                       desk_error(exc))
    return render(request, "editor/tokens.html.j2", {"tokens": tokens.list_tokens(session), "new_token": token,
                                                     "plaintext": plaintext}, status_code=201)


@router.post("/editor/tokens/{token_id}/revoke", include_in_schema=False)
def tokens_revoke(request: Request, token_id: int, admin: CurrentAdmin, session: Session = Depends(get_session, scope="function"),
                  csrf_token: F = "") -> Response:
    verify_csrf(request, csrf_token)
    try:
        tokens.revoke_token(session, token_id, actor=admin)
    except tokens.TokenError as exc:
        return refused(request, session, "editor/tokens.html.j2", lambda: {"tokens": tokens.list_tokens(session)},
                       desk_error(exc), status_code=404)
    return done("/editor/tokens/", "revoked")


# ------------------------------------------------------------------ audit log


@router.get("/editor/audit/", response_class=HTMLResponse, include_in_schema=False)
def audit_page(request: Request, admin: CurrentAdmin, session: Session = Depends(get_session, scope="function")) -> HTMLResponse:
    filters, errors = audit_log.parse_filters(query_dict(request))
    rows, has_next = audit_log.browse(session, filters)
    return render(request, "editor/audit.html.j2", {
        "rows": rows, "has_next": has_next, "f": filters, "filter_errors": errors,
        "actions": audit_log.known_actions(session)}, status_code=400 if errors else 200)
