"""A protected person as the consent engine sees it: every spelling, split into typed name parts.

Rules (README "Safety of people" states them for editors):
- surnames and patronymics are distinctive: any form of them is the person, anywhere in the issue;
- a given name is the person when it stands next to another of their name parts or their initial,
  or, alone, only on an item linked to that person and only where it reads as a name (capitalised,
  not followed by another capitalised word that is not theirs - "Nur Otan", "Bek Air", "Abai Region" -
  and, in Cyrillic, a word pymorphy3 can read as a name: "Алмаз" yes, "алмаз" the stone no).
"""

from __future__ import annotations

import re
from functools import lru_cache
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from newsletter.consent import morph
from newsletter.consent.text import clean, skeleton

WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
GIVEN, SURNAME, PATRONYMIC = "given", "surname", "patronymic"
# Words of a registered "name" that are descriptions, not names ("Blogger A.", "Активист Е."): never name parts.
NOT_NAMES = frozenset({
    "activist", "activists", "blogger", "journalist", "lawyer", "citizen", "person", "defender", "unionist",
    "relative", "politician", "believer", "anonymous", "victim", "witness", "volunteer", "mother", "father",
    "son", "daughter", "wife", "husband", "mr", "mrs", "ms", "dr", "civil", "human", "rights", "trade", "union",
    "активист", "активистка", "блогер", "журналист", "журналистка", "адвокат", "гражданин", "гражданка",
    "правозащитник", "правозащитница", "мать", "отец", "сын", "дочь", "жена", "муж", "аноним",
})


@dataclass(frozen=True)
class Part:
    skel: str
    kind: str

    @property
    def strong(self) -> bool:
        return self.kind != GIVEN


@dataclass
class PersonSpec:
    """One person's spellings and how they are referred to on the item being redacted.

    replacement None means the person may be named as written here.
    """

    key: int
    spellings: Sequence[str]
    replacement: str | None
    linked: bool = False
    parts: list[Part] = field(default_factory=list)
    initials: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if not self.parts:
            seen: set[tuple[str, str]] = set()
            for spelling in self.spellings:
                for word, kind in classify(spelling):
                    skel = skeleton(word)
                    if kind != GIVEN and len(skel) < 4:
                        kind = GIVEN  # "Bek", "Li": too short to be hidden as a free word ("Bek Air")
                    if len(skel) >= 2 and (skel, kind) not in seen:
                        seen.add((skel, kind))
                        self.parts.append(Part(skel, kind))
                        self.initials.add(skel[0].lower())

    @property
    def protected(self) -> bool:
        return self.replacement is not None


@lru_cache(maxsize=20_000)
def classify(spelling: str) -> tuple[tuple[str, str], ...]:
    """Split a full name into (word, kind): patronymic and surname by shape, the rest given names.

    Order varies ("Saule Zhaksylykova", "Жаксылыкова Сауле Ериковна"): shape decides, not position.
    With no word shaped like a surname, the last of two or more words is taken as the surname.
    """
    words = [w for w in WORD.findall(clean(spelling)) if len(w) >= 2 and w.casefold() not in NOT_NAMES]
    kinds: list[str] = []
    for w in words:
        s = skeleton(w)
        if morph.looks_patronymic(s):
            kinds.append(PATRONYMIC)
        elif morph.looks_surname(s):
            kinds.append(SURNAME)
        else:
            kinds.append(GIVEN)
    if len(words) >= 2 and SURNAME not in kinds:
        for i in range(len(words) - 1, -1, -1):
            if kinds[i] == GIVEN:
                kinds[i] = SURNAME
                break
    if len(words) == 1 and len(skeleton(words[0])) >= 6:
        kinds = [SURNAME]  # a single distinctive word (a nickname, one-word name) is protected anywhere
    return tuple(zip(words, kinds))


@dataclass(frozen=True)
class Hit:
    person: int  # index into the matcher's persons
    kind: str


class NameIndex:
    """Which persons' name parts a word is, in any script and inflection. Built once per item."""

    def __init__(self, persons: Sequence[PersonSpec]) -> None:
        self.persons = list(persons)
        self.by_prefix: dict[str, list[tuple[Part, int]]] = {}
        for n, person in enumerate(self.persons):
            for part in person.parts:
                self.by_prefix.setdefault(part.skel[:2], []).append((part, n))
        self.cache: dict[str, tuple[Hit, ...]] = {}

    def hits(self, word: str) -> tuple[Hit, ...]:
        found = self.cache.get(word)
        if found is not None:
            return found
        skel = skeleton(word)
        out: list[Hit] = []
        for part, n in self.by_prefix.get(skel[:2], ()):
            if morph.is_form(skel, part.skel):
                out.append(Hit(n, part.kind))
        if not out and _is_cyrillic(word):
            for lemma in morph.name_lemmas(word):
                lskel = skeleton(lemma)
                for part, n in self.by_prefix.get(lskel[:2], ()):
                    if lskel == part.skel:
                        out.append(Hit(n, part.kind))
        found = tuple(dict.fromkeys(out))
        self.cache[word] = found
        return found


def _is_cyrillic(word: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in word)


def spelling_parts(spellings: Iterable[str]) -> list[Part]:
    return PersonSpec(0, list(spellings), None).parts
