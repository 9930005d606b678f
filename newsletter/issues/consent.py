"""Consent rules of an issue: who may be named on which item, which place and which links are shown.

The matching itself lives in the base package newsletter.consent (all scripts, inflection, units,
places, the safety net); this module decides, from the persons register and an item's publication
level, what each person is called on each item. issues/snapshot.py applies it when it builds the
snapshot, then runs the safety net (newsletter.consent.net) on every output text.

Decisions, and the tests that hold them:
- A person's consent travels with them: `alias`, `initials` and `none` apply on every item of the
  issue, linked to them or not, and in its title and intro; `name` is honoured on `public` items only.
  On `anonymised` items nobody is named. `reference()` says what stands instead (alias, initials or a
  role phrase such as "a journalist"). Tests: tests/issues/test_redaction.py
  (test_each_consent_level_decides_the_reference), tests/issues/test_snapshot_consent.py
  (test_public_item_names_consenting_people_only, test_anonymised_item_uses_each_persons_consent_and_the_region,
  test_a_registered_protected_person_is_hidden_on_items_not_linked_to_them,
  test_two_register_entries_for_one_person_take_the_stricter_consent).
- Every spelling of a person (the name plus the register's other spellings, `Person.all_spellings`) is
  protected. Tests: tests/issues/test_snapshot_consent.py, tests/issues/test_consent_weeks.py,
  tests/consent/test_engine.py.
- `anonymised` items show the region (or the country), never the city: the city, the persons' cities
  and the region's other cities are replaced in their texts in any script and derived form
  (`Redactor.add_place`, `Redactor.hide_other_cities`). Tests: tests/consent/test_engine.py
  (test_a_protected_city_in_derived_and_other_script_forms,
  test_other_cities_of_the_region_are_hidden_in_an_anonymised_item), tests/issues/test_snapshot_consent.py.
- Links pass two gates. First snapshot.public_sources: only links whose origin is `feed` or `editor`
  (models.PUBLIC_LINK_ORIGINS) may be published at all (tests/issues/test_link_origin.py). Then
  `publishable_links()` here: a link of a volunteer or API channel is dropped whatever its origin; on
  `anonymised` items only links from a feed source are kept (an editor's link is dropped too); any
  link whose address carries a protected name (or, on anonymised items, a hidden city) in any script or
  encoding is dropped; titles are redacted. Tests: tests/issues/test_consent_weeks.py,
  tests/consent/test_engine.py (test_a_given_name_inside_another_word_of_an_address_does_not_drop_the_link).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from newsletter.consent import ConsentViolation, NetPerson, PersonSpec, PlaceSpec
from newsletter.consent import Redactor as _CoreRedactor
from newsletter.consent.names import WORD
from newsletter.consent.places import city_replacement, general_place, other_cities
from newsletter.i18n import N_, _
from newsletter.models import Incident, IncidentSource, Person

ROLE_PHRASES = {
    "activist": N_("a civil activist"),
    "journalist": N_("a journalist"),
    "blogger": N_("a blogger"),
    "lawyer": N_("a lawyer"),
    "trade_unionist": N_("a trade unionist"),
    "human_rights_defender": N_("a human rights defender"),
    "relative": N_("a relative"),
    "politician": N_("a politician"),
    "religious_believer": N_("a religious believer"),
    "citizen": N_("a citizen"),
}
DEFAULT_PHRASE = N_("a person")
PRIVATE_CHANNELS = ("volunteer", "api")

__all__ = ["ConsentViolation", "Redactor", "city_replacement", "general_place", "initials", "name_parts",
           "public_place", "publishable_links", "reference", "role_phrase"]


def role_phrase(person: Person) -> str:
    """The role phrase in the bound language (the snapshot binds each edition's), so a further edition
    never says "a journalist" in the middle of a Russian sentence."""
    return _(ROLE_PHRASES.get(person.role or "", DEFAULT_PHRASE))


def name_parts(name: str) -> list[str]:
    """The words of a name that identify someone (single letters and initials are not)."""
    return [w for w in WORD.findall(name or "") if len(w) >= 2]


def initials(name: str) -> str:
    return " ".join(f"{part[0].upper()}." for part in name_parts(name)) or DEFAULT_PHRASE


def reference(person: Person, *, item_is_public: bool) -> str | None:
    """How this person is referred to on an item; None means their name may stand as written."""
    if person.consent == "name" and item_is_public:
        return None
    if person.consent == "alias" and (person.alias or "").strip():
        return person.alias.strip()
    if person.consent == "initials":
        return initials(person.name)
    return role_phrase(person)


def allowed_forms(person: Person) -> list[str]:
    """What may stand for a protected person: alias, initials, role phrase."""
    return [f for f in ((person.alias or "").strip(), initials(person.name), role_phrase(person)) if f]


def person_key(person: Person) -> int:
    return person.id if person.id is not None else id(person)


def spellings(person: Person) -> list[str]:
    return person.all_spellings if hasattr(person, "all_spellings") else [person.name]


@dataclass
class Redactor:
    """The persons and places to hide on one item (or on the issue's own fields)."""

    persons: list[PersonSpec] = field(default_factory=list)
    places: list[PlaceSpec] = field(default_factory=list)
    _core: _CoreRedactor | None = field(default=None, repr=False)

    def add_person(self, person: Person, replacement: str | None, *, linked: bool = True) -> None:
        self.persons.append(PersonSpec(person_key(person), spellings(person), replacement, linked=linked))
        self._core = None

    def add_place(self, city: str | None, replacement: str) -> None:
        if city and city.strip() and all(p.city != city.strip() or p.replacement != replacement for p in self.places):
            self.places.append(PlaceSpec(city.strip(), replacement))
            self._core = None

    def hide_other_cities(self) -> None:
        """On an anonymised item the region's other cities become "another city" too."""
        self.places.extend(other_cities(self.places))
        self._core = None

    @property
    def core(self) -> _CoreRedactor:
        if self._core is None:
            self._core = _CoreRedactor(self.persons, self.places)
        return self._core

    def apply(self, text: str) -> str:
        return self.core.apply(text) if text else text

    def address_is_protected(self, url: str) -> bool:
        return self.core.address_is_protected(url)

    @property
    def protected_keys(self) -> frozenset[int]:
        return frozenset(p.key for p in self.persons if p.protected)

    @property
    def linked_keys(self) -> frozenset[int]:
        return frozenset(p.key for p in self.persons if p.linked)

    @property
    def hidden_cities(self) -> tuple[str, ...]:
        return tuple(p.city for p in self.places if not p.capitalised_only)


def net_person(person: Person) -> NetPerson:
    return NetPerson(person_key(person), spellings(person))


def public_place(incident: Incident) -> str | None:
    """The place of a public incident, as precise as the incident says it is known."""
    first = None
    if incident.location_precision == "city" and incident.city:
        first = incident.city
    elif incident.location_precision in ("city", "region") and incident.region:
        first = incident.region
    parts = [p.strip() for p in (first, incident.country) if p and p.strip()]
    return ", ".join(parts) or None


def publishable_links(sources: Sequence[IncidentSource], *, anonymised: bool, redactor: Redactor) -> list[dict[str, str]]:
    """The links an item may carry, deduplicated, each with a redacted title."""
    links: list[dict[str, str]] = []
    seen: set[str] = set()
    for src in sources:
        url = (src.url or src.canonical_url or "").strip()
        if not url.lower().startswith(("https://", "http://")):
            continue
        kind = src.source.kind if src.source is not None else None
        if kind in PRIVATE_CHANNELS:
            continue
        if anonymised and kind != "feed":
            continue
        if redactor.address_is_protected(url):
            continue
        key = src.canonical_url or url
        if key in seen:
            continue
        seen.add(key)
        title = (src.title or (src.source.title or src.source.name if src.source else "") or _host(url)).strip()
        links.append({"url": url, "title": redactor.apply(title)})
    return links


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or url
