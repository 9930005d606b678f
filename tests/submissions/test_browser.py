"""The form in Debian's Chromium, with JavaScript on and off, on a 360 px wide phone screen."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from newsletter.models import Attachment, Incident
from newsletter.runtime import Runtime
from newsletter.submissions import receipts
from tests.submissions import samples

pytestmark = pytest.mark.browser
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def phone(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    js = getattr(request, "param", True)
    context = browser.new_context(java_script_enabled=js, viewport=PHONE, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.mark.parametrize("phone", [True, False], ids=["js-on", "js-off"], indirect=True)
def test_fill_and_send_with_a_gps_photo(phone: Any, live_server: str, runtime: Runtime, tmp_path: Path) -> None:
    page = phone
    photo = tmp_path / "IMG_2026_home.jpg"
    photo.write_bytes(samples.jpeg_with_gps(800, 600))
    page.goto(f"{live_server}/submit")
    page.fill("#what", "Police searched the flat of a trade unionist and seized his phone.")
    page.select_option("#kind", "search")
    page.fill("#occurred_on", "2026-11-18")
    page.select_option("#date_precision", "week")
    page.fill("#city", "Samara")
    page.fill("#persons-0-name", "Nikolai B")
    page.select_option("#persons-0-role", "trade_unionist")
    page.click("button[data-add-person]")
    page.wait_for_selector("#persons-1-name")
    page.fill("#persons-1-name", "Wife of Nikolai")
    page.select_option("#persons-1-role", "relative")
    page.set_input_files("#files", str(photo))
    page.check("#consent-no_names")
    page.click("button[value=send]")
    code = page.text_content("#receipt-code", timeout=20_000).strip()
    assert receipts.normalise(code) == code

    with runtime.session() as s:
        incident = s.scalars(select(Incident)).one()
        assert (incident.state, incident.origin, incident.publication, incident.kind) == (
            "new", "volunteer", "anonymised", "search")
        assert [(p.name, p.role) for p in incident.persons] == [("Nikolai B", "trade_unionist"),
                                                               ("Wife of Nikolai", "relative")]
        assert str(incident.occurred_on) == "2026-11-18" and incident.date_precision == "week"
        stored = s.scalars(select(Attachment)).one()
    data = (runtime.settings.attachments_dir / stored.stored_name).read_bytes()
    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG" and img.size == (600, 800)
    assert not img.getexif() and not img.info.get("icc_profile") and not img.info.get("exif")
    for needle in (b"Exif", b"GPS", samples.CAMERA.encode(), samples.SECRET_NAME.encode(), b"adobe:ns:meta"):
        assert needle not in data

    page.click("text=Check this report")
    assert page.text_content("#status").strip() == "Received"


def test_javascript_adds_people_without_a_round_trip_and_fits_a_phone(phone: Any, live_server: str) -> None:
    page = phone
    page.goto(f"{live_server}/submit")
    page.fill("#what", "Unsaved text stays in place.")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.click("button[data-add-person]")
    page.click("button[data-add-person]")
    assert page.locator("[data-person-row]").count() == 3
    assert page.get_attribute("#persons-2-name", "name") == "persons-2-name"
    assert page.is_visible("label[for=persons-2-name]")
    assert navigations == [] and page.input_value("#what") == "Unsaved text stays in place."
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.parametrize("phone", [False], ids=["js-off"], indirect=True)
def test_errors_without_javascript_keep_text_and_are_announced(phone: Any, live_server: str) -> None:
    page = phone
    page.goto(f"{live_server}/submit")
    page.fill("#what", "Only the description is filled in.")
    page.click("button[value=send]")
    assert page.locator("#error-summary").is_visible()
    assert page.input_value("#what") == "Only the description is filled in."
    assert "Choose the kind of incident." in page.text_content("#kind-error")
    assert page.get_attribute("#kind", "aria-invalid") == "true"
    page.click("#error-summary a[href='#kind']")
    assert page.url.endswith("#kind")


def test_russian_from_the_browser_and_switch_back(browser: Any, live_server: str) -> None:
    context = browser.new_context(locale="ru-RU", viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/submit")
        assert page.text_content("h1") == "Сообщить о случае"
        assert page.get_attribute("html", "lang") == "ru"
        page.click("a[hreflang=en]")
        assert page.text_content("h1") == "Report an incident"
        assert re.search(r"lang=en", page.url)
    finally:
        context.close()


def test_no_serious_accessibility_violations(phone: Any, live_server: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    phone.goto(f"{live_server}/submit")
    results = Axe().run(phone)
    serious = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert serious == [], [(v["id"], v["help"]) for v in serious]


def test_keyboard_order_skips_the_honeypot(phone: Any, live_server: str) -> None:
    page = phone
    page.goto(f"{live_server}/submit")
    page.focus("#what")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "kind"
    page.focus("#consent-count_only")
    visited = []
    for _ in range(6):
        page.keyboard.press("Tab")
        visited.append(page.evaluate("document.activeElement.id || document.activeElement.value"))
    assert "website" not in visited and "send" in visited


def test_receipt_page_has_no_serious_accessibility_violations(phone: Any, live_server: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    page = phone
    page.goto(f"{live_server}/submit")
    page.fill("#what", "A solidarity picket was held outside the court.")
    page.select_option("#kind", "solidarity_action")
    page.check("#consent-names")
    page.click("button[value=send]")
    page.click("text=Check this report")
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert serious == [], [(v["id"], v["help"]) for v in serious]
