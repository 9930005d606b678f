"""The email: only the organisation's own host, valid MJML, size, dark mode, lang/dir, placeholder, text part."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import html5lib
import pytest

from newsletter.config import Settings
from newsletter.render import UNSUBSCRIBE_PLACEHOLDER, render_email, render_issue
from newsletter.render.context import DARK, LIGHT
from newsletter.render.mjml_check import check_mjml
from tests.render.builders import BASE_URL, make_snapshot
from tests.render.conftest import TEXT_URL, html_references

BASE_HOST = urlsplit(BASE_URL).netloc


def test_email_refers_to_no_host_but_the_base_url(snapshot40: dict[str, Any], render_settings: Settings) -> None:
    email = render_email(snapshot40, render_settings)
    refs = html_references(email.html)
    assert len(refs) > 40  # the parser really found the links
    for url in refs:
        if url == UNSUBSCRIBE_PLACEHOLDER:
            continue
        parts = urlsplit(url)
        assert parts.scheme == "https" and parts.netloc == BASE_HOST, url
    for url in TEXT_URL.findall(email.text):
        assert urlsplit(url).netloc == BASE_HOST, url
    # The fixture's items do cite third-party sources; the email points to the web page for them.
    assert "rferl.org" in str(snapshot40) and "rferl.org" not in email.html + email.text
    assert "fonts.googleapis" not in email.html and "@import" not in email.html and "<link" not in email.html


def test_mjml_has_no_warnings_and_no_leftover_components(snapshot40: dict[str, Any], render_settings: Settings) -> None:
    email = render_email(snapshot40, render_settings)
    assert email.mjml.lstrip().startswith("<mjml")
    assert check_mjml(email.mjml) == []
    assert email.warnings == ()
    assert "<mj-" not in email.html


@pytest.mark.parametrize(("markup", "expected"), [
    ('<mj-text colour="#000">x</mj-text>', "attribute 'colour' is illegal on <mj-text>"),
    ("<mj-txt>x</mj-txt>", "<mj-txt> is not an MJML component"),
    ('<mj-text color="blue;background:url(x)">x</mj-text>', "invalid color"),
    ('<mj-text padding="10px 2em">x</mj-text>', "invalid padding"),
    ('<mj-text align="middle">x</mj-text>', "invalid value 'middle'"),
    ("<mj-section><mj-text>x</mj-text></mj-section>", "<mj-section> cannot be used inside <mj-column>"),
])
def test_mjml_checker_reports_what_mjml_would(markup: str, expected: str) -> None:
    doc = f"<mjml><mj-body><mj-section><mj-column>\n{markup}\n</mj-column></mj-section></mj-body></mjml>"
    problems = check_mjml(doc)
    assert any(expected in p for p in problems), problems
    assert all(p.startswith("line 2:") for p in problems), problems


def test_mjml_checker_reports_unclosed_and_misplaced_sections() -> None:
    assert check_mjml("<mjml><mj-body><mj-column></mj-column></mj-body></mjml>") == [
        "line 1: <mj-column> cannot be used inside <mj-body>"]
    assert "end of document: <mj-body> is not closed" in check_mjml("<mjml><mj-body>")
    assert check_mjml('<mjml><mj-body><mj-section><mj-column><mj-text><mj-x>html</mj-x></mj-text>'
                      '</mj-column></mj-section></mj-body></mjml>') == []  # mj-text content is HTML, not MJML


def test_broken_user_template_is_reported_as_a_warning(snapshot40: dict[str, Any], render_settings: Settings,
                                                      tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "mytemplates" / "email" / "issue"
    folder.mkdir(parents=True)
    (folder / "body.mjml.j2").write_text(
        '<mjml lang="{{ v.lang }}"><mj-body><mj-section><mj-column><mj-txt>{{ v.title }}</mj-txt>'
        "</mj-column></mj-section></mj-body></mjml>")
    settings = render_settings.model_copy(update={"templates_dir": tmp_path / "mytemplates"})
    email = render_email(snapshot40, settings)
    assert any("<mj-txt> is not an MJML component" in w for w in email.warnings)
    assert any("MJML did not know" in w for w in email.warnings)
    assert "mj-txt" in caplog.text


def test_invalid_mjml_is_a_clear_error(render_settings: Settings, tmp_path: Any) -> None:
    from newsletter.render import RenderError

    folder = tmp_path / "mytemplates" / "email" / "issue"
    folder.mkdir(parents=True)
    # MRML refuses whitespace between head elements unless it contains a line break.
    (folder / "body.mjml.j2").write_text(
        "<mjml>\n<mj-head>\n<mj-title>{{ v.title }}</mj-title>  <mj-preview>x</mj-preview>\n</mj-head>\n"
        "<mj-body></mj-body>\n</mjml>\n")
    settings = render_settings.model_copy(update={"templates_dir": tmp_path / "mytemplates"})
    with pytest.raises(RenderError, match=r"MJML could not be rendered: .* \(line 3 of the rendered MJML: "
                                          r"'<mj-title>Please, listen"):
        render_email(make_snapshot(1), settings)


def test_forty_items_stay_under_gmail_clipping(snapshot40: dict[str, Any], render_settings: Settings) -> None:
    email = render_email(snapshot40, render_settings)
    assert sum(len(s["items"]) for s in snapshot40["sections"]) == 40
    assert len(email.html.encode()) < 102 * 1024
    for section in snapshot40["sections"]:
        for item in section["items"]:
            assert item["headline"].replace("“", "&ldquo;")[:20] in email.html or item["headline"][:20] in email.html


def test_lang_dir_preheader_and_dark_mode(snapshot40: dict[str, Any], render_settings: Settings) -> None:
    email = render_email(snapshot40, render_settings)
    assert re.search(r'<html[^>]* lang="en"[^>]* dir="ltr"', email.html)
    assert '<meta name="color-scheme" content="light dark"' in email.html
    assert "@media (prefers-color-scheme: dark)" in email.html
    preheader = snapshot40["issue"]["preheader"]
    hidden = re.search(r'<div class="nl-preheader" style="(display:none;[^"]*)">([^<]*)</div>', email.html)
    assert hidden and "mso-hide:all" in hidden.group(1) and "max-height:0" in hidden.group(1)
    assert "color" not in hidden.group(1)  # hidden, not low-contrast (SpamAssassin's HTML_FONT_LOW_CONTRAST)
    assert email.html.count(preheader[:40]) == 1
    hidden = re.search(r'<div class="nl-preheader" style="[^"]*">([^<]*)</div>', email.html)
    assert hidden and hidden.group(1).startswith(preheader[:40])
    assert hidden.group(1).endswith("&#847;&zwnj;&nbsp;" * 20)  # nothing else leaks into the inbox preview
    assert f"<title>{email.subject}</title>" in email.html

    rtl = make_snapshot(3, language="ar")
    rtl_html = render_email(rtl, render_settings).html
    assert re.search(r'<html[^>]* lang="ar"[^>]* dir="rtl"', rtl_html)
    assert "direction:rtl" in rtl_html and "text-align:right" in rtl_html


def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize("palette", [LIGHT, DARK], ids=["light", "dark"])
def test_colours_keep_readable_contrast_in_both_schemes(palette: dict[str, str]) -> None:
    for fg in ("text", "muted", "link", "accent"):
        for bg in ("card", "page", "notice"):
            assert _contrast(palette[fg], palette[bg]) >= 4.5, (fg, bg)


def test_dark_palette_is_what_the_email_uses(snapshot40: dict[str, Any], render_settings: Settings) -> None:
    html = render_email(snapshot40, render_settings).html
    dark_css = html[html.index("prefers-color-scheme: dark"):]
    for colour in (DARK["card"], DARK["text"], DARK["link"], DARK["muted"]):
        assert colour in dark_css


def test_all_links_are_absolute(snapshot40: dict[str, Any], render_settings: Settings) -> None:
    rendered = render_issue(snapshot40, render_settings)
    for url in html_references(rendered.email_html):
        assert url.startswith(BASE_URL + "/"), url


def test_unsubscribe_placeholder_for_delivery_and_real_link_in_archive(snapshot40: dict[str, Any],
                                                                      render_settings: Settings) -> None:
    email = render_email(snapshot40, render_settings)
    assert f'href="{UNSUBSCRIBE_PLACEHOLDER}"' in email.html
    assert f"Unsubscribe: {UNSUBSCRIBE_PLACEHOLDER}" in email.text
    personal = email.with_unsubscribe(f"{BASE_URL}/unsubscribe/tok&en")
    assert f'href="{BASE_URL}/unsubscribe/tok&amp;en"' in personal.html
    assert f"Unsubscribe: {BASE_URL}/unsubscribe/tok&en" in personal.text
    assert UNSUBSCRIBE_PLACEHOLDER not in personal.html + personal.text

    archived = render_issue(snapshot40, render_settings)
    assert UNSUBSCRIBE_PLACEHOLDER not in archived.email_html + archived.email_text
    assert f'href="{BASE_URL}/unsubscribe"' in archived.email_html
    assert f"Unsubscribe: {BASE_URL}/unsubscribe\n" in archived.email_text


def test_reader_text_is_escaped_in_html_and_verbatim_in_text(render_settings: Settings) -> None:
    snap = make_snapshot(2)
    snap["sections"][0]["items"][0]["headline"] = 'Court <script>alert("x")</script> & “quotes”'
    email = render_email(snap, render_settings)
    assert "<script>" not in email.html
    assert "Court &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; “quotes”" in email.html
    assert 'Court <script>alert("x")</script> & “quotes”' in email.text
    assert not html5lib.HTMLParser(strict=False).parse(email.html).findall(".//{http://www.w3.org/1999/xhtml}script")


def test_plain_text_is_a_real_layout(snapshot40: dict[str, Any], render_settings: Settings) -> None:
    text = render_email(snapshot40, render_settings).text
    lines = text.splitlines()
    assert not re.search(r"<(p|a|br|div|h\d|table)\b|&(amp|lt|nbsp|#\d+);", text)  # no markup, no entities
    assert "funding of civil society <and> civil activism." in " ".join(text.split())
    title = snapshot40["issue"]["title"]
    assert lines[lines.index(title) + 1] == "=" * len(title)
    for section in snapshot40["sections"]:
        i = lines.index(section["title"])
        assert lines[i + 1] == "-" * len(section["title"])
    for line in lines:
        assert len(line) <= 72 or TEXT_URL.search(line) or line.startswith("["), line
    # Numbered references: each [n] used in the body is listed once at the end, in order.
    body, _, refs = text.rpartition("\nLinks\n")
    listed = re.findall(r"^\[(\d+)\] (\S+)$", refs, re.M)
    assert [int(n) for n, _ in listed] == list(range(1, len(listed) + 1))
    used = {int(n) for n in re.findall(r"\[(\d+)\]", body)}
    assert used == {int(n) for n, _ in listed}
    assert "\n-- \n" in text  # the signature separator keeps its space
    assert "3 further cases in 2 cities are not published for the safety of those\ninvolved." in text
    assert re.search(r"^  held in prison +17$", text, re.M)


def test_withheld_and_persons_sections_only_when_present(render_settings: Settings) -> None:
    snap = make_snapshot(4, withheld=(0, 0), persons=False)
    email = render_email(snap, render_settings)
    assert "not published for the safety" not in email.html + email.text
    assert "Persons of concern" not in email.html + email.text
    one = render_email(make_snapshot(4, withheld=(1, 0)), render_settings)
    assert "1 further case is not published for the safety of those involved." in one.html


def test_subject_is_one_line(render_settings: Settings) -> None:
    snap = make_snapshot(1)
    snap["issue"]["title"] = "Line one\r\nBcc: attacker@example.com"
    email = render_email(snap, render_settings)
    assert "\n" not in email.subject and "\r" not in email.subject
    assert email.subject == "Open Dialogue Monitoring No. 3: Line one Bcc: attacker@example.com"


def test_dates_follow_precision_and_language(render_settings: Settings) -> None:
    snap = make_snapshot(3)
    email = render_email(snap, render_settings)
    assert "November 16, 2026" in email.text           # day
    assert "week of November 17, 2026" in email.text   # week
    assert "November 2026 ·" in email.text             # month
    ru = render_email(make_snapshot(3, language="ru"), render_settings)
    assert "16 ноября 2026" in ru.text
