"""Which section an incident goes into when the editor has not said otherwise."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.models import Incident, IssueItem, Section

# When an incident has no section and no suggestion, its kind points to the seed newsletter's sections.
KIND_FALLBACK = {
    "psychiatric_examination": "punitive-psychiatry",
    "psychiatric_placement": "punitive-psychiatry",
    "solidarity_action": "solidarity",
    "legislation": "legislation",
    "international": "international",
    "blocking": "repression",
    "dismissal": "repression",
    "pressure_on_relatives": "repression",
}
DEFAULT_FALLBACK = "persecution"


class NoSections(Exception):
    """The sections table is empty; issues cannot be assembled."""


def sections_in_order(session: Session) -> list[Section]:
    sections = list(session.scalars(select(Section).order_by(Section.position, Section.id)))
    if not sections:
        raise NoSections("there are no sections; create at least one section before drafting an issue")
    return sections


def section_for_incident(incident: Incident, sections: Sequence[Section]) -> Section:
    """The incident's first section, else its suggested section, else one chosen by its kind."""
    if incident.sections:
        return incident.sections[0]
    by_slug = {s.slug: s for s in sections}
    for slug in (incident.suggested_section, KIND_FALLBACK.get(incident.kind or ""), DEFAULT_FALLBACK):
        if slug and slug in by_slug:
            return by_slug[slug]
    return sections[0]


def item_section(item: IssueItem, sections: Sequence[Section]) -> Section:
    """The section an item is shown in; an item whose section was deleted falls back like a new one."""
    if item.section is not None:
        return item.section
    if item.incident is not None:
        return section_for_incident(item.incident, sections)
    by_slug = {s.slug: s for s in sections}
    return by_slug.get(DEFAULT_FALLBACK, sections[0])
