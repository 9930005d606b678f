"""Relevance rules: which entries reach the triage queue, which keywords they matched, which section fits.

Keywords match case-insensitively on whole words ("Article 174" does not match "Article 1745");
a trailing `*` matches any ending ("psychiatr*" matches psychiatric, psychiatry), which helps with
inflected languages such as Russian and Kazakh. Inner whitespace matches any run of whitespace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache


@dataclass(frozen=True)
class GlobalRules:
    """The `[rules]` table of sources.toml: applies to every feed."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    persons: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    articles: tuple[str, ...] = ()
    sections: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (section slug, keywords), in file order
    require_match: bool = False  # True: feeds without keywords of their own are filtered too

    @property
    def watchlist(self) -> tuple[str, ...]:
        return self.persons + self.cities + self.articles


@dataclass(frozen=True)
class FeedRules:
    """Everything the parser worker needs to judge one feed's entries (picklable, hashable)."""

    keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    default_section: str | None = None
    rules: GlobalRules = field(default_factory=GlobalRules)

    @property
    def filtered(self) -> bool:
        """Only filtered feeds drop entries that match nothing; a dedicated NGO feed keeps everything."""
        return bool(self.keywords) or (self.rules.require_match and bool(self.rules.include or self.rules.watchlist))


@dataclass(frozen=True)
class Verdict:
    relevant: bool
    matched: tuple[str, ...]
    excluded_by: str | None
    suggested_section: str | None


def keyword_pattern(keyword: str) -> str:
    """Regex for one keyword: whole words, any whitespace, optional trailing wildcard."""
    word = keyword.strip()
    wildcard = word.endswith("*")
    word = word.rstrip("*").strip()
    body = r"\s+".join(re.escape(part) for part in word.split())
    tail = r"\w*" if wildcard else r"(?!\w)"
    return rf"(?<!\w){body}{tail}"


class KeywordSet:
    """One compiled alternation for a list of keywords; returns the keywords (as written) that occur."""

    def __init__(self, keywords: tuple[str, ...]) -> None:
        self.keywords = tuple(k for k in dict.fromkeys(k.strip() for k in keywords) if k.rstrip("*").strip())
        if self.keywords:
            alternation = "|".join(f"(?P<k{i}>{keyword_pattern(k)})" for i, k in enumerate(self.keywords))
            self.regex: re.Pattern[str] | None = re.compile(alternation, re.IGNORECASE | re.UNICODE)
        else:
            self.regex = None

    def find(self, text: str) -> list[str]:
        if self.regex is None:
            return []
        found: dict[str, None] = {}
        for match in self.regex.finditer(text):
            name = match.lastgroup
            if name is not None:
                found[self.keywords[int(name[1:])]] = None
        return list(found)


@lru_cache(maxsize=4096)
def _compile(keywords: tuple[str, ...]) -> KeywordSet:
    return KeywordSet(keywords)


def judge(rules: FeedRules, text: str) -> Verdict:
    """Decide relevance of one entry's title + text under a feed's rules and the global rules."""
    g = rules.rules
    excluded = _compile(rules.exclude + g.exclude).find(text)
    feed_hits = _compile(rules.keywords).find(text)
    global_hits = _compile(g.include + g.watchlist).find(text)
    matched = tuple(dict.fromkeys(feed_hits + global_hits))
    section = None
    for slug, words in g.sections:
        if _compile(words).find(text):
            section = slug
            break
    section = section or rules.default_section
    if excluded:
        return Verdict(False, matched, excluded[0], section)
    if rules.filtered:
        relevant = bool(feed_hits) or bool(global_hits)
    else:
        relevant = True
    return Verdict(relevant, matched, None, section)
