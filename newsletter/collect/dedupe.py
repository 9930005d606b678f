"""Deduplication: identity of an entry within its feed, and near-duplicates across outlets.

Within a feed an entry is known by its GUID, else its link, else a hash of its content; a GUID
(or link) that several different entries of one fetch share is not trusted for that fetch, so
feeds with repeated or missing GUIDs still work. Across feeds the same canonical URL is one
incident. Near-duplicates (one event, different words) only become DuplicateCandidate rows.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from itertools import chain
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

NEAR_THRESHOLD = 60.0  # Dice coefficient (%) of the word stems of title + lede
SAME_TITLE = 85.0  # or rapidfuzz token_sort_ratio of the titles: the same words reordered
STEM = 5  # crude stemming by prefix: "unionist"/"union", "detained"/"detain", "задержан"/"задержали"
LEDE_WORDS = 35  # words of the text that count besides the title: who, where, what
MIN_SHARED = 3  # stems two items must share before they are compared at all
MAX_POSTING = 64  # a word in more titles than this is too common to pick candidates with
_WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(
    """a an and are as at be been by for from has have he her his in into is it its of on or over she that the
    their they this to was were will with after before about against amid under new says said year years
    и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было вот
    от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас нибудь
    опять уж вам ведь там потом себя ничего ей может они тут где есть надо ней для мы тебя их чем была сам
    чтоб без будто чего раз тоже себе под будет ж тогда кто этот того потому этого какой совсем ним здесь
    этом один почти мой тем чтобы нее были куда зачем всех никогда можно при наконец два об другой хоть
    после над больше тот через эти нас про всего них какая много разве три эту моя впрочем хорошо свою
    этой перед иногда лучше чуть том нельзя такой им более всегда конечно всю между""".split()
)


def content_hash(title: str, text: str) -> str:
    normal = " ".join(f"{title}\n{text}".casefold().split())
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def normalise_title(title: str) -> str:
    return " ".join(_WORD.findall(title.casefold()))


def significant_words(title: str, text: str = "") -> tuple[str, ...]:
    """Stems of the title and the lede that can tell one event from another (names, places, articles, verbs)."""
    words = _WORD.findall(title.casefold()) + _WORD.findall(text[:1000].casefold())[:LEDE_WORDS]
    return tuple(dict.fromkeys(w[:STEM] for w in words if (len(w) >= 4 or w.isdigit()) and w not in STOPWORDS))


class HasIdentity(Protocol):
    guid: str | None
    canonical_url: str | None
    content_hash: str


@dataclass(frozen=True)
class Identity:
    """The keys an entry is looked up by within its own feed; None where a key is absent or untrusted."""

    guid: str | None
    link: str | None
    content_hash: str


def identities(entries: Sequence[HasIdentity]) -> list[Identity]:
    """Decide per entry which of GUID / link can be trusted in this fetch (not shared by different content)."""
    guid_hashes: defaultdict[str, set[str]] = defaultdict(set)
    link_hashes: defaultdict[str, set[str]] = defaultdict(set)
    for e in entries:
        if e.guid:
            guid_hashes[e.guid].add(e.content_hash)
        if e.canonical_url:
            link_hashes[e.canonical_url].add(e.content_hash)
    out = []
    for e in entries:
        guid = e.guid if e.guid and len(guid_hashes[e.guid]) == 1 else None
        link = e.canonical_url if e.canonical_url and len(link_hashes[e.canonical_url]) == 1 else None
        out.append(Identity(guid, link, e.content_hash))
    return out


class NearDuplicateIndex:
    """In-memory inverted index of recent incidents' title + lede stems.

    Blocking on shared stems keeps the work linear in practice: a new item is only scored against
    items sharing at least MIN_SHARED uncommon stems with it. The score is the Dice coefficient of
    the two stem sets (the same person, place and charge reported in other words), or rapidfuzz's
    token_sort_ratio of the titles when that is very high (the same headline reworded).
    """

    def __init__(self, threshold: float = NEAR_THRESHOLD) -> None:
        self.threshold = threshold
        self._titles: dict[int, str] = {}
        self._sizes: dict[int, int] = {}
        # a posting grows to MAX_POSTING + 1 ids, which marks its word as too common to use
        self._postings: dict[str, list[int]] = {}

    def __len__(self) -> int:
        return len(self._titles)

    def add(self, incident_id: int, title: str, words: Iterable[str] | None = None, *, normal: str | None = None) -> None:
        """Index an incident; `words` are its significant_words(title, text) (default: the title's),
        `normal` its normalise_title(title) when the caller has it already."""
        words = tuple(words) if words is not None else significant_words(title)
        self._titles[incident_id] = normal or normalise_title(title)
        self._sizes[incident_id] = len(words)
        postings = self._postings
        for word in words:
            posting = postings.get(word)
            if posting is None:
                postings[word] = [incident_id]
            elif len(posting) <= MAX_POSTING:
                posting.append(incident_id)

    def match(self, title: str, words: Iterable[str] | None = None, *, exclude: set[int] | None = None,
              normal: str | None = None) -> list[tuple[int, float]]:
        """Earlier incidents that look like the same event as this title, best first."""
        words = tuple(words) if words is not None else significant_words(title)
        postings = self._postings
        # One counting pass in C over every usable posting; then only the few incidents sharing
        # MIN_SHARED stems or more are scored (this runs once per new entry, thousands per run).
        usable = [p for w in words if (p := postings.get(w)) is not None and len(p) <= MAX_POSTING]
        if not usable:
            return []
        candidates = [(other, count) for other, count in Counter(chain.from_iterable(usable)).items()
                      if count >= MIN_SHARED]
        if not candidates:
            return []
        from rapidfuzz import fuzz  # imported on first use: most commands never compare two titles

        normal = normal or normalise_title(title)
        size = len(words)
        sizes, titles, threshold = self._sizes, self._titles, self.threshold
        found = []
        for other, count in candidates:
            if exclude and other in exclude:
                continue
            dice = 200.0 * count / (size + sizes[other])
            # The cutoff lets rapidfuzz stop early; it returns 0 below it, which changes no score:
            # a reworded title only counts at SAME_TITLE or more, and only where it beats Dice.
            reworded = fuzz.token_sort_ratio(normal, titles[other], score_cutoff=max(SAME_TITLE, dice))
            score = max(dice, reworded)
            if score >= threshold:
                found.append((other, round(float(score), 1)))
        found.sort(key=lambda pair: -pair[1])
        return found
