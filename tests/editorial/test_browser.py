"""The desk end to end in Chromium: log in, filter, accept with sections, merge a duplicate; a volunteer's
photo seen as a thumbnail and downloaded; error pages; a refused form that a reload does not send again."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from newsletter.models import Attachment, AuditLog, DuplicateCandidate, Incident
from newsletter.runtime import Runtime
from tests.editorial import factories as fx
from tests.editorial.helpers import login, make_user


@pytest.mark.browser
def test_triage_flow_in_a_real_browser(runtime: Runtime, live_server: str, page: Any) -> None:
    make_user(runtime, "ed@example.org", role="editor")
    with runtime.session() as s:
        feed = fx.source(s, "Vlast")
        target = fx.incident(s, "Activist detained in Oral", src=feed, city="Oral", matched_keywords=["detained"])
        fx.incident(s, "Unrelated picket in Taraz", src=feed, city="Taraz")
        a = fx.incident(s, "Journalist fined in Almaty", src=feed, url="https://a.example.org/1")
        b = fx.incident(s, "Almaty journalist fined", url="https://b.example.org/2", origin="volunteer")
        pair = fx.candidate(s, a, b, 0.97)
        ids = {"target": target.id, "a": a.id, "b": b.id, "pair": pair.id}
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"{live_server}/editor/triage")
    assert "/editor/login" in page.url  # anonymous: sent to the login page
    login(page, live_server, "ed@example.org")

    page.goto(f"{live_server}/editor/triage")
    assert not page.is_visible("#city")  # rarer filters are folded under "More filters"
    page.click("details.more-filters summary")
    page.fill("#city", "Oral")
    page.fill("#keyword", "detained")
    page.click("form.filters button[type=submit]")
    rows = page.locator("tr.triage-row")
    assert rows.count() == 1 and "Activist detained in Oral" in rows.first.inner_text()
    page.keyboard.press("j")  # self-hosted keyboard shortcuts
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/editor/incidents/{ids['target']}")

    page.check("form.decision input[value=persecution]")
    page.check("form.decision input[value=international]")
    page.click("form.decision button[data-shortcut=accept]")
    page.wait_for_url("**done=accepted")
    assert page.locator("#state").inner_text() == "accepted"
    assert "Incident accepted." in page.inner_text("p.notice")

    page.goto(f"{live_server}/editor/duplicates")
    page.click(f"#pair-{ids['pair']} form[action$='/merge']:has(input[value='{ids['a']}']) button")
    page.wait_for_url("**done=merged")
    assert "No open duplicate candidates." in page.content()

    with runtime.session() as s:
        accepted = s.get(Incident, ids["target"])
        assert accepted.state == "accepted"
        assert [sec.slug for sec in accepted.sections] == ["persecution", "international"]
        dup = s.get(Incident, ids["b"])
        assert dup.state == "duplicate" and dup.merged_into_id == ids["a"]
        assert sorted(src.url for src in s.get(Incident, ids["a"]).sources) == [
            "https://a.example.org/1", "https://b.example.org/2"]
        assert s.get(DuplicateCandidate, ids["pair"]).state == "merged"
        steps = s.execute(select(AuditLog.action, AuditLog.entity_id, AuditLog.actor).order_by(AuditLog.id)).all()
    desk_steps = [(action, entity) for action, entity, actor in steps if actor == "ed@example.org"]
    assert desk_steps == [
        ("user.login", desk_steps[0][1]),
        ("incident.sections", ids["target"]),
        ("incident.accepted", ids["target"]),
        ("incident.duplicate", ids["b"]),
        ("incident.merge", ids["a"]),
    ]
    assert all(url.startswith(live_server) for url in requested), "the desk loads nothing from elsewhere"


# ---------------------------------------------------------------- issue 15: attachments, error pages, reloads

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
# Where the lines of an element's text start: a new line starts where a character's top moves down.
LINE_STARTS = """el => {
  const text = el.firstChild; const starts = []; let top = null;
  for (let i = 0; i < text.length; i++) {
    const r = document.createRange(); r.setStart(text, i); r.setEnd(text, i + 1);
    const rect = r.getClientRects()[0]; if (!rect) continue;
    if (top !== null && rect.top > top + 2) starts.push(i);
    top = rect.top;
  }
  return starts;
}"""


def _volunteer_sends_a_photo(browser: Any, live_server: str) -> tuple[Any, str]:
    """A volunteer on a 360 px phone sends a report with a photo through the real form; returns the
    volunteer's browser context (still open) and the receipt code."""
    from tests.submissions import samples

    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server}/submit")
    page.fill("#what", "Police searched the flat of a local activist at dawn and took two laptops.")
    page.select_option("#kind", "search")
    page.fill("#occurred_on", "2026-11-18")
    page.check("#consent-no_names")
    page.set_input_files("#files", files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg",
                                           "buffer": samples.jpeg_with_gps(640, 480)}])
    page.click("button[value=send]")
    page.wait_for_load_state()
    code_el = page.locator("#receipt-code")
    code = code_el.inner_text().strip()
    assert len(code) == 29, code
    breaks = code_el.evaluate(LINE_STARTS)
    assert all(code[i - 1] == "-" for i in breaks), f"the receipt code wraps inside a group at {breaks}"
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    return context, code


@pytest.mark.browser
def test_an_editor_sees_a_thumbnail_and_downloads_the_attachment(runtime: Runtime, live_server: str,
                                                                 browser: Any) -> None:
    volunteer, _code = _volunteer_sends_a_photo(browser, live_server)
    with runtime.session() as s:
        attachment = s.scalar(select(Attachment))
        ids = {"incident": attachment.incident_id, "attachment": attachment.id}
    file_url = f"{live_server}/editor/incidents/{ids['incident']}/attachments/{ids['attachment']}"
    refused = volunteer.new_page()  # the volunteer who sent it gets nothing from the desk
    refused.goto(file_url)
    assert "/editor/login" in refused.url and refused.locator("img").count() == 0
    volunteer.close()

    make_user(runtime, "ed@example.org", role="editor")
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    login(page, live_server, "ed@example.org")
    page.goto(f"{live_server}/editor/incidents/{ids['incident']}")
    thumb = page.locator("img.attachment-thumb")
    thumb.wait_for()
    assert thumb.evaluate("img => img.complete && img.naturalWidth") == 240  # re-encoded small, upright
    box = thumb.bounding_box()
    assert box is not None and box["width"] <= 161 and box["height"] <= 161
    link = page.locator(f"a[href$='/attachments/{ids['attachment']}']")
    assert link.inner_text() == f"attachment-{ids['attachment']}.jpg"
    with page.expect_response(lambda r: r.url == file_url) as response_info, page.expect_download() as download_info:
        link.click()
    headers = response_info.value.headers
    assert headers["content-disposition"] == (
        f'attachment; filename="incident-{ids["incident"]}-attachment-{ids["attachment"]}.jpg"')
    assert headers["x-content-type-options"] == "nosniff" and headers["cache-control"] == "no-store"
    assert download_info.value.suggested_filename == f"incident-{ids['incident']}-attachment-{ids['attachment']}.jpg"
    context.close()
    with runtime.session() as s:
        audited = s.execute(select(AuditLog.actor, AuditLog.entity_id).where(
            AuditLog.action == "attachment.downloaded")).all()
    assert audited == [("ed@example.org", ids["attachment"])]

    anonymous = browser.new_context()
    stranger = anonymous.new_page()
    response = stranger.goto(file_url)
    assert "/editor/login" in stranger.url and response is not None and response.headers["content-type"].startswith("text/html")
    anonymous.close()


@pytest.mark.browser
def test_error_pages_and_a_refused_form_that_a_reload_does_not_send_again(runtime: Runtime, live_server: str,
                                                                          page: Any) -> None:
    make_user(runtime, "ed@example.org", role="editor")
    with runtime.session() as s:
        incident = fx.incident(s, "Journalist fined in Almaty")
        incident_id = incident.id
    login(page, live_server, "ed@example.org")
    for path in ("/editor/incidents/99999", "/editor/incidents/abc", "/editor/issues/999", "/editor/persons/999"):
        response = page.goto(f"{live_server}{path}")
        assert response is not None and response.status == 404, path
        assert page.locator("h1").inner_text().startswith("Not Found") and page.locator("nav a").count() >= 5
    response = page.goto(f"{live_server}/editor/users/")
    assert response is not None and response.status == 403 and "admins only" in page.inner_text("main")

    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.goto(f"{live_server}/editor/incidents/{incident_id}")
    page.fill("#duplicate_of", "not a number")
    page.click("form.decision:has(#duplicate_of) button")
    page.wait_for_load_state()
    assert "is not the number of an existing incident" in page.inner_text("main")
    assert page.url == f"{live_server}/editor/incidents/{incident_id}"  # the POST left the history
    assert len(posts) == 1
    page.reload()
    assert len(posts) == 1, "a reload sent the refused form again"
    assert "is not the number of an existing incident" not in page.inner_text("main")

    page.eval_on_selector("form.decision:has(#reason) input[name=csrf_token]", "el => { el.value = 'forged'; }")
    page.fill("#reason", "off topic")
    page.click("form.decision:has(#reason) button")
    page.wait_for_load_state()
    assert "security token" in page.inner_text("main") and page.locator("h1").inner_text().startswith("Forbidden")
    assert page.url == f"{live_server}/editor/incidents/{incident_id}"
    page.reload()
    assert len(posts) == 2 and page.locator("#reason").count() == 1
    with runtime.session() as s:
        assert s.get(Incident, incident_id).state == "new"
