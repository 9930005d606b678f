"""Text normalisation and the transliteration skeleton every name comparison goes through.

Names of the region are written in Kazakh Cyrillic, Russian Cyrillic and several Latin
transliterations (2017/2018/2021 Kazakh Latin, ICAO passports, BGN/PCGN press style, J for Ж, H for Х,
I for Ы, apostrophes for soft signs). `skeleton` folds all of them onto one comparable string, so
"Жақсылықова", "Жаксылыкова", "Zhaksylykova", "Zhaqsylyqova", "Jaksylykova" and "Žaksylykova" are equal.
Mixed-script words (a Cyrillic "а" inside a Latin word, a common trick and a common typing accident)
are first mapped to one script by their look-alike letters.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

# Letters of Kazakh and Russian Cyrillic -> a folded Latin spelling. Upper-case placeholders keep
# digraph sounds apart from letter pairs: J = ж/zh/j, C = ч/ch, S = ш/щ/sh/shch, H = х/kh/h.
_CYR = {
    "а": "a", "ә": "a", "б": "b", "в": "v", "г": "g", "ғ": "g", "д": "d", "е": "e", "ё": "e", "ж": "J",
    "з": "z", "и": "i", "й": "i", "і": "i", "к": "k", "қ": "k", "л": "l", "м": "m", "н": "n", "ң": "n",
    "о": "o", "ө": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ұ": "u", "ү": "u", "ф": "f",
    "х": "H", "һ": "H", "ц": "c", "ч": "C", "ш": "S", "щ": "S", "ъ": "", "ы": "i", "ь": "", "э": "e",
    "ю": "iu", "я": "ia", "ї": "i", "є": "e", "ў": "u",
}
# Latin letters with diacritics used by the Kazakh Latin alphabets and by Czech-style transliteration.
_LAT = {
    "ä": "a", "á": "a", "à": "a", "â": "a", "ã": "a", "å": "a", "ǵ": "g", "ğ": "g", "ń": "n", "ñ": "n",
    "ó": "o", "ö": "o", "ô": "o", "ú": "u", "ū": "u", "ü": "u", "ù": "u", "û": "u", "ı": "i", "í": "i",
    "ì": "i", "î": "i", "ï": "i", "ý": "i", "ÿ": "i", "é": "e", "è": "e", "ê": "e", "ë": "e", "ş": "S",
    "š": "S", "ž": "J", "č": "C", "ç": "C", "ś": "S", "ć": "C", "ź": "z", "ż": "J", "ł": "l", "ø": "o",
}
# Look-alike letters: in a mostly Latin word a Cyrillic letter that looks Latin is read as Latin,
# and the other way round.
_CYR_LOOKS_LATIN = {"а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
                    "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q",
                    "ә": "a", "ү": "y", "һ": "h"}
_LATIN_LOOKS_CYR = {v: k for k, v in _CYR_LOOKS_LATIN.items() if k not in "әүһ"}
_TAG = re.compile(r"</?[A-Za-z][^<>]{0,300}>")
_DIGRAPHS = (("shch", "S"), ("sch", "S"), ("dzh", "J"), ("zh", "J"), ("kh", "H"), ("sh", "S"),
             ("ch", "C"), ("ts", "c"), ("tc", "c"), ("x", "ks"), ("q", "k"), ("w", "v"), ("y", "i"),
             ("j", "J"), ("h", "H"))


def is_format(ch: str) -> bool:
    """Invisible format characters (soft hyphen, zero-width joiner/space, bidi marks)."""
    return unicodedata.category(ch) == "Cf"


def clean(text: str) -> str:
    """What is published: NFKC-normalised, without invisible format characters.

    A soft hyphen or zero-width space inside a name shows the name on screen while hiding it from a
    word matcher; nothing legitimate in a newsletter needs them, so they are removed from the output.
    """
    if not text:
        return text
    text = unicodedata.normalize("NFKC", text)
    if any(is_format(ch) for ch in text):
        text = "".join(ch for ch in text if not is_format(ch))
    return text


def strip_tags(text: str) -> str:
    """Markup typed into a plain-text field (it would split a name into pieces): tags removed,
    character references decoded ("Zhaksy&shy;lykova" is the name with a soft hyphen)."""
    if "<" in text:
        text = _TAG.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    return text


def fold(text: str) -> str:
    """Clean and casefold: the form in which texts are compared."""
    return clean(text).casefold()


def _script(word: str) -> str:
    cyr = sum(1 for ch in word if "\u0400" <= ch <= "\u04ff")
    lat = sum(1 for ch in word if ch.isascii() and ch.isalpha())
    return "cyr" if cyr > lat else "lat"


def unconfuse(word: str) -> str:
    """Map look-alike letters of a mixed-script word to the word's main script."""
    word = word.casefold()
    has_cyr = any("\u0400" <= ch <= "\u04ff" for ch in word)
    has_lat = any(ch.isascii() and ch.isalpha() for ch in word)
    if not (has_cyr and has_lat):
        return word
    if _script(word) == "lat":
        return "".join(_CYR_LOOKS_LATIN.get(ch, ch) for ch in word)
    return "".join(_LATIN_LOOKS_CYR.get(ch, ch) for ch in word)


@lru_cache(maxsize=200_000)
def skeleton(word: str) -> str:
    """One folded spelling for every script and transliteration of a word (letters only)."""
    word = unconfuse(clean(word))
    out: list[str] = []
    for ch in word:
        if ch in _CYR:
            out.append(_CYR[ch])
        elif ch in _LAT:
            out.append(_LAT[ch])
        elif ch in "'’ʼ`´":
            out.append("'")
        elif ch.isalpha():
            decomposed = unicodedata.normalize("NFKD", ch)
            base = "".join(c for c in decomposed if not unicodedata.combining(c))
            out.append(base if base.isascii() else ch)
    s = "".join(out)
    # 2017 Kazakh Latin wrote sh/ch as s'/c' and other letters with an apostrophe; soft signs as '.
    s = s.replace("s'", "S").replace("c'", "C")
    s = s.replace("'", "")
    for a, b in _DIGRAPHS:
        if a in s:
            s = s.replace(a, b)
    # BGN "ye"/"yo" at the start of a word or after a vowel is plain е/ё: "Yerlan", "Tokayev".
    s = re.sub(r"(^|[aeiou])i([eo])", r"\1\2", s)
    s = re.sub(r"(.)\1+", r"\1", s)  # doubled letters: Ахмеддин / Akhmedin, ий / iy
    return s


def letters_skeleton(unit: str) -> str:
    """The skeleton of a whole unit (a URL, a handle, a compound) with every separator removed."""
    return "".join(skeleton(w) for w in re.findall(r"[^\W\d_]+", clean(unit)))


def name_key(name: str) -> frozenset[str]:
    """One person's name in any script and word order: the set of its words' skeletons.

    "Saule Zhaksylykova", "Жаксылыкова Сауле" and "SAULE ZHAQSYLYQOVA" have the same key.
    """
    return frozenset(skeleton(w) for w in re.findall(r"[^\W\d_]{2,}", clean(name)))
