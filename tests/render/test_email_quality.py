"""What a sent issue looks like to spam filters and to dark-mode readers.

SpamAssassin's local tests (`spamassassin -L -t`, Debian's package, no network rules) read the demo
issue exactly as the loopback SMTP server received it; the dark-mode stripe is read in Chromium.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from newsletter.config import Settings
from newsletter.render import render_email
from tests.render.builders import make_snapshot

SPAM_LIMIT = 0.5


def _spam_status(raw: bytes) -> tuple[float, list[str]]:
    """Score and rule names from the X-Spam-Status header SpamAssassin adds (it may be folded)."""
    result = subprocess.run(["spamassassin", "-L", "-t"], input=raw, capture_output=True, timeout=300, check=True)
    head = result.stdout.split(b"\n\n", 1)[0].decode("utf-8", "replace")
    status = re.search(r"^X-Spam-Status: (.*(?:\n[ \t].*)*)", head, re.M)
    assert status, head
    text = re.sub(r",\s+", ",", " ".join(status.group(1).split()))
    score = float(re.search(r"score=(-?[\d.]+)", text).group(1))  # type: ignore[union-attr]
    tests = re.search(r"tests=(\S*)", text)
    return score, [t for t in tests.group(1).split(",") if t] if tests and tests.group(1) != "none" else []


@pytest.mark.skipif(shutil.which("spamassassin") is None, reason="Debian's spamassassin (scripts/test installs it)")
def test_the_sent_demo_issue_scores_below_half_a_point(cli: Any, settings: Settings) -> None:
    cli("demo")
    mails = sorted((Path(settings.data_dir) / "demo" / "mail").glob("*.eml"))
    issue_mails = [m for m in mails if b"List-Unsubscribe" in m.read_bytes()]
    assert issue_mails, [m.name for m in mails]
    score, hits = _spam_status(issue_mails[0].read_bytes())
    print(f"SpamAssassin: score {score}, hits {hits}")
    assert score < SPAM_LIMIT, f"score {score} with {hits}"
    assert "HTML_FONT_LOW_CONTRAST" not in hits


def test_the_spam_check_notices_low_contrast_text() -> None:
    """The harness itself: the old white-on-white preheader is caught, so a green run means something."""
    if shutil.which("spamassassin") is None:
        pytest.skip("Debian's spamassassin (scripts/test installs it)")
    html = ('<html><body style="background:#f4f5f7"><div style="display:none;color:#ffffff;font-size:1px">'
            + "Hidden preview text for the inbox " * 3 + '</div><p style="color:#1b1f24">A weekly issue about '
            "detentions and trials, with links to the sources.</p></body></html>")
    raw = ("From: News <news@example.org>\nTo: reader@example.org\nSubject: Weekly issue\n"
           "Date: Mon, 23 Nov 2026 08:00:00 +0000\nMessage-ID: <t1@example.org>\nMIME-Version: 1.0\n"
           f"Content-Type: text/html; charset=utf-8\n\n{html}\n").encode()
    _, hits = _spam_status(raw)
    assert "HTML_FONT_LOW_CONTRAST" in hits


@pytest.mark.browser
@pytest.mark.parametrize(("scheme", "colour"), [("light", "rgb(122, 31, 31)"), ("dark", "rgb(255, 161, 152)")])
def test_the_card_stripe_keeps_its_accent_colour(browser: Any, render_settings: Settings, scheme: str,
                                                 colour: str) -> None:
    html = render_email(make_snapshot(4), render_settings).html
    context = browser.new_context(color_scheme=scheme)
    try:
        page = context.new_page()
        page.route("**/*", lambda route: route.abort())  # the email loads nothing
        page.set_content(html)
        stripe = page.eval_on_selector(".nl-stripe > table > tbody > tr > td",
                                       "td => [getComputedStyle(td).borderTopColor, getComputedStyle(td).borderTopWidth]")
        line = page.eval_on_selector(".nl-card:not(.nl-stripe) td", "td => getComputedStyle(td).borderTopColor")
    finally:
        context.close()
    assert stripe == [colour, "4px"]
    assert line != colour  # the stripe, not every cell, carries the accent


@pytest.mark.parametrize(("language", "expected", "foreign"), [
    ("en", "November 16, 2026", [r"\b16 November", r"\b16/11/2026", r"\b11/16/2026", r"2026-11-16", r"ноября"]),
    ("ru", "16 ноября 2026\u202fг.", [r"November", r"\b16\.11\.2026", r"2026-11-16", r"\b16/11"]),
])
def test_one_date_format_per_language(render_settings: Settings, language: str, expected: str,
                                      foreign: list[str]) -> None:
    """Babel's long date of the issue's language, the same in the email, its text part and the web page."""
    from newsletter.render import render_issue

    snap = make_snapshot(8, language=language)
    for section in snap["sections"]:
        for item in section["items"]:
            item["text"] = "An item's own words, without dates."  # only the dates we format remain
    rendered = render_issue(snap, render_settings)
    for name, text in (("email.html", rendered.email_html), ("email.txt", rendered.email_text),
                       ("index.html", rendered.web_html)):
        assert expected in text, name
        for pattern in foreign:
            assert not re.search(pattern, re.sub(r'(href|content|datetime)="[^"]*"', "", text)), (name, pattern)
