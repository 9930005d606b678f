"""`newsletter render` on real issues in the test database, and the archive served at /issues/ over HTTP."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import feedparser
import httpx
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.models import Incident, Issue
from newsletter.render import write_archive
from tests.render.builders import make_snapshot, series


def _issue(session: Session, **fields: Any) -> Issue:
    issue = Issue(number=fields.pop("number", 3), period=fields.pop("period", "2026-W47"),
                  period_start=date(2026, 11, 16), period_end=date(2026, 11, 22), **fields)
    session.add(issue)
    session.commit()
    return issue


def test_render_a_frozen_issue_from_its_snapshot(cli: Any, session: Session, tmp_path: Path) -> None:
    snapshot = make_snapshot(12)
    _issue(session, state="sent", title="changed after sending", snapshot=snapshot)
    result = cli("render", "2026-W47", "--out", str(tmp_path / "out"))
    assert "issue 2026-W47 (frozen snapshot) rendered to" in result.output
    files = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"email.html", "email.txt", "subject.txt", "index.html", "issue.json"} <= files
    published = json.loads((tmp_path / "out" / "issue.json").read_text())
    assert published["issue"]["title"] == snapshot["issue"]["title"]  # the frozen words, not today's row
    assert (tmp_path / "out" / "subject.txt").read_text() == (
        "Open Dialogue Monitoring No. 3: Please, listen to the citizens of Kazakhstan\n")


def test_render_a_draft_builds_a_snapshot_without_freezing(cli: Any, session: Session, settings: Settings) -> None:
    from newsletter.issues.service import draft_issue

    session.add(Incident(title="Blogger detained in Almaty", summary="Detained for a post about the election.",
                         occurred_on=date(2026, 11, 18), publication="public", state="accepted", origin="editor"))
    session.flush()
    draft_issue(session, settings=settings, period="2026-W47", actor="test")
    session.commit()
    result = cli("render", "latest")
    out = Path(settings.data_dir) / "render" / "2026-W47"
    assert "(draft, not frozen) rendered to" in result.output
    assert "Blogger detained in Almaty" in (out / "email.txt").read_text()
    session.expire_all()
    issue = session.query(Issue).one()
    assert issue.snapshot is None and issue.state == "draft"
    assert not Path(settings.issues_dir).exists()  # nothing published


def test_render_errors_are_clear(cli: Any, session: Session) -> None:
    assert "no issue" in cli("render", "2026-W01", expect=1).output.lower()
    broken = make_snapshot(1)
    broken["sections"][0]["items"][0]["links"][0]["url"] = "ftp://example.org/x"
    _issue(session, state="sent", snapshot=broken)
    output = cli("render", "3", expect=1).output
    assert "snapshot.sections[0].items[0].links[0].url: must be an absolute http(s) URL" in output


def test_serve_before_anything_is_published(live_server: str) -> None:
    with httpx.Client(base_url=live_server) as client:
        page = client.get("/issues/")
        assert page.status_code == 200 and "No issues have been published yet." in page.text
        feed = client.get("/issues/feed.xml")
        assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
        parsed = feedparser.parse(feed.content)
        assert parsed.bozo == 0 and parsed.entries == []
        assert client.get("/issues/2026-W47/").status_code == 404
        assert client.get("/issues/archive.css").headers["content-type"].startswith("text/css")


def test_serve_the_archive(live_server: str, settings: Settings) -> None:
    write_archive(settings.issues_dir, series(2, items=3), settings)
    (Path(settings.issues_dir).parent / "secret.txt").write_text("outside the archive")
    (Path(settings.issues_dir) / ".hidden").write_text("dot file")
    with httpx.Client(base_url=live_server) as client:
        redirect = client.get("/issues")
        assert redirect.status_code == 308 and redirect.headers["location"] == "/issues/"
        index = client.get("/issues/")
        assert index.status_code == 200 and 'href="2026-W46/"' in index.text
        assert index.headers["cache-control"] == "public, max-age=300"
        to_slash = client.get("/issues/2026-W46")
        assert to_slash.status_code == 308 and to_slash.headers["location"] == "/issues/2026-W46/"
        page = client.get("/issues/2026-W46/")
        assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
        assert "content-security-policy" in page.headers and 'href="archive.css"' in page.text
        for name, kind in (("email.txt", "text/plain"), ("issue.json", "application/json"),
                           ("archive.css", "text/css"), ("archive.js", "text/javascript")):
            assert client.get(f"/issues/2026-W46/{name}").headers["content-type"].startswith(kind)
        email = client.get("/issues/2026-W46/email.html")
        assert "style-src 'unsafe-inline'" in email.headers["content-security-policy"]
        assert "script-src" not in email.headers["content-security-policy"]
        feed = feedparser.parse(client.get("/issues/feed.xml").content)
        assert feed.bozo == 0 and len(feed.entries) == 2
        assert client.head("/issues/2026-W46/").status_code == 200
        for bad in ("/issues/..%2fsecret.txt", "/issues/%2e%2e/secret.txt", "/issues/.hidden",
                    "/issues/2026-W46/..%2f..%2fsecret.txt", "/issues/nope/"):
            response = client.get(bad)
            assert response.status_code == 404, bad
            assert "outside the archive" not in response.text


def test_the_site_answers_the_browsers_own_favicon_request(live_server: str) -> None:
    """Pages without an icon link (the archived email) make browsers fetch /favicon.ico; a 404
    there is a console error on every such page, so the app serves its own icon."""
    from io import BytesIO

    from PIL import Image

    with httpx.Client(base_url=live_server) as client:
        icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert "max-age" in icon.headers["cache-control"]
    assert Image.open(BytesIO(icon.content)).format == "ICO"
