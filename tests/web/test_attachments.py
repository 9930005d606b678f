"""A volunteer's cleaned attachments on the desk (issue 15, item 3), over real HTTP: the incident page
lists them (name, type, size) with a thumbnail for pictures; an editor downloads any file as an
attachment that the browser neither sniffs nor keeps, and each download is audited (who, which file,
never the content); anonymous visitors, the volunteer holding the receipt, other incidents' addresses
and every other route get nothing, whether or not the file exists."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from newsletter.models import Attachment, AuditLog, Incident
from newsletter.runtime import Runtime
from tests.editorial.helpers import login, make_user
from tests.submissions import samples
from tests.submissions.conftest import FormClient, receipt_of, report

EDITOR = "editor@example.org"


@pytest.fixture
def sent(live_server: str, runtime: Runtime) -> Iterator[dict[str, object]]:
    """A volunteer's report through the real form: a 640x480 photo with GPS and a PDF with an author."""
    volunteer = FormClient(live_server)
    response = volunteer.submit(report(), files=[("IMG_0001.jpg", samples.jpeg_with_gps(640, 480)),
                                                 ("statement.pdf", samples.pdf_with_metadata())])
    assert response.status_code == 200, response.text[:500]
    code = receipt_of(response)
    with runtime.session() as s:
        rows = s.scalars(select(Attachment).order_by(Attachment.id)).all()
        assert [r.media_type for r in rows] == ["image/jpeg", "application/pdf"]
        info = {"incident": rows[0].incident_id, "photo": rows[0].id, "pdf": rows[1].id,
                "photo_sha": rows[0].sha256, "stored": rows[0].stored_name, "volunteer": volunteer, "code": code}
    yield info
    volunteer.close()


@pytest.fixture
def editor(live_server: str, runtime: Runtime) -> Iterator[httpx.Client]:
    make_user(runtime, EDITOR)
    with httpx.Client(base_url=live_server, timeout=30) as client:
        login(client, live_server, EDITOR)
        yield client


def url(sent: dict[str, object], which: str = "photo", incident: object = None) -> str:
    return f"/editor/incidents/{incident or sent['incident']}/attachments/{sent[which]}"


def test_the_incident_page_lists_the_files_with_a_thumbnail_for_pictures(sent, editor: httpx.Client) -> None:
    page = editor.get(f"/editor/incidents/{sent['incident']}").text
    photo, pdf = url(sent), url(sent, "pdf")
    assert f'href="{photo}">attachment-{sent["photo"]}.jpg</a>' in page
    assert f'href="{pdf}">attachment-{sent["pdf"]}.pdf</a>' in page
    assert "JPEG picture" in page and "PDF document" in page
    assert re.search(r"JPEG picture · image/jpeg · \d+\.\d KiB", page)
    assert f'<img class="attachment-thumb" src="{photo}/thumbnail"' in page
    assert f'src="{pdf}/thumbnail"' not in page
    assert "IMG_0001" not in page and "statement.pdf" not in page  # the sender's file names are not kept


def test_a_download_is_the_cleaned_file_with_safe_headers_and_is_audited(sent, editor: httpx.Client,
                                                                         runtime: Runtime) -> None:
    response = editor.get(url(sent))
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="incident-{sent["incident"]}-attachment-{sent["photo"]}.jpg"')
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert "sandbox" in response.headers["content-security-policy"]
    assert hashlib.sha256(response.content).hexdigest() == sent["photo_sha"]
    assert samples.SECRET_NAME.encode() not in response.content
    assert not Image.open(io.BytesIO(response.content)).getexif()
    pdf = editor.get(url(sent, "pdf"))
    assert pdf.headers["content-type"] == "application/pdf" and pdf.headers["content-disposition"].startswith("attachment;")
    with runtime.session() as s:
        rows = s.scalars(select(AuditLog).where(AuditLog.action == "attachment.downloaded").order_by(AuditLog.id)).all()
        assert [(r.actor, r.entity_type, r.entity_id) for r in rows] == [
            (EDITOR, "attachment", sent["photo"]), (EDITOR, "attachment", sent["pdf"])]
        assert rows[0].changes["incident_id"] == sent["incident"]
        assert all(len(str(r.changes)) < 200 for r in rows)  # what and who, never the content


def test_the_thumbnail_is_small_re_encoded_and_not_kept(sent, editor: httpx.Client, runtime: Runtime) -> None:
    response = editor.get(url(sent) + "/thumbnail")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert response.headers["content-disposition"].startswith("inline;")
    assert response.headers["x-content-type-options"] == "nosniff" and response.headers["cache-control"] == "no-store"
    img = Image.open(io.BytesIO(response.content))
    assert max(img.size) <= 320 and img.size == (240, 320)  # the photo was turned upright when cleaned
    assert len(response.content) < 30_000
    assert editor.get(url(sent, "pdf") + "/thumbnail").status_code == 404
    with runtime.session() as s:
        assert s.scalar(select(AuditLog).where(AuditLog.action == "attachment.downloaded")) is None


def test_nobody_but_an_editor_gets_the_file(sent, live_server: str) -> None:
    for path in (url(sent), url(sent) + "/thumbnail"):
        with httpx.Client(base_url=live_server) as anonymous:
            page = anonymous.get(path, headers={"accept": "text/html"})
            assert page.status_code == 303 and page.headers["location"].startswith("/editor/login")
            api = anonymous.get(path, headers={"accept": "application/json"})
            assert api.status_code == 401 and api.headers["content-type"].startswith("application/json")
        volunteer: FormClient = sent["volunteer"]  # type: ignore[assignment]
        mine = volunteer.http.get(path, headers={"accept": "text/html"}, follow_redirects=False)
        assert mine.status_code == 303 and mine.headers["location"].startswith("/editor/login")
    receipt = sent["volunteer"].http.post("/receipt", data={"code": sent["code"]})  # type: ignore[union-attr]
    assert "/attachments/" not in receipt.text


def test_other_routes_and_other_incidents_reveal_nothing(sent, editor: httpx.Client, runtime: Runtime) -> None:
    with runtime.session() as s:
        other = Incident(title="Another report", origin="editor")
        s.add(other)
        s.flush()
        other_id = other.id
    wrong_incident = editor.get(url(sent, incident=other_id))
    no_such_file = editor.get(f"/editor/incidents/{other_id}/attachments/99999")
    assert wrong_incident.status_code == no_such_file.status_code == 404
    assert wrong_incident.text == no_such_file.text  # the same answer whether or not the file exists
    assert "There is no such attachment on this incident." in wrong_incident.text
    stored = str(sent["stored"])
    for path in (f"/static/{stored}", f"/issues/{stored}", f"/attachments/{stored}", f"/editor/{stored}",
                 f"/static/../var/attachments/{stored}", f"/receipt/{stored}"):
        response = editor.get(path)
        assert response.status_code in (401, 403, 404), (path, response.status_code)
        assert b"JFIF" not in response.content[:64], path


def test_a_file_missing_from_the_folder_is_a_404_page(sent, editor: httpx.Client, runtime: Runtime) -> None:
    (runtime.settings.attachments_dir / str(sent["stored"])).unlink()
    response = editor.get(url(sent))
    assert response.status_code == 404 and 'class="desk"' in response.text
    assert editor.get(url(sent) + "/thumbnail").status_code == 404
