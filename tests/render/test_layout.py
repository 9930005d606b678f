"""The seed's layout in every output (issue #12, item 5): a lead story, sub-heads inside a section, an
editor's note, items that are only a paragraph, the footer's links and the archive's subscribe box.

Rendering is pure: a snapshot with these parts in, all files out (MJML checked strictly, the PDF read
back with poppler). Snapshots stored before these parts existed keep their bytes (test_stored_snapshots).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from newsletter.config import Settings
from newsletter.render import render_issue
from newsletter.render.pdf import PdfUnavailable
from newsletter.snapshot import InvalidSnapshot, parse_snapshot, stored_json
from newsletter.urls import without_tracking
from tests.render.builders import BASE_URL, make_snapshot
from tests.support.outputs import output_text

NOTE_HTML = '<p>This week we <strong>thank</strong> our volunteers. <a href="https://ngo.example.org/thanks">Read more</a>.</p>'


def layout_snapshot() -> dict[str, Any]:
    """Seed 001's layout: the "Silencing state" section with three sub-heads, a paragraph item, a lead."""
    snap = make_snapshot(12)
    silencing = next(s for s in snap["sections"] if s["slug"] == "silencing-state")
    extra = copy.deepcopy(silencing["items"][0])
    silencing["items"] = []
    for n, sub in enumerate(["Charity law", "Charity law", "Internet", "Courts"]):
        item = copy.deepcopy(extra)
        item.update(id=900 + n, headline=f"Silencing headline {n}", subhead=sub)
        silencing["items"].append(item)
    # A paragraph item in the middle of "Charity law": no headline, its text is the item.
    silencing["items"].insert(1, {**copy.deepcopy(extra), "id": 950, "headline": "", "paragraph": True,
                                  "subhead": "Charity law", "links": [],
                                  "text": "Volunteers in Almaty are asked to register with the police."})
    lead = snap["sections"][1]["items"][0]
    lead["lead"] = True
    lead["headline"] = "The lead story headline"
    snap["editors_note"] = {"html": NOTE_HTML, "text": "This week we thank our volunteers. Read more.",
                            "signature": "Lyudmyla Kozlovska"}
    snap["footer"] = {"subscribe_url": f"{BASE_URL}/subscribe", "signup_url": "https://ngo.example.org/join",
                      "contact_email": "office@ngo.example.org", "donate_url": "https://ngo.example.org/donate",
                      "privacy_url": "https://ngo.example.org/privacy"}
    snap["direct_links"] = True
    for section in snap["sections"]:  # as the snapshot builder publishes them (safe_url)
        for item in section["items"]:
            item["links"] = [{**link, "url": without_tracking(link["url"])} for link in item["links"]]
    return snap


@pytest.fixture
def rendered(render_settings: Settings) -> Any:
    return render_issue(layout_snapshot(), render_settings)


def _order(text: str, *parts: str) -> list[int]:
    return [text.index(p) for p in parts]


def test_the_email_has_the_note_the_lead_first_the_subheads_and_the_footer(rendered: Any) -> None:
    html = rendered.email_html
    assert rendered.warnings == ()  # MJML strict: no unknown component, nothing misplaced
    note, lead, first_section = _order(html, "Editor's note</h2>", "The lead story headline",
                                       "Repression of independent voices")
    assert note < lead < first_section  # the lead comes before every section
    assert re.search(r'<h2 style="[^"]*font-size:22px[^"]*">The lead story headline</h2>', html)  # larger
    assert html.count("The lead story headline") == 1  # taken out of its section, not repeated
    assert "— Lyudmyla Kozlovska" in html and 'href="https://ngo.example.org/thanks"' in html
    charity, internet, courts = _order(html, ">Charity law</h3>", ">Internet</h3>", ">Courts</h3>")
    assert charity < internet < courts and html.count(">Charity law</h3>") == 1  # grouped under one sub-head
    assert html.index("Silencing headline 0") < html.index("Volunteers in Almaty") < html.index("Silencing headline 1")
    assert "<h4" in html  # item headlines under a sub-head are one level lower
    for url in ("https://ngo.example.org/join", "mailto:office@ngo.example.org", "https://ngo.example.org/donate",
                "https://ngo.example.org/privacy", f"{BASE_URL}/subscribe"):
        assert f'href="{url}"' in html


def test_the_paragraph_item_has_no_headline_but_keeps_a_name(rendered: Any) -> None:
    web = rendered.web_html
    article = re.search(r'<article class="item item-paragraph" id="item-950" aria-label="([^"]+)">(.*?)</article>',
                        web, re.S)
    assert article and article.group(1) == "Volunteers in Almaty are asked to register with the police."
    assert "<h3" not in article.group(2) and "<h4" not in article.group(2)
    text = rendered.email_text
    assert "* Volunteers in Almaty are asked to register with the police." in text  # the text is the entry
    assert json.loads(rendered.issue_json)["sections"][-2]["items"][1]["paragraph"] is True


def test_the_text_part_and_the_web_page_follow_the_same_layout(rendered: Any) -> None:
    text = rendered.email_text
    assert _order(text, "Editor's note", "— Lyudmyla Kozlovska", "Lead story", "The lead story headline",
                  "Repression of independent voices") == sorted(_order(
                      text, "Editor's note", "— Lyudmyla Kozlovska", "Lead story", "The lead story headline",
                      "Repression of independent voices"))
    assert "CHARITY LAW" in text and "INTERNET" in text and "COURTS" in text
    assert "Donate: https://ngo.example.org/donate" in text and "Write to us: office@ngo.example.org" in text
    web = rendered.web_html
    assert web.index('class="editors-note"') < web.index('class="section lead"') < web.index('id="section-repression"')
    assert '<h2 id="item-' in web and '<h3 class="subhead"' in web and "<h4 id=" in web
    assert 'class="subscribe-box' in web and f'href="{BASE_URL}/subscribe"' in web
    assert '<ul class="footer-links"' in web and 'href="mailto:office@ngo.example.org"' in web
    data = json.loads(rendered.issue_json)
    assert data["editors_note"]["signature"] == "Lyudmyla Kozlovska" and data["footer"]["donate_url"]
    assert sum(1 for s in data["sections"] for i in s["items"] if i.get("lead")) == 1


def test_the_pdf_carries_the_layout(render_settings: Settings, tmp_path: Path) -> None:
    try:
        pdf = render_issue(layout_snapshot(), render_settings, pdf=True).pdf
    except PdfUnavailable as exc:  # pragma: no cover - Pango is in scripts/test's apt list
        pytest.fail(str(exc))
    assert pdf is not None
    path = tmp_path / "issue.pdf"
    path.write_bytes(pdf)
    words = " ".join(output_text(path).split())
    assert "Editor's note" in words and "Lyudmyla Kozlovska" in words
    assert words.index("The lead story headline") < words.index("Repression of independent voices")
    assert "CHARITY LAW" in words.upper() and "Volunteers in Almaty are asked to register" in words
    assert "https://ngo.example.org/donate" in output_text(path)


def test_a_headline_is_still_required_outside_paragraph_items() -> None:
    snap = make_snapshot(2)
    snap["sections"][0]["items"][0]["headline"] = ""
    with pytest.raises(InvalidSnapshot, match=r"items\[0\]\.headline: an item needs a headline"):
        parse_snapshot(snap)
    snap["sections"][0]["items"][0].update(paragraph=True, text="")
    with pytest.raises(InvalidSnapshot, match=r"items\[0\]\.text: a paragraph item needs its text"):
        parse_snapshot(snap)


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "ftp://ngo.example.org/x", "/donate", 'https://x.org/"><b>'])
def test_a_footer_link_must_be_http_or_mailto(bad: str) -> None:
    snap = layout_snapshot()
    snap["footer"]["donate_url"] = bad
    with pytest.raises(InvalidSnapshot, match=r"snapshot\.footer\.donate_url"):
        parse_snapshot(snap)


def test_new_parts_left_empty_are_not_written() -> None:
    """An item without layout and an issue without note or footer dump as before (the _Additive rule)."""
    snap = make_snapshot(3)
    dumped = stored_json(parse_snapshot(snap))
    assert "editors_note" not in dumped and "footer" not in dumped and "direct_links" not in dumped
    assert not {"lead", "subhead", "paragraph"} & set(dumped["sections"][0]["items"][0])
