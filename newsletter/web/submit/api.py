"""POST /api/incidents: JSON intake for partner tools (a messenger bot, a form service), Bearer token auth."""

from __future__ import annotations

import base64
import binascii
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from newsletter.models import ApiToken
from newsletter.submissions import attachments
from newsletter.submissions.attachments import AttachmentError, IncomingFile
from newsletter.i18n import _
from newsletter.submissions.schema import SubmissionIn
from newsletter.flows.intake import submit_report
from newsletter.submissions.tokens import authenticate
from newsletter.web.submit.common import STORAGE_ERRORS, LimitedRoute, NotStored, in_transaction, limiter, not_stored_message

router = APIRouter(prefix="/api", tags=["intake"], route_class=LimitedRoute)
bearer = HTTPBearer(auto_error=False, description="An API token created by an admin (newsletter tokens create NAME)")


class ApiAttachment(BaseModel):
    """A file, base64-encoded. Its type is decided from its content; the name only labels errors."""

    filename: str = Field("attachment", max_length=200)
    content_base64: str = Field(description="The file's bytes, standard base64")


class ApiSubmissionIn(SubmissionIn):
    attachments: list[ApiAttachment] = Field(default_factory=list, max_length=attachments.MAX_FILES)


class ApiReceipt(BaseModel):
    receipt_code: str = Field(description="Give this to the volunteer: it is the only way to follow the report")
    receipt_url: str = Field(description="Page where the volunteer enters the code (the code is never put in a URL)")
    state: Literal["received"] = "received"
    attachments: int


class ApiError(BaseModel):
    detail: str


def _authenticated(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> ApiToken:
    runtime = request.app.state.runtime
    plaintext = credentials.credentials if credentials and credentials.scheme.lower() == "bearer" else None
    try:
        with runtime.session() as session:
            token = authenticate(session, plaintext)
    except STORAGE_ERRORS:
        raise HTTPException(status_code=503, detail=not_stored_message(), headers={"Retry-After": "120"}) from None
    if token is None:
        raise HTTPException(status_code=401, detail=_("A valid API token is required (Authorization: Bearer ...)."),
                            headers={"WWW-Authenticate": "Bearer"})
    return token


def _decode(items: list[ApiAttachment]) -> list[IncomingFile]:
    files = []
    for item in items:
        try:
            content = base64.b64decode(item.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise AttachmentError(_("%(name)s: content_base64 is not valid base64.", name=item.filename[:80])) from None
        files.append(IncomingFile(name=item.filename, content=content))
    return files


RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ApiError, "description": "Missing, unknown or revoked token"},
    413: {"model": ApiError, "description": "Body over the size limit"},
    422: {"description": "Invalid report or refused attachment"},
    429: {"model": ApiError, "description": "Too many reports with this token; see Retry-After"},
    503: {"model": ApiError, "description": "The report was not stored (database unavailable); send it again later"},
}


@router.post("/incidents", status_code=201, response_model=ApiReceipt, responses=RESPONSES,
             summary="Report an incident on behalf of a volunteer")
async def post_incident(payload: ApiSubmissionIn, request: Request,
                        token: ApiToken = Depends(_authenticated)) -> Any:
    """Stores the report as a new volunteer incident, exactly as the web form does (same validation,
    attachment cleaning and consent rules), and returns the receipt code for the volunteer."""
    wait = limiter(request, "api").hit(f"token:{token.id}")
    if wait is not None:
        return JSONResponse({"detail": _("Too many reports with this token. Wait %(s)s seconds.", s=int(wait))},
                            status_code=429, headers={"Retry-After": str(int(wait))})
    settings = request.app.state.runtime.settings
    data = SubmissionIn.model_validate(payload.model_dump(exclude={"attachments"}))
    try:
        files = _decode(payload.attachments)
        cleaned, errors = await run_in_threadpool(attachments.clean_all, files, settings)
        if errors:
            raise AttachmentError(" ".join(errors))
    except AttachmentError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=422)
    written: list[Any] = []
    try:
        _incident, code = await in_transaction(request, lambda s: submit_report(
            s, data, cleaned, settings=settings, channel="api", api_token=token, written=written, load=False))
    except NotStored:
        attachments.discard(written)
        return JSONResponse({"detail": not_stored_message()}, status_code=503, headers={"Retry-After": "120"})
    except BaseException:
        attachments.discard(written)
        raise
    return ApiReceipt(receipt_code=code, receipt_url=f"{settings.base_url}/receipt", attachments=len(cleaned))
