"""The whole editorial loop in Chromium, as an editor walks it (issue #15, item 8): log in, open the triage
list, triage a volunteer's report that came with a photo (seen inline), merge the second volunteer's
report of the same detention, draft the issue, preview it, approve, publish, send it now to the
confirmed subscribers through a real aiosmtpd on loopback, and watch the status page reach "sent".

Every step waits on a condition the page shows, never on a timer. Error pages for bad ids and the
attachment refused to an anonymous visitor are tests/web/test_desk_pages_browser.py's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.db import utcnow
from newsletter.flows.jobs import run_by_hand
from newsletter.models import Attachment, DuplicateCandidate, Incident, Issue
from newsletter.runtime import Runtime
from tests.delivery.helpers import add_subscribers
from tests.editorial.helpers import login, make_user
from tests.submissions import samples
from tests.submissions.conftest import FormClient, report
from tests.support.servers import SmtpSink

pytestmark = pytest.mark.browser

EDITOR = "editor@example.org"
FIRST = ("Police detained the activist Marat Zhylanbayev in Oral after a single picket against the war; "
         "the court gave him fifteen days of administrative arrest.")
SECOND = ("Activist Marat Zhylanbayev was detained by police in Oral after his single picket against the war, "
          "and a court sentenced him to fifteen days of administrative arrest.")


@pytest.fixture
def settings_env(settings_env: dict[str, str], smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The issue is mailed through a real aiosmtpd on loopback."""
    monkeypatch.setenv("NEWSLETTER_SMTP_URL", smtp.url)
    return {**settings_env, "NEWSLETTER_SMTP_URL": smtp.url}


@pytest.fixture
def reports(runtime: Runtime, live_server: str, session: Session) -> Iterator[dict[str, int]]:
    """An editor, two confirmed subscribers, and two volunteers' reports of one detention this week
    (the first with a photo), posted through the real form."""
    make_user(runtime, EDITOR)
    add_subscribers(session, 2)
    today = utcnow().astimezone(runtime.settings.tz).date().isoformat()
    form = FormClient(live_server)
    for what, files in ((FIRST, [("IMG_1.jpg", samples.jpeg_with_gps())]), (SECOND, [])):
        r = form.submit(report(what=what, kind="detention", city="Oral", country="Kazakhstan", occurred_on=today,
                               consent="names", **{"persons-0-name": "Marat Zhylanbayev"}), files)
        assert r.status_code == 200 and 'id="receipt-code"' in r.text, r.text[:1000]
    form.close()
    with runtime.session() as s:
        attachment = s.scalars(select(Attachment)).one()
        second = s.scalars(select(Incident.id).where(Incident.id != attachment.incident_id)).one()
        assert s.scalars(select(DuplicateCandidate)).all() == []  # not scored inside the volunteers' POSTs
    yield {"first": attachment.incident_id, "second": second, "attachment": attachment.id}


def test_an_editor_walks_the_whole_loop(reports: dict[str, int], runtime: Runtime, live_server: str, page: Any,
                                        smtp: SmtpSink) -> None:
    first, second = reports["first"], reports["second"]
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    login(page, live_server, EDITOR)
    page.goto(f"{live_server}/editor/triage")  # opening the list scores the reports waiting for it
    expect(page.locator("tr.triage-row")).to_have_count(2)

    # Triage the report with the photo: the picture shows inline, then accept it into a section.
    page.locator(f"tr.triage-row a[href='/editor/incidents/{first}']").first.click()
    page.wait_for_url(f"**/editor/incidents/{first}")
    thumb = page.locator(f"#attachment-{reports['attachment']} img.attachment-thumb")
    thumb.scroll_into_view_if_needed()  # loading="lazy"
    expect(thumb).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    page.check("form.decision input[value=persecution]")
    page.click("form.decision button[data-shortcut=accept]")
    page.wait_for_url("**done=accepted")
    expect(page.locator("#state")).to_have_text("accepted")

    # The second volunteer's report is offered as its duplicate: keep the first.
    page.goto(f"{live_server}/editor/duplicates")
    pair = page.locator("[id^=pair-]")
    expect(pair).to_have_count(1)
    pair.locator(f"form[action$='/merge']:has(input[name=keep][value='{first}']) button").click()
    page.wait_for_url("**done=merged")
    expect(page.locator("body")).to_contain_text("No open duplicate candidates.")

    # Draft the running week's issue: the accepted report is its item.
    page.goto(f"{live_server}/editor/issues/")
    page.get_by_role("button", name="Draft the issue").click()
    page.wait_for_url(re.compile(r".*/editor/issues/\d+\?done=saved"))
    issue_url = page.url.split("?", 1)[0]
    expect(page.locator("body")).to_contain_text("Zhylanbayev")

    # Preview: the email and the web page render in the desk's frames.
    page.get_by_role("link", name="Preview", exact=True).click()
    page.wait_for_url("**/preview")
    web = page.frame_locator("iframe[src$='/preview/web/']")
    expect(web.locator("body")).to_contain_text("Oral")

    # Approve, publish, send now.
    page.goto(issue_url)
    page.get_by_role("button", name="Approve").click()
    page.get_by_role("button", name="Publish to the web archive").click()
    expect(page.locator("body")).to_contain_text("Published to the web archive")
    page.get_by_role("link", name="Send now or schedule…").click()
    expect(page.locator("#send-readers")).to_have_text("2 subscribers will receive this issue.")
    page.get_by_role("button", name="Send now to 2 subscribers").click()
    page.wait_for_url("**/status")
    expect(page.locator("#count-remaining")).to_have_text("2")
    assert smtp.messages == []  # the request only queued the send

    assert run_by_hand(runtime, "send").outcome == "ok"  # the scheduler's send job, while the page is open
    page.reload()  # the page's own refresh (every 5 s) is tests/issues/test_send_browser.py's
    expect(page.locator("#send-state")).to_contain_text("Done: the issue was sent.")
    expect(page.locator("#count-sent")).to_have_text("2")
    assert sorted(r for m in smtp.messages for r in m.rcpt_tos) == ["reader0@example.org", "reader1@example.org"]

    with runtime.session() as s:
        merged = s.get(Incident, second)
        assert (merged.state, merged.merged_into_id) == ("duplicate", first)
        issue = s.scalars(select(Issue)).one()
        assert issue.state == "sent" and [item.incident_id for item in issue.items] == [first]
    assert all(url.startswith(live_server) for url in requested), "the desk loads nothing from elsewhere"
