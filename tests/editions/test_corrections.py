"""Corrections in every edition: a correction's words per further language (the desk's correction page), shown
to each edition's readers (page, feed, issue.json, index, the next issue, the notice email) in their language,
else in the original with a short note; "See also" links to the reader's own edition; consent in every language."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db import utcnow
from newsletter.flows import corrections as correction_flow
from newsletter.flows.issues import publish
from newsletter.issues.corrections import CorrectionRefused, set_translation
from newsletter.issues.service import approve_issue, draft_issue
from newsletter.models import (
    AuditLog, Correction, CorrectionTranslation, Delivery, Issue, IssueItem, ItemTranslation, PersonSpelling, Subscriber,
    User, incident_relations,
)
from newsletter.runtime import Runtime
from tests.delivery.helpers import RU_HEADLINE, add_subscribers, make_issue, recording_smtp
from tests.issues.conftest import PROTECTED_CITY, PROTECTED_NAME

ATOM = "{http://www.w3.org/2005/Atom}"
FIX = "She was released the same evening."
RU_FIX = "Её отпустили в тот же вечер."
IN_ENGLISH = "(на языке оригинала: английский)"


def _publish(runtime: Runtime, issue_id: int, settings: Settings) -> None:
    with runtime.sessions() as tx:
        publish(tx, tx.get(Issue, issue_id), settings=settings, actor="cli")


@pytest.fixture
def published(runtime: Runtime, session: Session, settings: Settings, two_items: Issue, translate, make_editor) -> Issue:
    """Issue 1 in English and Russian, with one correction (in English) of its first item."""
    first, second = two_items.items
    translate(first, "Активистку задержали в Алматы", "Её задержали после пикета.")
    translate(second, state="missing", allow_original=True)
    approve_issue(session, two_items, user=make_editor("ed@example.org"), settings=settings)
    _publish(runtime, two_items.id, settings)
    with runtime.sessions() as tx:
        correction_flow.file(tx, tx.get(Issue, two_items.id), incident_ref=str(first.incident_id), text=FIX,
                             actor="cli", settings=settings)
    session.expire_all()
    return session.get(Issue, two_items.id)


@pytest.fixture
def desk(runtime: Runtime, session: Session) -> Iterator:  # type: ignore[type-arg]
    from fastapi.testclient import TestClient

    from newsletter.web.app import create_app
    from tests.editorial.helpers import login, make_user

    make_user(runtime, "desk@example.org")
    with TestClient(create_app(runtime), base_url="http://testserver") as client:
        login(client, "", "desk@example.org")
        yield client


def _post(client, page_url: str, action: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    from tests.editorial.helpers import csrf_token_of

    token = csrf_token_of(client.get(page_url).text)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=False)


def _ru_entry(root: Path) -> str:
    (entry,) = ET.parse(root / "feed.ru.xml").getroot().findall(f"{ATOM}entry")
    return entry.find(f"{ATOM}content").text or ""


def test_an_untranslated_correction_shows_its_original_with_a_note_in_the_ru_edition(
        settings: Settings, published: Issue) -> None:
    root = Path(settings.issues_dir)
    ru_page = (root / "2026-W47/ru/index.html").read_text()
    assert FIX in ru_page and IN_ENGLISH in ru_page and '<span lang="en">She was released' in ru_page
    assert FIX in _ru_entry(root) and IN_ENGLISH in _ru_entry(root)
    en_page = (root / "2026-W47/index.html").read_text()
    assert FIX in en_page and "(in English)" not in en_page and IN_ENGLISH not in en_page
    ru_json = json.loads((root / "2026-W47/ru/issue.json").read_text())
    assert ru_json["corrections"][0]["text"] == FIX and ru_json["corrections"][0]["language"] == "en"
    assert "translations" not in ru_json["corrections"][0]  # a layer's inputs are never published as such


def test_the_desk_translates_a_correction_and_every_ru_output_shows_it(
        desk, session: Session, settings: Settings, published: Issue) -> None:
    correction_id = session.scalar(select(Correction.id))
    issue_page = desk.get(f"/editor/issues/{published.id}").text
    assert f'href="/editor/corrections/{correction_id}"' in issue_page
    url = f"/editor/corrections/{correction_id}"
    page = desk.get(url).text
    assert FIX in page and f'action="{url}/translations/ru"' in page and "Not translated" in page
    r = _post(desk, url, f"{url}/translations/ru", {"text": f"  {RU_FIX}\r\n"})
    assert r.status_code == 303 and r.headers["location"].startswith(f"{url}?done=saved")
    assert RU_FIX in desk.get(r.headers["location"]).text

    root = Path(settings.issues_dir)
    ru_page = (root / "2026-W47/ru/index.html").read_text()
    assert RU_FIX in ru_page and FIX not in ru_page and IN_ENGLISH not in ru_page
    assert RU_FIX in _ru_entry(root) and FIX not in _ru_entry(root)
    ru_json = json.loads((root / "2026-W47/ru/issue.json").read_text())
    assert ru_json["corrections"][0]["text"] == RU_FIX and ru_json["corrections"][0]["language"] == "ru"
    ru_index = (root / "ru/index.html").read_text()
    assert RU_FIX in ru_index and f'href="../2026-W47/ru/#correction-{correction_id}"' in ru_index
    assert "Активистку задержали в Алматы" in ru_index  # the item's headline as the ru edition published it
    en_page = (root / "2026-W47/index.html").read_text()
    assert FIX in en_page and RU_FIX not in en_page
    assert RU_FIX not in (root / "feed.xml").read_text() and RU_FIX not in (root / "index.html").read_text()
    row = session.scalar(select(AuditLog).where(AuditLog.action == "correction.translated"))
    assert row.actor == "desk@example.org" and RU_FIX not in json.dumps(row.changes, ensure_ascii=False)

    # Emptied: not translated again; the original comes back with its note.
    r = _post(desk, url, f"{url}/translations/ru", {"text": "   "})
    assert r.status_code == 303
    assert session.scalar(select(func.count()).select_from(CorrectionTranslation)) == 0
    ru_page = (root / "2026-W47/ru/index.html").read_text()
    assert FIX in ru_page and IN_ENGLISH in ru_page and RU_FIX not in ru_page


@pytest.mark.parametrize("lang, text, status, words", [
    ("de", RU_FIX, 400, "is not a further edition of this correction"),
    ("en", RU_FIX, 400, "is not a further edition of this correction"),  # the original's own language
    ("ru", "я" * 2001, 400, "keep it within 2000"),
])
def test_the_desk_refuses_bad_translations_clearly_and_stores_nothing(
        desk, session: Session, published: Issue, lang: str, text: str, status: int, words: str) -> None:
    correction_id = session.scalar(select(Correction.id))
    url = f"/editor/corrections/{correction_id}"
    r = _post(desk, url, f"{url}/translations/{lang}", {"text": text})
    assert r.status_code == status and words in r.text
    assert session.scalar(select(func.count()).select_from(CorrectionTranslation)) == 0


def test_the_correction_page_needs_a_csrf_token_and_a_real_correction(desk, session: Session, published: Issue) -> None:
    correction_id = session.scalar(select(Correction.id))
    r = desk.post(f"/editor/corrections/{correction_id}/translations/ru", data={"text": RU_FIX},
                  follow_redirects=False)
    assert r.status_code == 403
    assert session.scalar(select(func.count()).select_from(CorrectionTranslation)) == 0
    assert desk.get("/editor/corrections/999").status_code == 404
    assert desk.get("/editor/corrections/99999999999999999999").status_code == 404
    r = _post(desk, f"/editor/corrections/{correction_id}", "/editor/corrections/999/translations/ru",
              {"text": RU_FIX})
    assert r.status_code == 404


def test_the_next_issues_ru_edition_carries_the_translated_correction(
        runtime: Runtime, session: Session, settings: Settings, published: Issue, make_incident, make_editor) -> None:
    correction = session.scalar(select(Correction))
    set_translation(session, correction, "ru", RU_FIX, actor="cli", settings=settings)
    session.flush()
    make_incident("Journalist searched in Astana", summary="Police searched her flat.", section="repression",
                  external_id="next-1", occurred_on=date(2026, 11, 25))
    nxt = draft_issue(session, settings=settings, period="2026-W48", actor="cli")
    for item in nxt.items:
        session.add(ItemTranslation(
            item_id=item.id, language="ru", headline="Обыск у журналистки в Астане", text="Полиция провела обыск.",
            state="done"))
    session.flush()
    session.expire_all()
    nxt = session.get(Issue, nxt.id)
    approve_issue(session, nxt, user=make_editor("ed2@example.org"), settings=settings)
    _publish(runtime, nxt.id, settings)
    root = Path(settings.issues_dir)
    item_id = correction.item_id
    ru_page = (root / "2026-W48/ru/index.html").read_text()
    assert RU_FIX in ru_page and FIX not in ru_page
    assert f'href="http://127.0.0.1:8000/issues/2026-W47/ru/#item-{item_id}">Активистку задержали в Алматы</a>' in ru_page
    ru_text = (root / "2026-W48/ru/email.txt").read_text()
    assert RU_FIX in " ".join(ru_text.split()) and f"http://127.0.0.1:8000/issues/2026-W47/ru/#item-{item_id}" in ru_text
    en_page = (root / "2026-W48/index.html").read_text()
    assert FIX in en_page and RU_FIX not in en_page
    assert f'href="http://127.0.0.1:8000/issues/2026-W47/#item-{item_id}"' in en_page


# ---------------------------------------------------------------- "See also" in the reader's edition


def test_see_also_links_go_to_the_same_edition(runtime: Runtime, session: Session, settings: Settings,
                                               published: Issue, make_incident, make_editor) -> None:
    earlier = published.items[0]
    later = make_incident("Activist detained again in Almaty", summary="She was detained at a second picket.",
                          section="persecution", external_id="later-1",
                          occurred_on=date(2026, 11, 25))
    session.execute(insert(incident_relations).values(incident_id=later.id, related_id=earlier.incident_id))
    session.flush()
    nxt = draft_issue(session, settings=settings, period="2026-W48", actor="cli")
    link = f"http://127.0.0.1:8000/issues/2026-W47/#item-{earlier.id}"
    for item in nxt.items:  # the editor links the earlier item in the text, as its default page
        item.text_format, item.text = "markdown", f"She was detained again ([the first time]({link}))."
        session.add(ItemTranslation(item_id=item.id, language="ru", headline="Активистку снова задержали",
                                    text=f"Её задержали на втором пикете ([в первый раз]({link})).", state="done"))
    session.flush()
    session.expire_all()
    nxt = session.get(Issue, nxt.id)
    approve_issue(session, nxt, user=make_editor("ed3@example.org"), settings=settings)
    _publish(runtime, nxt.id, settings)
    root = Path(settings.issues_dir)
    ru_link = f'href="http://127.0.0.1:8000/issues/2026-W47/ru/#item-{earlier.id}">Активистку задержали в Алматы</a>'
    assert ru_link in (root / "2026-W48/ru/index.html").read_text()
    ru_email = (root / "2026-W48/ru/email.html").read_text()
    assert f"http://127.0.0.1:8000/issues/2026-W47/ru/#item-{earlier.id}" in ru_email
    assert "Активистку задержали в Алматы" in ru_email
    assert f"http://127.0.0.1:8000/issues/2026-W47/#item-{earlier.id}" not in ru_email
    ru_text = (root / "2026-W48/ru/email.txt").read_text()
    assert f"http://127.0.0.1:8000/issues/2026-W47/ru/#item-{earlier.id}" in ru_text
    in_text = f'href="http://127.0.0.1:8000/issues/2026-W47/ru/#item-{earlier.id}" rel="noopener noreferrer">в первый раз</a>'
    assert in_text in ru_email and in_text in (root / "2026-W48/ru/index.html").read_text()
    en_page = (root / "2026-W48/index.html").read_text()
    assert f'href="http://127.0.0.1:8000/issues/2026-W47/#item-{earlier.id}">Activist detained in Almaty</a>' in en_page
    assert f'href="{link}" rel="noopener noreferrer">the first time</a>' in en_page


# ---------------------------------------------------------------- consent in every language


@pytest.fixture
def protected(runtime: Runtime, session: Session, settings: Settings, make_incident, make_person, make_editor,
              translate) -> Correction:
    raigul = make_person(PROTECTED_NAME, consent="initials", role="human_rights_defender", city=PROTECTED_CITY,
                         region="Abai Region")
    raigul.spellings.append(PersonSpelling(spelling="Райгуль Садырбаева"))
    session.flush()
    make_incident("Activist sentenced", summary="She was sentenced to three years.", external_id="ext-p",
                  publication="anonymised", persons=[raigul], region="Abai Region", city=PROTECTED_CITY)
    issue = draft_issue(session, settings=settings, period="2026-W47", actor="cli")
    translate(issue.items[0], state="missing", allow_original=True)
    approve_issue(session, issue, user=make_editor("edp@example.org"), settings=settings)
    _publish(runtime, issue.id, settings)
    with runtime.sessions() as tx:
        correction_flow.file(tx, tx.get(Issue, issue.id), incident_ref="ext-p",
                             text="R. S. was sentenced to two years, not three.", actor="cli", settings=settings)
    session.expire_all()
    return session.scalar(select(Correction))


@pytest.mark.parametrize("text", [
    "Райгуль Садырбаева приговорена к двум годам.",
    "Садырбаеву приговорили к двум годам.",
    f"{PROTECTED_NAME} приговорена к двум годам.",
    f"Суд прошёл в городе {PROTECTED_CITY}.",
])
def test_a_ru_correction_naming_a_protected_person_is_refused(session: Session, settings: Settings,
                                                             protected: Correction, text: str) -> None:
    with pytest.raises(CorrectionRefused) as refused:
        set_translation(session, protected, "ru", text, actor="cli", settings=settings)
    message = str(refused.value)
    assert "the consent check refused this correction" in message
    for word in ("Садырба", "Sadyrba", PROTECTED_CITY):
        assert word not in message
    assert session.scalar(select(func.count()).select_from(CorrectionTranslation)) == 0


def test_the_desk_refuses_a_protected_spelling_and_a_ru_account_reads_why_in_russian(
        runtime: Runtime, desk, session: Session, settings: Settings, protected: Correction) -> None:
    session.execute(update(User).where(User.email == "desk@example.org").values(language="ru"))
    url = f"/editor/corrections/{protected.id}"
    r = _post(desk, url, f"{url}/translations/ru", {"text": "Садырбаеву приговорили к двум годам."})
    assert r.status_code == 400
    assert "проверка согласия отклонила это исправление" in r.text and "the consent check" not in r.text
    assert "Садырбаеву" in r.text  # the editor's own words stay in the form, to be rewritten
    assert session.scalar(select(func.count()).select_from(CorrectionTranslation)) == 0
    r = _post(desk, url, f"{url}/translations/ru", {"text": "Р. С. приговорили к двум годам, а не к трём."})
    assert r.status_code == 303
    assert "Р. С. приговорили" in (Path(settings.issues_dir) / "2026-W47/ru/index.html").read_text()


# ---------------------------------------------------------------- the notice in each reader's language


def _notice_issue(session: Session, readers: dict[str, str]) -> Issue:
    """A sent en,ru issue with one item about incident ext-1, delivered to `readers` (address -> language)."""
    from newsletter.models import Incident

    incident = Incident(title="Search at a journalist's flat", external_id="ext-1", state="published", origin="editor")
    issue = make_issue(session, state="sent", editions=("ru",))
    item = IssueItem(issue=issue, incident=incident, headline="Search at a journalist's flat", position=1)
    session.add_all([incident, item])
    session.flush()
    for name in ("snapshot", "edition_snapshots"):
        frozen = json.loads(json.dumps(getattr(issue, name)))
        for snap in (frozen.values() if name == "edition_snapshots" else [frozen]):
            snap["sections"][0]["items"][0]["id"] = item.id
        setattr(issue, name, frozen)
    issue.published_at = utcnow()
    for address, language in readers.items():
        add_subscribers(session, 1, prefix=address.split("@")[0].rstrip("0"), language=language)
    ids = session.scalars(select(Subscriber.id)).all()
    session.add_all([Delivery(issue_id=issue.id, subscriber_id=sid, state="sent", sent_at=utcnow()) for sid in ids])
    session.flush()
    return issue


def _parts(msg: Message) -> tuple[str, str, str]:
    found = {p.get_content_type(): p.get_payload(decode=True).decode() for p in msg.walk()
             if p.get_content_type() in ("text/plain", "text/html")}
    return str(make_header(decode_header(msg["Subject"]))), found["text/plain"], found["text/html"]


@pytest.mark.parametrize("translated", [True, False])
def test_each_reader_gets_the_notice_in_their_editions_language_once(
        cli, session: Session, make_runtime, translated: bool) -> None:
    with recording_smtp() as (url, sink):
        make_runtime(smtp_url=url, languages="en,ru")
        issue = _notice_issue(session, {"en@example.org": "en", "ru@example.org": "ru", "kk@example.org": "kk"})
        cli("corrections", "add", "1", "--incident", "ext-1", "--text", FIX)
        if translated:
            session.add(CorrectionTranslation(correction_id=1, language="ru", text=RU_FIX))
            session.flush()
        out = cli("corrections", "notify", "1").output
        assert "notice 3 sent now" in out
        assert "notice 0 sent now" in cli("corrections", "notify", "1").output  # once per reader
        mails = {msg["To"]: _parts(msg) for msg in map(message_from_bytes, sink.raw)}
    assert len(sink.raw) == 3 and set(mails) == {"en0@example.org", "ru0@example.org", "kk0@example.org"}
    item_id = issue.items[0].id
    subject, text, html = mails["ru0@example.org"]
    assert subject.startswith("Исправление") and RU_HEADLINE in subject
    assert f"http://127.0.0.1:8000/issues/2026-W47/ru/#item-{item_id}" in text and 'lang="ru"' in html
    assert "http://127.0.0.1:8000/issues/ru/" in text  # "all issues": the Russian index
    if translated:
        assert RU_FIX in " ".join(text.split()) and RU_FIX in html and FIX not in text and IN_ENGLISH not in text
    else:
        assert FIX in " ".join(text.split()) and IN_ENGLISH in text and IN_ENGLISH in html
    for address in ("en0@example.org", "kk0@example.org"):  # no kk edition: the default one
        subject, text, html = mails[address]
        assert subject.startswith("Correction to") and RU_HEADLINE not in subject
        assert FIX in " ".join(text.split()) and RU_FIX not in text + html
        assert f"http://127.0.0.1:8000/issues/2026-W47/#item-{item_id}" in text and "(in English)" not in text
