"""Suggested spellings of a name in the other scripts, offered on the persons page.

Editors confirm them; the matcher does not need them to catch ordinary transliterations (the
skeleton does that), but a stored spelling also protects forms the skeleton cannot derive (a
Cyrillic spelling of a Latin-registered name is needed for Russian inflection and for the
safety net's independent search).
"""

from __future__ import annotations

from newsletter.consent.text import clean

_RU_TO_ICAO = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "ie", "ы": "y", "ь": "",
    "э": "e", "ю": "iu", "я": "ia", "ә": "a", "ғ": "g", "қ": "k", "ң": "n", "ө": "o", "ұ": "u", "ү": "u",
    "һ": "h", "і": "i",
}
_BGN = {"й": "y", "ю": "yu", "я": "ya", "ё": "yo", "ъ": "", "ь": ""}
_KZ_2021 = {"ж": "j", "х": "h", "ц": "ts", "ч": "ch", "ш": "ş", "щ": "şç", "ы": "y", "ә": "ä", "ғ": "ğ",
            "қ": "q", "ң": "ñ", "ө": "ö", "ұ": "ū", "ү": "ü", "і": "i", "й": "i", "у": "u", "ю": "iu", "я": "ia",
            "һ": "h", "ь": "", "ъ": ""}
_LAT_TO_RU = [
    ("shch", "щ"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("ch", "ч"), ("sh", "ш"), ("yu", "ю"), ("iu", "ю"),
    ("ya", "я"), ("ia", "я"), ("ye", "е"), ("yo", "ё"), ("a", "а"), ("b", "б"), ("v", "в"), ("g", "г"),
    ("d", "д"), ("e", "е"), ("z", "з"), ("i", "и"), ("y", "ы"), ("k", "к"), ("q", "к"), ("l", "л"), ("m", "м"),
    ("n", "н"), ("o", "о"), ("p", "п"), ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"), ("f", "ф"), ("h", "х"),
    ("j", "ж"), ("c", "ц"), ("w", "в"), ("x", "кс"),
]


def _map(word: str, table: dict[str, str]) -> str:
    out = []
    for ch in word:
        low = ch.lower()
        rep = table.get(low, _RU_TO_ICAO.get(low, low))
        out.append(rep.capitalize() if ch.isupper() else rep)
    return "".join(out)


def _latin_to_cyrillic(word: str) -> str:
    low = word.lower()
    out = ""
    i = 0
    while i < len(low):
        for a, b in _LAT_TO_RU:
            if low.startswith(a, i):
                out += b
                i += len(a)
                break
        else:
            out += low[i]
            i += 1
    # "-iy"/"-yi" endings and a final "-y" after a vowel are "-ий"/"-й".
    out = out.replace("ыы", "ий").replace("иы", "ий").replace("аы", "ай").replace("еы", "ей").replace("оы", "ой")
    if out.endswith("ы") and len(out) > 3:
        out = out[:-1] + "ий"
    return out[:1].upper() + out[1:]


def suggest_spellings(name: str) -> list[str]:
    """Other spellings of a name: ICAO and BGN Latin, 2021 Kazakh Latin for Cyrillic; Cyrillic for Latin."""
    name = clean(name).strip()
    words = name.split()
    if not words:
        return []
    cyrillic = any("\u0400" <= ch <= "\u04ff" for ch in name)
    found: list[str] = []
    if cyrillic:
        found.append(" ".join(_map(w, {}) for w in words))
        found.append(" ".join(_map(w, _BGN) for w in words))
        found.append(" ".join(_map(w, _KZ_2021) for w in words))
    else:
        ru = " ".join(_latin_to_cyrillic(w) for w in words)
        found.append(ru)
    return [s for s in dict.fromkeys(found) if s and s != name]
