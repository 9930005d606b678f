"""Items of every format with photos in Chromium: the photos load from the archive (and nothing else
is requested), no horizontal overflow at 375 and 1024 px, no serious axe violation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from newsletter.config import Settings
from newsletter.render import write_archive
from tests.render.builders import make_snapshot, with_formats

pytestmark = pytest.mark.browser

PAGES = ["/issues/2026-W47/", "/issues/2026-W47/email.html"]


@pytest.fixture
def archive_url(live_server: str, settings: Settings) -> str:
    snap, files = with_formats(make_snapshot(12, base_url=live_server), photos=3)
    write_archive(settings.issues_dir, [snap], settings, media=lambda names: {n: files[n] for n in names})
    return live_server


@pytest.mark.parametrize("width", [375, 1024])
def test_photos_load_from_the_archive_and_nothing_overflows(browser: Any, archive_url: str, width: int,
                                                            tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        for path in PAGES:
            page.goto(archive_url + path)
            page.wait_for_load_state("networkidle")
            for img in page.query_selector_all("img"):  # the web page loads them lazily, as readers scroll
                img.scroll_into_view_if_needed()
            for _ in range(100):  # wait_for_function would need 'unsafe-eval', which the page's CSP forbids
                if page.evaluate("Array.from(document.images).every(i => i.complete)"):
                    break
                page.wait_for_timeout(100)
            page.evaluate("window.scrollTo(0, 0)")
            loaded = page.evaluate("Array.from(document.images).map(i => [i.complete && i.naturalWidth > 0, "
                                   "i.getBoundingClientRect().right])")
            assert len(loaded) == 3 and all(ok for ok, _ in loaded), (path, loaded)
            assert all(right <= width for _, right in loaded), (path, loaded)
            scroll, client = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            assert scroll <= client, f"{path} at {width}px: {scroll} > {client}"
            page.screenshot(path=str(tmp_path / f"{path.strip('/').replace('/', '_')}-{width}.png"), full_page=True)
        assert all(url.startswith(archive_url) for url in requested), requested
        assert any("/issues/2026-W47/media/" in url for url in requested)
    finally:
        context.close()


def test_every_format_passes_axe(browser: Any, archive_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        for path in PAGES:
            page.goto(archive_url + path)
            violations = [v for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
            assert violations == [], (path, [v["id"] for v in violations])
    finally:
        context.close()
