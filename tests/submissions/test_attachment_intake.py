"""Hostile files through the real form and API: what is stored holds no canary; a refused file costs
the volunteer nothing else of the report."""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path

import httpx
from sqlalchemy import func, select

from newsletter.models import Attachment, Incident
from newsletter.runtime import Runtime
from newsletter.submissions.tokens import create_token
from tests.submissions import hostile
from tests.submissions.conftest import FormClient, receipt_of, report


def _stored_bytes(folder: Path) -> dict[str, bytes]:
    """Every stored attachment, with zips unpacked and PDF streams decompressed."""
    found = {}
    for path in folder.iterdir():
        data = path.read_bytes()
        if path.suffix == ".pdf":
            data = hostile.every_pdf_byte(data)
        elif path.suffix in (".docx", ".odt"):
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                data += b"".join(z.read(n) for n in z.namelist())
        found[path.name] = data
    return found


def test_hostile_pdf_docx_odt_through_the_form_are_stored_clean(form_client: FormClient, runtime: Runtime) -> None:
    files = [("report.pdf", hostile.hostile_pdf()), ("statement.docx", hostile.hostile_docx()),
             ("notes.odt", hostile.hostile_odt())]
    answer = form_client.submit(report(), files)
    assert answer.status_code == 200 and receipt_of(answer)
    stored = _stored_bytes(runtime.settings.attachments_dir)
    assert sorted(Path(n).suffix for n in stored) == [".docx", ".odt", ".pdf"]
    for name, data in stored.items():
        assert hostile.CANARY not in data.upper(), name
    with runtime.session() as s:
        types = sorted(a.media_type for a in s.scalars(select(Attachment)))
    assert types == ["application/pdf", "application/vnd.oasis.opendocument.text",
                     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"]


def test_a_refused_bomb_keeps_the_report_text_and_stores_nothing(form_client: FormClient, runtime: Runtime) -> None:
    answer = form_client.submit(report(what="Searched at dawn, two laptops taken, the neighbours saw it."),
                                [("bomb.odt", hostile.odt_mimetype_bomb(600)), ("IMG_1.png", hostile.png(7070, 7070))])
    assert answer.status_code == 400
    assert "bomb.odt: unpacked, the document would be far larger" in answer.text
    assert "IMG_1.png: the picture is too large (more than 25 megapixels)." in answer.text
    assert "Searched at dawn, two laptops taken, the neighbours saw it." in answer.text, "the text is kept"
    with runtime.session() as s:
        assert s.scalar(select(func.count(Incident.id))) == 0
    folder = runtime.settings.attachments_dir
    assert not folder.exists() or not any(folder.iterdir())


def test_refusals_are_translated(form_client: FormClient) -> None:
    form_client.http.get("/submit?lang=ru")
    answer = form_client.submit(report(), [("long.pdf", _long_pdf())], params={"lang": "ru"})
    assert answer.status_code == 400 and "long.pdf: в PDF больше 200 страниц" in answer.text


def _long_pdf() -> bytes:
    import pikepdf

    pdf = pikepdf.new()
    for _ in range(201):
        pdf.add_blank_page(page_size=(100, 100))
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


def test_hostile_files_through_the_api_are_stored_clean_or_refused_with_422(live_server: str,
                                                                            runtime: Runtime) -> None:
    with runtime.session() as s:
        _token, secret = create_token(s, name="bot", actor="cli")
    body = {"what": "A report from the partner bot.", "kind": "other", "consent": "count_only"}
    headers = {"Authorization": f"Bearer {secret}"}

    def attach(name: str, data: bytes) -> dict[str, str]:
        return {"filename": name, "content_base64": base64.b64encode(data).decode()}

    with httpx.Client(base_url=live_server, headers=headers, timeout=60) as api:
        ok = api.post("/api/incidents", json=body | {"attachments": [attach("a.pdf", hostile.hostile_pdf()),
                                                                     attach("b.docx", hostile.hostile_docx())]})
        assert ok.status_code == 201 and ok.json()["attachments"] == 2, ok.text
        refused = api.post("/api/incidents", json=body | {"attachments": [attach("bomb.odt",
                                                                                 hostile.odt_mimetype_bomb(600))]})
        assert refused.status_code == 422 and "bomb.odt: unpacked" in refused.text
    for name, data in _stored_bytes(runtime.settings.attachments_dir).items():
        assert hostile.CANARY not in data.upper(), name
    with runtime.session() as s:
        assert s.scalar(select(func.count(Incident.id))) == 1
