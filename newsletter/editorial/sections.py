"""Newsletter sections: create, rename, describe, reorder, delete when unused. Every change audited."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.i18n import N_, Refusal
from newsletter import audit
from newsletter.models import IssueItem, Section, User, incident_sections

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class SectionError(Refusal, ValueError):
    """A section change was refused; the message says why."""


def list_sections(session: Session) -> list[Section]:
    return list(session.scalars(select(Section).order_by(Section.position, Section.id)))


def usage(session: Session) -> dict[int, int]:
    """How many incidents each section holds."""
    rows = session.execute(select(incident_sections.c.section_id, func.count()).group_by(incident_sections.c.section_id))
    return {sid: int(n) for sid, n in rows}


def _clean(title: str, description: str) -> tuple[str, str]:
    title = (title or "").strip()
    if not title:
        raise SectionError(N_("a section needs a title"))
    if len(title) > 200:
        raise SectionError(N_("the title can be at most 200 characters long"))
    description = (description or "").strip()
    if len(description) > 5000:
        raise SectionError(N_("the description can be at most 5000 characters long"))
    return title, description


def create_section(session: Session, *, slug: str, title: str, description: str = "", actor: User | str) -> Section:
    slug = (slug or "").strip().lower()
    if not SLUG_RE.match(slug) or len(slug) > 64:
        raise SectionError(N_("slug '%(slug)s': use lower-case letters, digits and single hyphens (at most 64)"), slug=slug)
    if session.scalar(select(Section).where(Section.slug == slug)):
        raise SectionError(N_("a section with the slug '%(slug)s' already exists"), slug=slug)
    title, description = _clean(title, description)
    last = session.scalar(select(func.max(Section.position))) or 0
    section = Section(slug=slug, title=title, description=description, position=last + 1)
    session.add(section)
    session.flush()
    audit.record(session, actor=actor, action="section.create", entity_type="section", entity_id=section.id,
                 changes={"slug": slug, "title": title})
    return section


def update_section(session: Session, section: Section, *, title: str, description: str, actor: User | str) -> Section:
    """Rename or describe; the slug stays, because feeds and issues refer to it."""
    title, description = _clean(title, description)
    changes = {k: {"from": getattr(section, k), "to": v}
               for k, v in (("title", title), ("description", description)) if getattr(section, k) != v}
    if changes:
        section.title, section.description = title, description
        audit.record(session, actor=actor, action="section.update", entity_type="section", entity_id=section.id,
                     changes=changes)
    return section


def move_section(session: Session, section: Section, direction: str, *, actor: User | str) -> list[Section]:
    """Swap with the neighbour above ("up") or below ("down"); positions are renumbered 1..n."""
    if direction not in ("up", "down"):
        raise SectionError(N_("unknown direction '%(d)s'"), d=direction)
    ordered = list_sections(session)
    i = ordered.index(section)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(ordered):
        ordered[i], ordered[j] = ordered[j], ordered[i]
    before = [s.slug for s in sorted(ordered, key=lambda s: s.position)]
    for n, s in enumerate(ordered, start=1):
        s.position = n
    session.flush()
    audit.record(session, actor=actor, action="section.reorder", entity_type="section", entity_id=section.id,
                 changes={"order": audit.change(before, [s.slug for s in ordered])})
    return ordered


def delete_section(session: Session, section: Section, *, actor: User | str) -> None:
    """Only an unused section can go: deleting one holding incidents or issue items would lose tagging."""
    used = usage(session).get(section.id, 0)
    items = session.scalar(select(func.count()).select_from(IssueItem).where(IssueItem.section_id == section.id)) or 0
    if used or items:
        raise SectionError(N_("section '%(slug)s' is used by %(used)s incident(s) and %(items)s issue item(s); "
                              "move them first"), slug=section.slug, used=used, items=items)
    audit.record(session, actor=actor, action="section.delete", entity_type="section", entity_id=section.id,
                 changes={"slug": section.slug, "title": section.title})
    session.delete(section)
    session.flush()
