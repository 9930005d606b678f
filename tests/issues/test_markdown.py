"""Editors write item text in Markdown: previewed on the server, sanitised to the few tags an item may carry,
checked for protected names in its final words and links; text written before Markdown renders as it did."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.markup import render_markdown
from newsletter.models import AuditLog, Issue, IssueItem
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from tests.editorial.helpers import csrf_token_of, login, make_user
from tests.issues.conftest import PROTECTED_NAME, assert_no_protected_words

EDITOR = "editor@example.org"
MARKDOWN = """Police **detained** the blogger for *ten days*, [court record](https://court.example.org/case?id=7&utm_source=newsletter&fbclid=abc).

- fined 50 MCI
- phone seized

1. first hearing
2. appeal

> "We will appeal", said her lawyer.

<script>alert(1)</script> [bad](javascript:alert(1)) ![photo](https://tracker.example.net/p.gif)

# not a heading"""


@pytest.fixture
def desk(runtime: Runtime) -> Iterator[TestClient]:
    make_user(runtime, EDITOR)
    with TestClient(create_app(runtime), base_url="http://testserver") as client:
        login(client, "", EDITOR)
        yield client


def post(client: TestClient, page_url: str, action: str, data: dict[str, str]) -> object:
    token = csrf_token_of(client.get(page_url).text)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=False)


def first_item(session: Session, issue_id: int) -> IssueItem:
    session.expire_all()
    issue = session.get(Issue, issue_id)
    assert issue is not None
    return sorted(issue.items, key=lambda i: (i.position, i.id))[0]


def test_markdown_becomes_the_few_tags_an_item_may_carry() -> None:
    out = render_markdown(MARKDOWN)
    assert "<strong>detained</strong>" in out.html and "<em>ten days</em>" in out.html
    assert '<a href="https://court.example.org/case?id=7&amp;y' not in out.html
    assert '<a href="https://court.example.org/case?id=7" rel="noopener noreferrer">court record</a>' in out.html
    assert "<ul>\n<li>fined 50 MCI</li>" in out.html and "<ol>" in out.html and "<blockquote>" in out.html
    # Raw HTML stays text, javascript: is no link, an image loads nothing, a heading is a line of text.
    assert "<script" not in out.html and "&lt;script&gt;" in out.html
    assert "javascript:" not in "".join(out.hrefs) and 'href="javascript' not in out.html
    assert "<img" not in out.html and "<h1" not in out.html and "# not a heading" in out.html
    assert out.hrefs == ["https://court.example.org/case?id=7", "https://tracker.example.net/p.gif"]
    # The plain text: words only, list items and quotes as paragraphs with their marks.
    assert out.text.split("\n\n")[:6] == [
        "Police detained the blogger for ten days, court record.", "• fined 50 MCI", "• phone seized",
        "1. first hearing", "2. appeal", '> "We will appeal", said her lawyer.']


def test_preview_saves_nothing_then_save_makes_the_item_markdown_in_every_output(
        desk: TestClient, session: Session, make_incident, settings) -> None:
    make_incident("Blogger detained", summary="Drafted *plain* text <b>kept</b> literally.", section="persecution")
    r = post(desk, "/editor/issues/", "/editor/issues/draft", {"period": "2026-W47"})
    url = r.headers["location"].split("?")[0]
    item = first_item(session, int(url.rsplit("/", 1)[1]))
    # Drafted text is plain: it renders literally, as every item did before Markdown.
    assert item.text_format == "plain"
    web = desk.get(f"{url}/preview/web/").text
    assert "<p>Drafted *plain* text kept literally.</p>" in web  # stars stay stars

    preview = post(desk, url, f"{url}/items/{item.id}", {"action": "preview", "headline": "Blogger held",
                                                         "text": MARKDOWN})
    assert preview.status_code == 200
    assert "<strong>detained</strong>" in preview.text and "Preview, not saved yet." in preview.text
    assert "<script>alert" not in preview.text
    assert first_item(session, item.issue_id).text.startswith("Drafted")  # nothing saved

    saved = post(desk, url, f"{url}/items/{item.id}", {"action": "save", "headline": "Blogger held", "text": MARKDOWN})
    assert saved.status_code == 303
    item = first_item(session, item.issue_id)
    assert item.text_format == "markdown" and item.text == MARKDOWN
    edit = session.scalars(select(AuditLog).where(AuditLog.action == "issue.item_edited")).all()[-1]
    assert edit.changes["text_format"] == {"from": "plain", "to": "markdown"}

    web = desk.get(f"{url}/preview/web/").text
    assert "<strong>detained</strong>" in web and 'href="https://court.example.org/case?id=7"' in web
    assert "<script>alert" not in web and "<img" not in web
    email = desk.get(f"{url}/preview/email.html").text
    assert '<strong>detained</strong>' in email and "<li" in email
    # The email keeps the text's links too (issue #12), without tracking parameters ...
    assert 'href="https://court.example.org/case?id=7"' in email and "utm_" not in email
    text = desk.get(f"{url}/preview/email.txt").text
    assert "Police detained the blogger for ten days, court record." in text and "• fined 50 MCI" in text
    # ... and the text part numbers them: the words in the item, the address in the list of links.
    ref = text.split("court record [", 1)[1].split("]", 1)[0]
    assert f"[{ref}] https://court.example.org/case?id=7\n" in text
    assert "**" not in text


def test_protected_names_are_replaced_in_markdown_and_checked_in_its_links(
        desk: TestClient, session: Session, consent_issue: Issue) -> None:
    url = f"/editor/issues/{consent_issue.id}"
    item = next(i for i in first_item(session, consent_issue.id).issue.items
                if i.incident is not None and i.incident.publication == "anonymised")
    words = f"**{PROTECTED_NAME}** was questioned. [Her statement](https://news.example.org/statement)."
    assert post(desk, url, f"{url}/items/{item.id}", {"action": "save", "headline": "Monitor questioned",
                                                      "text": words}).status_code == 303
    for part in ("email.html", "email.txt", "web/"):
        body = desk.get(f"{url}/preview/{part}")
        assert body.status_code == 200
        assert_no_protected_words(body.text, part)
    assert "<strong>R. S.</strong> was questioned." in desk.get(f"{url}/preview/web/").text

    # A link whose address names a protected person keeps its words and loses its address, as a source
    # link naming them is dropped; the issue can still be approved and nothing leaks.
    link = "Statement: [here](https://news.example.org/raigul-sadyrbaeva-statement)."
    post(desk, url, f"{url}/items/{item.id}", {"action": "save", "headline": "Monitor questioned", "text": link})
    web = desk.get(f"{url}/preview/web/").text
    assert "<p>Statement: here.</p>" in web, web[web.find("Statement") - 20:][:300]
    assert post(desk, url, f"{url}/signoff", {"action": "approve"}).status_code == 303
    session.expire_all()
    assert_no_protected_words(str(session.get(Issue, consent_issue.id).snapshot or ""), "snapshot")


def test_live_preview_fragment_is_cleaned_and_needs_a_login_and_the_form_token(desk: TestClient, runtime: Runtime) -> None:
    token = csrf_token_of(desk.get("/editor/issues/").text)
    r = desk.post("/editor/issues/markdown-preview", data={"csrf_token": token, "text": MARKDOWN})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert r.text == render_markdown(MARKDOWN).html and "<script" not in r.text
    too_long = desk.post("/editor/issues/markdown-preview", data={"csrf_token": token, "text": "x" * 6000})
    assert too_long.status_code == 422 and "too long" in too_long.text
    assert desk.post("/editor/issues/markdown-preview", data={"csrf_token": "forged", "text": "*x*"}).status_code == 403
    with TestClient(create_app(runtime), base_url="http://testserver") as anonymous:
        r = anonymous.post("/editor/issues/markdown-preview", data={"text": "*x*"}, follow_redirects=False)
        assert r.status_code in (303, 403) and "<em>" not in r.text
