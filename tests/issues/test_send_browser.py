"""In Chromium: an editor approves, publishes, sends now, and watches the status page reach "done" by itself
(meta refresh, no JavaScript needed) while the scheduler's send job mails a real aiosmtpd on loopback."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from newsletter.flows.jobs import run_by_hand
from newsletter.models import Issue
from newsletter.runtime import Runtime
from tests.delivery.helpers import add_subscribers
from tests.editorial.helpers import login, make_user
from tests.support.servers import SmtpSink

pytestmark = pytest.mark.browser


@pytest.fixture
def settings_env(settings_env: dict[str, str], smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("NEWSLETTER_SMTP_URL", smtp.url)
    return {**settings_env, "NEWSLETTER_SMTP_URL": smtp.url}


def test_approve_publish_send_now_and_watch_the_status(runtime: Runtime, live_server: str, page, session: Session,
                                                       consent_issue: Issue, smtp: SmtpSink) -> None:
    add_subscribers(session, 4)
    make_user(runtime, "editor@example.org")
    login(page, live_server, "editor@example.org")
    page.goto(f"{live_server}/editor/issues/{consent_issue.id}")
    # The item text is Markdown, previewed live by the server while the editor types (nothing saved).
    page.locator("textarea[name=text]").first.fill("Held for **ten days**.")
    expect(page.locator(".md-live strong").first).to_have_text("ten days")
    page.get_by_role("button", name="Approve").click()
    page.get_by_role("button", name="Publish to the web archive").click()
    expect(page.locator("body")).to_contain_text("Published to the web archive")

    page.get_by_role("link", name="Send now or schedule…").click()
    expect(page.locator("#send-readers")).to_have_text("4 subscribers will receive this issue.")
    assert_accessible(page)
    page.get_by_role("button", name="Send now to 4 subscribers").click()
    assert page.url.endswith(f"/editor/issues/{consent_issue.id}/status")
    expect(page.locator("#send-state")).to_contain_text("waiting for the scheduler")
    expect(page.locator("#count-remaining")).to_have_text("4")
    assert smtp.messages == []  # the request only queued it

    assert run_by_hand(runtime, "send").outcome == "ok"  # the scheduler's job, while the page waits
    expect(page.locator("#send-state")).to_contain_text("Done: the issue was sent.", timeout=15_000)  # refreshed itself
    expect(page.locator("#count-sent")).to_have_text("4")
    expect(page.locator("#count-remaining")).to_have_text("0")
    assert page.locator("meta[http-equiv=refresh]").count() == 0  # and stopped refreshing
    assert len(smtp.messages) == 4
    assert_accessible(page)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0


def assert_accessible(page) -> None:  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe

    violations = [v for v in Axe().run(page).response["violations"] if v.get("impact") in ("serious", "critical")]
    assert violations == [], (page.url, [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations])
