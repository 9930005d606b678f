"""The issue desk in Chromium: framed previews load under the CSP, and the desk fits a phone."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from newsletter.models import Issue
from newsletter.runtime import Runtime
from tests.editorial.helpers import login, make_user
from tests.issues.conftest import assert_no_protected_words

pytestmark = pytest.mark.browser


def test_previews_render_inside_the_desk(runtime: Runtime, live_server: str, page, session: Session,
                                         consent_issue: Issue) -> None:
    make_user(runtime, "editor@example.org")
    blocked: list[str] = []
    page.on("console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None)
    login(page, live_server, "editor@example.org")
    page.goto(f"{live_server}/editor/issues/{consent_issue.id}/preview")
    frames = {f.url.rsplit("/preview", 1)[-1]: f for f in page.frames if "/preview/" in f.url}
    assert set(frames) == {"/email.html", "/web/"}
    phone = page.frame_locator("iframe[width='375']")
    assert "R. S. and Activist E." in phone.locator("body").inner_text()
    web = page.frame_locator(f"iframe[src$='/preview/web/']")
    assert "R. S. and Activist E." in web.locator("body").inner_text()
    for frame in page.frames:
        assert_no_protected_words(frame.content(), frame.url)
    assert blocked == []
    # The email adapts to the phone frame: nothing wider than 375 px.
    width = page.frame_locator("iframe[width='375']").locator("html").evaluate("e => e.scrollWidth")
    assert width <= 375


def test_issue_page_fits_a_phone(runtime: Runtime, live_server: str, page, consent_issue: Issue) -> None:
    make_user(runtime, "editor@example.org")
    page.set_viewport_size({"width": 375, "height": 800})
    login(page, live_server, "editor@example.org")
    page.goto(f"{live_server}/editor/issues/{consent_issue.id}")
    assert page.locator("h1").inner_text().startswith("Issue 1")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0


def test_desk_issue_pages_pass_axe(runtime: Runtime, live_server: str, page, consent_issue: Issue) -> None:
    from axe_playwright_python.sync_playwright import Axe

    make_user(runtime, "editor@example.org")
    login(page, live_server, "editor@example.org")
    axe = Axe()
    for path in ("/editor/issues/", f"/editor/issues/{consent_issue.id}", f"/editor/issues/{consent_issue.id}/preview"):
        page.goto(live_server + path)
        violations = [v for v in axe.run(page).response["violations"] if v.get("impact") in ("serious", "critical")]
        assert violations == [], (path, [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations])
