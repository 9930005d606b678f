"""Subjects, kind and places (issue #12 items 4 and 6) in every output: email, text, web page, feed, JSON."""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree import ElementTree

import html5lib
import pytest

from newsletter.config import Settings
from newsletter.render import render_email, render_issue
from newsletter.render.mjml_check import check_mjml
from tests.render.builders import make_snapshot, with_subjects_and_places


@pytest.fixture
def snap() -> dict[str, Any]:
    return with_subjects_and_places(make_snapshot(12))


def test_item_shows_its_subjects_with_their_role_and_its_kind(snap: dict[str, Any], render_settings: Settings) -> None:
    files = render_issue(snap, render_settings).files()
    for name in ("email.html", "index.html"):
        assert "Aigul Utepova, journalist; B. N., trade unionist" in files[name], name
    text = " ".join(files["email.txt"].split())
    assert "Persons of concern: Aigul Utepova, journalist; B. N., trade unionist" in text
    assert re.search(r"2026 · Detention · Almaty", files["index.html"])
    item = json.loads(files["issue.json"])["sections"][0]["items"][0]
    assert item["subjects"][0] == {"name": "Aigul Utepova", "role": "Journalist"} and item["kind_label"] == "Detention"


def test_places_table_in_every_output(snap: dict[str, Any], render_settings: Settings) -> None:
    files = render_issue(snap, render_settings).files()
    for name in ("email.html", "email.txt", "index.html"):
        assert "12 incidents registered in 7 cities" in " ".join(files[name].split()), name
        assert "Zhanaozen" in files[name] and "Mangystau Region" in files[name], name
    assert json.loads(files["issue.json"])["places"]["cities"] == 7
    row = re.search(r"^ +Zhanaozen +(\d+)$", files["email.txt"], re.M)
    assert row and row.group(1) == "1"


def test_web_page_draws_an_accessible_inline_chart_and_the_email_none(snap: dict[str, Any],
                                                                      render_settings: Settings) -> None:
    files = render_issue(snap, render_settings).files()
    page = files["index.html"]
    svg = re.search(r"<svg.*?</svg>", page, re.S)
    assert svg is not None and page.count("<svg") == 1
    tree = ElementTree.fromstring(svg.group())
    ns = "{http://www.w3.org/2000/svg}"
    assert tree.get("role") == "img" and tree.get("aria-labelledby") == "places-chart-title places-chart-desc"
    assert tree.find(f"{ns}title").text == "Incidents this week by region"
    assert tree.find(f"{ns}desc").text == "Almaty: 5; Abai Region: 4; Mangystau Region: 3"
    widths = [int(r.get("width")) for r in tree.iter(f"{ns}rect")]
    assert widths[0] > widths[1] > widths[2] > 0  # bars to scale, largest region first
    assert "href" not in svg.group() and "<script" not in svg.group()  # nothing fetched, no JS
    assert "<svg" not in files["email.html"]  # mail clients get the table only
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(page)
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(files["email.html"])


def test_email_with_places_and_subjects_is_valid_mjml(snap: dict[str, Any], render_settings: Settings) -> None:
    email = render_email(snap, render_settings)
    assert check_mjml(email.mjml) == []
    assert email.warnings == ()


def test_snapshot_without_the_new_fields_renders_none_of_them(render_settings: Settings) -> None:
    files = render_issue(make_snapshot(12), render_settings).files()
    assert "Where it happened" not in files["index.html"] + files["email.html"] + files["email.txt"]
    data = json.loads(files["issue.json"])
    assert "places" not in data and "subjects" not in data["sections"][0]["items"][0]


def test_see_also_links_to_the_earlier_item_on_our_archive(snap: dict[str, Any], render_settings: Settings) -> None:
    files = render_issue(snap, render_settings).files()
    target = "https://news.example.org/issues/2026-W45/#item-7"
    for name in ("email.html", "index.html"):
        assert f'<a href="{target}"' in files[name] and "Blogger sent to a mental health centre" in files[name], name
    ref = re.search(r"See also: Blogger sent to a mental health centre \[(\d+)\]", files["email.txt"])
    assert ref and f"[{ref.group(1)}] {target}" in files["email.txt"]
    assert json.loads(files["issue.json"])["sections"][0]["items"][0]["related"][0]["url"] == target


def test_feed_carries_the_places_table_without_the_chart(snap: dict[str, Any], render_settings: Settings) -> None:
    from pathlib import Path

    import feedparser

    from newsletter.render import write_archive

    write_archive(render_settings.issues_dir, [snap], render_settings)
    feed = feedparser.parse((Path(render_settings.issues_dir) / "feed.xml").read_text())
    (entry,) = feed.entries
    body = entry.content[0].value
    assert "Zhanaozen" in body and "Where it happened" in body and "<svg" not in body
    assert "See also" in body and "Aigul Utepova, journalist" in body
