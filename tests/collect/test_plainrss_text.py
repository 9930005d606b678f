"""The plain-RSS reader's field text skips feedparser's two repairs only where they change nothing."""

from __future__ import annotations

import random

from feedparser.html import _cp1252
from feedparser.urls import _urljoin
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from lxml import etree

from newsletter.collect.plainrss import _PLAIN_URL, _text

PIECES = ["word", " ", "Ãªtre", "  ", "\t", "\n", "Ã©", "Ã", "Â»", "\u00e9", "\u0080", "\u0085", "\u0093", "\u009f", "\u0081",
          "задержан", "қамау", "€", "ſ", "\u00ff", "\u00c3\u00a9t\u00c3\u00a9", "â\u0080\u0099", "ðŸ˜€", "https://x.org/a",
          "/rel/path", "?q=1", "#f", "&", "%20", "ok.", "\U0001f600"]
BASES = [None, "https://outlet.example/feeds/news.xml", "http://127.0.0.1:8080/f.xml"]


def reference(element: etree._Element, base: str | None = None) -> str:
    """_text before the shortcuts: both repairs on every text."""
    output = (element.text or "").strip()
    if base is not None and output and not _PLAIN_URL.fullmatch(output):
        output = _urljoin(base, output)
    try:
        output = output.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return output.translate(_cp1252)


def element(text: str) -> etree._Element:
    el = etree.Element("title")
    el.text = text
    return el


def test_text_equals_both_repairs_on_generated_fields() -> None:
    rng = random.Random(18)
    for _ in range(20_000):
        el = element("".join(rng.choice(PIECES) for _ in range(rng.randint(0, 6))))
        base = rng.choice(BASES)
        assert _text(el, base) == reference(el, base), repr(el.text)


@hsettings(max_examples=1_000, deadline=None)
@given(st.text(alphabet="ab /:.\u00c3\u00aa\u00a9\u00e2\u0080\u0099\u0093\u009f\u00ffжқ€", max_size=24))
def test_text_equals_both_repairs_for_any_text(text: str) -> None:
    for base in BASES:
        assert _text(element(text), base) == reference(element(text), base)
