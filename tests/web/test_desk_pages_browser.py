"""Every desk page in Chromium at 1280 and 375 px: no horizontal overflow and no serious or critical
axe-core violation (axe-core as bundled by axe-playwright-python, injected from a local file, never a
CDN); bad ids give the desk's HTML error page; a volunteer's attachment is refused to an anonymous
visitor (issue #15, item 8). The send-now part of the editorial loop is h-send's test."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from newsletter.flows.jobs import run_by_hand
from newsletter.models import Attachment, DuplicateCandidate, Person
from newsletter.runtime import Runtime
from tests.editorial.helpers import login, make_user
from tests.submissions import samples
from tests.submissions.conftest import FormClient, report

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
WHAT = ("Police detained the activist Marat Zhylanbayev in Oral on 18 November after a single picket against "
        "the war; the court gave him fifteen days of administrative arrest.")
AGAIN = ("Activist Marat Zhylanbayev was detained by police in Oral on 18 November after his single picket "
         "against the war, and a court sentenced him to fifteen days of administrative arrest.")


@pytest.fixture
def desk(runtime: Runtime, live_server: str) -> dict[str, Any]:
    """An admin; two volunteer reports of one detention (the first with a photo), so a duplicate pair."""
    make_user(runtime, "admin@example.org", role="admin")
    form = FormClient(live_server)
    for what, files in ((WHAT, [("IMG_1.jpg", samples.jpeg_with_gps())]), (AGAIN, [])):
        r = form.submit(report(what=what, city="Oral", country="Kazakhstan", kind="detention",
                               **{"persons-0-name": "Marat Zhylanbayev"}), files)
        assert r.status_code == 200 and 'id="receipt-code"' in r.text, r.text[:1000]
    form.close()
    run_by_hand(runtime, "duplicates")  # the scheduler's job offers the pair (never the volunteer's POST)
    with runtime.session() as s:
        attachment = s.scalars(select(Attachment)).one()
        pair = s.scalars(select(DuplicateCandidate)).one()
        person = s.scalars(select(Person)).first()
        return {"incident": attachment.incident_id, "attachment": attachment.id, "pair": pair.id,
                "person": person.id}


def _pages(d: dict[str, Any]) -> list[str]:
    return ["/editor/", "/editor/triage", "/editor/triage?q=Oral&city=Oral", f"/editor/incidents/{d['incident']}",
            "/editor/duplicates", "/editor/persons/", "/editor/persons/summary", "/editor/persons/new",
            f"/editor/persons/{d['person']}", "/editor/users/", "/editor/sections/", "/editor/sources/",
            "/editor/tokens/", "/editor/audit/", "/editor/subscribers/", "/editor/subscribers/suppressions",
            "/editor/incidents/99999", "/editor/incidents/abc", "/editor/persons/999"]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "375"])
def test_every_desk_page_fits_the_screen_and_passes_axe(desk: dict[str, Any], live_server: str, browser: Any,
                                                        viewport: dict[str, int]) -> None:
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    axe = Axe()
    page.goto(f"{live_server}/editor/login")
    problems: list[Any] = []
    pages = ["/editor/login", *_pages(desk)]
    for path in pages:
        if path != "/editor/login" and "/editor/login" in page.url:
            login(page, live_server, "admin@example.org")
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("networkidle")
        if (wide := page.evaluate(OVERFLOW)) > 0:
            problems.append((path, "overflow", wide))
        violations = [v for v in axe.run(page).response["violations"] if v.get("impact") in ("serious", "critical")]
        problems += [(path, v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
    context.close()
    assert problems == []


def test_bad_ids_are_desk_error_pages(desk: dict[str, Any], live_server: str, browser: Any) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    login(page, live_server, "admin@example.org")
    for path in ("/editor/incidents/99999", "/editor/incidents/abc", "/editor/persons/999", "/editor/duplicates/999/merge"):
        response = page.goto(f"{live_server}{path}")
        assert response is not None and response.status in (404, 405, 422), (path, response.status)
        assert "application/json" not in (response.headers.get("content-type") or ""), path
        assert page.locator("nav").count() >= 1 and page.locator("h1").count() == 1, path  # the desk's layout
    context.close()


def test_an_attachment_is_refused_to_an_anonymous_visitor(desk: dict[str, Any], live_server: str, browser: Any) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    url = f"{live_server}/editor/incidents/{desk['incident']}/attachments/{desk['attachment']}"
    response = page.goto(url)
    assert response is not None and "/editor/login" in page.url  # sent to log in, no file
    assert response.headers.get("content-type", "").startswith("text/html")
    login(page, live_server, "admin@example.org")
    page.goto(f"{live_server}/editor/incidents/{desk['incident']}")
    thumb = page.locator("img.attachment-thumb")
    assert thumb.count() == 1 and thumb.evaluate("img => img.complete && img.naturalWidth > 0")
    context.close()
