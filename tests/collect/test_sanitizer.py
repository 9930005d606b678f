"""nh3 sanitising of entry HTML and plain-text extraction."""

from __future__ import annotations

import html
from urllib.parse import urljoin

import pytest

from newsletter.collect.sanitizer import excerpt, sanitize_html, to_text


@pytest.mark.parametrize("payload", [
    "<script>alert(1)</script>", '<img src="x" onerror="alert(1)">', '<a href="javascript:alert(1)">x</a>',
    '<iframe src="https://evil.example"></iframe>', "<style>body{display:none}</style>", '<p style="position:fixed">x</p>',
    '<a href="JaVaScRiPt:alert(1)">x</a>', '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>', "<svg onload=alert(1)></svg>",
    '<object data="x.swf"></object>', '<form action="https://evil.example"><input name=a></form>',
    '<a href="vbscript:msgbox(1)">x</a>', '<div onmouseover="steal()">x</div>',
])
def test_dangerous_markup_is_removed(payload: str) -> None:
    cleaned = sanitize_html(f"<p>before {payload} after</p>", "https://outlet.example/a/")
    lowered = cleaned.lower()
    for bad in ("<script", "onerror", "javascript:", "vbscript:", "data:", "<iframe", "<style", "style=", "<svg",
                "onload", "<object", "<form", "<input", "onmouseover", "<img", "evil.example"):
        assert bad not in lowered, (payload, cleaned)
    assert "before" in cleaned and "after" in cleaned


def test_relative_links_become_absolute_and_get_safe_rel() -> None:
    cleaned = sanitize_html('<a href="../b?x=1&amp;y=2">b</a> <a href="//cdn.example/c">c</a> <a href="#top">t</a>',
                            "https://outlet.example/news/a/")
    assert 'href="https://outlet.example/news/b?x=1&amp;y=2"' in cleaned
    assert 'href="https://cdn.example/c"' in cleaned
    assert 'href="https://outlet.example/news/a/#top"' in cleaned
    assert cleaned.count('rel="noopener noreferrer nofollow"') == 3


def test_plain_text_and_excerpt() -> None:
    assert to_text("<p>One &amp; two</p><p>Three<br>four</p>") == "One & two\nThree\nfour"
    long = "First sentence here. " * 10 + "Tail without end " * 40
    cut = excerpt(long, 120)
    assert len(cut) <= 120 and cut.endswith(".")
    assert excerpt("short", 600) == "short"


def test_links_from_the_site_root_resolve_as_urljoin_does() -> None:
    base = "https://Outlet.example:8443/news/7?x=1#top"
    html_in = ('<p><a href="/tag/courts">a</a> <a href="/a//b">b</a> <a href="/a/../c">c</a> <a href="/d?q=1&amp;r=2">d</a>'
               ' <a href="/e;p">e</a> <a href="/f.pdf">f</a></p>')
    out = sanitize_html(html_in, base)
    for path in ("/tag/courts", "/a//b", "/a/../c", "/d?q=1&r=2", "/e;p", "/f.pdf"):
        assert f'href="{html.escape(urljoin(base, path), quote=True)}"' in out, path


def test_a_broken_link_is_dropped_not_the_whole_entry() -> None:
    out = sanitize_html('<p>Read <a href="//[not-an-address]/x">this</a>.</p>', "https://o.example/1")
    assert 'href="#"' in out and "Read" in out
