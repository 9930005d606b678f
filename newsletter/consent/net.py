"""The safety net: a second, independent check of every output text of one edition.

It does not share the redactor's tokeniser or matcher. It splits text on white space into units
(so "pro-Zhaksylykova", "#FreeSaule", "zhaksylykova_s", URLs stay whole), folds each unit onto a
coarser key than the redactor's (every vowel is the same vowel: transliteration differences in
vowels cannot hide a name) and looks for every protected spelling's stem:
- in a unit with inner punctuation (address, handle, hashtag, compound): anywhere inside it;
- in a plain word: at its start, with an ending of up to four letters;
- in a plain word, a weak pattern (a word of four letters or fewer on the key, or the leading given
  name of a multi-word spelling) counts only next to another of that person's words, or alone on an
  item linked to them where it reads as a name (capitalised, a short ending, not after a place word,
  not before another capitalised word).
Then named-entity recognition flags person names in anonymised items that are not an allowed form:
natasha's Russian news NER for Cyrillic text, and a rule tagger for Latin text (two or more
capitalised words ending in a surname shape, or containing a registered given name). Cities of the
region (and every hidden city) are flagged in anonymised items unless written as the allowed region.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from newsletter.consent.errors import ConsentViolation, Finding
from newsletter.consent.names import NOT_NAMES
from newsletter.consent.places import HEAD_OF_STATE, KNOWN_CITIES, NAMED_PLACE_WORDS
from newsletter.consent.text import clean, skeleton, strip_tags

_LETTERS = re.compile(r"[^\W\d_]+")
_VOWELS = re.compile(r"[aeiouAEIOU]+")
_EDGE = "\"'“”«»()[]{}.,;:!?…—–-"


@dataclass
class NetPerson:
    """A protected person as the net sees them: every spelling. Where they must not appear is each
    NetText's `protected` keys (and `linked`, for a lone short or given name)."""

    key: int
    spellings: Sequence[str]


@dataclass
class NetText:
    """One output text and its context."""

    item_id: int | None
    field: str
    text: str
    anonymised: bool = False
    linked: frozenset[int] = frozenset()  # keys of persons this item is about
    protected: frozenset[int] = frozenset()  # keys of persons who must not be named in this text
    hidden_cities: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()  # allowed forms: aliases, initials, the region


def coarse(word: str) -> str:
    """Skeleton with every vowel run folded to "a" and doubled letters collapsed."""
    s = _VOWELS.sub("a", skeleton(word).lower())
    return re.sub(r"(.)\1+", r"\1", s)


def _stem(key: str) -> str:
    return key[:-1] if len(key) >= 6 and key.endswith("a") else key


@dataclass
class _Pattern:
    person: int | None  # None: a city
    stem: str
    short: bool


@dataclass
class SafetyNet:
    persons: Sequence[NetPerson]
    patterns: list[_Pattern] = field(default_factory=list)
    by_start: dict[str, list[_Pattern]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for person in self.persons:
            for spelling in person.spellings:
                words = [w for w in _LETTERS.findall(clean(spelling)) if w.casefold() not in NOT_NAMES]
                for n, word in enumerate(words):
                    key = coarse(word)
                    # Weak: short words, and a leading given name ("Marat", "Almaz": also words and brands).
                    weak = len(key) <= 4 or (n == 0 and len(words) > 1 and not _SURNAME_SHAPE.search(skeleton(word).lower()))
                    if len(key) >= 2:
                        pattern = _Pattern(person.key, _stem(key), weak)
                        self.patterns.append(pattern)
                        self.by_start.setdefault(pattern.stem[:2], []).append(pattern)

    def check(self, texts: Iterable[NetText], edition: str = "") -> list[Finding]:
        findings: list[Finding] = []
        for t in texts:
            if not t.text:
                continue
            kinds = self._check_text(t)
            for kind in kinds:
                f = Finding(t.item_id, t.field, kind, edition)
                if f not in findings:
                    findings.append(f)
        return findings

    def _check_text(self, t: NetText) -> list[str]:
        text = clean(strip_tags(t.text))
        kinds: list[str] = []
        units = [u.strip(_EDGE) for u in text.split()]
        keys = [_unit_key(u) for u in units]
        for n, (unit, key) in enumerate(zip(units, keys)):
            if not key:
                continue
            compound = _is_compound(unit)
            if not compound and n > 0 and skeleton(units[n - 1]) in HEAD_OF_STATE and not (
                    n + 1 < len(units) and units[n + 1][:1].isupper()):
                continue  # "President Tokayev" alone: the head of state
            for p in (self.patterns if compound else self.by_start.get(key[:2], ())):
                if p.person is None or p.person not in t.protected:
                    continue
                if not _matches(p.stem, key, compound, p.short):
                    continue
                if p.short and not compound:
                    neighbours = [keys[m] for m in (n - 1, n + 1) if 0 <= m < len(keys)]
                    near = any(_matches(q.stem, k, False, False) for q in self.patterns
                               if q.person == p.person and q is not p for k in neighbours if k)
                    tail = len(key) - len(p.stem)
                    latin = unit.isascii()
                    after_place = n > 0 and skeleton(units[n - 1]) in NAMED_PLACE_WORDS
                    if not near and not (p.person in t.linked and unit[:1].isupper() and tail <= (1 if latin else 3)
                                         and not after_place
                                         and not _next_is_other_proper(units, keys, n, self.patterns, p.person)):
                        continue
                kinds.append("address" if compound and unit[:1] in "@#" or "/" in unit or "@" in unit else "name")
                break
        if t.anonymised or t.hidden_cities:
            kinds.extend(self._check_places(text, t))
        if t.anonymised:
            kinds.extend(_person_entities(text, t.allowed, self.patterns))
        return list(dict.fromkeys(kinds))

    def _check_places(self, text: str, t: NetText) -> list[str]:
        rest = text
        for form in sorted(t.allowed, key=len, reverse=True):
            if form:
                rest = re.sub(re.escape(form), " ", rest, flags=re.IGNORECASE)
        hidden = {_stem(coarse("".join(_LETTERS.findall(c)))): c for c in t.hidden_cities if c and c.strip()}
        known = _known_city_stems() if t.anonymised else {}
        for unit in rest.split():
            unit = unit.strip(_EDGE)
            key = _unit_key(unit)
            if not key:
                continue
            compound = _is_compound(unit)
            for stems, lowercase_ok in ((hidden, True), (known, False)):
                for stem, city in stems.items():
                    if len(stem) < 3 or not _matches(stem, key, compound, len(stem) <= 3):
                        continue
                    if unit[:1].isupper() or compound:
                        return ["city"]
                    # lower case: a derived adjective ("семейский"); the finer skeleton must agree
                    exact = skeleton(city).lower()
                    if lowercase_ok and len(exact) >= 4 and skeleton(unit).lower().startswith(exact[:-1]):
                        return ["city"]
        return []


@lru_cache(maxsize=1)
def _known_city_stems() -> dict[str, str]:
    return {_stem(coarse("".join(_LETTERS.findall(c)))): c for c in KNOWN_CITIES}


def _unit_key(unit: str) -> str:
    return "".join(coarse(w) for w in _LETTERS.findall(unquote(unit)))


def _is_compound(unit: str) -> bool:
    core = unit.rstrip("'’s") if unit.endswith(("'s", "’s")) else unit
    return bool(re.search(r"[^\w]|_|\d", core)) or bool(re.search(r"[a-zа-я][A-ZА-Я]", core))


def _matches(stem: str, key: str, compound: bool, short: bool) -> bool:
    if compound:
        return (len(stem) >= 3 or not short) and stem in key
    return key.startswith(stem) and len(key) - len(stem) <= 4


def _next_is_other_proper(units: list[str], keys: list[str], n: int, patterns: list[_Pattern], person: int | None) -> bool:
    if n + 1 >= len(units) or not units[n + 1][:1].isupper() or len(keys[n + 1]) <= 1:
        return False  # nothing capitalised follows, or only an initial
    return not any(q.person == person and _matches(q.stem, keys[n + 1], False, False) for q in patterns)


# ------------------------------------------------------------------ entity recognition

_SURNAME_SHAPE = re.compile(r"(ov|ev|in|ova|eva|ina|uli|kizi|baiev|baieva|enko|ski|skaia)(a|u|oi|im|s)?$")
_CAP_SEQ = re.compile(r"(?:\b[A-Z][\w'’-]+\b\s+){1,3}\b[A-Z][\w'’-]+\b")


def _allowed(span: str, allowed: Sequence[str]) -> bool:
    folded = span.casefold()
    return any(folded and folded in a.casefold() for a in allowed if a)


def _person_entities(text: str, allowed: Sequence[str], patterns: Sequence[_Pattern]) -> list[str]:
    """Person names in an anonymised text (natasha for Cyrillic, rules for Latin), allowed forms aside."""
    for span in latin_persons(text, {p.stem for p in patterns if p.person is not None}):
        if not _allowed(span, allowed):
            return ["person"]
    if re.search(r"[\u0400-\u04ff]", text):
        for span in (s for sentence in _name_sentences(text) for s in russian_persons(sentence)):
            words = _LETTERS.findall(span)
            if all(len(w) == 1 for w in words) or _allowed(span, allowed):
                continue
            return ["person"]
    return []


def latin_persons(text: str, given: set[str]) -> list[str]:
    """Capitalised word sequences that look like a person's name (surname shape or a registered name)."""
    found = []
    for m in _CAP_SEQ.finditer(text):
        words = m.group().split()
        keys = [skeleton(w).lower() for w in words]
        if any(len(w.strip(".")) == 1 for w in words):
            continue
        if _SURNAME_SHAPE.search(keys[-1]) and len(keys[-1]) >= 5 or any(coarse(w) in given for w in words if len(coarse(w)) > 3):
            found.append(m.group())
    return found


@lru_cache(maxsize=1)
def _natasha() -> Any:
    from natasha import NewsEmbedding, NewsNERTagger, Segmenter

    return Segmenter(), NewsNERTagger(NewsEmbedding())


_SENTENCES = re.compile(r"(?<=[.!?…])\s+")
_CYR_CAP = re.compile(r"(?<![\w\u0400-\u04ff])[А-ЯЁӘҒҚҢӨҰҮҺІ][а-яёәғқңөұүһі]+")


def _name_sentences(text: str) -> list[str]:
    """Sentences worth the NER's time: with a capitalised Cyrillic word that could be a name.

    natasha costs tens of milliseconds per sentence; pymorphy3 rules most sentences out in microseconds.
    """
    from newsletter.consent.morph import can_be_name

    return [s for s in _SENTENCES.split(text) if any(can_be_name(w) for w in _CYR_CAP.findall(s))]


@lru_cache(maxsize=4096)
def russian_persons(text: str) -> tuple[str, ...]:
    """PER spans found by natasha's Russian news NER (its models ship inside the package)."""
    from natasha import Doc

    segmenter, tagger = _natasha()
    doc = Doc(text)
    doc.segment(segmenter)
    doc.tag_ner(tagger)
    return tuple(s.text for s in doc.spans if s.type == "PER")


def require_clean(net: SafetyNet, texts: Iterable[NetText], edition: str = "") -> None:
    """Raise ConsentViolation (item, field and kind; never the word) if anything was found."""
    findings = net.check(texts, edition)
    if findings:
        raise ConsentViolation(findings=findings)
