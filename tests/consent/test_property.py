"""Property: whatever script, transliteration, inflection, case or text shape a registered name takes,
nothing of it survives redaction, and the independent safety net agrees."""

from __future__ import annotations

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from newsletter.consent import NetPerson, NetText, PersonSpec, Redactor, SafetyNet
from newsletter.consent.text import letters_skeleton, skeleton

# (registered spelling, Russian Cyrillic given name, surname stem, feminine?)
NAMES = [
    ("Saule Zhaksylykova", "Сауле", "Жаксылыков", True),
    ("Raigul Sadyrbaeva", "Райгуль", "Садырбаев", True),
    ("Nurlan Kadyrbekov", "Нурлан", "Кадырбеков", False),
    ("Asanali Suyubayev", "Асанали", "Суюбаев", False),
    ("Dina Kasymova", "Дина", "Касымов", True),
]
FEM = ["а", "ой", "ою", "у", "ы"]
MASC = ["", "а", "у", "ым", "е"]
LATIN = {"ж": "zh", "х": "kh", "ы": "y", "й": "i", "ц": "ts", "ч": "ch", "ш": "sh", "ю": "yu", "я": "ya", "ь": "",
         "ъ": ""}
KAZ = {"к": "қ", "ы": "ы", "у": "ұ", "г": "ғ"}
RU = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя", "abvgdeejziiklmnoprstufhccss_y_eyy"))


def to_latin(word: str, style: int) -> str:
    out = ""
    for ch in word.lower():
        if style == 1 and ch == "ж":
            out += "j"
        elif style == 2 and ch == "к":
            out += "q"
        elif ch in LATIN:
            out += LATIN[ch]
        else:
            from newsletter.consent.translit import _RU_TO_ICAO

            out += _RU_TO_ICAO.get(ch, ch)
    return out.capitalize()


def to_kazakh(word: str) -> str:
    return "".join(KAZ.get(ch, ch) for ch in word)


@st.composite
def written_forms(draw: st.DrawFn) -> tuple[int, str]:
    n = draw(st.integers(0, len(NAMES) - 1))
    _registered, given_ru, stem, fem = NAMES[n]
    surname = stem + draw(st.sampled_from(FEM if fem else MASC))
    script = draw(st.sampled_from(["ru", "kz", "icao", "j", "q"]))
    if script == "kz":
        surname, given_name = to_kazakh(surname), to_kazakh(given_ru)
    elif script != "ru":
        style = {"icao": 0, "j": 1, "q": 2}[script]
        surname, given_name = to_latin(surname, style), to_latin(given_ru, style)
    else:
        given_name = given_ru
    shape = draw(st.sampled_from(["full", "surname", "upper", "soft", "possessive", "hashtag", "initial", "reversed"]))
    if shape == "full":
        text = f"{given_name} {surname}"
    elif shape == "surname":
        text = surname
    elif shape == "upper":
        text = f"{given_name} {surname}".upper()
    elif shape == "soft":
        cut = draw(st.integers(1, len(surname) - 1))
        text = f"{given_name} {surname[:cut]}\u00ad{surname[cut:]}"
    elif shape == "possessive":
        text = f"{surname}'s"
    elif shape == "hashtag":
        text = f"#Free{given_name}{surname}"
    elif shape == "initial":
        text = f"{given_name[0]}. {surname}"
    else:
        text = f"{surname} {given_name}"
    return n, text


REGISTRY = [PersonSpec(n + 10, [spelling], "a person", linked=True) for n, (spelling, *_rest) in enumerate(NAMES)]
NET = SafetyNet([NetPerson(p.key, p.spellings) for p in REGISTRY])
REDACTOR = Redactor(REGISTRY)


@hsettings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(written_forms(), st.sampled_from(["Police detained {} on Monday.", "{} was fined.",
                                         "Суд оштрафовал {} в понедельник.", "Supporters of {} gathered."]))
def test_no_generated_form_of_a_registered_name_survives(form: tuple[int, str], frame: str) -> None:
    n, written = form
    out = REDACTOR.apply(frame.format(written))
    stem = skeleton(NAMES[n][2])[:6]
    assert stem not in letters_skeleton(out), (written, out)
    keys = frozenset(p.key for p in REGISTRY)
    assert NET.check([NetText(1, "text", out, linked=keys, protected=keys)]) == [], (written, out)
