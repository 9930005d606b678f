"""Errors on the editors' desk are pages (issue 15, item 2): a missing or malformed id, a CSRF failure, an
admin page for an editor and an unreadable form answer an HTML page in the desk's layout with the right
status (404, 403, 422), never FastAPI's JSON; JSON clients and the API keep JSON; a page answering a POST
names the page a reload should show; a failing test send says in words what the mail relay answered."""

from __future__ import annotations

import re
import smtplib
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.models import AuditLog, Incident
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from newsletter.web.errors import mail_error_words
from tests.editorial import factories as fx
from tests.editorial.helpers import csrf_token_of, login, make_user
from tests.editorial.test_route_walk import ASSET_ROUTES, _flatten
from tests.support.net import free_port

BAD_IDS = ["99999", "abc", "-1", "1.5", "0x10", "99999999999999999999", "%20"]
DESK_PAGE = 'class="desk"'


def is_desk_page(response, status: int) -> bool:  # type: ignore[no-untyped-def]
    return (response.status_code == status and response.headers["content-type"].startswith("text/html")
            and DESK_PAGE in response.text and '"detail"' not in response.text)


def desk_get_routes_with_ids(client: TestClient) -> list[str]:
    """Every desk GET path that takes a number, e.g. /editor/incidents/{incident_id}."""
    found = []
    for path, route in _flatten(client.app.routes):  # type: ignore[attr-defined]
        if path.startswith("/editor") and "GET" in route.methods and re.search(r"\{\w+_id\}", path) \
                and path not in ASSET_ROUTES:  # the archive's public CSS beside a preview: no issue data
            found.append(path)
    return found


def fill(path: str, bad: str) -> str:
    return re.sub(r"\{\w+_id\}", bad, path)


def test_the_walk_knows_the_desk_pages_with_ids(client: TestClient) -> None:
    paths = set(desk_get_routes_with_ids(client))
    assert {"/editor/incidents/{incident_id}", "/editor/persons/{person_id}", "/editor/issues/{issue_id}",
            "/editor/issues/{issue_id}/preview", "/editor/incidents/{incident_id}/attachments/{attachment_id}"} <= paths


def test_every_desk_page_with_a_bad_id_is_an_html_404_in_the_desk_layout(editor_client: TestClient) -> None:
    walked = 0
    for template in desk_get_routes_with_ids(editor_client):
        for bad in BAD_IDS:
            path = fill(template, bad)
            response = editor_client.get(path, headers={"accept": "text/html,application/xhtml+xml"})
            assert is_desk_page(response, 404), (path, response.status_code, response.text[:200])
            assert "Log out" in response.text, path  # the editor's own layout, with the nav
            walked += 1
    assert walked >= 8 * len(BAD_IDS)


def test_named_missing_and_malformed_ids(editor_client: TestClient) -> None:
    page = editor_client.get("/editor/incidents/99999")
    assert is_desk_page(page, 404) and "There is no incident 99999." in page.text
    assert is_desk_page(editor_client.get("/editor/incidents/abc"), 404)
    assert "There is no issue 999." in editor_client.get("/editor/issues/999").text
    assert "There is no person 999." in editor_client.get("/editor/persons/999").text
    assert is_desk_page(editor_client.get("/editor/no-such-page"), 404)


def test_json_clients_and_the_api_keep_json(editor_client: TestClient) -> None:
    response = editor_client.get("/editor/incidents/99999", headers={"accept": "application/json"})
    assert response.status_code == 404 and response.json() == {"detail": "There is no incident 99999."}
    api = editor_client.post("/api/incidents", json={"what": "x"})
    assert api.status_code == 401 and api.headers["content-type"].startswith("application/json")
    assert editor_client.get("/api/nothing").headers["content-type"].startswith("application/json")


def test_anonymous_visitors_still_go_to_the_login_page(client: TestClient) -> None:
    response = client.get("/editor/incidents/abc", headers={"accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/editor/login?next=")


def test_admin_pages_refuse_an_editor_with_a_403_page(editor_client: TestClient) -> None:
    for path in ("/editor/users/", "/editor/audit/", "/editor/tokens/"):
        response = editor_client.get(path)
        assert is_desk_page(response, 403), path
        assert "admins only" in response.text
        assert 'href="/editor/users/"' not in response.text  # the nav still hides admin pages


def test_a_csrf_failure_is_a_403_page_that_changes_nothing_and_reloads_the_page(
        editor_client: TestClient, session: Session) -> None:
    incident = fx.incident(session, "Activist detained in Oral")
    before = session.scalar(select(func.count()).select_from(AuditLog))
    response = editor_client.post(f"/editor/incidents/{incident.id}/edit",
                                  data={"csrf_token": "forged", "title": "Changed"})
    assert is_desk_page(response, 403) and "security token" in response.text
    assert "reload the page" in response.text
    assert f'data-reload-url="/editor/incidents/{incident.id}"' in response.text
    session.expire_all()
    assert session.get(Incident, incident.id).title == "Activist detained in Oral"
    assert session.scalar(select(func.count()).select_from(AuditLog)) == before


def test_a_refused_post_names_the_page_a_reload_shows(editor_client: TestClient, session: Session) -> None:
    """A reload of the refusal must not send the form again: the page's script puts the GET address in
    the history (checked in Chromium in tests/editorial/test_browser.py)."""
    incident = fx.incident(session, "Journalist fined")
    page = editor_client.get(f"/editor/incidents/{incident.id}")
    assert "data-reload-url" not in page.text  # a GET needs no replacement
    response = editor_client.post(f"/editor/incidents/{incident.id}/decide",
                                  data={"csrf_token": csrf_token_of(page.text), "action": "duplicate",
                                        "duplicate_of": "abc"})
    assert response.status_code == 409 and "is not the number of an existing incident" in response.text
    assert f'data-reload-url="/editor/incidents/{incident.id}"' in response.text
    missing = editor_client.post("/editor/persons/99999/edit", data={"csrf_token": csrf_token_of(page.text)})
    assert is_desk_page(missing, 404) and 'data-reload-url="/editor/persons/99999"' in missing.text
    users = editor_client.post("/editor/users/5/signout", data={"csrf_token": csrf_token_of(page.text)})
    assert is_desk_page(users, 403) and 'data-reload-url="/editor/users/"' in users.text


def test_a_refused_login_reloads_the_login_page_not_the_password(client: TestClient, editor_id: int) -> None:
    form = client.get("/editor/login")
    response = client.post("/editor/login", data={"email": "editor@example.org", "password": "wrong password!",
                                                   "csrf_token": csrf_token_of(form.text), "next": "/editor/triage"})
    assert response.status_code == 400 and "Wrong email or password." in response.text
    assert 'data-reload-url="/editor/login?next=/editor/triage"' in response.text


def test_an_unreadable_form_is_a_422_page_naming_the_field_not_the_input(editor_client: TestClient,
                                                                          session: Session) -> None:
    incident = fx.incident(session, "Picket in Taraz")
    token = csrf_token_of(editor_client.get(f"/editor/incidents/{incident.id}").text)
    response = editor_client.post("/editor/issues/1/test-send",
                                  data={"csrf_token": token, "addresses": "CANARY-" + "x" * 5000})
    assert is_desk_page(response, 422)
    assert "addresses" in response.text and "CANARY" not in response.text


def test_every_desk_post_with_a_bad_id_is_refused_with_a_page(admin_client: TestClient, session: Session) -> None:
    token = csrf_token_of(admin_client.get("/editor/").text)
    before = session.scalar(select(func.count()).select_from(AuditLog))
    posts = [p for p, r in _flatten(admin_client.app.routes)  # type: ignore[attr-defined]
             if p.startswith("/editor") and "POST" in r.methods and re.search(r"\{\w+_id\}", p)]
    assert len(posts) >= 15
    for template in posts:
        for bad in ("99999", "abc"):
            path = re.sub(r"\{\w+_id\}", bad, template)
            response = admin_client.post(path, data={"csrf_token": token})
            assert 400 <= response.status_code < 500, (path, response.status_code)
            assert response.headers["content-type"].startswith("text/html"), path
            assert DESK_PAGE in response.text and "data-reload-url" in response.text, path
    assert session.scalar(select(func.count()).select_from(AuditLog)) == before


# ---------------------------------------------------------------- the test send says what went wrong


class RefusingRelay:
    """An SMTP relay (aiosmtpd) that refuses every recipient as a real one refuses an unknown mailbox."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address


@pytest.fixture
def refusing_relay() -> Iterator[str]:
    controller = Controller(RefusingRelay(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield f"smtp://127.0.0.1:{controller.port}"
    controller.stop()


def _desk_with_issue(rt: Runtime) -> tuple[TestClient, str]:
    make_user(rt, "editor@example.org")
    with rt.session() as s:
        fx.incident(s, "Blogger detained in Almaty", state="accepted", sections=["persecution"])
    client = TestClient(create_app(rt), base_url="http://testserver")
    login(client, "", "editor@example.org")
    token = csrf_token_of(client.get("/editor/issues/").text)
    draft = client.post("/editor/issues/draft", data={"csrf_token": token, "period": "2026-W47"},
                        follow_redirects=False)
    assert draft.status_code == 303, draft.text[:300]
    return client, draft.headers["location"].split("?")[0]


def test_a_refused_test_send_says_what_the_relay_answered(make_runtime, refusing_relay: str) -> None:
    rt = make_runtime(smtp_url=refusing_relay)
    client, url = _desk_with_issue(rt)
    with client:
        token = csrf_token_of(client.get(url).text)
        response = client.post(f"{url}/test-send", data={"csrf_token": token, "addresses": "nobody@example.org"})
    assert response.status_code == 409
    assert ("the test was not sent: the mail relay refused the address: nobody@example.org "
            "(550 5.1.1 &lt;nobody@example.org&gt;: Recipient address rejected: User unknown)") in response.text
    assert "b&#39;" not in response.text and "(550, b" not in response.text


def test_an_unreachable_relay_is_said_in_words(make_runtime) -> None:
    rt = make_runtime(smtp_url=f"smtp://127.0.0.1:{free_port()}")
    client, url = _desk_with_issue(rt)
    with client:
        token = csrf_token_of(client.get(url).text)
        response = client.post(f"{url}/test-send", data={"csrf_token": token, "addresses": "me@example.org"})
    assert response.status_code == 409
    assert "the mail relay refused the connection: is it running, and is NEWSLETTER_SMTP_URL right?" in response.text


@pytest.mark.parametrize("exc, words", [
    (smtplib.SMTPSenderRefused(553, b"5.7.1 Sender not owned", "news@example.org"),
     "the mail relay refused the sender address news@example.org (553 5.7.1 Sender not owned)"),
    (smtplib.SMTPAuthenticationError(535, b"5.7.8 Authentication\r\n credentials invalid"),
     "did not accept the user name and password of NEWSLETTER_SMTP_URL (535 5.7.8 Authentication credentials invalid)"),
    (smtplib.SMTPDataError(554, b"5.6.0 Message rejected as spam"),
     "the mail relay refused the message (554 5.6.0 Message rejected as spam)"),
    (smtplib.SMTPRecipientsRefused({"a@example.org": (550, b"no"), "b@example.org": (452, b"\xd0\xbd\xd0\xb5\xd1\x82")}),
     "refused the addresses: a@example.org (550 no); b@example.org (452 нет)"),
    (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
     "the mail relay closed the connection before the message was sent"),
    (TimeoutError("timed out"), "the mail relay did not answer in time"),
])
def test_smtp_errors_in_words(exc: BaseException, words: str) -> None:
    assert words in mail_error_words(exc)
