"""The consent engine (base layer: imports no domain package; issues, editorial and exchange call it).

- text: normalisation (NFKC, format characters, markup, look-alike letters) and the skeleton that
  folds Kazakh Cyrillic, Russian Cyrillic and the Latin transliterations onto one spelling;
- translit: suggested spellings of a name in the other scripts (for the persons page);
- morph: Russian and Kazakh inflection on skeletons, pymorphy3 for "can this word be a name";
- names / redact / places: the redactor applied when the snapshot is built;
- net: the independent safety net run before approval and before freezing;
- errors: ConsentViolation with structured findings (item, field, kind), never the name.
"""

from newsletter.consent.errors import ConsentViolation, Finding
from newsletter.consent.names import PersonSpec
from newsletter.consent.net import NetPerson, NetText, SafetyNet, require_clean
from newsletter.consent.places import PlaceSpec, city_replacement, general_place
from newsletter.consent.redact import Redactor
from newsletter.consent.text import clean, skeleton
from newsletter.consent.translit import suggest_spellings

__all__ = [
    "ConsentViolation", "Finding", "NetPerson", "NetText", "PersonSpec", "PlaceSpec", "Redactor", "SafetyNet",
    "city_replacement", "clean", "general_place", "require_clean", "skeleton", "suggest_spellings",
]
