"""A refusal that names where (item, field) and what kind of word - never the word itself.

The desk, the CLI and the logs show these messages; a protected name printed there would be a leak
of its own (screens are photographed, logs are seized).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

KIND_LABELS = {
    "name": "a protected person's name",
    "person": "a person's name in an anonymised item",
    "city": "a protected or withheld city",
    "address": "an address or handle carrying a protected name",
    "photo": "a photo on an item that may not carry one (anonymised, or a person without consent to their name; "
             "tick \"shows no one identifiable\" only if that is true)",
}


@dataclass(frozen=True)
class Finding:
    """One place where the final check found something: item id (None for the issue's own fields)."""

    item_id: int | None
    field: str
    kind: str
    edition: str = ""

    def describe(self) -> str:
        where = f"item {self.item_id}" if self.item_id is not None else "the issue"
        lang = f" ({self.edition} edition)" if self.edition else ""
        return f"{where}{lang}, field {self.field}: {KIND_LABELS.get(self.kind, self.kind)}"


class ConsentViolation(Exception):
    """A protected name or place would have been published. `findings` say where, never what."""

    def __init__(self, message: str = "", findings: Sequence[Finding] = ()) -> None:
        self.findings = list(findings)
        if not message:
            shown = "; ".join(f.describe() for f in self.findings[:10])
            more = f" and {len(self.findings) - 10} more" if len(self.findings) > 10 else ""
            message = (f"the consent check refused this issue: {shown}{more}. Edit the text there, or check the "
                       f"persons' spellings, aliases and the items' regions")
        super().__init__(message)
