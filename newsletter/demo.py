"""`newsletter demo`: the whole weekly cycle on bundled, fictional demo data, through the real code.

Feeds in feeds/demo/ are served from a loopback HTTP server and collected by the real collector;
volunteer reports go through the submission service; simple demo rules triage and tag; the week's
issue is drafted, approved, published to the archive and sent through a loopback SMTP server
(aiosmtpd) that keeps every message as an .eml file. Running it twice adds no duplicates.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from email.utils import format_datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import PROJECT_ROOT, Settings
from newsletter.db import utcnow
from newsletter.models import CaseStatus, Incident, Person, Subscriber, User
from newsletter.runtime import Runtime

DEMO_DIR = PROJECT_ROOT / "feeds" / "demo"
DEMO_ACTOR = "demo"
DEMO_EDITOR = "demo-editor@example.org"
DEMO_SECOND_EDITOR = "demo-second-editor@example.org"
DEMO_SUBSCRIBERS = (
    ("diplomat@embassy.example", "en"),
    ("journalist@newsroom.example", "en"),
    ("analyst@ngo.example", "ru"),
)
_DATE_TOKEN = re.compile(r"@(RFC822|ISO):(\d+)@")

# Demo triage rules: which section an accepted incident goes to, by words in its title or text.
SECTION_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("punitive-psychiatry", ("psychiatric", "psychoneurological", "mental")),
    ("international", ("MEP", "UN ", "EU ", "European Parliament", "Special Rapporteur")),
    ("legislation", ("law", "draft law", "register")),
    ("solidarity", ("solidarity", "raised funds", "collect money", "support")),
    ("repression", ("journalist", "blogger", "fined")),
    ("persecution", ("detained", "detention", "charged", "searched", "searches", "custody", "arrest")),
)


def week_dates(today: date) -> tuple[date, date]:
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=6)


def fill_dates(text: str, now: datetime) -> str:
    """Replace @RFC822:N@ / @ISO:N@ with N days ago (at 09:00 UTC), never before this week's Monday."""
    monday, _ = week_dates(now.date())

    def when(days: int) -> datetime:
        day = max(now.date() - timedelta(days=days), monday)
        return datetime.combine(day, time(9, 0), tzinfo=timezone.utc)

    def repl(match: re.Match[str]) -> str:
        moment = when(int(match.group(2)))
        return format_datetime(moment) if match.group(1) == "RFC822" else moment.isoformat()

    return _DATE_TOKEN.sub(repl, text)


class _FeedHandler(SimpleHTTPRequestHandler):
    """Serves feeds/demo with the date tokens filled in; quiet (no access log)."""

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        path = DEMO_DIR / self.path.lstrip("/").split("?", 1)[0]
        if path.parent != DEMO_DIR or not path.is_file():
            self.send_error(404)
            return
        body = fill_dates(path.read_text(encoding="utf-8"), utcnow()).encode()
        ctype = "application/atom+xml" if path.suffix == ".atom" else "application/rss+xml"
        self.send_response(200)
        self.send_header("Content-Type", f"{ctype}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@contextmanager
def feed_server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_FeedHandler, directory=str(DEMO_DIR)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


class _EmlSink:
    """aiosmtpd handler that writes every accepted message to a numbered .eml file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.count += 1
            existing = len(list(self.folder.glob("*.eml")))
            rcpt = re.sub(r"[^A-Za-z0-9@._-]", "_", envelope.rcpt_tos[0])
            (self.folder / f"{existing + 1:04d}-{rcpt}.eml").write_bytes(envelope.original_content or envelope.content)
        return "250 OK"


@contextmanager
def smtp_server(folder: Path) -> Iterator[tuple[str, _EmlSink]]:
    from aiosmtpd.controller import Controller

    folder.mkdir(parents=True, exist_ok=True)
    sink = _EmlSink(folder)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", sink
    finally:
        controller.stop()


@dataclass
class DemoReport:
    lines: list[str] = field(default_factory=list)

    def add(self, console: Console, text: str) -> None:
        self.lines.append(text)
        console.print(text)


DEMO_REPORTS: tuple[dict[str, Any], ...] = (
    {
        "external_id": "demo-volunteer-1",
        "data": {
            "title": "Pensioner summoned to the prosecutor's office over a WhatsApp group",
            "what": "Our volunteer reports that Saule Nurlanovna, a pensioner from Tasqala who administers a "
                    "WhatsApp group of 300 residents, was summoned to the prosecutor's office and warned that "
                    "sharing news about the protests could lead to charges under Article 174.",
            "kind": "summons", "city": "Tasqala", "region": "Tasqala Region", "country": "Karastan",
            "persons": [{"name": "Saule Nurlanovna", "role": "citizen"}],
            "consent": "names", "language": "en",
        },
    },
    {
        "external_id": "demo-volunteer-2",
        "data": {
            "title": "Relatives of an exiled blogger questioned by police",
            "what": "The parents of a blogger who lives in exile were questioned for four hours at the police "
                    "station in Koktobe about their son's YouTube channel. Officers told them to persuade him "
                    "to stop publishing. The family asks not to be named.",
            "kind": "pressure_on_relatives", "city": "Koktobe", "region": "East Region", "country": "Karastan",
            "persons": [{"name": "Timur Kasenov", "role": "blogger"}],
            "consent": "no_names", "language": "en",
        },
    },
    {
        "external_id": "demo-volunteer-3",
        "data": {
            "what": "Two leaflet distributors were searched and held for three hours in Ustyurt City; they do "
                    "not want their case to be made public.",
            "kind": "search", "city": "Ustyurt City", "region": "West Region", "country": "Karastan",
            "persons": [{"name": "Aidos B.", "role": "activist", "is_alias": True}],
            "consent": "count_only", "language": "en",
        },
    },
)

DEMO_PERSONS: tuple[tuple[str, str, str, tuple[tuple[str, int, str | None], ...]], ...] = (
    # name, city, role, ((status, days ago, article), ...)
    ("Daniyar Omarov", "Almet", "activist", (("detained", 2, None), ("charged", 1, "Article 174"))),
    ("Marat Seitkali", "Zhanakent", "trade_unionist", (("detained", 4, None), ("pre_trial_detention", 3, None))),
    ("Gulnara Akhmetova", "Sarybel", "blogger", (("searched", 9, None), ("charged", 1, "Article 174"))),
    ("Yerlan Bekov", "Tasqala", "journalist", (("fined", 0, None),)),
    ("Askar Temirov", "Almet", "activist", (("convicted_prison", 400, "Article 174"),)),
    ("Dana Sultanova", "Koktobe", "activist", (("suspended_sentence", 200, "Article 405"),)),
)


def _section_for(incident: Incident) -> str:
    text = f"{incident.title} {incident.summary} {incident.body}"
    if incident.suggested_section:
        return incident.suggested_section
    for slug, words in SECTION_RULES:
        if any(w.lower() in text.lower() for w in words):
            return slug
    return "persecution"


def _demo_editor(session: Session, email: str = DEMO_EDITOR) -> User:
    import secrets

    from newsletter.editorial.users import create_user, get_by_email

    user = get_by_email(session, email)
    if user is None:
        user = create_user(session, email=email, password=secrets.token_urlsafe(24), role="editor", actor=DEMO_ACTOR)
    return user


def _submit_reports(session: Session, rt: Runtime) -> int:
    from newsletter.submissions.schema import SubmissionIn
    from newsletter.submissions.service import create_submission

    created = 0
    for report in DEMO_REPORTS:
        if session.scalar(select(Incident.id).where(Incident.external_id == report["external_id"])):
            continue
        data = dict(report["data"], occurred_on=utcnow().date() - timedelta(days=1))
        incident, _code = create_submission(session, SubmissionIn(**data), settings=rt.settings, channel="form")
        incident.external_id = report["external_id"]
        created += 1
    return created


def _register_persons(session: Session, today: date) -> int:
    added = 0
    for name, city, role, timeline in DEMO_PERSONS:
        if session.scalar(select(Person.id).where(Person.name == name)):
            continue
        person = Person(name=name, city=city, country="Karastan", role=role, consent="name")
        for status, days_ago, article in timeline:
            person.statuses.append(CaseStatus(status=status, occurred_on=today - timedelta(days=days_ago),
                                              article=article, note="demo data"))
        session.add(person)
        added += 1
    session.flush()
    return added


def _triage(session: Session, editor: User) -> dict[str, int]:
    """Demo rules: merge strong duplicate candidates, accept relevant new incidents into a section."""
    from newsletter.editorial.service import decide, merge_incidents
    from newsletter.models import DuplicateCandidate

    counts = {"merged": 0, "accepted": 0, "persons_linked": 0}
    for cand in session.scalars(select(DuplicateCandidate).where(DuplicateCandidate.state == "open")):
        # The fuller report is kept and the other merged into it, whichever feed answered first: collection
        # order varies from run to run, the demo's issue must not.
        keep, dup = sorted((cand.incident, cand.other),
                           key=lambda i: (-len(f"{i.summary or ''}{i.body or ''}"), i.title or "", i.id))
        if dup.state in ("new", "needs_info") and keep.state not in ("duplicate",):
            merge_incidents(session, dup, keep, actor=editor)
            counts["merged"] += 1
    persons = {p.name: p for p in session.scalars(select(Person))}
    for incident in session.scalars(
        select(Incident).where(Incident.state == "new", Incident.relevant.is_(True)).order_by(Incident.id)
    ):
        text = f"{incident.title} {incident.summary} {incident.body}"
        for name, person in persons.items():
            if name in text and person not in incident.persons:
                incident.persons.append(person)
                counts["persons_linked"] += 1
        decide(session, incident, "accept", actor=editor, sections=[_section_for(incident)])
        counts["accepted"] += 1
    return counts


def _import_subscribers(session: Session, rt: Runtime, folder: Path) -> int:
    from newsletter.delivery.service import import_subscribers

    csv_path = folder / "demo-subscribers.csv"
    csv_path.write_text("email,language\n" + "".join(f"{e},{lang}\n" for e, lang in DEMO_SUBSCRIBERS))
    before = len(session.scalars(select(Subscriber.id)).all())
    import_subscribers(session, csv_path, source="demo data", settings=rt.settings)
    session.flush()
    return len(session.scalars(select(Subscriber.id)).all()) - before


def _published_counts(snapshot: dict[str, Any] | None) -> str:
    """Count what readers see (the frozen snapshot), not the draft's rows: count-only reports are withheld."""
    if not snapshot:
        return "no items"
    shown = sum(len(section.get("items", [])) for section in snapshot.get("sections", []))
    withheld = (snapshot.get("withheld") or {}).get("incidents", 0)
    text = f"{shown} item{'s' if shown != 1 else ''}"
    return f"{text} (+{withheld} counted only, not shown)" if withheld else text


DEMO_CORRECTION = ("An earlier version of this item gave the wrong day for these events: they took place on the "
                   "date shown above, not a day later.")


def _file_correction(rt: Runtime, issue_id: int) -> str:
    """A dated correction of the issue's first item, as an editor files one (once: a second run adds none)."""
    from newsletter.flows import corrections
    from newsletter.models import Issue

    with rt.session() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        existing = corrections.listing(session, issue=issue)
        if existing:
            return f"issue {issue.number} already has {len(existing)} correction(s); none added"
        items = corrections.correctable(issue)
        if not items:
            return "no published item to correct"
        row = corrections.file(session, issue, incident_ref=items[0][0], text=DEMO_CORRECTION,
                               actor=_demo_editor(session), settings=rt.settings)
        return (f"filed on \"{row.headline}\"; the archive page, feed.xml and issue.json show it, and the next "
                f"issue lists it (mail it with `newsletter corrections notify {issue.period}`)")


# ---------------------------------------------------------------- editions (issue #13): en and ru

DEMO_LANGUAGES = ["en", "ru"]
DEMO_TRANSLATIONS = DEMO_DIR / "translations-ru.json"


def demo_languages(settings: Any) -> list[str]:
    """The demo makes an English and a Russian edition unless NEWSLETTER_LANGUAGES says otherwise."""
    if settings.languages:
        return list(settings.languages)
    return list(dict.fromkeys([settings.language, *DEMO_LANGUAGES]))


def _translate_demo_items(session: Session, issue: Any, languages: list[str]) -> str:
    """Give the draft's items their Russian words from the demo data, as a translator would on the desk;
    an item the demo data does not know is allowed in the original (readers see a note). Nothing is
    changed on an issue already approved, nor for a language the demo data has no words for."""
    import json

    from newsletter.models import ItemTranslation

    if "ru" not in languages[1:] or issue.state != "draft":
        return "no ru edition" if "ru" not in languages[1:] else "translations kept as approved"
    words = json.loads(DEMO_TRANSLATIONS.read_text(encoding="utf-8"))
    done = allowed = 0
    for item in issue.items:
        if item.incident is not None and item.incident.publication == "internal":
            continue  # only counted, never shown
        row = next((t for t in item.translations if t.language == "ru"), None)
        if row is None:
            row = ItemTranslation(language="ru", updated_by=DEMO_ACTOR)
            item.translations.append(row)
        found = words.get(item.headline.strip())
        if isinstance(found, dict):
            row.headline, row.text, row.state, row.allow_original = found["headline"], found["text"], "done", False
            done += 1
        elif row.state != "done":
            row.allow_original = True
            allowed += 1
    session.flush()
    return f"ru: {done} item(s) translated" + (f", {allowed} shown in the original with a note" if allowed else "")
def _translate_demo_texts(session: Session, issue: Any, languages: list[str], editor: User) -> str:
    """The issue's own intro and editor's note in Russian from the demo data ("_issue"), saved done through the
    desk's service, so the ru edition reads Russian from its subject line down; "" when there is no ru edition."""
    import json

    from newsletter.issues import issue_texts
    from newsletter.issues.errors import IssueError

    if "ru" not in languages[1:] or issue.state != "draft":
        return ""
    words = json.loads(DEMO_TRANSLATIONS.read_text(encoding="utf-8")).get("_issue") or {}
    texts = issue_texts.IssueTexts(**{name: str(words.get(name) or "") for name in issue_texts.FIELDS})
    try:
        issue_texts.set_texts(session, issue, "ru", texts, state="done", editions=languages[1:], actor=editor)
    except IssueError:  # the editors changed a text the demo data has no words for: shown in the original
        issue_texts.allow_original(session, issue, "ru", True, editions=languages[1:], actor=editor)
        return "; the issue's texts shown in the original"
    return "; the issue's texts translated"


DEMO_FOOTER = {"footer_contact_email": "editors@monitoring.example", "footer_donate_url": "https://monitoring.example/donate",
               "footer_privacy_url": "https://monitoring.example/privacy"}
DEMO_NOTE = ("This week we mark one year since the oil workers' strike in Zhanakent. Thank you to the volunteers "
             "in 15 cities who kept registering cases when it was dangerous to do so. If you can, "
             "[support their work](https://monitoring.example/donate).")
# Sub-heads inside the persecution section, as the seed's "Silencing state" has them: by headline words.
DEMO_SUBHEADS = (("Detentions and charges", ("detain", "charged", "pre-trial", "detention")),
                 ("Searches and summonses", ("search", "summon")),
                 ("Fines", ("fine",)))


def _demo_footer(settings: Settings) -> dict[str, str]:
    """The demo shows a footer with contact, donation and privacy links, unless footer links are configured."""
    if any(getattr(settings, name) for name in ("footer_signup_url", "footer_contact_url", "footer_contact_email",
                                                 "footer_donate_url", "footer_privacy_url")):
        return {}
    return dict(DEMO_FOOTER)


def _demo_layout(session: Session, issue: Any, editor: User) -> None:
    """The seed's layout on the demo issue: a lead story, sub-heads in the persecution section, a solidarity
    item shown as a paragraph without its headline, and a signed editor's note."""
    from newsletter.issues.items import update_layout

    if not issue.editors_note:
        issue.editors_note, issue.editors_note_signature = DEMO_NOTE, "The editors"
    items = sorted(issue.items, key=lambda i: (i.position, i.id))
    public = [i for i in items if i.incident is not None and i.incident.publication == "public"]
    section = {i.id: (i.section.slug if i.section else "") for i in items}
    lead = next((i for i in public if section[i.id] == "persecution" and len(i.incident.sources) > 1), None)
    if lead is not None and not any(i.lead for i in items):
        update_layout(session, issue, lead, lead=True, subhead=lead.subhead, paragraph=lead.paragraph, actor=editor)
    for item in items:
        if section[item.id] != "persecution" or item.lead or item.subhead:
            continue
        words = item.headline.lower()
        sub = next((name for name, keys in DEMO_SUBHEADS if any(k in words for k in keys)), "")
        if sub:
            update_layout(session, issue, item, lead=False, subhead=sub, paragraph=item.paragraph, actor=editor)
    paragraph = next((i for i in public if section[i.id] == "solidarity" and i.text.strip()), None)
    if paragraph is not None and not paragraph.paragraph:
        update_layout(session, issue, paragraph, lead=paragraph.lead, subhead=paragraph.subhead, paragraph=True,
                      actor=editor)
def demo_photo(width: int = 1600, height: int = 1000) -> bytes:
    """A picture drawn at demo time (hills, a courthouse, a sky; no person's likeness), saved as a phone would
    save it - with EXIF (camera, GPS) - so that the demo shows the published copy without any of it."""
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height), (150, 185, 220))
    draw = ImageDraw.Draw(img)
    draw.ellipse([width * 3 // 4, height // 10, width * 3 // 4 + height // 6, height // 10 + height // 6], fill=(250, 230, 160))
    draw.polygon([(0, height), (0, height * 3 // 5), (width // 3, height // 2), (width * 2 // 3, height * 3 // 5),
                  (width, height // 2), (width, height)], fill=(90, 130, 80))
    left, top = width // 3, height // 3
    draw.rectangle([left, top + height // 12, left + width // 3, height * 4 // 5], fill=(215, 205, 185))
    draw.polygon([(left - 20, top + height // 12), (left + width // 6, top - height // 20),
                  (left + width // 3 + 20, top + height // 12)], fill=(170, 80, 60))
    for k in range(6):
        x = left + 30 + k * (width // 3 - 60) // 5
        draw.rectangle([x, top + height // 6, x + 24, height * 4 // 5 - 20], fill=(240, 235, 225))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "DemoPhone", "Model 7"
    exif[0x8825] = {1: "N", 2: (43.0, 14.0, 0.0), 3: "E", 4: (76.0, 54.0, 0.0)}
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def _demo_formats(session: Session, issue: Any, editor: User) -> str:
    """One item of each format on the draft (a testimony with a photo, a statement, a timeline; the rest
    stay news), as an editor would set them on the desk."""
    from newsletter.issues import items as desk

    public = [i for i in sorted(issue.items, key=lambda i: (i.position, i.id))
              if i.incident is not None and i.incident.publication == "public"]
    done: list[str] = []
    plans = [
        ("testimony", desk.FormatFields("testimony", quote_text="They came at six in the morning and took every "
                                        "phone in the flat. I was told to forget about the union.",
                                        quote_speaker="a member of the independent trade union")),
        ("statement", desk.FormatFields("statement", quote_text="We call on the authorities to release everyone "
                                        "detained for peaceful protest and to end the prosecution of trade "
                                        "unionists under Article 174.", quote_speaker="Nine human rights organisations",
                                        addressee="The Prosecutor General")),
        ("timeline", desk.FormatFields("timeline", timeline="January 4–5, 2022: Protests spread from Zhanaozen to "
                                       "Almaty.\nJanuary 6, 2022: The internet is shut down across the country.\n"
                                       "January 7, 2022: A shoot-to-kill order is announced.")),
    ]
    for item, (name, fields) in zip(public, plans):
        desk.update_item_format(session, issue, item, fields, actor=editor)
        if name == "testimony":
            desk.attach_photo(session, issue, item, demo_photo(), alt="A courthouse on a hill under a clear sky",
                              caption="The district court where the hearing took place (drawing for the demo)",
                              credit="Demo", no_one_identifiable=True, origin="demo", actor=editor)
            name += " with a photo"
        done.append(name)
    return ", ".join(done) or "none (no public items)"


def run_demo(rt: Runtime, *, console: Console) -> DemoReport:
    """Run the weekly cycle on demo data and say what happened and where the results are."""
    from newsletter.collect.service import run_collect
    from newsletter.flows.send import run_send
    from newsletter.issues.errors import IssueLocked
    from newsletter.flows.issues import approve, draft, pdf_note, publish

    if rt.settings.mode == "production":
        raise RuntimeError("newsletter demo writes fictional data into the database; it refuses to run in production mode")
    if rt.settings.log_level != "DEBUG":  # the steps below say what happened; per-record lines are noise here
        logging.getLogger("newsletter").setLevel(logging.WARNING)
    report = DemoReport()
    work = rt.settings.data_dir / "demo"
    work.mkdir(parents=True, exist_ok=True)
    mail_dir = work / "mail"
    with feed_server() as feeds_url, smtp_server(mail_dir) as (smtp_url, sink):
        settings = rt.settings.model_copy(update={"allow_loopback_feeds": True, "smtp_url": smtp_url,
                                                  "languages": demo_languages(rt.settings),
                                                  **_demo_footer(rt.settings)})
        demo_rt = Runtime(settings)
        demo_rt.__dict__["engine"] = rt.engine  # share the pool; only settings differ
        sources = work / "sources.toml"
        sources.write_text((DEMO_DIR / "sources.toml").read_text().replace("@BASE@", feeds_url))

        report.add(console, f"[bold]1. Collect[/bold] demo feeds served from {feeds_url}")
        collected = run_collect(demo_rt, force_all=True, sources_file=sources)
        report.add(console, f"   {collected.fetched} feeds fetched, {len(collected.failed)} failed, "
                            f"{collected.new_incidents} new incidents ({collected.irrelevant} kept out of triage "
                            f"by the keyword rules), {collected.same_link} same-link and "
                            f"{collected.near_duplicates} near-duplicate reports")
        for name, reason in collected.failed:
            report.add(console, f"   [red]{name}: {reason}[/red]")

        today = utcnow().astimezone(settings.tz).date()
        with demo_rt.session() as session:
            submitted = _submit_reports(session, demo_rt)
            persons = _register_persons(session, today)
        report.add(console, f"[bold]2. Volunteer reports[/bold]: {submitted} new (publish with names, without names, count only)")
        report.add(console, f"   persons of concern registered: {persons} new")

        with demo_rt.session() as session:
            editor = _demo_editor(session)
            triage = _triage(session, editor)
        report.add(console, f"[bold]3. Triage[/bold] by demo rules: {triage['accepted']} accepted into sections, "
                            f"{triage['merged']} duplicates merged, {triage['persons_linked']} persons linked")

        with demo_rt.session() as session:
            editor = _demo_editor(session)
            try:
                issue = draft(session, settings=settings, actor=editor)
                if not issue.title:
                    issue.title = f"{settings.org_name}: the week in review"
                if not issue.intro:
                    issue.intro = ("This week our volunteers and partners registered new detentions, charges under "
                                   "Article 174 and a forced psychiatric placement. Below are the cases whose "
                                   "subjects agreed to be named, and a count of those who did not.")
                translated = _translate_demo_items(session, issue, settings.editions)
                if issue.state == "draft":
                    issue.show_persons_summary = True  # the persons block, with the names consent allows
                    _demo_layout(session, issue, editor)
                    translated += _translate_demo_texts(session, issue, settings.editions, editor)
                    formats_line = _demo_formats(session, issue, editor)
                    report.add(console, f"   item formats set on the desk: {formats_line}")
                    approve(session, issue, user=editor, settings=settings)
                if issue.state == "draft" and settings.require_second_approval:
                    approve(session, issue, user=_demo_editor(session, DEMO_SECOND_EDITOR), settings=settings)
                folder = publish(session, issue, settings=settings, actor=editor)  # commits, then writes the archive
                report.add(console, f"[bold]4. Issue[/bold] no. {issue.number} ({issue.period}): "
                                    f"{_published_counts(issue.snapshot)}, approved and published")
                report.add(console, f"   editions: {', '.join(settings.editions)} ({translated})")
            except IssueLocked as exc:
                from newsletter.issues.service import resolve_issue

                issue = resolve_issue(session, "latest")
                folder = Path(settings.issues_dir) / issue.period
                report.add(console, f"[bold]4. Issue[/bold]: {exc}")
            issue_id = issue.id
            added = _import_subscribers(session, demo_rt, work)
        report.add(console, f"   web page and email: {folder}/index.html, {folder}/email.html, {folder}/email.txt")
        report.add(console, f"   print version: {folder}/issue.pdf" if (note := pdf_note()) is None else f"   {note}")
        report.add(console, f"   archive: {settings.issues_dir}/index.html and {settings.issues_dir}/feed.xml")
        for lang in settings.editions[1:]:
            report.add(console, f"   {lang} edition: {folder}/{lang}/index.html, {settings.issues_dir}/{lang}/index.html "
                                f"and {settings.issues_dir}/feed.{lang}.xml")

        with demo_rt.session() as session:
            from newsletter.models import Issue

            issue = session.get(Issue, issue_id)
        sent = run_send(demo_rt, issue)
        report.add(console, f"[bold]5. Send[/bold] to {len(DEMO_SUBSCRIBERS)} demo subscribers ({added} new): "
                            f"{sent.sent} sent now, {sent.already_done} already sent before, {sent.failed} failed")
        report.add(console, f"   messages received by the loopback SMTP server: {mail_dir}/*.eml")

        filed = _file_correction(demo_rt, issue_id)
        report.add(console, f"[bold]6. Correction[/bold]: {filed}")
    report.add(console, "Next: [bold]newsletter serve[/bold], then open http://127.0.0.1:8000/issues/ "
                        "(archive), /submit (volunteer form), /editor/ (desk; add an account with "
                        "`newsletter users add --email you@example.org --role admin`).")
    return report
