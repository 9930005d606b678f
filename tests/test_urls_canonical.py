"""canonical_url's fast path for plain http(s)://host/path links gives exactly what the general path gives."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from newsletter import urls
from newsletter.urls import _canonical, canonical_url

SCHEMES = ["https", "http", "HTTPS", "Http", "ftp", "mailto", "", "https:", "h"]
HOSTS = [
    "ex.org", "Ex.org", "EX.ORG", "a", "outlet7.example", "xn--80ak6aa92e.com", "пример.рф", "bücher.de",
    "user@ex.org", "user:pw@ex.org", "ex.org:443", "ex.org:80", "ex.org:8080", "ex.org:", "ex.org:x", "[::1]",
    "[::1]:443", "[fe80::1%25eth0]", "ex%2Eorg", "ex_org.example", "-.", ".", "", "ex.org.", "ex.org\t", " ex.org",
    "ex org", "ex.org\x00", "ex.org\\", "ex.org@", "EX.org:443",
]
SEGMENTS = [
    "news", "12", "", "..", ".", "%2F", "%2f", "a%20b", "a b", "статья", "~user", "a;b=c", "a:b", "@x", "(1)",
    "!$&'*+,=", "a\tb", "a\nb", "\x7f", "\u00a0", "A-Z_", "%", "%zz", "[x]", "{x}", "|", "^", "`", '"', "<>",
]
TAILS = [
    "", "?", "?utm_source=rss", "?b=2&a=1", "?a=1&utm_medium=x&fbclid=3", "#frag", "?q=a+b#x", "#", "?a",
    "?a=%20&b=+", "?=x", " ", "\t", "\n", "/", "//", "?utm%5Fsource=x",
]


def general_or_error(url: str) -> str:
    try:
        return _canonical(url)
    except ValueError as exc:
        return f"ValueError: {exc}"


def fast_or_error(url: str) -> str:
    try:
        return canonical_url(url)
    except ValueError as exc:
        return f"ValueError: {exc}"


def make_url(rng: random.Random) -> str:
    if rng.random() < 0.5:  # near the plain shape: one nasty part at most
        parts = ["https", "://", "ex.org", "/news", "/12", ""]
        where = rng.randrange(8)
        if where < len(parts):
            parts[where] = rng.choice([SCHEMES, ["://", ":/", "//"], HOSTS, SEGMENTS, SEGMENTS, TAILS][where])
            if where in (3, 4):
                parts[where] = "/" + parts[where]
        return "".join(parts)
    path = "".join("/" + rng.choice(SEGMENTS) for _ in range(rng.randint(0, 4)))
    lead = rng.choice(["", "", "", " ", "\n", "\t"])
    sep = rng.choice(["://", "://", "://", ":/", ":", "//", ":///"])
    return lead + rng.choice(SCHEMES) + sep + rng.choice(HOSTS) + path + rng.choice(TAILS)


def test_fast_path_equals_the_general_one_on_generated_links() -> None:
    rng = random.Random(18)
    fast = 0
    for _ in range(20_000):
        url = make_url(rng)
        assert fast_or_error(url) == general_or_error(url), repr(url)
        fast += urls._PLAIN.fullmatch(url.strip()) is not None
    assert fast > 2_000  # the fast path itself was exercised, not only the general one


@hsettings(max_examples=1_000, deadline=None)
@given(st.text(alphabet="htps:/.?#%@[]:-_~ aZ09йé\t\x00\x7f;=&+", max_size=40))
def test_fast_path_equals_the_general_one_for_any_text(tail: str) -> None:
    for url in ("https://" + tail, "http://ex.org/" + tail, tail):
        assert fast_or_error(url) == general_or_error(url), repr(url)


def test_the_fast_path_handles_the_usual_links() -> None:
    for url, expected in [
        ("https://outlet7.example/news/12", "https://outlet7.example/news/12"),
        ("https://ex.org/a/b/", "https://ex.org/a/b"),
        ("http://ex.org", "http://ex.org/"),
        ("https://ex.org/", "https://ex.org/"),
        ("https://ex.org//", "https://ex.org/"),
        ("  https://ex.org/a%2Fb/../c;p=1  ", "https://ex.org/a%2Fb/../c;p=1"),
    ]:
        assert urls._PLAIN.fullmatch(url.strip()) is not None
        assert canonical_url(url) == expected == _canonical(url)
    for url in ("https://Ex.org/a", "https://ex.org:443/a", "https://u@ex.org/a", "https://ex.org/a?b=1",
                "https://ex.org/a#x", "HTTPS://ex.org/a", "https://пример.рф/a", "https://ex.org/a b"):
        assert urls._PLAIN.fullmatch(url) is None, url  # left to the general path
