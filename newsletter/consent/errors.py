"""A refusal that names where (item, field) and what kind of word - never the word itself.

The desk, the CLI and the logs show these messages; a protected name printed there would be a leak
of its own (screens are photographed, logs are seized).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from newsletter.i18n import N_, Phrase, Phrases, Refusal, Words

# Marked for the catalog: a Russian desk reads the kind of word in Russian (Words, translated when shown).
KIND_LABELS = {
    "name": N_("a protected person's name"),
    "person": N_("a person's name in an anonymised item"),
    "city": N_("a protected or withheld city"),
    "address": N_("an address or handle carrying a protected name"),
    "photo": N_("a photo on an item that may not carry one (anonymised, or a person without consent to their name; "
                "tick \"shows no one identifiable\" only if that is true)"),
}


@dataclass(frozen=True)
class Finding:
    """One place where the final check found something: item id (None for the issue's own fields)."""

    item_id: int | None
    field: str
    kind: str
    edition: str = ""

    def describe(self) -> str:
        return str(self.phrase())

    def phrase(self) -> Phrase:
        """Where and what kind, as a catalog phrase (English as str(), the desk's language when shown)."""
        kind = Words(KIND_LABELS[self.kind]) if self.kind in KIND_LABELS else self.kind
        values = {"field": self.field, "kind": kind}
        if self.item_id is not None:
            if self.edition:
                return Phrase(N_("item %(id)s (%(edition)s edition), field %(field)s: %(kind)s"), id=self.item_id,
                              edition=self.edition, **values)
            return Phrase(N_("item %(id)s, field %(field)s: %(kind)s"), id=self.item_id, **values)
        if self.edition:
            return Phrase(N_("the issue (%(edition)s edition), field %(field)s: %(kind)s"), edition=self.edition,
                          **values)
        return Phrase(N_("the issue, field %(field)s: %(kind)s"), **values)


class ConsentViolation(Refusal):
    """A protected name or place would have been published. `findings` say where, never what."""

    def __init__(self, message: str = "", findings: Sequence[Finding] = ()) -> None:
        self.findings = list(findings)
        if message:
            super().__init__(message)
            return
        shown = Phrases([f.phrase() for f in self.findings[:10]])
        if len(self.findings) > 10:
            super().__init__(N_("the consent check refused this issue: %(shown)s and %(more)s more. Edit the text "
                                "there, or check the persons' spellings, aliases and the items' regions"),
                             shown=shown, more=len(self.findings) - 10)
        else:
            super().__init__(N_("the consent check refused this issue: %(shown)s. Edit the text there, or check the "
                                "persons' spellings, aliases and the items' regions"), shown=shown)
