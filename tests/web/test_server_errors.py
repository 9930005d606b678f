"""Hostile or broken requests get a clean 4xx (or a proper page), never a 500, and no log line carries
a report's words, a protected name or a receipt code (issue 11, item 9).

Every test here runs under the suite's canary watch (tests/conftest.py): the report texts and names
below contain the marker, so a log record repeating them fails the test.
"""

from __future__ import annotations

import json
import html
import re
import socket
from collections.abc import Iterator
from datetime import date

import httpx
import pytest
from sqlalchemy import select

from newsletter.issues.service import draft_issue
from newsletter.models import Incident, IncidentSource, Person, Section, Source
from newsletter.runtime import Runtime
from newsletter.submissions.tokens import create_token
from tests.conftest import CanaryWatch
from tests.editorial.helpers import csrf_token_of, login, make_user

REPORT = "CANARY-report: police searched the flat of a blogger at dawn and took two laptops."
PROTECTED = "Canaryan Protectedova"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
BASE_PAYLOAD = {"what": REPORT, "kind": "search", "consent": "names", "city": "Tomsk", "occurred_on": "2026-11-10"}


@pytest.fixture
def api(live_server: str, runtime: Runtime) -> Iterator[httpx.Client]:
    with runtime.session() as s:
        _token, plaintext = create_token(s, name="Bot", actor="cli")
    with httpx.Client(base_url=live_server, headers={"Authorization": f"Bearer {plaintext}",
                                                     "Content-Type": "application/json"}, timeout=30) as client:
        yield client


@pytest.mark.parametrize("raw, fragment", [
    # A bot cutting an emoji in half leaves a lone UTF-16 surrogate in the JSON text.
    ('"what": "CANARY-report cut emoji \\ud83d here and more words"', "what"),
    ('"title": "CANARY headline \\udc00"', "title"),
    ('"links": ["https://example.org/CANARY\\ud800"]', "links"),
    ('"occurred_on": NaN', "occurred_on"),
    ('"occurred_on": Infinity', "occurred_on"),
    ('"occurred_on": -Infinity', "occurred_on"),
    ('"occurred_on": 1e400', "occurred_on"),
    ('"occurred_on": "2026-02-30"', "occurred_on"),
    ('"kind": "CANARY-kind"', "kind"),
])
def test_broken_json_fields_get_a_422_without_echoing_the_report(api: httpx.Client, runtime: Runtime, raw: str,
                                                                 fragment: str) -> None:
    body = json.dumps(BASE_PAYLOAD)[:-1] + ", " + raw + "}"
    key = raw.split(":", 1)[0].strip('"')
    if key in BASE_PAYLOAD:  # replace the field rather than repeating it
        payload = dict(BASE_PAYLOAD)
        del payload[key]
        body = json.dumps(payload)[:-1] + ", " + raw + "}"
    response = api.post("/api/incidents", content=body.encode())
    assert response.status_code == 422, response.text
    assert fragment in response.text
    assert "canary" not in response.text.casefold()  # errors name the field, never repeat the input
    with runtime.session() as s:
        assert s.scalar(select(Incident.id)) is None


def test_a_broken_character_in_a_name_is_cleaned(api: httpx.Client, runtime: Runtime) -> None:
    body = json.dumps(BASE_PAYLOAD)[:-1] + ', "persons": [{"name": "Canary \\ud800 Person"}]}'
    response = api.post("/api/incidents", content=body.encode())
    assert response.status_code == 201, response.text
    with runtime.session() as s:
        assert s.scalar(select(Person.name)) == "Canary ? Person"


@pytest.mark.parametrize("body", [b'{"what": "CANARY', b"\xff\xfe{}", b'{"what": "CANARY-report \\ud83d"' * 3,
                                  b"[1, 2]", b"null", b'{"what": 5}'])
def test_malformed_json_bodies_get_a_4xx(api: httpx.Client, body: bytes) -> None:
    response = api.post("/api/incidents", content=body)
    assert 400 <= response.status_code < 500, response.text
    assert "canary" not in response.text.casefold()


@pytest.mark.parametrize("path", [
    "/issues/%00", "/issues/%00/index.html", "/issues/" + "a" * 10_000, "/" + "x" * 10_000, "/issues/%", "/issues/%zz",
    "/issues/%C0%AF", "/issues/%ED%A0%80", "/issues/..%2f..%2fetc%2fpasswd", "/static/%00", "/receipt/%00",
    "/editor/incidents/%00", "/issues/2026-W47/%00.html", "/issues/%FF%FE",
])
def test_odd_paths_get_a_clean_answer(live_server: str, path: str) -> None:
    response = httpx.get(live_server + path, timeout=30)
    assert response.status_code < 500, (path[:80], response.status_code, response.text[:300])


def _raw_request(base: str, target: bytes) -> int:
    """Send a request line exactly as given (httpx would normalise a broken target)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: " + host.encode() + b"\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1])


@pytest.mark.parametrize("target", [b"/issues/%", b"/issues/%g0", b"/issues/\xff\xfe", b"/issues/%00?q=%ff",
                                    b"/issues/?%=%", b"/receipt?code=%ff%fe"])
def test_malformed_percent_encoding_on_the_wire(live_server: str, target: bytes) -> None:
    assert _raw_request(live_server, target) < 500


@pytest.fixture
def refused_issue(runtime: Runtime) -> int:
    """A draft issue whose item text names a protected person: the consent check refuses it."""
    with runtime.session() as s:
        # An alias that contains the real name: the redaction cannot help, the final check refuses.
        person = Person(name=PROTECTED, consent="alias", alias="Canaryan the reporter", role="journalist")
        section = s.scalar(select(Section).where(Section.slug == "persecution"))
        feed = Source(kind="feed", name="News", url="https://news.example.org/feed.xml")
        incident = Incident(title="Journalist detained", origin="feed", state="accepted", occurred_on=date(2026, 11, 18),
                            publication="public", persons=[person], sections=[section])
        incident.sources.append(IncidentSource(source=feed, origin="feed", url='https://news.example.org/a"b<c>',
                                               canonical_url="https://news.example.org/a", title='Quote " in a link'))
        s.add(incident)
        s.flush()
        from newsletter.config import load_settings

        issue = draft_issue(s, settings=load_settings(), period="2026-W47", actor="cli")
        issue.items[0].text = f"{PROTECTED} was detained. Protectedova's lawyer was not admitted."
        return issue.id


@pytest.fixture
def desk(live_server: str, runtime: Runtime) -> Iterator[httpx.Client]:
    make_user(runtime, "ed@example.org", role="editor")
    with httpx.Client(base_url=live_server, timeout=30) as client:
        login(client, live_server, "ed@example.org")
        yield client


REFUSAL = "item 1 (en edition), field text: a protected person's name"


def _refusal(page: str) -> str:
    """The consent check's refusal: where (item, edition, field) and what kind of word, never the word."""
    text = html.unescape(page)
    match = re.search(r"item \d+ \([a-z]+ edition\), field [a-z\[\]0-9.]+: a protected [a-z' ]+name", text)
    assert match, page[:2000]
    return match.group()


@pytest.mark.parametrize("path", ["", "/preview", "/preview/email.html", "/preview/email.txt", "/preview/web/"])
def test_preview_of_an_issue_failing_the_consent_check(desk: httpx.Client, refused_issue: int, path: str) -> None:
    response = desk.get(f"/editor/issues/{refused_issue}{path}")
    assert response.status_code in (200, 409), response.text[:500]
    # The desk shows editors the person's real name; the refusal itself says which item and field.
    assert _refusal(response.text) == REFUSAL


def test_approval_of_an_issue_failing_the_consent_check(desk: httpx.Client, refused_issue: int) -> None:
    page = desk.get(f"/editor/issues/{refused_issue}")
    response = desk.post(f"/editor/issues/{refused_issue}/signoff",
                         data={"csrf_token": csrf_token_of(page.text), "action": "approve"})
    assert response.status_code == 409, response.text[:500]
    assert _refusal(response.text) == REFUSAL


def test_cli_refusal_names_the_item_not_the_person(cli, refused_issue: int) -> None:
    make = cli("users", "add", "--email", "cli@example.org", "--role", "editor", input="a long password 123\n" * 2)
    assert make.exit_code == 0
    out = cli("approve", "2026-W47", "--user", "cli@example.org", expect=1).output
    assert "canary" not in out.casefold() and _refusal(out) == REFUSAL


def test_a_quote_in_a_link_does_not_break_the_preview(desk: httpx.Client, refused_issue: int, runtime: Runtime) -> None:
    with runtime.session() as s:
        for item in s.scalars(select(Incident)):
            item.persons = []
        from newsletter.models import IssueItem

        for item in s.scalars(select(IssueItem)):
            item.text = "A journalist was detained."
    for path in ("/preview/web/", "/preview/email.html", "/preview"):
        response = desk.get(f"/editor/issues/{refused_issue}{path}")
        assert response.status_code == 200, (path, response.text[:500])
        assert 'a"b<c>' not in response.text


def test_the_canary_watch_sees_records_of_every_level(no_canary_in_logs: CanaryWatch, allow_canary_logs: None) -> None:
    """The detector itself: a record with the marker is caught at DEBUG, in a named logger, with an exception."""
    import logging

    logging.getLogger("newsletter.anything").debug("value %s", "CANARY-1")
    try:
        raise ValueError("Canary in an exception")
    except ValueError:
        logging.getLogger("uvicorn.error").exception("boom")
    assert len(no_canary_in_logs.hits) == 2
    no_canary_in_logs.hits.clear()


def test_form_fields_with_broken_bytes_and_odd_dates(live_server: str, runtime: Runtime) -> None:
    """The form's body is bytes: invalid UTF-8, an encoded surrogate and a NUL are cleaned or refused."""
    with httpx.Client(base_url=live_server, timeout=30) as http:
        token = CSRF_FIELD.search(http.get("/submit").text).group(1)
        for what, when in ((b"CANARY-what%ED%A0%80 broken emoji in the report", b"2026-11-10"),
                           (b"CANARY-what%FF%FE%00 invalid bytes in the report", b"NaN"),
                           (b"CANARY-what a report with an impossible date", b"2026-02-30"),
                           (b"CANARY-what a report with an endless date", b"9" * 5000)):
            body = (b"csrf_token=" + token.encode() + b"&what=" + what + b"&kind=search&consent=names&occurred_on="
                    + when + b"&action=send")
            response = http.post("/submit", content=body,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert response.status_code in (200, 400, 422), (what, response.status_code)


def test_a_receipt_code_never_reaches_a_log(live_server: str, no_canary_in_logs: CanaryWatch) -> None:
    with httpx.Client(base_url=live_server, timeout=30, follow_redirects=True) as http:
        token = CSRF_FIELD.search(http.get("/submit").text).group(1)
        sent = http.post("/submit", data={"csrf_token": token, "what": REPORT, "kind": "search", "consent": "names",
                                          "action": "send"},
                         files=[("files", ("", b"", "application/octet-stream"))])
        code = re.search(r'id="receipt-code">([^<]+)<', sent.text).group(1)
        no_canary_in_logs.markers.append(code)
        assert http.get(f"/receipt/{code}").status_code == 200
        assert http.get(f"/receipt/{code}%00").status_code < 500
        assert http.get(f"/receipt/{code}" + "x" * 10_000).status_code < 500
        page = http.get("/receipt")
        token = CSRF_FIELD.search(page.text).group(1)
        assert http.post("/receipt", data={"csrf_token": token, "code": code, "action": "show"}).status_code == 200
        added = http.post(f"/receipt/{code}", data={"csrf_token": token, "code": code, "action": "add",
                                                    "text": "CANARY-followup: more words"},
                          files=[("files", ("", b"", "application/octet-stream"))])
        assert added.status_code == 200
