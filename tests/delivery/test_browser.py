"""The reader pages in Debian's Chromium with JavaScript off: subscribe, confirm, unsubscribe."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from newsletter.models import Subscriber
from tests.support.servers import serve_app


@pytest.mark.browser
def test_subscribe_confirm_unsubscribe_without_javascript(make_runtime, smtp, browser) -> None:
    rt = make_runtime(smtp_url=smtp.url)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    try:
        with serve_app(rt) as base:
            page.goto(f"{base}/subscribe")
            page.fill("#email", "reader@example.org")
            page.select_option("#language", "ru")
            page.click("button[type=submit]")
            assert page.locator("h1").inner_text() == "Check your inbox"
            deadline = time.monotonic() + 5
            while not smtp.messages and time.monotonic() < deadline:
                time.sleep(0.02)
            text = smtp.messages[0].message.get_payload()[0].get_payload(decode=True).decode()
            path = re.search(r"http://127\.0\.0\.1:8000(/confirm/\S+)", text).group(1)
            # The reader chose Russian: the pages their links open speak it (tests/web/test_languages.py).
            page.goto(base + path)
            page.click("text=Подтвердить подписку")
            assert page.locator("h1").inner_text() == "Вы подписаны"
            with rt.session() as s:
                sub = s.scalar(select(Subscriber))
                assert (sub.state, sub.language) == ("confirmed", "ru")
            page.goto(f"{base}/unsubscribe/{sub.token}")
            page.click("button.danger")
            assert page.locator("h1").inner_text() == "Вы отписались"
        assert all(u.startswith(base) for u in requests), "a page loaded something from elsewhere"
    finally:
        context.close()
    with rt.session() as s:
        assert s.scalar(select(Subscriber.state)) == "unsubscribed"
