"""The archive and the email in Chromium: axe-core, no horizontal overflow at phone and desktop width, print."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from newsletter.config import Settings
from newsletter.render import write_archive
from tests.render.builders import make_snapshot, series
from tests.render.test_layout import layout_snapshot

pytestmark = pytest.mark.browser

PAGES = ["/issues/", "/issues/2026-W48/", "/issues/2026-W48/email.html", "/issues/2026-W45/",
         "/issues/2026-W45/email.html",  # W45 is in Arabic: right to left
         "/issues/2026-W49/", "/issues/2026-W49/email.html"]  # W49: lead, sub-heads, editor's note, footer


@pytest.fixture
def archive_url(live_server: str, settings: Settings) -> str:
    snaps = series(2, items=4) + [make_snapshot(40, number=4, period="2026-W48", language="en")]
    snaps[0]["issue"].update(language="ar", title="أوقفوا الاضطهاد السياسي")
    snaps[0]["sections"][0]["title"] = "قمع الأصوات المستقلة"
    snaps[-1]["sections"][0]["items"][0]["headline"] = "A very long headline with an unbreakable " + "x" * 80
    snaps[-1]["sections"][0]["items"][0]["links"].append(
        {"url": "https://example.org/" + "very-long-path/" * 12, "title": ""})
    layout = layout_snapshot()
    layout["issue"].update(number=5, period="2026-W49", period_start="2026-11-30", period_end="2026-12-06")
    layout["sections"][-2]["items"][0]["subhead"] = "An unbreakable sub-head " + "y" * 60
    layout["editors_note"]["signature"] = "Signed " + "z" * 70
    write_archive(settings.issues_dir, snaps + [layout], settings)
    return live_server


def _serious(results: Any) -> list[str]:
    return [f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_violations(browser: Any, archive_url: str, scheme: str) -> None:
    context = browser.new_context(color_scheme=scheme)
    page = context.new_page()
    axe = Axe()
    try:
        for path in PAGES:
            page.goto(archive_url + path)
            results = axe.run(page)
            assert _serious(results) == [], path
    finally:
        context.close()


def test_axe_harness_detects_violations(page: Any) -> None:
    """Guards the test above: the bundled axe.min.js runs offline and does report problems."""
    page.set_content('<!DOCTYPE html><html><body><img src="data:,"><a href="#"></a></body></html>')
    ids = {v["id"] for v in Axe().run(page).response["violations"]}
    assert {"image-alt", "html-has-lang"} <= ids


@pytest.mark.parametrize("width", [375, 1024])
def test_no_horizontal_overflow(browser: Any, archive_url: str, width: int, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    try:
        for path in PAGES:
            page.goto(archive_url + path)
            scroll, client = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            assert client == width and scroll <= client, f"{path} at {width}px: {scroll} > {client}"
            shot = tmp_path / f"{path.strip('/').replace('/', '_') or 'index'}-{width}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 5000
    finally:
        context.close()


def test_archive_works_offline_and_has_no_third_party_requests(browser: Any, archive_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        for path in PAGES:
            page.goto(archive_url + path)
            # The browser's own requests (the favicon among them) finish before the next page:
            # a missing file is then always reported, not only when it happens to be quick.
            page.wait_for_load_state("networkidle")
        assert requested and all(url.startswith(archive_url) for url in requested), requested
        assert errors == [], requested  # no CSP violations, no missing files
        page.goto(archive_url + "/issues/2026-W48/")
        assert page.locator("[data-print]").is_visible()  # the script ran under the site's CSP
        colour = page.evaluate("getComputedStyle(document.querySelector('.section > h2')).color")
        assert colour == "rgb(122, 31, 31)"  # archive.css applied
    finally:
        context.close()


def test_print_layout(browser: Any, archive_url: str, tmp_path: Path) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(archive_url + "/issues/2026-W48/")
        page.emulate_media(media="print")
        hidden = page.evaluate("""['.toc', '.site-header nav', '[data-print]']
            .map(s => getComputedStyle(document.querySelector(s)).display)""")
        assert hidden == ["none", "none", "none"]
        after = page.evaluate("getComputedStyle(document.querySelector('.links a'), '::after').content")
        assert "rferl.org" in after or "example.org" in after  # printed sources keep their addresses
        pdf = page.pdf(path=str(tmp_path / "issue.pdf"), format="A4")
        assert pdf[:5] == b"%PDF-" and len(pdf) > 20_000
    finally:
        context.close()
