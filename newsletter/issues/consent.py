"""Consent rules: who may be named, which place may be shown, which links may be published.

Rendering only sees the snapshot, so these rules are the one place where a protected name or city
is kept out of the email, the text version, the web page, the JSON and the feed.

Decisions (tested in tests/issues/test_consent.py):
- A person's consent travels with them: `alias`, `initials` and `none` apply on every item, public
  ones included; `name` is honoured on `public` items only. On `anonymised` items nobody is named.
- A name is replaced wherever any of its parts occurs as a word, case-insensitively, including
  near spellings and inflected forms of parts of five letters or more ("Sadyrbayeva" for
  "Sadyrbaeva", "Utepovoi" for "Utepova"); a run of name words becomes one reference ("a journalist").
- `anonymised` items show the region (or the country), never the city, and the city's name is
  replaced in their headline and text.
- Links: volunteer and API channels are never linked (the link may lead to the reporter). On
  `anonymised` items only feed article URLs are kept. Any link whose address names a protected
  person (or, on anonymised items, the city) is dropped. Link titles go through the same redaction.
- A final check (check_item / check_text) refuses a snapshot in which a protected name survived,
  for example through an alias that contains the real name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process

from newsletter.models import Incident, IncidentSource, Person

ROLE_PHRASES = {
    "activist": "a civil activist",
    "journalist": "a journalist",
    "blogger": "a blogger",
    "lawyer": "a lawyer",
    "trade_unionist": "a trade unionist",
    "human_rights_defender": "a human rights defender",
    "relative": "a relative",
    "politician": "a politician",
    "religious_believer": "a religious believer",
    "citizen": "a citizen",
}
DEFAULT_PHRASE = "a person"
PRIVATE_CHANNELS = ("volunteer", "api")
_WORD = re.compile(r"[^\W\d_](?:[\w'’\-]*\w)?", re.UNICODE)
_FUZZY_MIN_LEN = 5
_FUZZY_RATIO = 85.0


class ConsentViolation(Exception):
    """A protected name or place would have been published; the message says where."""


def role_phrase(person: Person) -> str:
    return ROLE_PHRASES.get(person.role or "", DEFAULT_PHRASE)


def initials(name: str) -> str:
    return " ".join(f"{part[0].upper()}." for part in name_parts(name)) or DEFAULT_PHRASE


def name_parts(name: str) -> list[str]:
    """The words of a name that identify someone (single letters and initials are not)."""
    return list(_name_parts(name or ""))


@lru_cache(maxsize=4096)
def _name_parts(name: str) -> tuple[str, ...]:
    return tuple(w for w in _WORD.findall(name) if len(w.strip("'’-")) >= 2)


def reference(person: Person, *, item_is_public: bool) -> str | None:
    """How this person is referred to on an item; None means their name may stand as written."""
    if person.consent == "name" and item_is_public:
        return None
    if person.consent == "alias" and (person.alias or "").strip():
        return person.alias.strip()
    if person.consent == "initials":
        return initials(person.name)
    return role_phrase(person)


@lru_cache(maxsize=65536)
def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower() or text.lower()


def _possessive(word: str) -> str:
    """The "'s" ending of a word, if any."""
    return word[-2:] if len(word) > 2 and word[-2:].lower() in ("'s", "’s") else ""


@lru_cache(maxsize=65536)
def _key(word: str) -> str:
    """A word as compared with name parts: folded, without a possessive ending or edge punctuation."""
    return _fold(word[: len(word) - len(_possessive(word))]).strip("'’-")


class _Matcher:
    """Finds which owners' name parts a word is: exactly (any case), or nearly (protected owners only).

    "Nearly" means a near spelling (rapidfuzz ratio >= 85) or the same stem (an inflected form) of a
    part of five letters or more, and only for capitalised words. Indexed so that a 40-item issue
    with a hundred persons is checked in milliseconds.
    """

    def __init__(self, entries: Iterable[tuple[str, int, bool]]) -> None:
        self.exact: dict[str, set[int]] = {}
        self.stems: dict[str, list[tuple[str, int]]] = {}
        self.near_keys: list[str] = []
        self.near_owners: list[int] = []
        for part, owner, near in entries:
            key = _key(part)
            if not key:
                continue
            self.exact.setdefault(key, set()).add(owner)
            if near and len(key) >= _FUZZY_MIN_LEN:
                self.stems.setdefault(key[:4], []).append((key, owner))
                self.near_keys.append(key)
                self.near_owners.append(owner)
        self.cache: dict[str, tuple[frozenset[int], frozenset[int]]] = {}

    def match(self, word: str) -> tuple[frozenset[int], frozenset[int]]:
        found = self.cache.get(word)
        if found is not None:
            return found
        key = _key(word)
        exact = frozenset(self.exact.get(key, ()))
        near: set[int] = set()
        if self.near_keys and word[:1].isupper() and len(key) >= _FUZZY_MIN_LEN:
            for part, owner in self.stems.get(key[:4], ()):
                stem = max(4, len(part) - 2)
                if key[:stem] == part[:stem] and abs(len(key) - len(part)) <= 3:
                    near.add(owner)
            for _, score, index in process.extract(key, self.near_keys, scorer=fuzz.ratio,
                                                   score_cutoff=_FUZZY_RATIO, limit=None):
                near.add(self.near_owners[index])
        found = (exact, frozenset(near - exact))
        self.cache[word] = found
        return found


@dataclass
class _Subject:
    parts: list[str]
    replacement: str | None  # None: may be named


@dataclass
class Redactor:
    """Replaces protected names and places in free text; built per item (or per issue for the intro)."""

    subjects: list[_Subject] = field(default_factory=list)
    places: list[tuple[str, str]] = field(default_factory=list)  # (city, replacement)
    _matcher: _Matcher | None = field(default=None, repr=False)

    def add_person(self, person: Person, replacement: str | None) -> None:
        parts = name_parts(person.name)
        if parts:
            self.subjects.append(_Subject(parts, replacement))
            self._matcher = None

    def add_place(self, city: str | None, replacement: str) -> None:
        if city and city.strip() and (city.strip(), replacement) not in self.places:
            self.places.append((city.strip(), replacement))

    @property
    def protected_parts(self) -> list[str]:
        return [p for s in self.subjects if s.replacement is not None for p in s.parts]

    def apply(self, text: str) -> str:
        if not text:
            return text
        text = self._replace_places(text)
        if not any(s.replacement is not None for s in self.subjects):
            return text
        return self._replace_names(text)

    def _replace_places(self, text: str) -> str:
        for city, replacement in sorted(self.places, key=lambda p: -len(p[0])):
            pattern = re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, city.split())) + r"(?:['’]s)?(?!\w)", re.IGNORECASE)
            text = pattern.sub(lambda m, r=replacement: _capitalise_at(m.string, m.start(), r), text)
        return text

    def _who(self, word: str) -> tuple[frozenset[int], frozenset[int]]:
        """Indices of subjects whose name this word is (exactly, or approximately)."""
        if self._matcher is None:
            self._matcher = _Matcher((part, i, subject.replacement is not None)
                                     for i, subject in enumerate(self.subjects) for part in subject.parts)
        return self._matcher.match(word)

    def _replace_names(self, text: str) -> str:
        out: list[str] = []
        pos = 0
        words = list(_WORD.finditer(text))
        i = 0
        while i < len(words):
            exact, near = self._who(words[i].group())
            if not exact and not near:
                i += 1
                continue
            run = [(words[i], exact, near)]
            j = i + 1
            while j < len(words) and text[run[-1][0].end():words[j].start()].strip() == "":
                e, n = self._who(words[j].group())
                if not e and not n:
                    break
                run.append((words[j], e, n))
                j += 1
            replacement = self._decide(run)
            if replacement is not None:
                start, end = run[0][0].start(), run[-1][0].end()
                out.append(text[pos:start])
                out.append(_capitalise_at(text, start, replacement) + _possessive(run[-1][0].group()))
                pos = end
            i = j
        out.append(text[pos:])
        return "".join(out)

    def _decide(self, run: Sequence[tuple[re.Match[str], frozenset[int], frozenset[int]]]) -> str | None:
        """A run stays only when every word is exactly the name of someone who may be named and
        the run is more than a lone word shared with a protected person."""
        hits: dict[int, int] = {}
        for _, exact, near in run:
            for k in exact | near:
                hits[k] = hits.get(k, 0) + 1
        protected = [k for k in hits if self.subjects[k].replacement is not None]
        if not protected:
            return None
        named = [k for k in hits if self.subjects[k].replacement is None and hits[k] == len(run)
                 and all(k in exact for _, exact, _n in run)]
        if named and len(run) >= 2 and not any(hits[k] == len(run) for k in protected):
            return None
        best = max(protected, key=lambda k: (hits[k], -k))
        return self.subjects[best].replacement


def _capitalise_at(text: str, index: int, replacement: str) -> str:
    """Start the replacement with a capital where it starts a sentence."""
    before = text[:index].rstrip()
    if not before or before[-1] in ".!?\"“«":
        return replacement[:1].upper() + replacement[1:]
    return replacement


def general_place(region: str | None, country: str | None) -> str | None:
    """The place shown instead of a city: the region, else the country."""
    parts = [p.strip() for p in (region, country) if p and p.strip()]
    if parts and len(parts) == 2 and _fold(parts[0]) == _fold(parts[1]):
        parts = parts[:1]
    return ", ".join(parts) or None


def public_place(incident: Incident) -> str | None:
    """The place of a public incident, as precise as the incident says it is known."""
    first = None
    if incident.location_precision == "city" and incident.city:
        first = incident.city
    elif incident.location_precision in ("city", "region") and incident.region:
        first = incident.region
    parts = [p.strip() for p in (first, incident.country) if p and p.strip()]
    return ", ".join(parts) or None


def city_replacement(region: str | None, country: str | None) -> str:
    return (region or "").strip() or (country or "").strip() or "an undisclosed city"


def _slug_words(url: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", _fold(url)) if w]


def url_names(url: str, terms: Iterable[str]) -> bool:
    """Whether an address spells one of the protected words (as a path or query word)."""
    words = set(_slug_words(url))
    for term in terms:
        folded = [w for w in re.split(r"[^a-z0-9]+", _fold(term)) if len(w) >= 3]
        if any(w in words for w in folded):
            return True
    return False


def publishable_links(
    sources: Sequence[IncidentSource], *, anonymised: bool, protected_terms: Sequence[str], redactor: Redactor
) -> list[dict[str, str]]:
    """The links an item may carry, deduplicated, each with a redacted title."""
    links: list[dict[str, str]] = []
    seen: set[str] = set()
    for src in sources:
        url = (src.url or src.canonical_url or "").strip()
        if not url.lower().startswith(("https://", "http://")):
            continue
        kind = src.source.kind if src.source is not None else None
        if kind in PRIVATE_CHANNELS:
            continue
        if anonymised and kind != "feed":
            continue
        if url_names(url, protected_terms):
            continue
        key = src.canonical_url or url
        if key in seen:
            continue
        seen.add(key)
        title = (src.title or (src.source.title or src.source.name if src.source else "") or _host(url)).strip()
        links.append({"url": url, "title": redactor.apply(title)})
    return links


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or url


def find_leaks(texts: Iterable[str], parts: Sequence[str], cities: Sequence[str] = ()) -> list[str]:
    """Protected words (name parts, or cities) still present in texts, for the final check and the desk."""
    matcher = _Matcher((part, n, True) for n, part in enumerate(parts))
    found: list[str] = []
    for text in texts:
        if not text:
            continue
        if parts:
            for word in _WORD.findall(text):
                exact, near = matcher.match(word)
                for n in sorted(exact | near):
                    if parts[n] not in found:
                        found.append(parts[n])
        for city in cities:
            if city and city not in found and re.search(r"(?<!\w)" + re.escape(city) + r"(?!\w)", text, re.IGNORECASE):
                found.append(city)
    return found
