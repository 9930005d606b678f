"""to_text skips its whitespace passes only where they cannot change anything: the same text as running them all."""

from __future__ import annotations

import html
import random

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from newsletter.collect.sanitizer import _BLOCK_END, _LINES, _SPACE, _TAG, _TEXT, to_text

SPACES = [" ", " ", " ", "  ", "\t", "\r", "\f", "\v", "\u00a0", "\n", "\n\n", " \n ", "\u2003", "\u2028", "\x1c",
          "\x85", "\u3000", "&nbsp;", "&#10;", "&#9;", " &#160; "]
WORDS = ["word", "задержан", "қамау", "Article 174", "&amp;", "&lt;b&gt;", "a", "ſ", "İ", "\u200b", "x"]
TAGS = ["<p>", "</p>", "<br>", "<br/>", "<BR />", "<div>", "</div>", "<li>", "</li>", "<b>", "</b>", "<pre>", "</pre>",
        '<a href="https://ex.org/">', "</a>", "<h2>", "</h2>", "<script>x</script>", "<!-- c -->"]


def reference(fragment: str, *, sanitized: bool = False) -> str:
    """to_text before the skips: every pass, always."""
    if not fragment:
        return ""
    if "<" not in fragment and "&" not in fragment:
        text = fragment
    else:
        marked = _BLOCK_END.sub("\\g<0>\n", fragment)
        text = html.unescape(_TAG.sub("", marked) if sanitized else _TEXT.clean(marked))
    text = _SPACE.sub(" ", text)
    return _LINES.sub("\n", text).strip()


def test_to_text_equals_every_pass_on_generated_fragments() -> None:
    rng = random.Random(18)
    for _ in range(20_000):
        pieces = [rng.choice(SPACES if k % 2 else WORDS + TAGS) for k in range(rng.randint(0, 14))]
        fragment = "".join(pieces)
        for sanitized in (False, True):
            assert to_text(fragment, sanitized=sanitized) == reference(fragment, sanitized=sanitized), repr(fragment)


@hsettings(max_examples=1_000, deadline=None)
@given(st.text(alphabet=" \t\r\f\v\n\u00a0\u2003\u2028\x1c\x85ab<>p/&;", max_size=30))
def test_to_text_equals_every_pass_for_any_text(fragment: str) -> None:
    assert to_text(fragment) == reference(fragment)
    assert to_text(fragment, sanitized=True) == reference(fragment, sanitized=True)
    assert to_text(f"<p>{fragment}</p>", sanitized=True) == reference(f"<p>{fragment}</p>", sanitized=True)
