"""Volunteers' cleaned attachments on the desk: a thumbnail of a picture and a download, for editors only.

Both answer only through the incident the file belongs to; anything else (no session, another incident's
number, a missing file) gets the desk's usual refusal, whether or not the file exists. Every answer
carries `Cache-Control: no-store` and `X-Content-Type-Options: nosniff`, and a sandboxing CSP, so a
browser neither keeps the file nor runs anything in it; downloads are recorded in the audit log.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from newsletter.i18n import N_
from newsletter.submissions import attachments
from newsletter.web.deps import get_session
from newsletter.web.editor.auth import CurrentUser

router = APIRouter()
FILE_HEADERS = {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; sandbox",
    "cross-origin-resource-policy": "same-origin",
}
NOT_FOUND = N_("There is no such attachment on this incident.")  # the error page translates it


def _file_response(found: attachments.StoredFile, disposition: str) -> Response:
    headers = FILE_HEADERS | {"content-disposition": f'{disposition}; filename="{found.filename}"'}
    return Response(found.content, media_type=found.media_type, headers=headers)


@router.get("/editor/incidents/{incident_id}/attachments/{attachment_id}", include_in_schema=False)
def download(request: Request, incident_id: int, attachment_id: int, user: CurrentUser,
             session: Session = Depends(get_session, scope="function")) -> Response:
    """The cleaned file as a download, never shown by the browser itself; the download is audited."""
    try:
        found = attachments.download(session, incident_id=incident_id, attachment_id=attachment_id,
                                     settings=request.app.state.runtime.settings, actor=user)
    except attachments.AttachmentNotFound:
        raise HTTPException(status_code=404, detail=NOT_FOUND) from None
    return _file_response(found, "attachment")


@router.get("/editor/incidents/{incident_id}/attachments/{attachment_id}/thumbnail", include_in_schema=False)
def thumbnail(request: Request, incident_id: int, attachment_id: int, user: CurrentUser,
              session: Session = Depends(get_session, scope="function")) -> Response:
    """A small re-encoded copy of a picture for the incident page (not audited: it is part of the page)."""
    try:
        found = attachments.thumbnail(session, incident_id=incident_id, attachment_id=attachment_id,
                                      settings=request.app.state.runtime.settings)
    except attachments.AttachmentNotFound:
        raise HTTPException(status_code=404, detail=NOT_FOUND) from None
    return _file_response(found, "inline")
