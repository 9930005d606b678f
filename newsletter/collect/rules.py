"""Relevance rules: which entries reach the triage queue, which keywords they matched, which section fits.

Keywords match case-insensitively on whole words ("Article 174" does not match "Article 1745");
a trailing `*` matches any ending ("psychiatr*" matches psychiatric, psychiatry), which helps with
inflected languages such as Russian and Kazakh. Inner whitespace matches any run of whitespace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

try:  # the engine's own notion of a cased character (what re.IGNORECASE folds); private, hence the fallback
    from _sre import unicode_iscased as _iscased
except ImportError:  # pragma: no cover - another Python: the prefilter keeps its first character case-insensitive
    _iscased = None


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


# Cased characters (the only ones re.IGNORECASE maps to another) all lie below U+20000, the planes
# above hold ideographs and tags (tests check it against every code point); filled on first use.
_CASED_BELOW = 0x20000
_CASED: str | None = None


def _cased() -> str:
    global _CASED
    if _CASED is None:
        _CASED = "".join(chr(cp) for cp in range(_CASED_BELOW) if _iscased is not None and _iscased(cp))
    return _CASED


@lru_cache(maxsize=1024)
def _same_letter(char: str) -> str:
    """Every character that `char` matches under re.IGNORECASE, as the body of a character class.

    The engine itself decides; only cased characters can fold to another character, so looking
    among those is enough (an uncased one matches only itself).
    """
    variants = dict.fromkeys([char, *re.findall(re.escape(char), _cased(), re.IGNORECASE | re.UNICODE)])
    return "".join(re.escape(c) for c in variants)


def _prefilter(keywords: tuple[str, ...]) -> re.Pattern[str]:
    """A regex that matches wherever a keyword's body does, without the word-boundary assertions.

    The alternation's leading `(?<!\\w)` and IGNORECASE stop Python's re from skipping ahead to a
    possible first character, so the full regex is tried at every position of every entry. This one
    starts with a case-sensitive class of all the keywords' first characters (each with everything
    it folds to), which the engine scans for in C; the rest of each body follows case-insensitively.
    It only ever matches more than the full regex: where it finds nothing, the full one cannot either.
    """
    firsts: dict[str, None] = {}
    rests: dict[str, None] = {}
    for keyword in keywords:
        parts = keyword.strip().rstrip("*").strip().split()
        firsts[parts[0][0]] = None
        rests[r"\s+".join([re.escape(parts[0][1:])] + [re.escape(part) for part in parts[1:]])] = None
    if _iscased is None:  # pragma: no cover
        bodies = (r"\s+".join(re.escape(part) for part in k.strip().rstrip("*").strip().split()) for k in keywords)
        return re.compile("|".join(bodies), re.IGNORECASE | re.UNICODE)
    first = "".join(dict.fromkeys("".join(_same_letter(char) for char in firsts)))
    return re.compile(f"[{first}](?i:{'|'.join(rests)})", re.UNICODE)


class KeywordSet:
    """One compiled alternation for a list of keywords; returns the keywords (as written) that occur."""

    def __init__(self, keywords: tuple[str, ...]) -> None:
        self.keywords = tuple(k for k in dict.fromkeys(k.strip() for k in keywords) if k.rstrip("*").strip())
        if self.keywords:
            alternation = "|".join(f"(?P<k{i}>{keyword_pattern(k)})" for i, k in enumerate(self.keywords))
            self.regex: re.Pattern[str] | None = re.compile(alternation, re.IGNORECASE | re.UNICODE)
            self.prefilter: re.Pattern[str] | None = _prefilter(self.keywords)
        else:
            self.regex = self.prefilter = None

    def find(self, text: str) -> list[str]:
        if self.regex is None or self.prefilter is None:
            return []
        found: dict[str, None] = {}
        # What finditer(text) finds, tried only where the prefilter matches: a match of the full regex
        # can start nowhere else. match() at a position still sees the character before it (the
        # lookbehind), and the next search starts at the match's end, as finditer's does.
        search, match_at, pos = self.prefilter.search, self.regex.match, 0
        while (hit := search(text, pos)) is not None:
            start = hit.start()
            match = match_at(text, start)
            if match is None:
                pos = start + 1
                continue
            name = match.lastgroup
            if name is not None:
                found[self.keywords[int(name[1:])]] = None
            pos = match.end()
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
