"""Build the issue snapshot: the only input of rendering, with the consent rules already applied.

build_snapshot is a pure read (the desk previews use it) and returns the one typed model
(newsletter.snapshot.Snapshot) that render reads; freezing stores its JSON form on the issue
(build_snapshot_data gives that form directly, as stored by every version so far).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from newsletter import i18n, markup
from newsletter.config import Settings
from newsletter.issues import consent
from newsletter.consent import ConsentViolation, Finding, NetText, SafetyNet, require_clean
from newsletter.consent.text import name_key
from newsletter.issues.consent import Redactor
from newsletter.issues.sections import item_section, sections_in_order
from newsletter.models import (
    CASE_STATUSES, PERSON_ROLES, PUBLIC_LINK_ORIGINS, CaseStatus, Incident, IncidentSource, Issue, IssueItem, Person,
    incident_persons, incident_relations,
)
from newsletter.snapshot import SNAPSHOT_VERSION, Snapshot, parse_snapshot
from newsletter.urls import without_tracking
from newsletter.vocabulary import kind_label, role_group_label, role_label, status_label

__all__ = ["SNAPSHOT_VERSION", "Snapshot", "build_snapshot", "build_snapshot_data", "latest_status", "status_label"]

_SENTENCE_END = re.compile(r"(?<=[a-z0-9)\]”\"'][.!?])\s+(?=[A-Z«“\"])")


@dataclass
class IssuePeople:
    """Who may be named anywhere in this issue, and how everyone else is referred to.

    `protected` holds everyone whose name must not appear on an item they are not linked to: every
    person of the register whose consent restricts their name (linked to this issue or not), and the
    persons of this issue who are named on no public item.
    """

    named: dict[int, Person] = field(default_factory=dict)
    protected: dict[int, Person] = field(default_factory=dict)
    in_issue: set[int] = field(default_factory=set)  # linked to some item of this issue

    def redactor(self, exclude: Iterable[int] = (), *, whole_issue: bool = False) -> Redactor:
        """Everyone protected; on the issue's own fields (title, intro) the issue's persons count as
        linked, so "Dina" alone in the intro is hidden when Dina is in this issue."""
        red = Redactor()
        skip = set(exclude)
        for pid, person in self.protected.items():
            if pid not in skip:
                red.add_person(person, consent.reference(person, item_is_public=False),
                               linked=whole_issue and pid in self.in_issue)
        for pid, person in self.named.items():
            if pid not in skip:
                red.add_person(person, None, linked=False)
        return red

    def net(self, extra: Iterable[Person] = ()) -> SafetyNet:
        persons = {consent.person_key(p): p for p in [*self.protected.values(), *extra]}
        return SafetyNet([consent.net_person(p) for p in persons.values()])

    def allowed(self) -> list[str]:
        return [f for p in self.protected.values() for f in consent.allowed_forms(p)]


def item_people(item: IssueItem) -> tuple[list[Person], bool]:
    """The persons an item is about, and whether the item is public (may name consenting people)."""
    if item.incident is not None:
        return list(item.incident.persons), item.incident.publication == "public"
    if item.person is not None:
        return [item.person], item.person.consent == "name"
    return [], True


def issue_people(items: Iterable[IssueItem], registry: Iterable[Person] = ()) -> IssuePeople:
    """Persons named somewhere in the issue; everyone else linked to it, and every person of the
    register whose consent restricts their name, is protected everywhere in it."""
    people = IssuePeople()
    seen: dict[int, Person] = {}
    for item in items:
        persons, public = item_people(item)
        if item.incident is not None and item.incident.publication == "internal":
            public = False
        for person in persons:
            seen[person.id] = person
            people.in_issue.add(person.id)
            if public and person.consent == "name":
                people.named[person.id] = person
    for pid, person in seen.items():
        if pid not in people.named:
            people.protected[pid] = person
    for person in registry:
        if person.id not in people.named and person.id not in people.protected:
            people.protected[person.id] = person
    # Two register entries for one human (another script or spelling): the stricter consent wins.
    hidden = {k for p in people.protected.values() for k in map(name_key, consent.spellings(p)) if k}
    for pid, person in list(people.named.items()):
        if hidden & {k for k in map(name_key, consent.spellings(person)) if k}:
            del people.named[pid]
            people.protected[pid] = person
    return people


def protected_register(session: Session) -> list[Person]:
    """Every person whose consent restricts their name (alias, initials, none), with their spellings."""
    from sqlalchemy.orm import selectinload

    return list(session.scalars(select(Person).where(Person.consent != "name").options(selectinload(Person.spellings))))


def build_snapshot(session: Session, issue: Issue, *, settings: Settings, today: date | None = None) -> Snapshot:
    """The issue as readers will see it, typed; raises ConsentViolation rather than publish a protected
    name, InvalidSnapshot when a field breaks the schema (as rendering would)."""
    return parse_snapshot(build_snapshot_data(session, issue, settings=settings, today=today))


def summary_day(issue: Issue, today: date | None = None) -> date:
    """The persons summary's "as of": the day the issue is published (or, before that, the day its
    snapshot is built, which approval freezes just before sending) - never a day still to come, as the
    week's last day is when an issue goes out mid-week."""
    if issue.published_at is not None:
        return issue.published_at.date()
    return today or datetime.now(timezone.utc).date()


def build_snapshot_data(session: Session, issue: Issue, *, settings: Settings,
                        today: date | None = None, edition: str | None = None) -> dict[str, Any]:
    """The snapshot in the JSON form frozen on the issue (Issue.snapshot); render validates it on reading.
    `edition`: a further edition's language, whose "See also" links go to that edition's pages."""
    language = issue.language or settings.language
    with i18n.use_language(language):
        return _build(session, issue, settings=settings, language=language, today=today, edition=edition)


def _build(session: Session, issue: Issue, *, settings: Settings, language: str, today: date | None,
           edition: str | None = None) -> dict[str, Any]:
    items = list(issue.items)
    people = issue_people(items, protected_register(session))
    checks: list[NetText] = []
    extra: list[Person] = []
    sections = sections_in_order(session)
    by_slug: dict[str, list[dict[str, Any]]] = {s.slug: [] for s in sections}
    withheld_cities: set[str] = set()
    withheld = 0
    photo_refusals: list[Finding] = []
    for item in items:
        incident = item.incident
        if incident is not None and incident.publication == "internal":
            withheld += 1
            if incident.city and incident.city.strip():
                withheld_cities.add(incident.city.strip().casefold())
            continue
        section = item_section(item, sections)
        by_slug[section.slug].append(_item(session, item, people, issue.period_end, checks, extra,
                                             settings.base_url, photo_refusals, edition=edition))
    intro_red = _intro_redactor(people)
    title = intro_red.apply(issue.title.strip()) or f"Issue {issue.number}"
    intro = intro_red.apply(issue.intro.strip())
    preheader = intro_red.apply(issue.preheader.strip()) or _default_preheader(intro, by_slug)
    everyone = frozenset(consent.person_key(p) for p in people.protected.values())
    for name, value in (("title", title), ("intro", intro), ("preheader", preheader)):
        checks.append(NetText(None, name, value, protected=everyone, allowed=tuple(people.allowed()),
                              linked=intro_red.linked_keys))
    from newsletter.issues.corrections import earlier_sequence, notes_since

    earlier = [n.in_language(language) for n in notes_since(session, issue)]  # this edition's words
    for n, correction in enumerate(earlier):
        checks.append(NetText(None, f"earlier_corrections[{n}]", correction.text, protected=everyone,
                              allowed=tuple(people.allowed()), linked=intro_red.linked_keys))
    summary = (_persons_summary(session, summary_day(issue, today), language, people, checks)
               if issue.show_persons_summary else None)
    places = incident_places(items)
    for n, row in enumerate((places or {}).get("rows", ())):
        checks.append(NetText(None, f"places[{n}]", " ".join(p for p in (row["region"], row["city"] or "") if p),
                              protected=everyone, allowed=tuple(people.allowed())))
    note = editors_note(issue, intro_red)
    if note is not None:
        note_links = markup.hrefs(note["html"])
        for name, value in [("editors_note", note["text"]), ("editors_note.signature", note["signature"]),
                            *((f"editors_note.links[{n}]", href) for n, href in enumerate(note_links))]:
            checks.append(NetText(None, name, value, protected=everyone, allowed=tuple(people.allowed()),
                                  linked=intro_red.linked_keys))
    check_edition(people.net(extra), checks, edition=language)
    check_photos(items, by_slug, people, photo_refusals, edition=language)
    data: dict[str, Any] = {
        "version": SNAPSHOT_VERSION,
        "issue": {
            "number": issue.number,
            "period": issue.period,
            "period_start": issue.period_start.isoformat(),
            "period_end": issue.period_end.isoformat(),
            "title": title,
            "intro": intro,
            "language": issue.language or settings.language,
            "preheader": preheader,
            "published_at": issue.published_at.isoformat() if issue.published_at else None,
        },
        "organisation": {"name": settings.org_name, "base_url": settings.base_url},
        "sections": [
            {"slug": s.slug, "title": s.title, "description": s.description or "", "items": by_slug[s.slug]}
            for s in sections
            if by_slug[s.slug]
        ],
        "withheld": (
            {"incidents": withheld, "cities": len(withheld_cities)}
            if issue.show_withheld_count else {"incidents": 0, "cities": 0}
        ),
        "persons_summary": summary,
    }
    if earlier:
        data["earlier_corrections"] = earlier_sequence(earlier)
    if places is not None:
        data["places"] = places
    if note is not None:
        data["editors_note"] = note
    data["footer"] = footer(settings)
    data["direct_links"] = True
    if edition:
        edition_links(session, data["sections"], settings.base_url, edition)
    return data


def edition_links(session: Session, sections: list[dict[str, Any]], base_url: str, edition: str) -> None:
    """In a further edition, a link in an item's text to an issue of our own archive goes to that issue's page
    in this edition when it has one (an editor links the default page; a reader of this edition wants theirs)."""
    root = base_url.rstrip("/")
    page = re.compile(re.escape(root) + r"/issues/(\d{4}-W\d{2})/(?=#|\")")
    items = [it for s in sections for it in s["items"] if it.get("html")]
    periods = {m.group(1) for it in items for m in page.finditer(it["html"])}
    if not periods:
        return
    rows = session.execute(select(Issue.period, Issue.edition_snapshots)
                           .where(Issue.period.in_(periods), Issue.published_at.is_not(None)))
    has = {period for period, editions in rows if isinstance(editions, dict) and edition in editions}
    for it in items:
        it["html"] = page.sub(lambda m: f"{root}/issues/{m.group(1)}/{edition}/" if m.group(1) in has else m.group(0),
                              it["html"])


def incident_places(items: Iterable[IssueItem]) -> dict[str, Any] | None:
    """Where this week's incidents happened, counted by region and city (the seed's "registered in N cities").

    Every incident counts, internal ones too, but a city is named only for a public incident whose city
    is known: an anonymised or internal incident counts in its region's total and in the number of
    cities, and its city is never written, so the table cannot point at a case we withhold.
    """
    regions: dict[str, dict[str | None, int]] = {}
    cities: set[str] = set()
    total = 0
    for item in items:
        incident = item.incident
        if incident is None:
            continue
        total += 1
        city = (incident.city or "").strip()
        if city:
            cities.add(name_key(city) or city.casefold())
        region = (incident.region or "").strip() or (incident.country or "").strip()
        if not region:
            continue
        public_city = (city if incident.publication == "public" and incident.location_precision == "city"
                       and city else None)
        by_city = regions.setdefault(region, {})
        by_city[public_city] = by_city.get(public_city, 0) + 1
    if total == 0:
        return None
    rows = []
    for region, by_city in sorted(regions.items(), key=lambda r: (-sum(r[1].values()), r[0])):
        rows.append({"region": region, "city": None, "count": sum(by_city.values())})
        rows.extend({"region": region, "city": c, "count": n}
                    for c, n in sorted(((c, n) for c, n in by_city.items() if c), key=lambda r: (-r[1], r[0])))
    return {"rows": rows, "incidents": total, "cities": len(cities)}


def _intro_redactor(people: IssuePeople) -> Redactor:
    return people.redactor(whole_issue=True)


def _default_preheader(intro: str, by_slug: dict[str, list[dict[str, Any]]]) -> str:
    """The inbox preview line: the intro's first sentence, else the first headlines."""
    first = intro.split("\n\n", 1)[0].strip()
    if first:
        end = _SENTENCE_END.search(first)
        first = first[: end.start()] if end and end.start() < 150 else first
        return first if len(first) <= 150 else first[:147].rsplit(" ", 1)[0] + "…"
    headlines = [i["headline"] for items in by_slug.values() for i in items if i["headline"]][:3]
    text = " · ".join(headlines)
    return text if len(text) <= 150 else text[:147].rsplit(" ", 1)[0] + "…"


def _item(session: Session, item: IssueItem, people: IssuePeople, as_of: date, checks: list[NetText],
          extra: list[Person], base_url: str, findings: list[Finding], *, edition: str | None = None) -> dict[str, Any]:
    if item.incident is not None:
        data, red, anonymised = _incident_item(item, item.incident, people)
    elif item.person is not None:
        data, red, anonymised = _person_item(session, item, item.person, people, as_of)
    else:
        red, anonymised = people.redactor(), False
        data = {"date": None, "date_precision": "day", "place": None, "kind": None, "links": []}
    headline = red.apply(item.headline.strip()) or ("" if item.paragraph else "Untitled")
    hrefs: list[str] = []
    if item.text_format == "markdown":
        # Names are replaced in the words readers see; a link whose address names a protected person keeps
        # its words and loses its address, as such a source link is dropped (consent.publishable_links).
        rendered = markup.render_markdown(item.text.strip(), words=red.apply, drop_link=red.address_is_protected)
        text, hrefs = rendered.text, rendered.hrefs
        data = {"html": rendered.html or None, **data}
    else:
        text = red.apply(item.text.strip())
    data = {"id": item.id, "headline": headline, "text": text, **data, **_layout(item, red)}
    if data.get("paragraph") and not text:
        data.pop("paragraph")  # a paragraph item without words would have no name: it keeps its headline
        data["headline"] = headline or "Untitled"
    linked = [p for p in item_people(item)[0]]
    extra.extend(p for p in linked if p.id not in people.protected)
    must_hide = red.protected_keys
    allowed = tuple(people.allowed()) + tuple(f for p in linked for f in consent.allowed_forms(p)) + tuple(
        p.replacement for p in red.places) + ((data["place"],) if data["place"] else ())
    context = {"anonymised": anonymised, "linked": red.linked_keys, "protected": must_hide,
               "hidden_cities": red.hidden_cities, "allowed": allowed}
    related = see_also(session, item, people, red, base_url, edition=edition)
    if related:
        data["related"] = related
    fields = [("headline", data["headline"]), ("text", data["text"]), ("place", data["place"] or ""),
              ("subhead", data.get("subhead") or "")]
    if item.incident is not None:
        parts, part_fields = format_parts(item, item.incident, people, red, anonymised, findings)
        data.update(parts)
        fields += part_fields
    fields += [(f"text.links[{n}]", href) for n, href in enumerate(hrefs)]
    for n, link in enumerate(data["links"]):
        fields += [(f"links[{n}].title", link["title"]), (f"links[{n}].url", link["url"])]
    for n, subject in enumerate(data.get("subjects", ())):
        fields += [(f"subjects[{n}].name", subject["name"]), (f"subjects[{n}].role", subject["role"])]
    for n, link in enumerate(data.get("related", ())):
        fields += [(f"related[{n}].title", link["title"]), (f"related[{n}].url", link["url"])]
    checks.extend(NetText(item.id, name, value, **context) for name, value in fields)
    return data


def _layout(item: IssueItem, red: Redactor) -> dict[str, Any]:
    """The item's place in the seed's layout; only what differs from a plain item is written, so an
    item without any keeps the bytes it always had."""
    out: dict[str, Any] = {}
    if item.lead:
        out["lead"] = True
    subhead = red.apply((item.subhead or "").strip())
    if subhead:
        out["subhead"] = subhead
    if item.paragraph:
        out["paragraph"] = True
    return out


def editors_note(issue: Issue, red: Redactor) -> dict[str, str] | None:
    """The editor's note as readers get it: Markdown made into clean HTML and plain text, with protected
    names replaced in its words (a link whose address names one loses its address), and its signature."""
    source = (issue.editors_note or "").strip()
    if not source:
        return None
    rendered = markup.render_markdown(source, words=red.apply, drop_link=red.address_is_protected)
    if not rendered.html or not rendered.text:
        return None
    return {"html": rendered.html, "text": rendered.text,
            "signature": red.apply((issue.editors_note_signature or "").strip())}


def footer(settings: Settings) -> dict[str, Any]:
    """How to subscribe (our own /subscribe page) and the organisation's optional footer links."""
    data: dict[str, Any] = {"subscribe_url": f"{settings.base_url.rstrip('/')}/subscribe"}
    for name in ("signup_url", "contact_url", "contact_email", "donate_url", "privacy_url"):
        value = getattr(settings, f"footer_{name}", None)
        if value:
            data[name] = safe_url(value) if name.endswith("_url") else value
    return data
def format_parts(item: IssueItem, incident: Incident, people: IssuePeople, red: Redactor, anonymised: bool,
                 refusals: list[Finding]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The incident's format, quote, timeline and photo as the item publishes them, with their words
    through the item's redactor, and the (field, text) pairs the safety net must check.

    A photo goes only on a public item whose every person consented to their name (and is named in this
    issue), or that an editor marked as showing no one identifiable; otherwise it is left out and the
    refusal is recorded, so the issue cannot be approved until an editor removes it or decides.
    """
    out: dict[str, Any] = {}
    fields: list[tuple[str, str]] = []
    fmt = incident.format or "news"
    if fmt != "news":
        out["format"] = fmt
    quote = incident.quote or {}
    if fmt != "news" and isinstance(quote, dict) and str(quote.get("text") or "").strip():
        words = {k: red.apply(str(quote.get(k) or "").strip()) for k in ("text", "speaker", "addressee")}
        if fmt != "statement":
            words["addressee"] = ""
        out["quote"] = words
        fields += [(f"quote.{k}", v) for k, v in words.items() if v]
    if fmt == "timeline":
        lines = [{"date": red.apply(str(line.get("date") or "").strip()), "text": red.apply(str(line.get("text") or "").strip())}
                 for line in (incident.timeline or []) if isinstance(line, dict)]
        lines = [line for line in lines if line["date"] and line["text"]]
        if lines:
            out["timeline"] = lines
            for n, line in enumerate(lines):
                fields += [(f"timeline[{n}].date", line["date"]), (f"timeline[{n}].text", line["text"])]
    photo = incident.photo
    if isinstance(photo, dict) and photo.get("web"):
        if photo_refusal(incident, people) is not None:
            refusals.append(Finding(item_id=item.id, field="photo", kind="photo"))
        else:
            words = {k: red.apply(str(photo.get(k) or "").strip()) for k in ("alt", "caption", "credit")}
            out["photo"] = {"file": photo["web"], "width": photo["width"], "height": photo["height"],
                            "email_file": photo["email"], "email_width": photo["email_width"],
                            "email_height": photo["email_height"], **words}
            fields += [(f"photo.{k}", v) for k, v in words.items() if v]
    return out, fields


def photo_refusal(incident: Incident, people: IssuePeople | None = None) -> str | None:
    """Why this incident's item may not carry a photo, or None when it may."""
    if incident.publication != "public":
        return "an anonymised or internal item never carries a photo"
    if (incident.photo or {}).get("no_one_identifiable"):
        return None
    for person in incident.persons:
        if person.consent != "name" or (people is not None and person.id in people.protected):
            return ("a person of this item has not consented to their name being published; a photo may show them "
                    "(tick \"shows no one identifiable\" only if that is true)")
    return None


def check_photos(items: Iterable[IssueItem], by_slug: dict[str, list[dict[str, Any]]], people: IssuePeople,
                 refusals: list[Finding], *, edition: str = "") -> None:
    """The final check for photos, over what was built rather than what the builder meant: every item that
    carries a photo must be a public incident that may carry one (photo_refusal), and only files under the
    issue's media/ folder (a content-hash name) are published. Raises ConsentViolation naming the item."""
    by_id = {i.id: i for i in items}
    found = list(refusals)
    for built in (d for ds in by_slug.values() for d in ds):
        if "photo" not in built:
            continue
        source = by_id.get(built["id"])
        incident = source.incident if source is not None else None
        if incident is None or photo_refusal(incident, people) is not None:
            found.append(Finding(item_id=built["id"], field="photo", kind="photo"))
    if found:
        raise ConsentViolation(findings=[replace(f, edition=edition) if edition else f for f in found])


def check_item_text(session: Session, issue: Issue, item: IssueItem, text: str, *, field: str,
                    edition: str = "") -> None:
    """A text to be published beside `item` later (a correction) passes the same consent engine as the
    item's own text: the item's redactor must leave it unchanged (no protected name or hidden place in
    any spelling, script or inflection it knows) and the safety net must find nothing. Raises
    ConsentViolation naming item and field only; the text is never edited silently."""
    people = issue_people(list(issue.items), protected_register(session))
    if item.incident is not None:
        data, red, anonymised = _incident_item(item, item.incident, people)
    elif item.person is not None:
        data, red, anonymised = _person_item(session, item, item.person, people, issue.period_end)
    else:
        data, red, anonymised = {"place": None}, people.redactor(), False
    if red.apply(text) != text:
        raise ConsentViolation(findings=[Finding(item_id=item.id, field=field, kind="name")])
    linked = item_people(item)[0]
    allowed = tuple(people.allowed()) + tuple(f for p in linked for f in consent.allowed_forms(p)) + tuple(
        p.replacement for p in red.places) + ((data["place"],) if data.get("place") else ())
    extra = [p for p in linked if p.id not in people.protected]
    check_edition(people.net(extra), [NetText(item.id, field, text, anonymised=anonymised, linked=red.linked_keys,
                                              protected=red.protected_keys, hidden_cities=red.hidden_cities,
                                              allowed=allowed)], edition=edition)


def check_edition(net: SafetyNet, texts: list[NetText], *, edition: str = "") -> None:
    """The safety net over one edition's output texts; ConsentViolation names item, field and kind only."""
    require_clean(net, texts, edition)


def _incident_item(item: IssueItem, incident: Incident, people: IssuePeople) -> tuple[dict[str, Any], Redactor, bool]:
    anonymised = incident.publication != "public"
    red = people.redactor(exclude=[p.id for p in incident.persons])
    for person in incident.persons:
        red.add_person(person, _reference(people, person, public=not anonymised))
    if anonymised:
        general = consent.city_replacement(incident.region, incident.country)
        red.add_place(incident.city, general)
        for person in incident.persons:
            red.add_place(person.city, consent.city_replacement(person.region or incident.region,
                                                                person.country or incident.country))
        red.hide_other_cities()
        place = consent.general_place(incident.region, incident.country)
    else:
        place = consent.public_place(incident)
    links = consent.publishable_links(public_sources(incident), anonymised=anonymised, redactor=red)
    links = [{**link, "url": safe_url(link["url"])} for link in links]
    data: dict[str, Any] = {
        "date": incident.occurred_on.isoformat() if incident.occurred_on else None,
        "date_precision": incident.date_precision or "day",
        "place": place,
        "kind": incident.kind,
        "links": links,
    }
    label = kind_label(incident.kind)
    if label:
        data["kind_label"] = label
    subjects = [] if anonymised else _subjects(incident.persons, people)
    if subjects:
        data["subjects"] = subjects
    return data, red, anonymised


def see_also(session: Session, item: IssueItem, people: IssuePeople, red: Redactor, base_url: str,
             limit: int = 3, *, edition: str | None = None) -> list[dict[str, str]]:
    """Items of earlier published issues about the same named person, or about an incident an editor
    related to this one (incident_relations, an import's `related`), newest first, linked to their
    archive pages and titled with the headline readers saw then (from that issue's frozen snapshot).

    Only a public item gets them, only public items are linked, and a person links two items only when
    named on this one: linking an anonymised item, or two items through someone who is not named, would
    tell readers that both are about one person.

    In a further edition (`edition`) a link goes to that edition of the earlier issue, titled as it was
    published there, when the earlier issue has one; else to the only page there is, the default one.
    """
    incident = item.incident
    if incident is None or incident.publication != "public":
        return []
    named = [p.id for p in incident.persons if p.consent == "name" and p.id in people.named]
    related = set(session.scalars(select(incident_relations.c.related_id)
                                  .where(incident_relations.c.incident_id == incident.id)))
    if not named and not related:
        return []
    issue = item.issue
    through_person = select(incident_persons.c.incident_id).where(incident_persons.c.person_id.in_(named))
    earlier = session.execute(
        select(IssueItem.id, Issue.period, Issue.snapshot, Issue.edition_snapshots)
        .join(Issue, IssueItem.issue_id == Issue.id)
        .join(Incident, IssueItem.incident_id == Incident.id)
        .where(or_(Incident.id.in_(through_person), Incident.id.in_(related)), Issue.id != issue.id,
               Issue.snapshot.is_not(None), Issue.published_at.is_not(None),
               Issue.period_start < issue.period_start, Incident.publication == "public",
               Incident.id != incident.id)
        .order_by(Issue.period_start.desc(), IssueItem.position)
    ).all()
    out: list[dict[str, str]] = []
    seen: set[int] = set()
    for item_id, period, frozen, editions in earlier:
        if item_id in seen or len(out) >= limit:
            continue
        seen.add(item_id)
        published = _published_headline(frozen, item_id)
        if not published:
            continue
        folder = f"{period}/"
        if edition and isinstance(editions, dict) and isinstance(editions.get(edition), dict):
            folder = f"{period}/{edition}/"
            published = _published_headline(editions[edition], item_id) or published
        out.append({"url": f"{base_url.rstrip('/')}/issues/{folder}#item-{item_id}", "title": red.apply(published)})
    return out


def _published_headline(frozen: Any, item_id: int) -> str | None:
    """The headline an item carried in a frozen snapshot; None when it was not published there."""
    if not isinstance(frozen, dict):
        return None
    for section in frozen.get("sections") or ():
        for it in (section.get("items") or ()) if isinstance(section, dict) else ():
            if isinstance(it, dict) and it.get("id") == item_id and isinstance(it.get("headline"), str):
                # A paragraph item has no headline: its first words stand for it.
                return it["headline"] or _first_words(str(it.get("text") or ""))
    return None

def _first_words(text: str, limit: int = 80) -> str | None:
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat or None
    return flat[:limit].rsplit(" ", 1)[0] + "…"


def _subjects(persons: Iterable[Person], people: IssuePeople) -> list[dict[str, str]]:
    """The persons a public item names, each in the form their consent allows (their name, alias or
    initials) with their role; a person who allows none of these is left out, not described."""
    out = []
    for person in persons:
        ref = _reference(people, person, public=True)
        if ref is None:
            name = person.name.strip()
        elif person.consent in ("alias", "initials") and ref != consent.role_phrase(person):
            name = ref
        else:
            continue
        if name:
            out.append({"name": name, "role": role_label(person.role) if person.role not in (None, "other") else ""})
    return out


_URL_UNSAFE = re.compile(r"[\x00-\x20\"'<>`\\\x7f]")


def safe_url(url: str) -> str:
    """A link as we publish it: without tracking parameters (they tell a tracker which newsletter
    the reader came from), and with what may not stand in an href (quotes, brackets, spaces,
    controls) percent-encoded: a feed's link with a `"` in it must break neither a page nor the snapshot."""
    return _URL_UNSAFE.sub(lambda m: "%{:02X}".format(ord(m.group())), without_tracking(url.strip()))


def public_sources(incident: Incident) -> list[IncidentSource]:
    """The incident's links that may be published at all: feed articles and links an editor added.

    This is the one gate for links: a volunteer's, partner's or imported link never passes it, whatever
    the consent rules decide afterwards (they only narrow this list further).
    """
    return [s for s in incident.sources if s.origin in PUBLIC_LINK_ORIGINS]


def _person_item(session: Session, item: IssueItem, person: Person, people: IssuePeople,
                 as_of: date) -> tuple[dict[str, Any], Redactor, bool]:
    public = person.consent == "name"
    red = people.redactor(exclude=[person.id])
    red.add_person(person, _reference(people, person, public=public))
    if public:
        place = ", ".join(p for p in (person.city, person.country) if p) or None
    else:
        red.add_place(person.city, consent.city_replacement(person.region, person.country))
        red.hide_other_cities()
        place = consent.general_place(person.region, person.country)
    latest = latest_status(session, person, as_of)
    links: list[dict[str, str]] = []
    if latest is not None and latest.source_url and latest.source_url.lower().startswith(("https://", "http://")):
        if not red.address_is_protected(latest.source_url):
            from urllib.parse import urlsplit

            links.append({"url": safe_url(latest.source_url),
                          "title": urlsplit(latest.source_url).hostname or latest.source_url})
    return {
        "date": latest.occurred_on.isoformat() if latest else None,
        "date_precision": "day",
        "place": place,
        "kind": None,
        "links": links,
    }, red, not public


def _reference(people: IssuePeople, person: Person, *, public: bool) -> str | None:
    """The person's reference on their own item; a person protected in this issue is never named."""
    return consent.reference(person, item_is_public=public and person.id not in people.protected)


def latest_status(session: Session, person: Person, as_of: date) -> CaseStatus | None:
    return session.scalar(
        select(CaseStatus)
        .where(CaseStatus.person_id == person.id, CaseStatus.occurred_on <= as_of)
        .order_by(CaseStatus.occurred_on.desc(), CaseStatus.id.desc())
        .limit(1)
    )


def _persons_summary(session: Session, as_of: date, language: str, people: IssuePeople,
                     checks: list[NetText]) -> dict[str, Any]:
    """Persons of concern by their status on the publication day, labelled in the issue's language, and
    within each status by role, each person named only as their consent allows (summary_name); each
    name goes to the final check as a text about that person (so even a lone given name is caught)."""
    from sqlalchemy.orm import selectinload

    latest = CaseStatus.latest_as_of(as_of)
    rows = session.execute(select(Person, latest.c.status).join(latest, latest.c.person_id == Person.id)
                           .options(selectinload(Person.spellings))).all()
    order = {s: i for i, s in enumerate(CASE_STATUSES)}
    role_order = {r: i for i, r in enumerate(PERSON_ROLES)}
    by_status: dict[str, list[Person]] = {}
    for person, status in rows:
        if status in order:
            by_status.setdefault(status, []).append(person)
    hidden = {k for p in people.protected.values() for k in map(name_key, consent.spellings(p)) if k}
    out = []
    with i18n.use_language(language):
        for status, persons in sorted(by_status.items(), key=lambda r: (-len(r[1]), order[r[0]])):
            roles: dict[str, list[Person]] = {}
            for person in persons:
                roles.setdefault(person.role if person.role in role_order else "other", []).append(person)
            groups = []
            for role, members in sorted(roles.items(), key=lambda r: (-len(r[1]), role_order[r[0]])):
                named = sorted(((n, p) for p, n in ((p, summary_name(p, people, hidden)) for p in members) if n),
                               key=lambda r: r[0])
                names = [n for n, _ in named]
                everyone = frozenset(consent.person_key(p) for p in people.protected.values())
                checks.extend(NetText(None, f"persons_summary.{status}.{role}[{k}]", n, protected=everyone,
                                      linked=frozenset({consent.person_key(p)}), allowed=tuple(people.allowed()))
                              for k, (n, p) in enumerate(named))
                groups.append({"role": role, "label": role_group_label(role), "names": names,
                               "unnamed": len(members) - len(names)})
            out.append({"status": status, "label": status_label(status), "count": len(persons), "groups": groups})
    return {"as_of": as_of.isoformat(), "counts": out}


def summary_name(person: Person, people: IssuePeople, hidden: set[str]) -> str | None:
    """How the persons block names someone: their name if they consented to it (and are not kept unnamed
    in this issue, nor share a spelling with someone who is), their alias, their initials; else nothing."""
    if person.consent == "name":
        keys = {k for k in map(name_key, consent.spellings(person)) if k}
        if person.id in people.protected or keys & hidden:
            return None
        return person.name.strip() or None
    if person.consent == "alias" and (person.alias or "").strip():
        return person.alias.strip()
    if person.consent == "initials":
        value = consent.initials(person.name)
        return None if value == consent.DEFAULT_PHRASE else value
    return None

