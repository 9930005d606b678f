"""Issue #12 items 3, 4 and 5 through the real stack: drafting keeps a feed's links, no output carries a
tracking parameter, the email links each primary source, "See also" follows related incidents, and the
desk sets the lead story, sub-heads, paragraph items and the editor's note.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.issues.service import build_snapshot, draft_issue
from newsletter.models import AuditLog, Incident, IncidentSource, Issue, IssueItem, Source
from newsletter.runtime import Runtime
from newsletter.urls import _TRACKING_NAMES
from newsletter.web.app import create_app
from tests.editorial.helpers import csrf_token_of, login, make_user
from tests.support.outputs import output_text

EDITOR = "layout@example.org"
UNION = "https://union.example.org/statement?utm_source=feed&fbclid=abc&id=5"
UNION_CLEAN = "https://union.example.org/statement?id=5"
SOURCE = "https://news.example.org/2026/court?utm_medium=rss&gclid=1&p=2"
SOURCE_CLEAN = "https://news.example.org/2026/court?p=2"
VOLUNTEER_LINK = "https://video.example.org/VOLUNTEER-private-video"
NOTE = "Thank you to our volunteers. [Sign the appeal](https://ngo.example.org/appeal?utm_campaign=x&mc_eid=7&lang=en)."


def _tracking(text: str) -> list[str]:
    """Tracking parameters in a text: `utm_` anywhere, every other listed name as a query parameter."""
    found = ["utm_"] if "utm_" in text.lower() else []
    for name in _TRACKING_NAMES:
        if re.search(rf"(?:[?&;]|&amp;){re.escape(name)}=", text, re.I):
            found.append(name)
    return found


@pytest.fixture
def desk(runtime: Runtime) -> Iterator[TestClient]:
    make_user(runtime, EDITOR)
    with TestClient(create_app(runtime), base_url="http://testserver") as client:
        login(client, "", EDITOR)
        yield client


def _post(client: TestClient, page_url: str, action: str, data: dict[str, str]) -> Any:
    token = csrf_token_of(client.get(page_url).text)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=False)


def _incidents(runtime: Runtime) -> None:
    """A feed's report whose body links the union's statement, and a volunteer's report with a link."""
    with runtime.session() as s:
        feed = Source(kind="feed", name="News", url="https://news.example.org/feed.xml")
        union = Incident(
            title="Union leader remanded in custody", origin="feed", state="accepted", occurred_on=date(2026, 11, 18),
            publication="public", summary="Colleagues gathered outside the court. Read the union's statement.",
            body=f'<p>Colleagues gathered outside the court. <a href="{UNION.replace("&", "&amp;")}">Read the '
                 f"union's statement</a>.</p>")
        union.sources.append(IncidentSource(source=feed, origin="feed", url=SOURCE, canonical_url=SOURCE_CLEAN,
                                            title="Court remands union leader"))
        volunteer = Incident(
            title="Flat searched at dawn", origin="volunteer", state="accepted", occurred_on=date(2026, 11, 17),
            publication="public", summary="Police searched the flat. See the video.",
            body=f'<p>Police searched the flat. <a href="{VOLUNTEER_LINK}">See the video</a>.</p>')
        s.add_all([union, volunteer])
        s.flush()
        from newsletter.editorial.service import set_sections

        for incident in (union, volunteer):
            set_sections(s, incident, ["persecution"], actor="test")


def test_drafted_links_survive_and_no_output_carries_a_tracking_parameter(
        cli: Any, desk: TestClient, runtime: Runtime, session: Session, settings: Settings) -> None:
    _incidents(runtime)
    r = _post(desk, "/editor/issues/", "/editor/issues/draft", {"period": "2026-W47"})
    url = r.headers["location"].split("?")[0]
    issue_id = int(url.rsplit("/", 1)[1])
    items = {i.headline: i for i in session.scalars(select(IssueItem).where(IssueItem.issue_id == issue_id))}
    union = items["Union leader remanded in custody"]
    # The feed's link is kept in Markdown (without its tracking parameters); the volunteer's is not.
    assert union.text_format == "markdown"
    assert union.text == f"Colleagues gathered outside the court. [Read the union's statement](<{UNION_CLEAN}>)."
    assert items["Flat searched at dawn"].text_format == "plain"
    assert items["Flat searched at dawn"].text == "Police searched the flat. See the video."
    page = desk.get(url).text
    fields = {"title": "Week 47", "intro": "Our weekly digest.", "preheader": "", "show_withheld_count": "1",
              "editors_note": NOTE, "editors_note_signature": "The editors"}
    assert _post(desk, url, f"{url}/fields", fields).status_code == 303
    assert 'name="editors_note"' in page

    cli("approve", "2026-W47", "--user", EDITOR)
    cli("publish", "latest")
    root = Path(settings.issues_dir)
    files = {p.relative_to(root).as_posix(): output_text(p) for p in root.rglob("*")
             if p.is_file() and p.suffix in (".html", ".txt", ".json", ".xml", ".pdf")}
    assert {"2026-W47/index.html", "2026-W47/email.html", "2026-W47/email.txt", "2026-W47/issue.json",
            "2026-W47/issue.pdf", "feed.xml", "index.html"} <= set(files)
    for name, content in files.items():
        assert _tracking(content) == [], f"tracking parameters {_tracking(content)} in {name}"
        assert "VOLUNTEER-private" not in content, name
    for name in ("2026-W47/email.html", "2026-W47/index.html", "2026-W47/issue.json", "feed.xml"):
        content = files[name].replace("&amp;", "&").replace("\\u0026", "&")
        assert UNION_CLEAN in content, f"the union's statement is not linked in {name}"
        assert "https://ngo.example.org/appeal?lang=en" in content, f"the editor's note link is missing in {name}"
    # The email links the primary source directly (not only through our archive), and the text part lists it.
    email = files["2026-W47/email.html"].replace("&amp;", "&")
    assert f'href="{SOURCE_CLEAN}"' in email and f'href="{UNION_CLEAN}"' in email
    text = files["2026-W47/email.txt"]
    assert re.search(rf"\[\d+\] {re.escape(SOURCE_CLEAN)}\n", text) and re.search(rf"\[\d+\] {re.escape(UNION_CLEAN)}\n", text)
    assert "Read the union's statement [" in text
    assert "Subscribe to this newsletter: http://127.0.0.1:8000/subscribe" in text
    assert "UNION.EXAMPLE.ORG/STATEMENT?ID=5" in files["2026-W47/issue.pdf"].upper()


def test_the_desk_sets_lead_subheads_paragraph_items_and_refuses_what_would_lose_a_name(
        desk: TestClient, session: Session, make_incident) -> None:
    make_incident("Lead candidate", summary="Court sends activist to prison.", section="legislation")
    make_incident("Charity law adopted", summary="Register of donors.", section="legislation")
    make_incident("Volunteers must register", summary="A paragraph without a headline.", section="legislation")
    r = _post(desk, "/editor/issues/", "/editor/issues/draft", {"period": "2026-W47"})
    url = r.headers["location"].split("?")[0]
    issue_id = int(url.rsplit("/", 1)[1])
    items = {i.headline: i for i in session.scalars(select(IssueItem).where(IssueItem.issue_id == issue_id))}
    lead, charity, para = (items[h] for h in ("Lead candidate", "Charity law adopted", "Volunteers must register"))

    assert _post(desk, url, f"{url}/items/{lead.id}/layout", {"lead": "1", "subhead": ""}).status_code == 303
    assert _post(desk, url, f"{url}/items/{charity.id}/layout", {"subhead": "  Charity   law "}).status_code == 303
    assert _post(desk, url, f"{url}/items/{para.id}/layout",
                 {"subhead": "Charity law", "paragraph": "1"}).status_code == 303
    # A paragraph item's headline may now be emptied; its text may not.
    assert _post(desk, url, f"{url}/items/{para.id}", {"action": "save", "headline": "",
                                                       "text": "A paragraph without a headline."}).status_code == 303
    refused = _post(desk, url, f"{url}/items/{para.id}", {"action": "save", "headline": "", "text": ""})
    assert refused.status_code == 409 and "text cannot be empty" in refused.text
    refused = _post(desk, url, f"{url}/items/{para.id}/layout", {"subhead": "Charity law"})
    assert refused.status_code == 409 and "has no headline" in refused.text
    # One lead per issue: marking another moves it.
    assert _post(desk, url, f"{url}/items/{charity.id}/layout", {"lead": "1", "subhead": "Charity law"}).status_code == 303
    session.expire_all()
    assert [i.lead for i in (lead, charity, para)] == [False, True, False]
    assert (charity.subhead, para.subhead, para.paragraph, para.headline) == ("Charity law", "Charity law", True, "")
    audit = session.scalars(select(AuditLog).where(AuditLog.action == "issue.item_layout")).all()
    assert len(audit) == 4 and "Charity" not in json.dumps([a.changes for a in audit])  # lengths, never words

    web = desk.get(f"{url}/preview/web/").text
    assert web.index('class="section lead"') < web.index('id="section-legislation"')
    assert '<h3 class="subhead"' in web and 'aria-label="A paragraph without a headline."' in web
    email = desk.get(f"{url}/preview/email.html").text
    body = email[email.index("nl-preheader"):].split("</div>", 1)[1]  # after the preheader's headlines
    assert body.index("Charity law adopted") < body.index("Lead candidate")  # the lead comes first
    long_subhead = _post(desk, url, f"{url}/items/{lead.id}/layout", {"subhead": "x" * 201})
    assert long_subhead.status_code == 409 and "sub-head is too long" in long_subhead.text


def _publish_week(session: Session, settings: Settings, period: str) -> Issue:
    issue = draft_issue(session, settings=settings, period=period, actor="cli")
    issue.snapshot = build_snapshot(session, issue, settings=settings)
    issue.published_at = datetime(2026, 11, 16, 8, 0, tzinfo=timezone.utc)
    session.flush()
    return issue


def test_see_also_lists_related_incidents_of_earlier_issues_and_only_public_ones(
        desk: TestClient, session: Session, settings: Settings, make_incident) -> None:
    earlier = make_incident("Strike at the oil field", occurred_on=date(2026, 11, 10), external_id="strike-1")
    hidden = make_incident("A worker questioned", occurred_on=date(2026, 11, 11), publication="anonymised")
    unrelated = make_incident("Unrelated search", occurred_on=date(2026, 11, 12))
    old = _publish_week(session, settings, "2026-W46")
    old_ids = {i.incident_id: i.id for i in old.items}
    now = make_incident("Strike leaders charged")
    page = f"/editor/incidents/{now.id}"
    assert _post(desk, page, f"{page}/related", {"other": "strike-1"}).status_code == 303  # by external id
    assert _post(desk, page, f"{page}/related", {"other": str(hidden.id)}).status_code == 303  # by number
    assert "Strike at the oil field" in desk.get(f"/editor/incidents/{earlier.id}").text  # both ways
    for bad, words in (("nowhere", "there is no incident"), (str(now.id), "cannot be related to itself"), ("", "give")):
        refused = _post(desk, page, f"{page}/related", {"other": bad})
        assert refused.status_code in (400, 409) and words in refused.text
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    items = {i["headline"]: i for s in build_snapshot(session, issue, settings=settings)["sections"] for i in s["items"]}
    assert items["Strike leaders charged"]["related"] == [
        {"url": f"{settings.base_url}/issues/2026-W46/#item-{old_ids[earlier.id]}", "title": "Strike at the oil field"}]
    assert unrelated.id in old_ids and hidden.id in old_ids  # published then, yet never linked (anonymised, unrelated)
    assert _post(desk, page, f"{page}/related", {"other": "strike-1", "action": "unrelate"}).status_code == 303
    items = {i["headline"]: i for s in build_snapshot(session, issue, settings=settings)["sections"] for i in s["items"]}
    assert "related" not in items["Strike leaders charged"]


def test_the_editors_note_and_sub_heads_hide_protected_names_like_the_intro(
        session: Session, settings: Settings, consent_issue: Issue) -> None:
    from tests.issues.conftest import PROTECTED_NAME, assert_no_protected_words

    consent_issue.editors_note = (f"We stand with {PROTECTED_NAME} and Aya Sadvakasova. "
                                  f"[Her case](https://news.example.org/{PROTECTED_NAME.replace(' ', '-')}).")
    consent_issue.editors_note_signature = "Kuat Shamuratov"  # consent none: never signed with his name
    public = next(i for i in consent_issue.items if i.incident and i.incident.publication == "public")
    public.subhead = f"Trials of {PROTECTED_NAME}"
    session.flush()
    snap = build_snapshot(session, consent_issue, settings=settings)
    note = snap["editors_note"]
    assert "Aya Sadvakasova" in note["text"]  # named with her consent, in the issue's own text
    for value in (note["text"], note["html"], note["signature"], json.dumps(snap["sections"])):
        assert_no_protected_words(value, "the editor's note or a sub-head")
    assert "<a " not in note["html"]  # the address named her: the words stay, the link goes
    assert next(i for s in snap["sections"] for i in s["items"] if i["id"] == public.id)["subhead"].startswith("Trials of")
