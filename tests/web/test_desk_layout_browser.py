"""The small things of issue 15 (item 7) that only a browser shows, checked in Chromium at 1280 px and on a
phone: the preview frames whole, the chart legend not cut, dates typed and shown year-month-day, buttons
readable in dark mode (contrast computed from the computed styles), no page wider than the screen."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from newsletter.runtime import Runtime
from tests.editorial import factories as fx
from tests.editorial.helpers import login, make_user

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
# WCAG contrast of every visible button against the first opaque background behind it.
BUTTON_CONTRASTS = """() => {
  const parse = c => { const p = c.match(/[\\d.]+/g).map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const channel = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  const lum = c => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const behind = el => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
    if (c.a > 0.5) return c; } return parse(getComputedStyle(document.body).backgroundColor); };
  return [...document.querySelectorAll("button, .button, input[type=submit]")]
    .filter(el => el.offsetWidth > 0 && el.offsetHeight > 0)
    .map(el => { const fg = lum(parse(getComputedStyle(el).color)), bg = lum(behind(el));
                 return [el.textContent.trim() || el.value, (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05)]; });
}"""


@pytest.fixture
def desk(runtime: Runtime, live_server: str, browser: Any) -> dict[str, Any]:
    """An editor and an admin, incidents in every section in week 2026-W47 and a draft of that week."""
    make_user(runtime, "ed@example.org", role="editor")
    make_user(runtime, "admin@example.org", role="admin")
    with runtime.session() as s:
        slugs = ["persecution", "political-persecution", "punitive-psychiatry", "solidarity", "legislation",
                 "international"]
        ids = [fx.incident(s, f"Report {n} on a detention in Oral", state="accepted", occurred_on=date(2026, 11, 18),
                           sections=[slug]).id
               for n, slug in enumerate(slugs)]
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    login(page, live_server, "ed@example.org")
    page.goto(f"{live_server}/editor/issues/")
    page.fill("#period", "2026-W47")
    page.click("form.issue-draft button[type=submit]")
    page.wait_for_url("**/editor/issues/*")
    issue_path = page.url.removeprefix(live_server).split("?")[0]
    context.close()
    return {"incident": ids[0], "issue": issue_path}


def _editor_page(browser: Any, live_server: str, viewport: dict[str, int], email: str = "ed@example.org",
                 **options: Any) -> Any:
    context = browser.new_context(viewport=viewport, **options)
    page = context.new_page()
    login(page, live_server, email)
    return page


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "375"])
def test_the_pages_changed_here_are_no_wider_than_the_screen(desk: dict[str, Any], live_server: str, browser: Any,
                                                             viewport: dict[str, int]) -> None:
    page = _editor_page(browser, live_server, viewport)
    for path in ("/editor/", f"/editor/incidents/{desk['incident']}", f"{desk['issue']}/preview",
                 "/editor/incidents/abc", "/editor/persons/summary"):
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate(OVERFLOW) <= 0, (path, viewport, page.evaluate(OVERFLOW))
    page.context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "375"])
def test_the_chart_legend_shows_every_section_name_whole(desk: dict[str, Any], live_server: str, browser: Any,
                                                         viewport: dict[str, int]) -> None:
    page = _editor_page(browser, live_server, viewport)
    page.goto(f"{live_server}/editor/")
    names = page.locator(".chart-legend li span").all_inner_texts()
    assert "Political persecution – Punitive psychiatry" in names and len(names) == 6
    clipped = page.evaluate("""() => [...document.querySelectorAll('.chart-legend li span')].filter(el => {
        const r = el.getBoundingClientRect(), box = el.closest('figure').getBoundingClientRect();
        return el.scrollWidth > el.clientWidth + 1 || r.right > box.right + 1 || r.right > innerWidth; })
        .map(el => el.textContent)""")
    assert clipped == []
    page.context.close()


def test_the_preview_frames_are_whole_at_1280_px(desk: dict[str, Any], live_server: str, browser: Any) -> None:
    page = _editor_page(browser, live_server, DESKTOP)
    page.goto(f"{live_server}{desk['issue']}/preview")
    page.wait_for_load_state("networkidle")
    cut = page.evaluate("""() => [...document.querySelectorAll('iframe.preview-frame')].filter(f => {
        const box = f.parentElement.getBoundingClientRect(), r = f.getBoundingClientRect();
        return r.right > box.right + 1 || f.parentElement.scrollWidth > f.parentElement.clientWidth
            || r.right > innerWidth; }).map(f => f.title)""")
    assert cut == []
    web = page.frame_locator("iframe[src$='/preview/web/']")
    feed = web.get_by_role("link", name="Atom feed")
    feed_box, frame_box = feed.bounding_box(), page.locator("iframe[src$='/preview/web/']").bounding_box()
    assert feed_box is not None and frame_box is not None
    assert feed_box["x"] + feed_box["width"] <= frame_box["x"] + frame_box["width"]
    assert feed_box["x"] + feed_box["width"] <= DESKTOP["width"]
    page.context.close()


def test_dates_are_typed_and_shown_year_month_day(desk: dict[str, Any], live_server: str, browser: Any) -> None:
    page = _editor_page(browser, live_server, DESKTOP, email="admin@example.org")
    for path in ("/editor/triage", f"/editor/incidents/{desk['incident']}", "/editor/persons/",
                 "/editor/persons/summary", "/editor/audit/", "/submit"):
        page.goto(f"{live_server}{path}")
        assert page.locator("input[type=date]").count() == 0, path
        dates = page.locator("input.iso-date")
        assert dates.count() >= 1, path
        assert set(dates.evaluate_all("els => els.map(e => e.placeholder)")) == {"YYYY-MM-DD"}, path
    page.goto(f"{live_server}/editor/incidents/{desk['incident']}")
    assert page.input_value("#occurred_on") == "2026-11-18"
    page.fill("#occurred_on", "2026-11-17")
    page.click("form[action$='/edit'] button[type=submit]")
    page.wait_for_url("**done=saved")
    assert page.input_value("#occurred_on") == "2026-11-17"
    page.context.close()


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_buttons_are_readable_in_both_colour_schemes(desk: dict[str, Any], live_server: str, browser: Any,
                                                      scheme: str) -> None:
    context = browser.new_context(viewport=PHONE, color_scheme=scheme)
    page = context.new_page()
    checked = 0
    for path in ("/submit", "/subscribe", "/unsubscribe", "/receipt", "/editor/login"):
        page.goto(f"{live_server}{path}")
        contrasts = page.evaluate(BUTTON_CONTRASTS)
        assert contrasts, path
        low = [(label, round(ratio, 2)) for label, ratio in contrasts if ratio < 4.5]
        assert low == [], (path, scheme, low)
        checked += len(contrasts)
    login(page, live_server, "ed@example.org")
    for path in ("/editor/", f"/editor/incidents/{desk['incident']}", desk["issue"]):
        page.goto(f"{live_server}{path}")
        low = [(label, round(ratio, 2)) for label, ratio in page.evaluate(BUTTON_CONTRASTS) if ratio < 4.5]
        assert low == [], (path, scheme, low)
    assert checked >= 5
    context.close()
