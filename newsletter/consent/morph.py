"""Russian and Kazakh inflection of names, on skeletons, with pymorphy3 for "is this word a name here".

Names change their endings in running text (Дина -> Дину, Диной; Жаксылыкова -> Жаксылыковой;
Kazakh case suffixes -ның, -ға, -мен ...). A word is a form of a name part when its skeleton is the
part's skeleton, or the part's stem plus one of the endings below. pymorphy3 (its dictionary ships
in pymorphy3-dicts-ru) answers the other question: whether a lone Cyrillic word can be a person's
name at all ("Алмаз" the given name, or "алмаз" a diamond).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

# Endings on skeletons (see text.skeleton): Russian noun/adjective case endings, Kazakh case and
# possessive suffixes, the English plural/possessive "s".
ENDINGS = frozenset({
    "", "a", "u", "e", "i", "o", "om", "im", "oi", "oiu", "ei", "eiu", "iu", "ia", "ih", "imi", "ami",
    "am", "ah", "s", "es", "ogo", "omu", "aia", "uiu", "oe", "ie", "ii", "mi",
    "ga", "ge", "ka", "ke", "na", "ne", "nin", "din", "tin", "di", "ti", "ni", "da", "de", "ta", "te",
    "dan", "den", "tan", "ten", "nan", "nen", "men", "ben", "pen", "niN", "ga",
})
# Adjectives and demonyms derived from a place: Семейский, Semeyskiy, жанаозенские, Almatinets.
PLACE_ENDINGS = frozenset({
    "ski", "skaia", "skoe", "skogo", "skoi", "skom", "skomu", "skie", "skih", "skim", "skimi", "skuiu",
    "iski", "iskaia", "iskoe", "iskogo", "iskoi", "iskom", "iskie", "iskih", "iskim", "inski", "inskaia",
    "inskie", "inskogo", "inskoi", "ets", "ec", "ci", "cam", "cev", "ins", "inec", "inci", "lik", "liki",
    "lar", "ler", "dar", "der", "tar", "ter",
})
_VOWEL_END = re.compile(r"(ia|iu|a|i|e|o|u)$")


@lru_cache(maxsize=50_000)
def stems(part: str) -> tuple[str, ...]:
    """The part itself and, for a part ending in a vowel, the part without it (Дина -> дин-)."""
    found = [part]
    m = _VOWEL_END.search(part)
    if m and len(part) - len(m.group()) >= 3:
        found.append(part[: m.start()])
    return tuple(found)


def is_form(word: str, part: str, *, place: bool = False) -> bool:
    """Whether skeleton `word` is an inflected form of skeleton `part` (or a derived adjective of a place)."""
    if word == part:
        return True
    for stem in stems(part):
        if word.startswith(stem):
            tail = word[len(stem):]
            if tail in ENDINGS or (place and tail in PLACE_ENDINGS):
                return True
    return False


_PATRONYMIC = re.compile(r"(ovi?C|evi?C|iC|ovna|evna|iCna|uli|kizi|ovic|evic)(a|u|om|e|em|i|oi|ei|oiu|iu)?$")


def looks_patronymic(skel: str) -> bool:
    """Russian-style (-ович, -евна) or Kazakh-style (-ұлы, -қызы) patronymic, any script, any case."""
    return len(skel) >= 6 and bool(_PATRONYMIC.search(skel))


_SURNAME = re.compile(r"(ov|ev|in|ova|eva|ina|ski|skaia|enko|uk|iuk|bai|baiev|baieva|uli|kizi|ian|dze|Svili)"
                      r"(a|u|im|e|oi|oiu|s)?$")


def looks_surname(skel: str) -> bool:
    return len(skel) >= 5 and bool(_SURNAME.search(skel))


@lru_cache(maxsize=1)
def analyser() -> Any:
    """One pymorphy3 analyser per process (loading it takes ~60 ms)."""
    import logging

    import pymorphy3

    logging.getLogger("pymorphy3").setLevel(logging.WARNING)  # it logs its dictionary path at INFO
    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=50_000)
def can_be_name(word: str) -> bool:
    """A Cyrillic word that pymorphy3 reads as a given name, surname or patronymic, or does not know.

    Kazakh names are often missing from the Russian dictionary: an unknown word may be a name.
    """
    parses = analyser().parse(word.casefold())
    if not parses or not any(p.is_known for p in parses):
        return True
    return any(({"Name", "Surn", "Patr"} & set(str(p.tag).replace(" ", ",").split(","))) for p in parses)


@lru_cache(maxsize=50_000)
def name_lemmas(word: str) -> frozenset[str]:
    """Dictionary forms of a Cyrillic word read as a name (Дину -> {дина, дин}); empty for other words."""
    out = set()
    for p in analyser().parse(word.casefold()):
        tags = set(str(p.tag).replace(" ", ",").split(","))
        if {"Name", "Surn", "Patr"} & tags:
            out.add(p.normal_form)
    return frozenset(out)
