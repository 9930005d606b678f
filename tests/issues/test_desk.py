"""The issue desk through HTTP on the real app: drafting, editing, previews, test send and sign-off, with CSRF."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.header import decode_header, make_header
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.models import AuditLog, Incident, Issue
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from tests.editorial.helpers import csrf_token_of, login, make_user
from tests.issues.conftest import assert_no_protected_words

EDITOR, SECOND = "editor@example.org", "second@example.org"


@pytest.fixture
def desk(runtime: Runtime) -> Iterator[TestClient]:
    make_user(runtime, EDITOR)
    with TestClient(create_app(runtime), base_url="http://testserver") as client:
        login(client, "", EDITOR)
        yield client


def post(client: TestClient, page_url: str, action: str, data: dict[str, str]) -> object:
    token = csrf_token_of(client.get(page_url).text)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=False)


def issue_of(session: Session) -> Issue:
    session.expire_all()
    issue = session.scalar(select(Issue))
    assert issue is not None
    return issue


def test_desk_requires_login(runtime: Runtime) -> None:
    with TestClient(create_app(runtime), base_url="http://testserver") as client:
        r = client.get("/editor/issues/", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/editor/login?next=/editor/issues/")
        assert client.get("/editor/issues/1/preview/email.html", follow_redirects=False).status_code == 303


def test_draft_edit_and_reorder_through_the_desk(desk: TestClient, session: Session, make_incident) -> None:
    make_incident("Blogger detained", section="persecution")
    make_incident("Journalist searched", section="persecution")
    r = post(desk, "/editor/issues/", "/editor/issues/draft", {"period": "2026-W47"})
    assert r.status_code == 303
    issue = issue_of(session)
    page = desk.get(r.headers["location"])
    assert "Blogger detained" in page.text and "Journalist searched" in page.text
    url = f"/editor/issues/{issue.id}"

    r = post(desk, url, f"{url}/fields", {"title": "Can citizens escape?", "intro": "First paragraph.\n\nSecond.",
                                          "preheader": "", "show_withheld_count": "1"})
    assert r.status_code == 303
    first, second = sorted(issue_of(session).items, key=lambda i: i.position)
    r = post(desk, url, f"{url}/items/{first.id}", {"action": "save", "headline": "Blogger held for 10 days",
                                                     "text": "Two sentences. Three.", "section": "persecution"})
    assert r.status_code == 303
    post(desk, url, f"{url}/items/{second.id}", {"action": "up"})
    post(desk, url, f"{url}/items/{first.id}", {"action": "move", "section": "repression"})
    issue = issue_of(session)
    assert (issue.title, issue.intro, issue.show_persons_summary) == ("Can citizens escape?", "First paragraph.\n\nSecond.", False)
    by_id = {i.id: i for i in issue.items}
    assert by_id[first.id].headline == "Blogger held for 10 days" and by_id[first.id].section.slug == "repression"
    assert by_id[second.id].position < by_id[first.id].position
    html = desk.get(url).text
    assert html.index("Repression of independent voices") < html.index("Intensified political persecution")


def test_bad_input_is_refused_with_a_message_and_loses_nothing(desk: TestClient, session: Session, make_incident) -> None:
    make_incident("Blogger detained")
    r = post(desk, "/editor/issues/", "/editor/issues/draft", {"period": "2026-W99"})
    assert r.status_code == 409 and "2026 has no ISO week 99" in r.text
    post(desk, "/editor/issues/", "/editor/issues/draft", {"period": "2026-W47"})
    issue = issue_of(session)
    url = f"/editor/issues/{issue.id}"
    item = issue.items[0]
    r = post(desk, url, f"{url}/items/{item.id}", {"action": "save", "headline": "   ", "text": "kept?"})
    assert r.status_code == 409 and "the headline cannot be empty" in r.text
    assert issue_of(session).items[0].headline == "Blogger detained"
    r = post(desk, url, f"{url}/fields", {"title": "", "intro": "x"})
    assert r.status_code == 409 and "the title cannot be empty" in r.text
    r = post(desk, url, f"{url}/signoff", {"action": "publish"})
    assert r.status_code == 409 and "not approved" in r.text
    r = post(desk, url, f"{url}/signoff", {"action": "approve"})
    r = post(desk, url, f"{url}/signoff", {"action": "schedule", "when": "tomorrow"})
    assert r.status_code == 409 and "date and time" in r.text
    r = post(desk, url, f"{url}/signoff", {"action": "schedule", "when": "2020-01-01T09:00"})
    assert r.status_code == 409 and "in the future" in r.text
    assert issue_of(session).state == "approved"


def test_state_changes_need_the_csrf_token(desk: TestClient, session: Session, make_incident) -> None:
    make_incident("Blogger detained")
    r = desk.post("/editor/issues/draft", data={"period": "2026-W47"}, follow_redirects=False)
    assert r.status_code == 403
    r = desk.post("/editor/issues/draft", data={"period": "2026-W47", "csrf_token": "forged"}, follow_redirects=False)
    assert r.status_code == 403
    assert session.scalar(select(Issue.id)) is None


def test_remove_item_and_add_incident_and_case_update(desk: TestClient, session: Session, make_incident,
                                                      make_person) -> None:
    drop = make_incident("To remove")
    late = make_incident("Accepted late for an old week", occurred_on=date(2026, 10, 1))
    person = make_person("Nurgul Kaluova", consent="initials")
    post(desk, "/editor/issues/", "/editor/issues/draft", {"period": "2026-W47"})
    issue = issue_of(session)
    url = f"/editor/issues/{issue.id}"
    assert "Accepted late for an old week" in desk.get(url).text
    post(desk, url, f"{url}/items/{issue.items[0].id}", {"action": "remove"})
    post(desk, url, f"{url}/add", {"incident_id": str(late.id)})
    search = desk.get(f"{url}?q=kaluova")
    assert "Add case update" in search.text
    post(desk, f"{url}?q=kaluova", f"{url}/add", {"person_id": str(person.id), "section": "persecution"})
    issue = issue_of(session)
    assert sorted(i.headline for i in issue.items) == ["Accepted late for an old week", "Case update: Nurgul Kaluova"]
    assert session.get(Incident, drop.id).state == "accepted"
    r = post(desk, url, f"{url}/add", {"incident_id": "999999"})
    assert r.status_code == 409 and "there is no incident 999999" in r.text


def test_preview_pages_apply_consent_and_can_be_framed_by_the_desk(desk: TestClient, session: Session,
                                                                   consent_issue: Issue) -> None:
    url = f"/editor/issues/{consent_issue.id}"
    page = desk.get(f"{url}/preview")
    assert page.status_code == 200
    assert 'width="375"' in page.text and f'src="{url}/preview/email.html"' in page.text
    assert "R. S. and Activist E." in page.text  # the plain text, inline
    for path in ("/preview/email.html", "/preview/email.txt", "/preview/web/"):
        r = desk.get(url + path)
        assert r.status_code == 200
        assert_no_protected_words(r.text, path)
    framed = desk.get(f"{url}/preview/email.html")
    assert "frame-ancestors 'self'" in framed.headers["content-security-policy"]
    assert framed.headers["x-frame-options"] == "SAMEORIGIN"
    css = desk.get(f"{url}/preview/web/archive.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert desk.get(f"{url}/preview/web/secret.txt").status_code == 404
    # The editing page shows the editor the real names (desk only) and the consent badges.
    assert "Raigul Sadyrbaeva" in desk.get(url).text and "consent: initials" in desk.get(url).text


def test_consent_problem_is_shown_and_blocks_approval(desk: TestClient, session: Session, consent_issue: Issue) -> None:
    person = next(p for i in consent_issue.items if i.incident for p in i.incident.persons if p.name == "Aliya Isenova")
    person.alias = "Aliya from Semey"
    session.flush()
    url = f"/editor/issues/{consent_issue.id}"
    assert "This issue cannot go out yet" in desk.get(url).text
    r = post(desk, url, f"{url}/signoff", {"action": "approve"})
    assert r.status_code == 409 and "consent check refused this issue" in r.text
    assert issue_of(session).state == "draft"


def test_test_send_reaches_the_smtp_server_and_no_subscriber(runtime: Runtime, settings_env, monkeypatch,
                                                              session: Session, make_incident, smtp) -> None:
    monkeypatch.setenv("NEWSLETTER_SMTP_URL", smtp.url)
    from newsletter.config import load_settings

    rt = Runtime(load_settings())
    make_user(rt, EDITOR)
    make_incident("Blogger detained")
    with TestClient(create_app(rt), base_url="http://testserver") as client:
        login(client, "", EDITOR)
        post(client, "/editor/issues/", "/editor/issues/draft", {"period": "2026-W47"})
        issue = issue_of(session)
        url = f"/editor/issues/{issue.id}"
        r = post(client, url, f"{url}/test-send", {"addresses": "one@example.org, two@example.org"})
        assert r.status_code == 303
        assert "Test sent to 2 address(es)." in client.get(r.headers["location"]).text
        r = post(client, url, f"{url}/test-send", {"addresses": "not an address"})
        assert r.status_code == 409
        r = post(client, url, f"{url}/test-send", {"addresses": ""})
        assert r.status_code == 409 and "at least one address" in r.text
    rt.close()
    assert sorted(a for m in smtp.messages for a in m.rcpt_tos) == ["one@example.org", "two@example.org"]
    subjects = [str(make_header(decode_header(m.message["Subject"]))) for m in smtp.messages]
    assert all(s.startswith("[TEST] ") for s in subjects), subjects
    assert session.scalar(select(AuditLog.id).where(AuditLog.action == "issue.test_sent")) is not None


def test_two_editor_sign_off_then_schedule_and_publish(runtime: Runtime, settings_env, monkeypatch, session: Session,
                                                       make_incident) -> None:
    monkeypatch.setenv("NEWSLETTER_REQUIRE_SECOND_APPROVAL", "true")
    from newsletter.config import load_settings

    rt = Runtime(load_settings())
    make_user(rt, EDITOR)
    make_user(rt, SECOND)
    make_incident("Blogger detained")
    app = create_app(rt)
    with TestClient(app, base_url="http://testserver") as one, TestClient(app, base_url="http://testserver") as two:
        login(one, "", EDITOR)
        login(two, "", SECOND)
        post(one, "/editor/issues/", "/editor/issues/draft", {"period": "2026-W47"})
        issue = issue_of(session)
        url = f"/editor/issues/{issue.id}"
        post(one, url, f"{url}/signoff", {"action": "approve"})
        assert "waiting for a second editor" in one.get(url).text
        r = post(one, url, f"{url}/signoff", {"action": "approve"})
        assert r.status_code == 409 and "different editor" in r.text
        post(two, url, f"{url}/signoff", {"action": "approve"})
        assert issue_of(session).state == "approved"
        post(two, url, f"{url}/signoff", {"action": "schedule", "when": "2099-01-05T09:30"})
        issue = issue_of(session)
        assert issue.state == "scheduled" and issue.scheduled_for.isoformat() == "2099-01-05T09:30:00+00:00"
        r = post(two, url, f"{url}/signoff", {"action": "publish"})
        assert r.status_code == 303
        issue = issue_of(session)
        assert issue.snapshot is not None and issue.published_at is not None
        assert (rt.settings.issues_dir / "2026-W47" / "index.html").exists()
        page = one.get(url).text
        assert "Its content is frozen" in page and not re.search(r'name="action" value="save"', page)
    rt.close()
    actions = session.scalars(select(AuditLog.action).where(AuditLog.entity_type == "issue")).all()
    assert {"issue.drafted", "issue.approved_first", "issue.approved", "issue.scheduled", "issue.frozen",
            "issue.published"} <= set(actions)
