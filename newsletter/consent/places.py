"""Protected places: a city in every script, its old names and derived adjectives; the generaliser.

An anonymised item shows the region (or the country), never the city. Many regions carry a city's
name (Almaty Region, Abai Region): the region is an allowed form, and "Almaty Region" is never
rewritten into "Almaty Region Region".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from newsletter.consent.text import skeleton
from newsletter.consent.names import WORD

# Renamed cities of Kazakhstan: an old name identifies the city as well as the new one.
OTHER_NAMES: dict[str, tuple[str, ...]] = {
    "semei": ("Semipalatinsk",), "oskemen": ("Ust-Kamenogorsk",), "ustkamenogorsk": ("Oskemen",),
    "semipalatinsk": ("Semey",), "astana": ("Nur-Sultan", "Akmola", "Tselinograd"), "almati": ("Alma-Ata",),
    "Simkent": ("Chimkent",), "Cimkent": ("Shymkent",), "oral": ("Uralsk",), "uralsk": ("Oral",),
    "atirau": ("Guryev",), "aktobe": ("Aktyubinsk",), "taraz": ("Zhambyl", "Dzhambul"),
    "kostanai": ("Kustanai",), "petropavl": ("Petropavlovsk",), "petropavlovsk": ("Petropavl",),
    "Janaozen": ("Novy Uzen",), "kizilorda": ("Kzyl-Orda",), "konaiev": ("Kapchagai",), "konaev": ("Kapchagay",),
}
# Cities of the region the safety net recognises as cities in any anonymised text.
KNOWN_CITIES = (
    "Almaty", "Astana", "Shymkent", "Semey", "Oskemen", "Ust-Kamenogorsk", "Pavlodar", "Karaganda",
    "Aktobe", "Atyrau", "Aktau", "Zhanaozen", "Oral", "Uralsk", "Kostanay", "Petropavl", "Kokshetau",
    "Taraz", "Turkistan", "Kyzylorda", "Taldykorgan", "Ekibastuz", "Temirtau", "Zhezkazgan", "Satpayev",
    "Balkhash", "Rudny", "Kentau", "Konaev", "Kapchagay", "Stepnogorsk", "Ridder", "Zharkent", "Baikonur",
    "Bishkek", "Osh", "Tashkent", "Nukus", "Dushanbe",
)
REGION_WORDS = frozenset(skeleton(w) for w in (
    "Region", "Regions", "Oblast", "Oblys", "Oblysy", "Province", "область", "области",
    "областью", "облысы", "облысының", "облысында",
))
# Words after a name that make it a place or an institution named after someone ("Abai Street").
NAMED_PLACE_WORDS = REGION_WORDS | frozenset(skeleton(w) for w in (
    "street", "avenue", "square", "district", "prospect", "park", "university", "school", "airport", "village",
    "улица", "улице", "улицы", "проспект", "проспекте", "площадь", "район", "района", "районе", "көшесі",
    "даңғылы", "ауданы", "ауылы",
))
CITY_WORDS = frozenset(skeleton(w) for w in ("city", "город", "города", "городе", "қаласы", "qalasy", "kalasy"))


@dataclass
class PlaceSpec:
    """A city to hide on one item, and what to show instead (the region or the country)."""

    city: str
    replacement: str
    spellings: list[tuple[str, ...]] = field(default_factory=list)  # each a sequence of word skeletons
    capitalised_only: bool = False  # other cities of the region: "Oral" the city, not "oral" the word

    def __post_init__(self) -> None:
        names = [self.city]
        key = "".join(skeleton(w) for w in WORD.findall(self.city))
        for k in (key, key.lower()):
            names.extend(OTHER_NAMES.get(k, ()))
        for name in names:
            words = tuple(skeleton(w) for w in WORD.findall(name))
            if words and words not in self.spellings:
                self.spellings.append(words)
            joined = ("".join(words),)
            if len(words) > 1 and joined not in self.spellings:
                self.spellings.append(joined)


def city_replacement(region: str | None, country: str | None) -> str:
    return (region or "").strip() or (country or "").strip() or "an undisclosed city"


def general_place(region: str | None, country: str | None) -> str | None:
    """The place shown instead of a city: the region, else the country."""
    parts = [p.strip() for p in (region, country) if p and p.strip()]
    if len(parts) == 2 and parts[0].casefold() == parts[1].casefold():
        parts = parts[:1]
    return ", ".join(parts) or None


ANOTHER_CITY = "another city"


def other_cities(own: list[PlaceSpec]) -> list[PlaceSpec]:
    """The region's other cities, hidden in an anonymised item as "another city" (a prison town or a
    court's seat can identify a person as well as their home town)."""
    taken = {words for p in own for words in p.spellings}
    out = []
    for city in KNOWN_CITIES:
        spec = PlaceSpec(city, ANOTHER_CITY, capitalised_only=True)
        if not any(words in taken for words in spec.spellings):
            out.append(spec)
    return out

# A head of state is named by title and surname: "President Tokayev" is not a protected namesake.
HEAD_OF_STATE = frozenset(skeleton(w) for w in (
    "President", "Президент", "Президента", "Президенту", "Президентом", "Президенте", "Президенті", "Prezident",
))
