"""The name and place redaction rules on free text (no database needed: persons are plain objects)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from newsletter.consent import NetPerson, NetText, SafetyNet
from newsletter.issues.consent import Redactor, initials, person_key, reference
from newsletter.models import Person


def person(name: str, consent: str, *, alias: str | None = None, role: str = "activist") -> Person:
    return Person(name=name, consent=consent, alias=alias, role=role)


def leaks(red: Redactor, *texts: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """The safety net's findings (kinds only) over texts, with the redactor's persons and cities."""
    net = SafetyNet([NetPerson(p.key, p.spellings) for p in red.persons])
    return [f.kind for f in net.check(NetText(None, "text", t, linked=red.linked_keys, protected=red.protected_keys,
                                              hidden_cities=red.hidden_cities, allowed=allowed) for t in texts)]


def redactor(*pairs: tuple[Person, bool]) -> Redactor:
    red = Redactor()
    for p, public in pairs:
        red.add_person(p, reference(p, item_is_public=public))
    return red


def test_each_consent_level_decides_the_reference() -> None:
    aigul = "Aigul Utepova"
    assert reference(person(aigul, "name"), item_is_public=True) is None
    assert reference(person(aigul, "name", role="journalist"), item_is_public=False) == "a journalist"
    assert reference(person(aigul, "alias", alias="Blogger A."), item_is_public=True) == "Blogger A."
    assert reference(person(aigul, "alias", alias=" "), item_is_public=True) == "a civil activist"
    assert reference(person(aigul, "initials"), item_is_public=False) == "A. U."
    assert reference(person(aigul, "none", role="blogger"), item_is_public=True) == "a blogger"
    assert initials("Ardak Temeshbayevich Nurgaliyev") == "A. T. N."


def test_full_name_reversed_order_parts_and_case_are_all_replaced() -> None:
    red = redactor((person("Asanali Suyubayev", "none"), False))
    text = "Suyubayev Asanali was placed in a clinic. ASANALI filmed it; suyubayev's lawyer objected."
    out = red.apply(text)
    assert out == "A civil activist was placed in a clinic. A civil activist filmed it; a civil activist's lawyer objected."
    assert leaks(red, out) == []


def test_near_spellings_and_inflections_are_replaced() -> None:
    red = redactor((person("Raigul Sadyrbaeva", "initials"), False))
    out = red.apply("Raigul Sadyrbayeva is kept in unsanitary conditions; the Sadyrbaevas' lawyer, Raigulya, wrote.")
    assert "Sadyrba" not in out and "Raigul" not in out
    assert out.startswith("R. S. is kept")


def test_a_named_person_sharing_a_first_name_keeps_their_name() -> None:
    red = redactor((person("Aliya Isenova", "none"), False), (person("Aliya Bekova", "name"), True))
    out = red.apply("Aliya Bekova visited Aliya Isenova in hospital. Later Aliya left.")
    assert out.startswith("Aliya Bekova visited a civil activist in hospital.")
    assert out.endswith("Later a civil activist left.")  # a lone shared first name is ambiguous: protect


def test_places_are_generalised_and_capitalised_at_sentence_start() -> None:
    red = Redactor()
    red.add_place("Semey", "Abai Region")
    assert red.apply("Semey police detained him. He lives in semey.") == "Abai Region police detained him. He lives in Abai Region."
    assert leaks(red, "Abai Region police", allowed=("Abai Region",)) == []
    assert leaks(red, "back in Semey's centre") == ["city"]


def test_words_that_merely_contain_a_short_name_or_resemble_it_loosely_are_left_alone() -> None:
    red = redactor((person("Kuat Shamuratov", "none"), False))
    assert red.apply("Kuattrocento, Shaman and Samarkand") == "Kuattrocento, Shaman and Samarkand"
    # A long part's stem is treated as the name (the safe side): derived forms are replaced too.
    assert red.apply("the Shamuratovs were searched") == "the a civil activist were searched"


def test_an_alias_that_contains_the_real_name_is_caught_by_the_leak_check() -> None:
    p = person("Aigul Utepova", "alias", alias="Aigul U.")
    red = redactor((p, False))
    out = red.apply("Aigul Utepova was released.")
    assert out == "Aigul U. was released."
    assert leaks(red, out) == ["name"]


def test_urls_naming_a_person_are_recognised() -> None:
    red = redactor((person("Aigul Utepova", "none"), False))
    assert red.address_is_protected("https://news.example.org/2026/aigul-utepova-released")
    assert red.address_is_protected("https://example.org/?q=UTEPOVA")
    assert not red.address_is_protected("https://news.example.org/2026/blogger-released")


_WORDS = ["Raigul", "Sadyrbaeva", "RAIGUL", "sadyrbaeva's", "Sadyrbayeva", "Semey", "the", "police", "detained",
          "activist", "in", "and", "(", ")", ".", ",", "Aya", "Sadvakasova", "Raigul's", "—", "\n\n"]


@hsettings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=40))
def test_no_text_built_from_protected_words_survives_redaction(words: list[str]) -> None:
    red = redactor((person("Raigul Sadyrbaeva", "initials"), False), (person("Aya Sadvakasova", "name"), True))
    red.add_place("Semey", "Abai Region")
    out = red.apply(" ".join(words))
    assert leaks(red, out) == []
    assert "raigul" not in out.lower() and "sadyrba" not in out.lower() and "semey" not in out.lower()
