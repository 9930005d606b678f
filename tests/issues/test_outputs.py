"""Consent holds in every rendered output: email HTML and text, web page, JSON and the Atom feed.

Drives the real commands (draft, approve, publish) and the real renderer; reads the files written.
"""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.issues.service import build_snapshot
from newsletter.models import AuditLog, Issue
from newsletter.render import render_email, render_issue
from tests.issues.conftest import assert_no_protected_words
from tests.support.outputs import output_text


def test_every_rendered_output_is_free_of_protected_names(session: Session, settings: Settings, consent_issue: Issue,
                                                          make_editor) -> None:
    snapshot = build_snapshot(session, consent_issue, settings=settings)
    rendered = render_issue(snapshot, settings)
    for name, text in (("email.html", rendered.email_html), ("email.txt", rendered.email_text),
                       ("index.html", rendered.web_html), ("issue.json", rendered.issue_json),
                       ("subject", rendered.subject)):
        assert_no_protected_words(text, name)
    assert "R. S." in rendered.email_text and "Aya Sadvakasova" in rendered.email_text
    assert "3 further cases in 2 cities are not published for the safety of those involved" in " ".join(rendered.email_text.split())
    email = render_email(snapshot, settings)
    assert_no_protected_words(email.html + email.text, "render_email")


def test_publish_through_the_cli_writes_a_clean_archive(cli, session: Session, settings: Settings,
                                                        consent_issue: Issue, make_editor) -> None:
    make_editor("ed@example.org")
    cli("approve", "2026-W47", "--user", "ed@example.org")
    result = cli("publish", "latest")
    assert "issue 1 published to" in result.output
    root = Path(settings.issues_dir)
    files = {p.relative_to(root).as_posix(): output_text(p) for p in root.rglob("*") if p.is_file()}
    assert {"2026-W47/email.html", "2026-W47/email.txt", "2026-W47/index.html", "2026-W47/issue.json",
            "index.html", "feed.xml"} <= set(files)
    for name, text in files.items():
        assert_no_protected_words(text, name)
    feed = feedparser.parse(files["feed.xml"].encode())
    assert not feed.bozo and len(feed.entries) == 1
    published = json.loads(files["2026-W47/issue.json"])
    assert published["withheld"] == {"incidents": 3, "cities": 2}
    session.expire_all()
    issue = session.scalar(select(Issue))
    assert issue.snapshot is not None and issue.published_at is not None
    assert {i.incident.state for i in issue.items} == {"published"}
    assert session.scalar(select(AuditLog.id).where(AuditLog.action == "issue.published")) is not None


def test_cli_refuses_to_publish_an_unapproved_issue(cli, settings: Settings, consent_issue: Issue) -> None:
    result = cli("publish", "2026-W47", expect=1)
    assert "not approved" in result.output
    assert not Path(settings.issues_dir, "2026-W47").exists()


def test_cli_draft_list_and_errors(cli, make_incident) -> None:
    make_incident("Blogger detained")
    assert "issue 1 (2026-W47, 16 Nov – 22 Nov 2026): 1 items, draft" in cli("draft", "--period", "2026-W47").output
    assert "1 items" in cli("draft", "--period", "2026-W47").output  # idempotent
    assert "1\t2026-W47\tdraft\t1 items\t0 approval(s)\tnot published" in cli("issues").output
    assert "2025 has no ISO week 53" in cli("draft", "--period", "2025-W53", expect=1).output
    assert "no user 'nobody@example.org'" in cli("approve", "1", "--user", "nobody@example.org", expect=1).output
    assert "no issue for '7'" in cli("publish", "7", expect=1).output


def test_cli_second_approval(cli, settings_env, monkeypatch, make_incident, make_editor) -> None:
    monkeypatch.setenv("NEWSLETTER_REQUIRE_SECOND_APPROVAL", "true")
    make_incident("Blogger detained")
    make_editor("one@example.org")
    make_editor("two@example.org")
    cli("draft", "--period", "2026-W47")
    assert "a second editor must approve too" in cli("approve", "1", "--user", "one@example.org").output
    assert "different editor" in cli("approve", "1", "--user", "one@example.org", expect=1).output
    assert "issue 1 approved by two@example.org" in cli("approve", "1", "--user", "two@example.org").output
