"""The editions in Chromium: the language switch leads from one edition to the other, each page is
accessible (axe-core), and the untranslated-item note is read in the reader's language."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from newsletter.config import Settings
from newsletter.render import write_archive
from tests.render.builders import make_edition, make_snapshot

pytestmark = pytest.mark.browser


@pytest.fixture
def archive_url(live_server: str, settings: Settings) -> str:
    default = make_snapshot(6, number=4, period="2026-W48", language="en")
    ru = make_edition(default, "ru")
    ru["sections"][-1]["items"][0]["original_language"] = "en"  # shown in the original, with the note
    write_archive(settings.issues_dir, [default], settings, editions={"2026-W48": {"ru": ru}})
    return live_server


def test_the_switch_leads_between_editions_and_every_page_passes_axe(page: Any, archive_url: str) -> None:
    page.goto(archive_url + "/issues/2026-W48/")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("navigation", name="Language").get_by_role("link", name="Русский").click()
    page.wait_for_url("**/issues/2026-W48/ru/")
    assert page.locator("html").get_attribute("lang") == "ru"
    note = page.locator(".original-note")
    assert note.count() == 1 and note.get_attribute("lang") == "ru"
    assert note.locator("xpath=ancestor::article[1]").get_attribute("lang") == "en"
    axe = Axe()
    assert [v["id"] for v in axe.run(page).response["violations"] if v["impact"] in ("serious", "critical")] == []
    page.get_by_role("navigation", name="Язык").get_by_role("link", name="English").click()
    page.wait_for_url("**/issues/2026-W48/")
    page.goto(archive_url + "/issues/ru/")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert [v["id"] for v in axe.run(page).response["violations"] if v["impact"] in ("serious", "critical")] == []
    page.locator("ul.issues a").first.click()
    page.wait_for_url("**/issues/2026-W48/ru/")
