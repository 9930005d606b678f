"""The keyword prefilter is a pure shortcut: KeywordSet.find returns exactly what the full regex alone did."""

from __future__ import annotations

import random
import re

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from newsletter.collect import rules
from newsletter.collect.rules import KeywordSet, _same_letter, keyword_pattern

# Characters that fold in surprising ways under re.IGNORECASE, Cyrillic, Kazakh and separators.
ODD = "ſsSKkKᲀвВİiIıΣσςΩωΩµμÅåÅǅǄǆẞßﬀ"
KAZAKH = "әіңғүұқөһӘІҢҒҮҰҚӨҺ"
CYRILLIC = "задержанстьяЗАДЕРЖАНСТЬЯ"
SEPARATORS = [" ", "  ", "\t", "\n", "\u00a0", "\u2003", "-", ".", ",", "_", "1", "7", "4", "*", ""]
KEYWORDS = [
    "detained", "Article 174", "psychiatr*", "задержан*", "статья 174", "қамауға алынды", "Sıla", "ſtrike",
    "\u212aELVIN", "ᲀогда", "İstanbul", "a", "x*", "pre-trial  detention", "Σίσυφος", "straße*", "1 7", "Ǆemal",
    "*star", "_id", "Article 174*", "ı",
]


def reference(keywords: tuple[str, ...], text: str) -> list[str]:
    """KeywordSet.find as it was before the prefilter: one alternation, searched from the start."""
    kept = tuple(k for k in dict.fromkeys(k.strip() for k in keywords) if k.rstrip("*").strip())
    if not kept:
        return []
    regex = re.compile("|".join(f"(?P<k{i}>{keyword_pattern(k)})" for i, k in enumerate(kept)), re.I | re.U)
    found: dict[str, None] = {}
    for match in regex.finditer(text):
        name = match.lastgroup
        if name is not None:
            found[kept[int(name[1:])]] = None
    return list(found)


def variant(rng: random.Random, word: str) -> str:
    """The word as a text might spell it: each letter possibly swapped for anything it folds to."""
    return "".join(rng.choice(_same_letter(c).replace("\\", "") or c) if rng.random() < 0.4 else c for c in word)


def make_text(rng: random.Random, keywords: list[str]) -> str:
    pieces = []
    for _ in range(rng.randint(0, 12)):
        roll = rng.random()
        if roll < 0.35 and keywords:
            word = rng.choice(keywords).rstrip("*")
            if rng.random() < 0.3:
                word = word[: rng.randint(0, len(word))]  # a keyword's beginning only
            pieces.append(variant(rng, word))
        elif roll < 0.7:
            pieces.append("".join(rng.choice(ODD + KAZAKH + CYRILLIC + "abcdeilnrst174") for _ in range(rng.randint(1, 6))))
        pieces.append(rng.choice(SEPARATORS))
    return "".join(pieces)


def test_find_equals_the_full_regex_on_generated_texts() -> None:
    rng = random.Random(18)
    checked = hits = 0
    for _ in range(400):
        keywords = tuple(rng.sample(KEYWORDS, rng.randint(1, 6)))
        kset = KeywordSet(keywords)
        for _ in range(25):
            text = make_text(rng, list(keywords))
            expected = reference(keywords, text)
            assert kset.find(text) == expected, (keywords, text)
            checked += 1
            hits += bool(expected)
    assert checked == 10_000 and hits > 1_000  # both outcomes well exercised


@hsettings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    keywords=st.lists(st.text(alphabet=ODD + KAZAKH + CYRILLIC + "ab *\t", min_size=1, max_size=6), min_size=1, max_size=4),
    text=st.text(alphabet=ODD + KAZAKH + CYRILLIC + "ab *\t\n", max_size=40),
)
def test_find_equals_the_full_regex_for_any_keywords(keywords: list[str], text: str) -> None:
    kset = KeywordSet(tuple(keywords))
    assert kset.find(text) == reference(tuple(keywords), text)
    for keyword in kset.keywords:  # and every keyword in the text, as written and as folded
        assert kset.find(f"x {keyword} y") == reference(tuple(keywords), f"x {keyword} y")
        assert kset.find(keyword.swapcase()) == reference(tuple(keywords), keyword.swapcase())


def test_a_match_after_a_prefilter_only_hit_is_still_found() -> None:
    """The full regex restarts at the prefilter's first hit and must still see the character before it."""
    kset = KeywordSet(("detained", "tained"))
    assert kset.find("retained, then DETAINED") == ["detained"]
    assert kset.find("xdetained") == []
    assert KeywordSet(("Article 174",)).find("Article 1745 and ARTİCLE\n174") == ["Article 174"]
    assert KeywordSet(("strike",)).find("ſTRİKE") == ["strike"]
    # a match consumes its text, as finditer's do: the shorter keyword inside it is not found
    assert KeywordSet(("Article 174", "174")).find("Article 174; 1745") == ["Article 174"]
    assert KeywordSet(("pre-trial detention*", "detention")).find("pre-trial detentions, detention") == [
        "pre-trial detention*", "detention"]
    assert KeywordSet(("kelvin",)).find("\u212aELVIN") == ["kelvin"]


def test_same_letter_lists_everything_the_engine_folds_together() -> None:
    """Checked against every code point: the class must miss nothing re.IGNORECASE would match."""
    everything = "".join(chr(cp) for cp in range(0x110000) if not 0xD800 <= cp < 0xE000)
    for char in "kKsiIıвᲀσΣ1-ǅ":
        folded = set(re.findall(re.escape(char), everything, re.I | re.U))
        assert folded == set(re.findall(f"[{_same_letter(char)}]", everything)), char


def test_no_cased_character_lies_above_the_scanned_range() -> None:
    """_same_letter looks for fold partners below U+20000 only; this Python's Unicode has none above."""
    assert rules._iscased is not None
    assert [cp for cp in range(rules._CASED_BELOW, 0x110000) if rules._iscased(cp)] == []
    above = "".join(chr(cp) for cp in range(rules._CASED_BELOW, 0x110000) if not 0xD800 <= cp < 0xE000)
    assert re.search("[a-zA-Z\u0400-\u04ff\u0100-\u024f\u2c00-\u2c5f]", above, re.I | re.U) is None
