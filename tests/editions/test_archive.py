"""Publishing an en,ru issue: each edition's outputs, indexes, feeds, hreflang links and language switch."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.flows import corrections as correction_flow
from newsletter.flows.issues import publish
from newsletter.issues.service import approve_issue
from newsletter.models import Issue

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def published(runtime, session: Session, settings: Settings, two_items: Issue, translate, make_editor) -> Path:
    first, second = two_items.items
    translate(first, "Активистку задержали в Алматы", "Её задержали после пикета.")
    translate(second, state="missing", allow_original=True)
    approve_issue(session, two_items, user=make_editor("ed@example.org"), settings=settings)
    with runtime.sessions() as tx:
        publish(tx, tx.get(Issue, two_items.id), settings=settings, actor="cli")
    return Path(settings.issues_dir)


def test_each_edition_has_every_output_in_its_folder(published: Path) -> None:
    for folder in (published / "2026-W47", published / "2026-W47" / "ru"):
        for name in ("email.html", "email.txt", "index.html", "issue.json", "archive.css"):
            assert (folder / name).is_file(), folder / name
    ru = json.loads((published / "2026-W47/ru/issue.json").read_text())
    en = json.loads((published / "2026-W47/issue.json").read_text())
    assert ru["edition"] == "ru" and ru["issue"]["language"] == "ru" and "edition" not in en
    page = (published / "2026-W47/ru/index.html").read_text()
    assert '<html lang="ru"' in page and "Активистку задержали в Алматы" in page
    assert "Перевод пока не готов; материал приводится на языке оригинала." in page
    assert re.search(r'<article class="item"[^>]*lang="en"', page)  # the untranslated item, marked as English
    assert "Activist detained in Almaty" not in page
    text = (published / "2026-W47/ru/email.txt").read_text()
    assert "Активистку задержали в Алматы" in text and "[Перевод пока не готов" in text
    assert "http://127.0.0.1:8000/issues/2026-W47/ru/" in text  # "view online" points at this edition


def test_pages_link_their_editions_with_hreflang_and_a_switch(published: Path) -> None:
    en_page = (published / "2026-W47/index.html").read_text()
    ru_page = (published / "2026-W47/ru/index.html").read_text()
    for page in (en_page, ru_page):
        assert '<link rel="alternate" hreflang="en" href="http://127.0.0.1:8000/issues/2026-W47/">' in page
        assert '<link rel="alternate" hreflang="ru" href="http://127.0.0.1:8000/issues/2026-W47/ru/">' in page
    assert '<a href="../2026-W47/ru/" hreflang="ru" lang="ru">Русский</a>' in en_page
    assert '<a href="../../2026-W47/" hreflang="en" lang="en">English</a>' in ru_page
    assert '<span aria-current="page" lang="ru">Русский</span>' in ru_page
    # The ru page's chrome leads to the Russian index and feed.
    assert 'href="../../ru/">Все выпуски</a>' in ru_page or 'href="../../ru/"' in ru_page
    assert 'href="../../feed.ru.xml"' in ru_page


def test_each_language_has_its_index_and_feed(published: Path) -> None:
    index_ru = (published / "ru/index.html").read_text()
    assert '<html lang="ru"' in index_ru and 'href="../2026-W47/ru/"' in index_ru
    assert 'href="../archive.css"' in index_ru and 'href="../feed.ru.xml"' in index_ru
    assert '<a href="../" hreflang="en" lang="en">English</a>' in index_ru
    index_en = (published / "index.html").read_text()
    assert 'href="2026-W47/"' in index_en and 'hreflang="ru"' in index_en
    feed = ET.parse(published / "feed.ru.xml").getroot()
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "ru"
    (entry,) = feed.findall(f"{ATOM}entry")
    assert entry.find(f"{ATOM}id").text == "http://127.0.0.1:8000/issues/2026-W47/ru/"
    assert "Активистку задержали в Алматы" in entry.find(f"{ATOM}content").text
    self_link = next(link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self")
    assert self_link.get("href") == "http://127.0.0.1:8000/issues/feed.ru.xml"
    (en_entry,) = ET.parse(published / "feed.xml").getroot().findall(f"{ATOM}entry")
    assert en_entry.find(f"{ATOM}id").text == "http://127.0.0.1:8000/issues/2026-W47/"


def test_a_correction_shows_in_every_edition(runtime, settings: Settings, session: Session, published: Path,
                                             two_items: Issue) -> None:
    incident = two_items.items[0].incident
    with runtime.sessions() as tx:
        correction_flow.file(tx, tx.get(Issue, two_items.id), incident_ref=str(incident.id),
                             text="She was released the same evening.", actor="cli", settings=settings)
    for page in ("2026-W47/index.html", "2026-W47/ru/index.html"):
        assert "She was released the same evening." in (published / page).read_text(), page
    ru = json.loads((published / "2026-W47/ru/issue.json").read_text())
    assert ru["corrections"][0]["text"] == "She was released the same evening."


def test_the_archive_serves_each_editions_pages_and_feed(published: Path, live_server: str) -> None:
    import httpx

    with httpx.Client(base_url=live_server) as client:
        feed = client.get("/issues/feed.ru.xml")
        assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
        assert "Активистку задержали в Алматы" in feed.text
        page = client.get("/issues/2026-W47/ru/")
        assert page.status_code == 200 and '<html lang="ru"' in page.text
        index = client.get("/issues/ru/")
        assert index.status_code == 200 and 'href="../2026-W47/ru/"' in index.text
        assert client.get("/issues/2026-W47/ru").status_code == 308  # relative links need the slash
