"""The redactor: replaces protected names, places and addresses in one text field.

Order of work on a text: clean it (NFKC, no invisible characters, no stray markup), treat URLs,
e-mail addresses, @handles and #hashtags as units (a unit that carries a protected name or place in
any script is replaced whole), then generalise protected cities, then replace runs of name words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from newsletter.consent import morph
from newsletter.consent.names import GIVEN, WORD, NameIndex, PersonSpec
from newsletter.consent.places import CITY_WORDS, HEAD_OF_STATE, NAMED_PLACE_WORDS, REGION_WORDS, PlaceSpec
from newsletter.consent.text import clean, letters_skeleton, skeleton, strip_tags

UNIT = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|(?<![\w@#])[@#][^\W_][\w.]*\w|(?<![\w@#])[@#]\w"
    r"|(?<![\w@/])[\w-]+(?:\.[\w-]+)*\.(?:[a-z]{2,6})/\S*",
    re.UNICODE,
)
WITHHELD_ADDRESS = "[address withheld]"
_SENTENCE_START = ".!?\"“«\n"
# Given names that are also common English words: alone at the start of a sentence they are read as words.
COMMON_WORDS = frozenset({"said", "will", "may", "mark", "bill", "rose", "grace", "hope", "faith", "joy", "june",
                          "april", "dawn", "guy", "max", "long", "can", "sun"})


def capitalise_at(text: str, index: int, replacement: str) -> str:
    """Start the replacement with a capital where it starts a sentence."""
    before = text[:index].rstrip()
    if not before or before[-1] in _SENTENCE_START:
        return replacement[:1].upper() + replacement[1:]
    return replacement


@dataclass
class _Tok:
    start: int
    end: int
    word: str


class Redactor:
    """Built per item (and once for the issue's title and intro) from the persons and places to hide."""

    def __init__(self, persons: Sequence[PersonSpec] = (), places: Sequence[PlaceSpec] = ()) -> None:
        self.persons = list(persons)
        self.places = list(places)
        self.index = NameIndex(self.persons)
        self.unit_terms = self._unit_terms()
        self.place_index: dict[str, list[tuple[PlaceSpec, tuple[str, ...]]]] = {}
        for place in self.places:
            for words in place.spellings:
                self.place_index.setdefault(words[0][:2], []).append((place, words))

    # -------------------------------------------------------------- units
    def _unit_terms(self) -> list[tuple[str, str, bool]]:
        """(skeleton, replacement, given) searched inside addresses, handles and hashtags."""
        terms: list[tuple[str, str, bool]] = []
        for p in self.persons:
            if not p.protected:
                continue
            for part in p.parts:
                if len(part.skel) >= 4 or (p.linked and len(part.skel) >= 3 and part.kind == GIVEN):
                    stem = morph.stems(part.skel)[-1]
                    terms.append((stem if len(stem) >= 4 else part.skel, p.replacement or "", part.kind == GIVEN))
        for place in self.places:
            if place.capitalised_only:
                continue
            for words in place.spellings:
                joined = "".join(words)
                if len(joined) >= 4:
                    terms.append((morph.stems(joined)[-1] if len(joined) > 5 else joined, "", False))
        return terms

    def unit_is_protected(self, unit: str) -> str | None:
        """The replacement for an address/handle/hashtag that carries a protected word, else None.

        Surnames, patronymics and cities are searched anywhere inside the unit ("saulezhaksylykova");
        given names anywhere inside a #hashtag or @handle ("#FreeSaule"), but only as a whole word of
        an address, so "almaty-marathon" is not "Marat".
        """
        decoded = unquote(unit)
        letters = letters_skeleton(decoded).lower()
        tag = unit[:1] in "@#"
        words = [skeleton(w) for w in WORD.findall(decoded)] if not tag else []
        for term, repl, given in self.unit_terms:
            low = term.lower()
            if given and not tag:
                if any(morph.is_form(w, term) for w in words):
                    return repl
            elif low in letters:
                return repl
        return None

    def address_is_protected(self, url: str) -> bool:
        """A link whose address carries a protected name or place (slug, path, query, percent-encoded)."""
        if self.unit_is_protected(url) is not None:
            return True
        words = " ".join(w.capitalize() for w in WORD.findall(unquote(url)))
        return self._words(words) != words

    # -------------------------------------------------------------- apply
    def apply(self, text: str) -> str:
        if not text:
            return text
        text = clean(strip_tags(text))
        out: list[str] = []
        pos = 0
        for m in UNIT.finditer(text):
            unit = m.group().rstrip(".,;:!?)")
            repl = self.unit_is_protected(unit)
            if repl is None:
                continue
            out.append(self._words(text[pos:m.start()]))
            if unit[:1] in "@#" and repl:
                out.append(capitalise_at(text, m.start(), repl))
            else:
                out.append(WITHHELD_ADDRESS)
            pos = m.start() + len(unit)
        out.append(self._words(text[pos:]))
        return "".join(out)

    def _words(self, text: str) -> str:
        if not text.strip():
            return text
        if any(p.protected for p in self.persons):
            text = self._replace_names(text)
        if self.places:
            text = self._replace_places(text)
        return text

    # -------------------------------------------------------------- places
    def _replace_places(self, text: str) -> str:
        toks = [_Tok(m.start(), m.end(), m.group()) for m in WORD.finditer(text)]
        skels = [skeleton(t.word) for t in toks]
        out: list[str] = []
        pos = 0
        i = 0
        while i < len(toks):
            found = self._place_at(text, toks, skels, i)
            if found is None:
                i += 1
                continue
            end_index, replacement = found
            nxt = end_index + 1
            if (nxt < len(toks) and skels[nxt] in REGION_WORDS and skels[end_index] in {w[-1] for p in self.places for w in p.spellings}
                    and _only_space(text, toks[end_index].end, toks[nxt].start)):
                i = nxt + 1  # "Almaty Region" is the region, an allowed form
                continue
            if nxt < len(toks) and skels[nxt] in CITY_WORDS and _only_space(text, toks[end_index].end, toks[nxt].start):
                end_index = nxt  # "Almaty city court" -> "Almaty Region court"
            out.append(text[pos:toks[i].start])
            out.append(capitalise_at(text, toks[i].start, replacement))
            pos = toks[end_index].end
            i = end_index + 1
        out.append(text[pos:])
        return "".join(out)

    def _place_at(self, text: str, toks: list[_Tok], skels: list[str], i: int) -> tuple[int, str] | None:
        for place, words in self.place_index.get(skels[i][:2], ()):
            n = len(words)
            if i + n > len(toks):
                continue
            if any(skels[i + k] != words[k] for k in range(n - 1)):
                continue
            if not morph.is_form(skels[i + n - 1], words[-1], place=True):
                continue
            if place.capitalised_only and not toks[i].word[:1].isupper():
                continue
            if n > 1 and not all(_joinable(text, toks[i + k].end, toks[i + k + 1].start) for k in range(n - 1)):
                continue
            return i + n - 1, place.replacement
        return None

    # -------------------------------------------------------------- names
    def _replace_names(self, text: str) -> str:
        toks = [_Tok(m.start(), m.end(), m.group()) for m in WORD.finditer(text)]
        hits = [self.index.hits(t.word) if not _plain_word(t.word) else () for t in toks]
        out: list[str] = []
        pos = 0
        i = 0
        while i < len(toks):
            if not hits[i]:
                i += 1
                continue
            start = i
            if i > 0 and _is_initial(text, toks[i - 1]) and _joinable(text, toks[i - 1].end, toks[i].start):
                start = i - 1  # "S. Zhaksylykova": the initial goes with the name
            elif (i > 1 and morph.looks_patronymic(skeleton(toks[i - 1].word)) and toks[i - 2].word[:1].isupper()
                  and _joinable(text, toks[i - 2].end, toks[i - 1].start) and _joinable(text, toks[i - 1].end, toks[i].start)):
                start = i - 2  # "Nurlan Serikovich Tokayev": given name and patronymic go with the surname
            elif i > 0 and self._foreign_given_name(text, toks, hits, i):
                start = i - 1  # "Seytkazy Matayev" beside a protected "Aset Matayev": hide the whole name
            j = i + 1
            while j < len(toks) and _joinable(text, toks[j - 1].end, toks[j].start):
                if hits[j] or _is_initial(text, toks[j]) or morph.looks_patronymic(skeleton(toks[j].word)):
                    j += 1
                    continue
                break
            while j - 1 > i and not hits[j - 1] and _is_initial(text, toks[j - 1]):
                j -= 1  # a trailing initial belongs to the next sentence or name
            replacement = self._decide(text, toks, hits, start, i, j)
            if replacement is not None:
                out.append(text[pos:toks[start].start])
                out.append(capitalise_at(text, toks[start].start, replacement))
                pos = toks[j - 1].end
                if text[pos:pos + 1] == "." and _is_initial(text, toks[j - 1]):
                    pos += 1
            i = j
        out.append(text[pos:])
        return "".join(out)

    def _decide(self, text: str, toks: list[_Tok], hits: list, start: int, first: int, end: int) -> str | None:
        """Which protected person (if any) this run of name words refers to; their reference."""
        run = range(first, end)
        counted: dict[int, list[str]] = {}
        for k in run:
            for h in hits[k]:
                counted.setdefault(h.person, []).append(h.kind)
        has_patronymic = any(not hits[k] and morph.looks_patronymic(skeleton(toks[k].word)) for k in run)
        initials = {toks[k].word[0].lower() for k in range(start, end) if _is_initial(text, toks[k])}
        named_tokens = [k for k in run if hits[k]]
        # Someone who may be named, written in full (two words or more, all theirs): keep it.
        for n, kinds in counted.items():
            person = self.persons[n]
            if not person.protected and len(kinds) >= 2 and len(kinds) >= len(named_tokens):
                if not any(self.persons[m].protected and len(k2) >= len(kinds) for m, k2 in counted.items()):
                    return None
        best: tuple[int, int] | None = None
        for n, kinds in counted.items():
            person = self.persons[n]
            if not person.protected:
                continue
            strong = any(k != GIVEN for k in kinds)
            together = len(kinds) >= 2 or has_patronymic or bool(initials & person.initials)
            lone_ok = person.linked and self._reads_as_name(text, toks, hits, first, end)
            if strong and end - first == 1 and self._before_place_word(text, toks, end):
                strong = False
            if strong and end - first == 1 and first > 0 and skeleton(toks[first - 1].word) in HEAD_OF_STATE:
                strong = False  # "President Tokayev": the head of state, not a namesake
            if strong or together or lone_ok:
                score = (len(kinds) + (2 if strong else 0), -n)
                if best is None or score > best:
                    best = score
                    chosen = n
        if best is None:
            return None
        return self.persons[chosen].replacement

    def _foreign_given_name(self, text: str, toks: list[_Tok], hits: list, i: int) -> bool:
        """A capitalised word before a protected surname, inside a sentence, that may be a given name.

        A relative or namesake shares the surname; leaving their given name beside the reference
        would read "Seytkazy a journalist". The safe reading hides the whole name.
        """
        prev = toks[i - 1]
        if hits[i - 1] or not prev.word[:1].isupper() or len(prev.word) < 2 or not _only_space(text, prev.end, toks[i].start):
            return False
        if not any(h.kind != GIVEN and self.persons[h.person].protected for h in hits[i]):
            return False
        if capitalise_at(text, prev.start, "x") == "X" or prev.word.casefold() in COMMON_WORDS:
            return False  # the first word of a sentence is capitalised anyway
        if skeleton(prev.word) in NAMED_PLACE_WORDS or skeleton(prev.word) in HEAD_OF_STATE or self._is_hidden_place(prev.word):
            return False
        if any("\u0400" <= ch <= "\u04ff" for ch in prev.word):
            return morph.can_be_name(prev.word)
        return True

    def _is_hidden_place(self, word: str) -> bool:
        skel = skeleton(word)
        return any(morph.is_form(skel, words[0], place=True) for p in self.places for words in p.spellings)

    def _before_place_word(self, text: str, toks: list[_Tok], end: int) -> bool:
        return (end < len(toks) and skeleton(toks[end].word) in NAMED_PLACE_WORDS
                and _only_space(text, toks[end - 1].end, toks[end].start))

    def _reads_as_name(self, text: str, toks: list[_Tok], hits: list, first: int, end: int) -> bool:
        """A lone given name reads as a person: capitalised, not the start of another proper name."""
        word = toks[first].word
        if not word[:1].isupper() or self._before_place_word(text, toks, end):
            return False
        if first > 0 and skeleton(toks[first - 1].word) in NAMED_PLACE_WORDS and _only_space(text, toks[first - 1].end, toks[first].start):
            return False  # "области Абай", "улица Абая": a place named after someone
        if word.casefold() in COMMON_WORDS and capitalise_at(text, toks[first].start, "x") == "X":
            return False  # "Said the judge", "Will you": an ordinary word starting a sentence
        if end < len(toks) and _only_space(text, toks[end - 1].end, toks[end].start):
            following = toks[end].word
            if following[:1].isupper() and not hits[end] and not self._is_hidden_place(following):
                return False  # "Nur Otan", "Bek Air", "Abai Region", "Almaty Marathon"
        if any("\u0400" <= ch <= "\u04ff" for ch in word) and not morph.can_be_name(word):
            return False
        return True


def _plain_word(word: str) -> bool:
    """A lower-case word that is an ordinary word, not a name written in lower case: "said" for a
    surname Said, "алмаз" for Алмаз. Long lower-case names ("zhaksylykova") still count."""
    if not word[:1].islower():
        return False
    if any("\u0400" <= ch <= "\u04ff" for ch in word):
        return not morph.can_be_name(word)
    return len(skeleton(word)) <= 5


def _only_space(text: str, a: int, b: int) -> bool:
    return a <= b and text[a:b].strip() == ""


def _joinable(text: str, a: int, b: int) -> bool:
    """Words of one name: separated by spaces, a hyphen, or the full stop of an initial."""
    gap = text[a:b]
    return len(gap) <= 3 and gap.strip(" \u00a0-–.") == "" and gap != "" and "\n" not in gap


def _is_initial(text: str, tok: _Tok) -> bool:
    return len(tok.word) == 1 and tok.word.isupper() and text[tok.end:tok.end + 1] == "."
