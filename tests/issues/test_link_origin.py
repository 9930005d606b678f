"""Only feed links and links an editor added reach a public output (issue 11, item 1).

Canary links are planted through the volunteer form, the partner API and an import (with and without
a claimed origin); the incidents are accepted, drafted, approved and published through the real
commands; then every published byte is searched for the canaries, and the feed and editor links
must be there.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.editorial import service as editorial
from newsletter.models import Incident, IncidentSource, Source
from newsletter.runtime import Runtime
from newsletter.submissions.tokens import create_token
from tests.editorial.helpers import csrf_token_of, login, make_user
from tests.support.outputs import output_text

FORM_CANARY = "https://form.example.org/CANARY-form-link"
API_CANARY = "https://api.example.org/CANARY-api-link"
IMPORT_CANARY = "https://import.example.org/CANARY-import-link"
CLAIMED_VOLUNTEER_CANARY = "https://import.example.org/CANARY-volunteer-link"
CANARIES = (FORM_CANARY, API_CANARY, IMPORT_CANARY, CLAIMED_VOLUNTEER_CANARY)
FEED_LINK = "https://news.example.org/2026/blogger-fined"
EDITOR_LINK = "https://court.example.org/decision-4711"
IMPORTED_EDITOR_LINK = "https://rights.example.org/statement-12"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _submit_form(base: str) -> None:
    with httpx.Client(base_url=base, timeout=30, follow_redirects=True) as http:
        token = CSRF.search(http.get("/submit").text).group(1)
        fields = {"csrf_token": token, "what": "Police searched the flat of a blogger at dawn.", "kind": "search",
                  "occurred_on": "2026-11-18", "date_precision": "day", "city": "Tomsk", "country": "Russia",
                  "links": FORM_CANARY, "consent": "names", "action": "send"}
        response = http.post("/submit", data=fields, files=[("files", ("", b"", "application/octet-stream"))])
        assert response.status_code == 200, response.text[:500]


def _post_api(base: str, runtime: Runtime) -> None:
    with runtime.session() as s:
        _token, plaintext = create_token(s, name="Partner bot", actor="cli")
    response = httpx.post(f"{base}/api/incidents", headers={"Authorization": f"Bearer {plaintext}"}, timeout=30, json={
        "what": "A journalist was fined for a post.", "kind": "fine", "consent": "names", "city": "Kazan",
        "occurred_on": "2026-11-17", "links": [API_CANARY]})
    assert response.status_code == 201, response.text


def _import(cli: Any, tmp_path: Path) -> None:
    records = [
        {"external_id": "partner-1", "title": "Activist summoned by the police", "occurred_on": "2026-11-16",
         "sections": ["persecution"], "state": "accepted", "sources": [IMPORT_CANARY]},
        {"external_id": "partner-2", "title": "Lawyer disbarred", "occurred_on": "2026-11-19",
         "sections": ["persecution"], "state": "accepted",
         "links": [{"url": CLAIMED_VOLUNTEER_CANARY, "title": "Volunteer's note", "origin": "volunteer"},
                   {"url": IMPORTED_EDITOR_LINK, "title": "Statement", "origin": "editor"}]},
    ]
    path = tmp_path / "partner.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    assert "2 created" in cli("import", "incidents", str(path)).output


def _feed_incident(runtime: Runtime) -> None:
    with runtime.session() as s:
        feed = Source(kind="feed", name="News", url="https://news.example.org/feed.xml")
        incident = Incident(title="Blogger fined for a repost", origin="feed", state="new", occurred_on=date(2026, 11, 18),
                            publication="public")
        incident.sources.append(IncidentSource(source=feed, origin="feed", url=FEED_LINK, canonical_url=FEED_LINK,
                                               title="Blogger fined"))
        s.add(incident)


def _accept_all(runtime: Runtime) -> None:
    with runtime.session() as s:
        for incident in s.scalars(select(Incident).where(Incident.state == "new")):
            editorial.decide(s, incident, "accept", actor="test", sections=["persecution"])


def _add_editor_link(base: str, runtime: Runtime, incident_id: int, url: str) -> httpx.Response:
    make_user(runtime, "ed@example.org", role="editor")
    with httpx.Client(timeout=30) as http:
        login(http, base, "ed@example.org")
        page = http.get(f"{base}/editor/incidents/{incident_id}")
        assert "never published" in page.text  # the volunteer's link is shown to editors as such
        return http.post(f"{base}/editor/incidents/{incident_id}/links", follow_redirects=False,
                         data={"csrf_token": csrf_token_of(page.text), "url": url, "title": "Court decision"})


def test_volunteer_partner_and_import_links_are_never_published(cli: Any, runtime: Runtime, live_server: str,
                                                                 settings: Settings, tmp_path: Path) -> None:
    _feed_incident(runtime)
    _submit_form(live_server)
    _post_api(live_server, runtime)
    _import(cli, tmp_path)
    _accept_all(runtime)
    with runtime.session() as s:
        origins = {src.url: src.origin for src in s.scalars(select(IncidentSource)) if src.url}
        form_incident = s.scalar(select(IncidentSource.incident_id).where(IncidentSource.url == FORM_CANARY))
    assert origins == {FEED_LINK: "feed", FORM_CANARY: "volunteer", API_CANARY: "api", IMPORT_CANARY: "import",
                       CLAIMED_VOLUNTEER_CANARY: "volunteer", IMPORTED_EDITOR_LINK: "editor"}
    # The editor checks the volunteer's report and adds a court link of their own.
    assert _add_editor_link(live_server, runtime, form_incident, EDITOR_LINK).status_code == 303

    cli("draft", "--period", "2026-W47")
    cli("approve", "2026-W47", "--user", "ed@example.org")
    cli("publish", "latest")

    root = Path(settings.issues_dir)
    files = {p.relative_to(root).as_posix(): output_text(p).encode() if p.suffix == ".pdf" else p.read_bytes()
             for p in root.rglob("*") if p.is_file()}
    assert {"2026-W47/index.html", "2026-W47/email.html", "2026-W47/email.txt", "2026-W47/issue.json",
            "feed.xml", "index.html"} <= set(files)
    for name, content in files.items():
        assert b"CANARY" not in content, f"a volunteer's, partner's or imported link reached {name}"
    # Emails link outside sources through the web page only ("Sources and details").
    for name in ("2026-W47/index.html", "2026-W47/issue.json"):
        for wanted in (FEED_LINK, EDITOR_LINK, IMPORTED_EDITOR_LINK):
            assert wanted.encode() in files[name], f"{wanted} missing from {name}"
    with runtime.session() as s:
        snapshot = json.dumps(s.scalar(text("SELECT snapshot FROM issues")))
    assert "CANARY" not in snapshot


def test_an_editor_link_is_checked_and_not_added_twice(runtime: Runtime, live_server: str) -> None:
    _feed_incident(runtime)
    with runtime.session() as s:
        incident_id = s.scalar(select(Incident.id))
    assert _add_editor_link(live_server, runtime, incident_id, FEED_LINK).status_code == 400  # already publishable
    with httpx.Client(timeout=30) as http:
        login(http, live_server, "ed@example.org")
        token = csrf_token_of(http.get(f"{live_server}/editor/incidents/{incident_id}").text)
        for bad in ("javascript:alert(1)", 'https://x.example.org/"onmouseover=', "https://", "x" * 3000,
                    "https://example.org:99999/"):
            response = http.post(f"{live_server}/editor/incidents/{incident_id}/links",
                                 data={"csrf_token": token, "url": bad})
            assert response.status_code == 400, bad
            assert "link:" in response.text
    with runtime.session() as s:
        assert [src.origin for src in s.scalars(select(IncidentSource))] == ["feed"]


@pytest.mark.parametrize("origin, public", [("feed", True), ("editor", True), ("volunteer", False), ("api", False),
                                            ("import", False)])
def test_the_snapshot_gate_follows_the_origin(session: Session, settings: Settings, make_incident, origin: str,
                                              public: bool) -> None:
    from newsletter.issues.service import build_snapshot, draft_issue

    incident = make_incident("Blogger fined", section="persecution")
    incident.sources.append(IncidentSource(url="https://x.example.org/a", canonical_url="https://x.example.org/a",
                                           origin=origin))
    session.flush()
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    links = [l["url"] for s in build_snapshot(session, issue, settings=settings)["sections"] for i in s["items"]
             for l in i["links"]]
    assert links == (["https://x.example.org/a"] if public else [])


@pytest.mark.parametrize("publication, published", [("public", ["https://news.example.org/a", "https://x.example.org/e"]),
                                                     ("anonymised", ["https://news.example.org/a"])])
def test_an_anonymised_item_keeps_only_its_feed_links(session: Session, settings: Settings, make_incident,
                                                      publication: str, published: list[str]) -> None:
    """issues/consent.py: on an anonymised item even an editor's link goes; a feed article's stays."""
    from newsletter.issues.service import build_snapshot, draft_issue

    incident = make_incident("Blogger fined", section="persecution", publication=publication, region="Abai Region",
                             links=[("https://news.example.org/a", "Court report", "feed")])
    incident.sources.append(IncidentSource(url="https://x.example.org/e", canonical_url="https://x.example.org/e",
                                           origin="editor"))
    session.flush()
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    links = [l["url"] for s in build_snapshot(session, issue, settings=settings)["sections"] for i in s["items"]
             for l in i["links"]]
    assert links == published
