"""The volunteer form and receipt pages over real HTTP (uvicorn on loopback)."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import func, select

from newsletter.config import load_settings
from newsletter.models import Attachment, Incident, SubmissionMessage
from newsletter.runtime import Runtime
from tests.submissions import samples
from tests.submissions.conftest import FormClient, receipt_of, report
from tests.support.servers import serve_app


def _count(runtime: Runtime) -> int:
    with runtime.session() as s:
        return s.scalar(select(func.count(Incident.id)))


def _error_for(html: str, field: str) -> str:
    m = re.search(rf'id="{re.escape(field)}-error"[^>]*>([^<]+)<', html)
    return m.group(1) if m else ""


def test_form_page_headers_cookie_and_no_third_party(live_server: str) -> None:
    r = httpx.get(f"{live_server}/submit")
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY" and r.headers["referrer-policy"] == "no-referrer"
    assert [c.split("=")[0] for c in r.headers.get_list("set-cookie")] == ["csrf"]
    for url in re.findall(r'(?:src|href|action)="([^"]+)"', r.text):
        assert url.startswith(("/", "#")), url
    for field in ("what", "kind", "occurred_on", "date_precision", "city", "region", "country", "persons-0-name",
                  "persons-0-role", "links", "files", "contact"):
        assert f'<label for="{field}"' in r.text, field
    assert 'name="consent"' in r.text and 'name="website"' in r.text


def test_valid_report_is_stored_and_receipt_shows_state(form_client: FormClient, runtime: Runtime) -> None:
    r = form_client.submit(report(), files=[("IMG_0001.jpg", samples.jpeg_with_gps())])
    assert r.status_code == 200
    code = receipt_of(r)
    with runtime.session() as s:
        incident = s.scalars(select(Incident)).one()
        assert (incident.state, incident.origin, incident.publication, incident.city) == (
            "new", "volunteer", "anonymised", "Tomsk")
        assert incident.persons[0].name == "Anna Petrova" and incident.persons[0].consent == "initials"
        stored = s.scalars(select(Attachment)).one()
    data = (runtime.settings.attachments_dir / stored.stored_name).read_bytes()
    assert b"Exif" not in data and samples.CAMERA.encode() not in data
    page = form_client.http.get(f"/receipt/{code}")
    assert page.status_code == 200 and 'id="status">Received<' in page.text
    assert page.headers["cache-control"] == "no-store"
    token = re.search(r'name="csrf_token" value="([^"]+)"', form_client.http.get("/receipt").text).group(1)
    lookup = form_client.http.post("/receipt", data={"csrf_token": token, "action": "show",
                                                     "code": code.lower().replace("-", "")})
    assert lookup.status_code == 200 and 'id="status">Received<' in lookup.text
    assert code not in str(lookup.url), "the code is posted, never put in the URL"
    assert f'action="/receipt/{code}' not in lookup.text and f'href="/receipt/{code}' not in lookup.text


def test_invalid_input_keeps_text_and_puts_errors_next_to_fields(form_client: FormClient, runtime: Runtime) -> None:
    text = "Обыск у журналиста <b>не</b> закончился"
    r = form_client.submit(report(what=text, kind="", occurred_on="18.11.2026", consent="",
                                  links="example.org/no-scheme", **{"persons-0-role": "spy"}))
    assert r.status_code == 400
    assert "Обыск у журналиста &lt;b&gt;не&lt;/b&gt; закончился</textarea>" in r.text
    assert _error_for(r.text, "kind") == "Choose the kind of incident."
    assert "year-month-day" in _error_for(r.text, "occurred_on")
    assert "http://" in _error_for(r.text, "links")
    assert _error_for(r.text, "consent") == "Choose whether and how this report may be published."
    assert _error_for(r.text, "persons-0-role") == "Choose a role from the list."
    assert 'value="Anna Petrova"' in r.text and 'value="Tomsk"' in r.text
    assert 'aria-invalid="true"' in r.text and 'href="#kind"' in r.text
    assert _count(runtime) == 0


def test_bad_files_get_clear_errors_and_keep_text(form_client: FormClient, runtime: Runtime) -> None:
    r = form_client.submit(report(), files=[("evil.jpg", b"MZ\x90\x00 program"),
                                            ("cut.jpg", samples.jpeg_with_gps()[:300])])
    assert r.status_code == 400
    error = _error_for(r.text, "files")
    assert "evil.jpg: this type of file is not accepted" in error and "cut.jpg: the picture is damaged" in error
    assert "took two laptops" in r.text
    assert _count(runtime) == 0


def test_oversize_and_malformed_uploads(settings_env, monkeypatch) -> None:
    monkeypatch.setenv("NEWSLETTER_MAX_UPLOAD_BYTES", "20000")
    monkeypatch.setenv("NEWSLETTER_MAX_SUBMISSION_BYTES", "40000")
    rt = Runtime(load_settings())
    try:
        with serve_app(rt) as url:
            client = FormClient(url)
            r = client.submit(report(), files=[("big.png", b"\x89PNG\r\n\x1a\n" + b"0" * 25000)])
            assert r.status_code == 400 and "big.png is too large" in _error_for(r.text, "files")
            r = client.submit(report(), files=[("a.png", b"0" * 30000), ("b.png", b"0" * 30000)])
            assert r.status_code == 400 and "together are too large" in _error_for(r.text, "files")
            r = client.submit(report(), files=[("a.png", b"0" * 400_000)])
            assert r.status_code == 413 and "The report is too large: at most 39 KB" in r.text
            bogus = client.http.post("/submit", content=b"--xyz\r\nContent-Disposition: form-data\r\n\r\nbroken",
                                     headers={"content-type": "multipart/form-data; boundary=xyz"})
            assert bogus.status_code == 400 and "The form could not be read" in bogus.text

            def chunks():
                yield b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n\r\n'
                for _ in range(400):
                    yield b"x" * 1000

            streamed = client.http.post("/submit", content=chunks(),
                                        headers={"content-type": "multipart/form-data; boundary=xyz"})
            assert streamed.status_code == 413
            client.close()
            assert _count(rt) == 0
    finally:
        rt.close()


def test_csrf_failure_and_honeypot_keep_the_text(form_client: FormClient, runtime: Runtime) -> None:
    r = form_client.http.post("/submit", data={**report(), "csrf_token": "forged"},
                              files=[("files", ("", b"", "application/octet-stream"))])
    assert r.status_code == 403 and "took two laptops" in r.text and "cookies are blocked" in r.text
    r = form_client.submit(report(website="http://spam.example"))
    assert r.status_code == 400 and "took two laptops" in r.text
    assert _count(runtime) == 0


def test_add_person_without_javascript(form_client: FormClient) -> None:
    r = form_client.submit(report(action="add_person"))
    assert r.status_code == 200
    assert 'name="persons-1-name"' in r.text and 'value="Anna Petrova"' in r.text
    assert "took two laptops" in r.text


def test_rate_limit_keeps_text_and_stores_no_address(settings_env, monkeypatch) -> None:
    monkeypatch.setenv("NEWSLETTER_SUBMIT_RATE_PER_MINUTE", "2")
    rt = Runtime(load_settings())
    try:
        with serve_app(rt) as url:
            client = FormClient(url)
            statuses = [client.submit(report()).status_code for _ in range(3)]
            last = client.submit(report(what="The fourth report must not be lost on screen."))
            client.close()
        assert statuses[:2] == [200, 200] and statuses[2] == 429
        assert last.status_code == 429 and "fourth report must not be lost" in last.text
        assert _count(rt) == 2
    finally:
        rt.close()


def test_language_from_browser_and_switch(live_server: str) -> None:
    ru = httpx.get(f"{live_server}/submit", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert '<html lang="ru"' in ru.text and "Сообщить о случае" in ru.text and "Публиковать без имён" in ru.text
    en = httpx.get(f"{live_server}/submit?lang=en", headers={"Accept-Language": "ru"})
    assert '<html lang="en"' in en.text and "Report an incident" in en.text
    assert 'action="/submit?lang=en"' in en.text
    de = httpx.get(f"{live_server}/submit", headers={"Accept-Language": "de-DE"})
    assert '<html lang="en"' in de.text


def test_errors_are_translated(live_server: str) -> None:
    client = FormClient(live_server, headers={"Accept-Language": "ru"})
    r = client.submit(report(kind=""))
    client.close()
    assert _error_for(r.text, "kind") == "Выберите вид случая."


def test_receipt_followup_and_unknown_codes(form_client: FormClient, runtime: Runtime) -> None:
    code = receipt_of(form_client.submit(report()))
    with runtime.session() as s:
        from newsletter.states import transition

        transition(s, s.scalars(select(Incident)).one(), "needs_info", actor="ed", question="Which district?")
    page = form_client.http.get(f"/receipt/{code}")
    assert "Which district?" in page.text and "More information needed" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = form_client.http.post("/receipt", data={"csrf_token": token, "code": code, "action": "add",
                                                "text": "Sovetsky district."},
                              files=[("files", ("doc.pdf", samples.pdf_with_metadata(), "application/pdf"))])
    assert r.status_code == 200 and "was added to the report" in r.text and "Sovetsky district." in r.text
    with runtime.session() as s:
        assert s.scalars(select(Incident)).one().state == "new"
        assert s.scalar(select(func.count(SubmissionMessage.id))) == 1
        assert s.scalar(select(func.count(Attachment.id))) == 1
    empty = form_client.http.post(f"/receipt/{code}", data={"csrf_token": token, "text": " "},
                                  files=[("files", ("", b"", "application/octet-stream"))])
    assert empty.status_code == 400 and "Write something" in empty.text
    missing = form_client.http.get("/receipt/00000-00000-00000-00000-00000")
    assert missing.status_code == 404 and "No report has this receipt code" in missing.text
    malformed = form_client.http.post("/receipt", data={"csrf_token": token, "code": "hello", "action": "show"})
    assert malformed.status_code == 404 and "No report has this receipt code" in malformed.text
    forged = form_client.http.post("/receipt", data={"csrf_token": "x", "code": code, "action": "show"})
    assert forged.status_code == 403 and "Which district?" not in forged.text
