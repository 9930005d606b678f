"""The triage flow end to end in Chromium: log in, filter, accept with sections, merge a duplicate."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from newsletter.models import AuditLog, DuplicateCandidate, Incident
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
