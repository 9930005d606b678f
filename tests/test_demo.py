"""`newsletter demo` runs the whole weekly cycle end to end, and a second run adds nothing."""

from __future__ import annotations

import email
import email.header
import html
import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.models import AuditLog, Delivery, Incident, IncidentSource, Issue, Person, Source, Subscriber
from tests.editorial.test_audit_shape import is_uniform


def _counts(session: Session) -> dict[str, int]:
    return {
        model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Incident, IncidentSource, Issue, Person, Source, Subscriber, Delivery)
    }


def test_demo_runs_the_weekly_cycle_twice_without_duplicates(cli: Any, session: Session, settings: Settings) -> None:
    first = cli("demo")
    out = first.output
    for step in ("1. Collect", "2. Volunteer reports", "3. Triage", "4. Issue", "5. Send"):
        assert step in out
    assert "0 failed" in out

    issue = session.scalar(select(Issue))
    assert issue is not None and issue.state == "sent" and issue.snapshot is not None
    folder = Path(settings.issues_dir) / issue.period
    for name in ("email.html", "email.txt", "index.html", "issue.json", "subject.txt"):
        assert (folder / name).stat().st_size > 0, name
    assert (Path(settings.issues_dir) / "index.html").exists()
    assert (Path(settings.issues_dir) / "feed.xml").exists()

    # Feeds went through the real collector: several sources, one incident reported by two feeds.
    feeds = session.scalars(select(Source).where(Source.kind == "feed")).all()
    assert len(feeds) == 4 and all(f.last_success_at is not None for f in feeds)
    multi = session.execute(
        select(IncidentSource.incident_id).group_by(IncidentSource.incident_id).having(func.count() > 1)
    ).all()
    assert multi, "the article republished by a second feed should be one incident with two sources"
    # Scripts and javascript: links from the demo feeds were sanitised away.
    bodies = " ".join(session.scalars(select(Incident.body)))
    assert "<script" not in bodies and "javascript:" not in bodies and "onclick" not in bodies

    # Consent: the count-only report is counted, never shown; the no-names report shows no name or city.
    snapshot_text = json.dumps(issue.snapshot)
    outputs = snapshot_text + "".join((folder / n).read_text() for n in ("email.html", "email.txt", "index.html"))
    assert "Aidos" not in outputs and "Ustyurt City" not in outputs
    assert "Timur Kasenov" not in outputs and "Koktobe about" not in outputs
    assert issue.snapshot["withheld"]["incidents"] >= 1
    assert "Article 174" in outputs
    # Subjects, places and the persons block with names (issue #12 items 4 and 6).
    page = (folder / "index.html").read_text()
    assert "Where it happened" in page and "<svg" in page and issue.snapshot["places"]["cities"] >= 3
    subjects = [s for sec in issue.snapshot["sections"] for i in sec["items"] for s in i.get("subjects", ())]
    assert subjects and all(s["name"] != "Timur Kasenov" for s in subjects)
    names = [n for row in issue.snapshot["persons_summary"]["counts"] for g in row["groups"] for n in g["names"]]
    assert "Askar Temirov" in names and "Askar Temirov" in page

    # One item of each format, the testimony with a photo published bare under the issue's media/ folder.
    items = [i for sec in issue.snapshot["sections"] for i in sec["items"]]
    assert {i.get("format", "news") for i in items} == {"news", "testimony", "statement", "timeline"}
    [photo] = [i["photo"] for i in items if "photo" in i]
    from PIL import Image

    with Image.open(folder / "media" / photo["file"]) as img:
        assert not img.getexif() and "exif" not in img.info and img.width == 1200
    assert f'{settings.base_url}/issues/{issue.period}/media/{photo["email_file"]}' in (folder / "email.html").read_text()
    assert "January 4–5, 2022" in page and "The Prosecutor General" in page

    # Every audit row of the whole cycle records a changed value as a from/to pair (newsletter/audit.py).
    for action, changes in session.execute(select(AuditLog.action, AuditLog.changes)):
        assert is_uniform(changes), (action, changes)

    # A demo feed links its article with utm_ parameters: what we publish carries none.
    assert "utm_source=rss" in " ".join(session.scalars(select(IncidentSource.url).where(IncidentSource.url.is_not(None))))
    published = outputs + (folder / "issue.json").read_text() + (Path(settings.issues_dir) / "feed.xml").read_text()
    published += "".join(m.read_text(errors="replace") for m in (Path(settings.data_dir) / "demo" / "mail").glob("*.eml"))
    assert "utm_" not in published and "akhmetova-charged" in published

    # Every demo subscriber got exactly one copy, kept as .eml by the loopback SMTP server.
    mails = sorted((Path(settings.data_dir) / "demo" / "mail").glob("*.eml"))
    assert len(mails) == 3
    recipients = sorted(email.message_from_bytes(m.read_bytes())["To"] for m in mails)
    assert recipients == ["analyst@ngo.example", "diplomat@embassy.example", "journalist@newsroom.example"]
    by_to = {email.message_from_bytes(m.read_bytes())["To"]: email.message_from_bytes(m.read_bytes()) for m in mails}
    msg = by_to["diplomat@embassy.example"]
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["List-Unsubscribe"]
    subject = str(email.header.make_header(email.header.decode_header(msg["Subject"])))
    assert subject == (folder / "subject.txt").read_text().strip()

    # Both editions (issue #13): the ru edition from the demo's Russian translations, mailed to the ru reader.
    ru_folder = folder / "ru"
    for name in ("email.html", "email.txt", "index.html", "issue.json"):
        assert (ru_folder / name).stat().st_size > 0, name
    assert (Path(settings.issues_dir) / "ru" / "index.html").exists()
    assert (Path(settings.issues_dir) / "feed.ru.xml").exists()
    ru_page = (ru_folder / "index.html").read_text()
    assert '<html lang="ru"' in ru_page and "Обыски у сторонников «Демократического выбора»" in ru_page
    ru_outputs = ru_page + (ru_folder / "email.txt").read_text() + json.dumps(issue.edition_snapshots, ensure_ascii=False)
    for leak in ("Aidos", "Айдос", "Ustyurt City", "Timur Kasenov", "Касенов"):
        assert leak not in ru_outputs, leak
    ru_mail = by_to["analyst@ngo.example"]
    ru_subject = str(email.header.make_header(email.header.decode_header(ru_mail["Subject"])))
    assert ru_subject == (ru_folder / "subject.txt").read_text().strip() != subject
    ru_text = next(p for p in ru_mail.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert "Обыски у сторонников" in ru_text and "Сменить язык: http://127.0.0.1:8000/preferences/" in ru_text
    # The issue's own texts are Russian too: the week title, the intro, the editor's note and its signature.
    ru_issue = issue.edition_snapshots["ru"]["issue"]
    assert re.search(r"[а-я]", ru_issue["title"]) and ru_issue["title"] in ru_subject
    assert ru_issue["intro"].startswith("На этой неделе наши волонтёры") and "volunteers" not in ru_issue["intro"]
    assert ru_issue["preheader"].startswith("На этой неделе наши волонтёры")
    note = issue.edition_snapshots["ru"]["editors_note"]
    assert "нефтяников" in note["text"] and note["signature"] == "Редакция"
    assert 'href="https://monitoring.example/donate"' in note["html"]
    assert "На этой неделе наши волонтёры" in ru_page and "Редакция" in ru_text
    assert "This week our volunteers" in issue.snapshot["issue"]["intro"]  # the default edition keeps its words

    # One dated correction was filed: the archive page, the feed and issue.json show it; the snapshot is unchanged.
    assert "6. Correction" in out and "filed on" in out
    data = json.loads((folder / "issue.json").read_text())
    assert len(data["corrections"]) == 1 and "wrong day" in data["corrections"][0]["text"]
    assert 'class="correction"' in (folder / "index.html").read_text()
    assert "wrong day" in (Path(settings.issues_dir) / "feed.xml").read_text()
    assert "corrections" not in issue.snapshot and "wrong day" not in json.dumps(issue.snapshot)

    # The seed's layout (issue #12): a lead story, a section with sub-heads, a paragraph item without a
    # headline, a signed editor's note, footer links and the subscribe box; the feed's link is kept.
    items = [i for s in issue.snapshot["sections"] for i in s["items"]]
    assert sum(1 for i in items if i.get("lead")) == 1
    assert len({i["subhead"] for i in items if i.get("subhead")}) >= 2
    paragraph = next(i for i in items if i.get("paragraph"))  # its headline names it, unseen: aria-label
    assert issue.snapshot["editors_note"]["signature"] == "The editors"
    assert issue.snapshot["footer"]["donate_url"] == "https://monitoring.example/donate"
    web, email_html = (folder / "index.html").read_text(), (folder / "email.html").read_text()
    assert 'class="section lead"' in web and '<h3 class="subhead"' in web and 'class="editors-note"' in web
    assert 'class="subscribe-box' in web and 'href="mailto:editors@monitoring.example"' in email_html
    assert 'href="https://steppe-rights.example/2026/union-statement"' in email_html  # "Read the union's statement."
    assert f'aria-label="{html.escape(paragraph["headline"])}"' in web and f'>{html.escape(paragraph["headline"])}</h' not in web

    # The count printed is the count readers see in the archive (count-only reports are not items).
    shown = sum(len(s["items"]) for s in issue.snapshot["sections"])
    flat_first = " ".join(out.split())
    assert f"({issue.period}): {shown} items" in flat_first
    assert f"+{issue.snapshot['withheld']['incidents']} counted only" in flat_first
    index = (Path(settings.issues_dir) / "index.html").read_text()
    assert f"{shown} items" in index

    before = _counts(session)
    second = cli("demo")
    assert "0 new" in second.output and "3 already sent" in second.output
    assert "Issue issue" not in " ".join(second.output.split())
    assert f"4. Issue: issue {issue.number} ({issue.period}) was already sent or published" in " ".join(second.output.split())
    assert _counts(session) == before
    assert "already has 1 correction(s); none added" in " ".join(second.output.split())
    assert len(list((Path(settings.data_dir) / "demo" / "mail").glob("*.eml"))) == 3
