"""Editing a draft: the issue's own fields and its items (text, section, order, removal, additions).

Any edit to a signed-off issue withdraws the sign-off first (reopen_issue), so what was approved is
always what goes out. A sent or published issue cannot be edited at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter import audit, formats, markup, media
from newsletter.i18n import N_
from newsletter.issues import issue_texts
from newsletter.issues.errors import IssueError, IssueLocked, Phrase, Words
from newsletter.issues.sections import item_section, sections_in_order
from newsletter.issues.service import add_incidents, reopen_issue
from newsletter.issues.translations import mark_stale
from newsletter.issues.snapshot import latest_status, status_label
from newsletter.models import Incident, Issue, IssueItem, Person, Section, User
from newsletter.states import issue_frozen, transition

HEADLINE_MAX = 500
TITLE_MAX = 500
PREHEADER_MAX = 300
TEXT_MAX = 5000
INTRO_MAX = 20000
NOTE_MAX = 10000
SIGNATURE_MAX = 200
SUBHEAD_MAX = 200


@dataclass
class IssueFields:
    title: str
    intro: str
    preheader: str
    show_withheld_count: bool
    show_persons_summary: bool
    editors_note: str | None = None  # Markdown; None: leave it as it is
    editors_note_signature: str | None = None


def ensure_editable(session: Session, issue: Issue, *, actor: User | str) -> None:
    if issue_frozen(issue):
        raise IssueLocked(N_("issue %(number)d was already sent or published; it cannot change"), number=issue.number)
    if issue.state != "draft" or issue.approved_by_id is not None:
        reopen_issue(session, issue, actor=actor, reason="edited after sign-off")


# The fields _clean names in its refusals (Words), in the catalog for a desk in another language.
FIELD_WORDS = (N_("title"), N_("intro"), N_("preheader"), N_("editor's note"), N_("signature of the editor's note"),
               N_("headline"), N_("text"), N_("sub-head"))


def _clean(value: str, limit: int, what: str, *, required: bool = False) -> str:
    value = (value or "").replace("\r\n", "\n").strip()
    if required and not value:
        raise IssueError(N_("the %(what)s cannot be empty"), what=Words(what))
    if len(value) > limit:
        raise IssueError(N_("the %(what)s is too long (%(length)d characters, at most %(limit)d)"), what=Words(what),
                         length=len(value), limit=limit)
    return value


def update_issue(session: Session, issue: Issue, fields: IssueFields, *, actor: User | str) -> Issue:
    """Title, intro (plain text, paragraphs split by blank lines), preheader and the two optional sections."""
    new = {
        "title": _clean(fields.title, TITLE_MAX, "title", required=True),
        "intro": _clean(fields.intro, INTRO_MAX, "intro"),
        "preheader": _clean(fields.preheader, PREHEADER_MAX, "preheader"),
        "show_withheld_count": bool(fields.show_withheld_count),
        "show_persons_summary": bool(fields.show_persons_summary),
    }
    if fields.editors_note is not None:
        new["editors_note"] = _clean(fields.editors_note, NOTE_MAX, "editor's note")
    if fields.editors_note_signature is not None:
        new["editors_note_signature"] = " ".join(
            _clean(fields.editors_note_signature, SIGNATURE_MAX, "signature of the editor's note").split())
    changes = {k: v for k, v in new.items() if getattr(issue, k) != v}
    if not changes:
        return issue
    ensure_editable(session, issue, actor=actor)
    # Texts by their length only: the intro may name a person the snapshot will protect.
    record = {k: audit.change(getattr(issue, k), v) if isinstance(v, bool) else audit.text_change(getattr(issue, k), v)
              for k, v in changes.items()}
    for key, value in changes.items():
        setattr(issue, key, value)
    session.flush()
    audit.record(session, actor=actor, action="issue.edited", entity_type="issue", entity_id=issue.id, changes=record)
    issue_texts.mark_stale(session, issue, set(changes), actor=actor)  # done translations of the old texts: draft again
    return issue


def get_item(issue: Issue, item_id: int) -> IssueItem:
    for item in issue.items:
        if item.id == item_id:
            return item
    raise IssueError(N_("item %(item)d is not part of issue %(number)d"), item=item_id, number=issue.number)


def update_item(session: Session, issue: Issue, item: IssueItem, *, headline: str, text: str,
                actor: User | str) -> IssueItem:
    """The editor's headline and text for one item; the incident itself is left as it is.

    Text an editor saves is Markdown from then on. Text that was not changed keeps its format, so a
    drafted (plain) text with a stray `*` renders exactly as before until someone edits it.
    """
    headline = _clean(headline, HEADLINE_MAX, "headline", required=not item.paragraph)
    text = _clean(text, TEXT_MAX, "text", required=item.paragraph)
    if (headline, text) == (item.headline, item.text):
        return item
    ensure_editable(session, issue, actor=actor)
    changes: dict[str, object] = {"item": item.id}
    if text != item.text and item.text_format != "markdown":
        changes["text_format"] = audit.change(item.text_format, "markdown")
        item.text_format = "markdown"
    changed = {name for name, value in (("headline", headline), ("text", text)) if getattr(item, name) != value}
    item.headline, item.text = headline, text
    session.flush()
    audit.record(session, actor=actor, action="issue.item_edited", entity_type="issue", entity_id=issue.id,
                 changes=changes)
    mark_stale(session, issue, item, changed, actor=actor)  # done translations of the old words go back to draft
    return item


def update_layout(session: Session, issue: Issue, item: IssueItem, *, lead: bool, subhead: str, paragraph: bool,
                  actor: User | str) -> IssueItem:
    """Where an item stands in the seed's layout: the lead story (one per issue: marking one unmarks the
    other), a sub-head it groups under inside its section, or a paragraph without a headline.

    A paragraph item needs its text (the text is its name for screen readers and in "See also"); its
    headline may stay as the editors' own label or be empty.
    """
    subhead = " ".join(_clean(subhead, SUBHEAD_MAX, "sub-head").split())
    lead, paragraph = bool(lead), bool(paragraph)
    if paragraph and not item.text.strip():
        raise IssueError(N_("a paragraph item needs its text: write the text first, then show it without a headline"))
    if not paragraph and not item.headline.strip():
        raise IssueError(N_("this item has no headline: write one before showing it with a headline"))
    if (lead, subhead, paragraph) == (item.lead, item.subhead, item.paragraph):
        return item
    ensure_editable(session, issue, actor=actor)
    changes: dict[str, object] = {"item": item.id}
    if lead and not item.lead:
        for other in issue.items:
            if other.lead and other is not item:
                other.lead = False
                changes["lead_before"] = other.id
    for name, value in (("lead", lead), ("paragraph", paragraph)):
        if getattr(item, name) != value:
            changes[name] = audit.change(getattr(item, name), value)
    if subhead != item.subhead:
        changes["subhead"] = audit.text_change(item.subhead, subhead)
    item.lead, item.subhead, item.paragraph = lead, subhead, paragraph
    session.flush()
    audit.record(session, actor=actor, action="issue.item_layout", entity_type="issue", entity_id=issue.id,
                 changes=changes)
    return item


def preview_text(text: str) -> markup.Rendered:
    """What a Markdown text will look like, before it is saved (the desk's Preview button)."""
    return markup.render_markdown(_clean(text, TEXT_MAX, "text"))


def move_item(session: Session, issue: Issue, item: IssueItem, section_slug: str, *, actor: User | str) -> IssueItem:
    """Put an item into another section, at the end of it."""
    section = session.scalar(select(Section).where(Section.slug == section_slug))
    if section is None:
        raise IssueError(N_("there is no section %(section)r"), section=section_slug)
    sections = sections_in_order(session)
    if item_section(item, sections).id == section.id:
        return item
    ensure_editable(session, issue, actor=actor)
    item.section = section
    item.position = max((i.position for i in issue.items), default=0) + 1
    session.flush()
    audit.record(session, actor=actor, action="issue.item_moved", entity_type="issue", entity_id=issue.id,
                 changes={"item": item.id, "section": section.slug})
    return item


def reorder_item(session: Session, issue: Issue, item: IssueItem, direction: str, *, actor: User | str) -> IssueItem:
    """Swap an item with its neighbour above ("up") or below ("down") within its section."""
    if direction not in ("up", "down"):
        raise IssueError(N_("direction must be up or down"))
    sections = sections_in_order(session)
    here = item_section(item, sections).id
    siblings = sorted((i for i in issue.items if item_section(i, sections).id == here), key=lambda i: (i.position, i.id))
    index = siblings.index(item)
    other_index = index - 1 if direction == "up" else index + 1
    if not 0 <= other_index < len(siblings):
        return item
    ensure_editable(session, issue, actor=actor)
    _renumber(issue)
    other = siblings[other_index]
    item.position, other.position = other.position, item.position
    session.flush()
    audit.record(session, actor=actor, action="issue.item_reordered", entity_type="issue", entity_id=issue.id,
                 changes={"item": item.id, "direction": direction})
    return item


def _renumber(issue: Issue) -> None:
    """Make positions unique (1..n) keeping the current order, so swaps are well defined."""
    for n, item in enumerate(sorted(issue.items, key=lambda i: (i.position, i.id)), start=1):
        item.position = n


def remove_item(session: Session, issue: Issue, item: IssueItem, *, actor: User | str) -> None:
    """Take an item out; its incident goes back to accepted and re-drafting will not bring it back."""
    ensure_editable(session, issue, actor=actor)
    incident = item.incident
    session.delete(item)
    issue.items.remove(item)
    if incident is not None:
        issue.excluded_incident_ids = sorted({*(issue.excluded_incident_ids or []), incident.id})
        if incident.state == "scheduled":
            transition(session, incident, "accepted", actor=actor, reason=f"removed from issue {issue.number}")
    session.flush()
    audit.record(session, actor=actor, action="issue.item_removed", entity_type="issue", entity_id=issue.id,
                 changes={"incident": incident.id if incident else None, "person": item.person_id})


def addable_incidents(session: Session, limit: int = 100) -> list[Incident]:
    """Accepted incidents that are in no issue (e.g. accepted after their week's issue went out)."""
    in_any_issue = select(IssueItem.incident_id).where(IssueItem.incident_id.is_not(None))
    return list(session.scalars(
        select(Incident).where(Incident.state == "accepted", Incident.id.not_in(in_any_issue))
        .order_by(Incident.occurred_on.desc(), Incident.id.desc()).limit(limit)
    ))


def add_incident(session: Session, issue: Issue, incident: Incident, *, actor: User | str) -> IssueItem:
    """Add an accepted incident from any period by hand."""
    if incident.state != "accepted":
        raise IssueError(N_("incident %(id)d is %(state)s; only accepted incidents can go into an issue"),
                         id=incident.id, state=Words(incident.state))
    if session.scalar(select(IssueItem.id).where(IssueItem.incident_id == incident.id).limit(1)) is not None:
        raise IssueError(N_("incident %(id)d is already in an issue"), id=incident.id)
    ensure_editable(session, issue, actor=actor)
    issue.excluded_incident_ids = [i for i in (issue.excluded_incident_ids or []) if i != incident.id]
    add_incidents(session, issue, [incident], actor=actor)
    audit.record(session, actor=actor, action="issue.items_added", entity_type="issue", entity_id=issue.id,
                 changes={"incidents": [incident.id]})
    return issue.items[-1]


def add_case_update(session: Session, issue: Issue, person: Person, *, actor: User | str,
                    section_slug: str = "persecution") -> IssueItem:
    """An update on an ongoing case from the persons register, drafted from the person's latest status."""
    if any(i.person_id == person.id for i in issue.items):
        raise IssueError(N_("this issue already has an update on that case"))
    section = session.scalar(select(Section).where(Section.slug == section_slug)) or sections_in_order(session)[0]
    ensure_editable(session, issue, actor=actor)
    latest = latest_status(session, person, issue.period_end)
    if latest is not None:
        text = f"Status as of {latest.occurred_on:%d %B %Y}: {status_label(latest.status)}"
        text += f" ({latest.article})." if latest.article else "."
        if latest.note.strip():
            text += " " + latest.note.strip()
    else:
        text = ""
    item = IssueItem(person=person, section=section, headline=f"Case update: {person.name}"[:HEADLINE_MAX],
                     text=text[:TEXT_MAX], position=max((i.position for i in issue.items), default=0) + 1)
    issue.items.append(item)
    session.flush()
    audit.record(session, actor=actor, action="issue.case_update_added", entity_type="issue", entity_id=issue.id,
                 changes={"person": person.id, "item": item.id})
    return item


# ---------------------------------------------------------------- format, quote, timeline and photo


@dataclass
class FormatFields:
    """What the desk's item editor sends for the item's incident: its format and the parts of it."""

    format: str
    quote_text: str = ""
    quote_speaker: str = ""
    addressee: str = ""
    timeline: str = ""


def _incident_of(item: IssueItem) -> Incident:
    if item.incident is None:
        raise IssueError("a case update is a news item; formats, quotes and photos belong to incidents")
    return item.incident


def update_item_format(session: Session, issue: Issue, item: IssueItem, fields: FormatFields, *,
                       actor: User | str) -> IssueItem:
    """Set how the item is told on its incident (one incident model from intake to the email): the issue
    reads it when it freezes. The quote and timeline are kept whatever the format, so switching back
    and forth loses nothing; only the chosen format's parts are published."""
    incident = _incident_of(item)
    try:
        new = {"format": formats.check_format(fields.format),
               "quote": formats.clean_quote({"text": fields.quote_text, "speaker": fields.quote_speaker,
                                             "addressee": fields.addressee}),
               "timeline": formats.parse_timeline(fields.timeline) or None}
    except formats.FormatError as exc:
        raise IssueError(str(exc)) from None
    if new["format"] == "timeline" and not new["timeline"]:
        raise IssueError('a timeline needs at least one line "date: what happened"')
    if new["format"] in ("testimony", "statement") and new["quote"] is None:
        raise IssueError(N_("a %(format)s needs its quote"), format=Words(new["format"]))
    changes = {k: v for k, v in new.items() if getattr(incident, k) != v}
    if not changes:
        return item
    ensure_editable(session, issue, actor=actor)
    # The words never: a quote may name a person the snapshot will protect.
    record = {"item": item.id, **{k: (audit.change(incident.format, v) if k == "format" else "changed")
                                  for k, v in changes.items()}}
    for key, value in changes.items():
        setattr(incident, key, value)
    session.flush()
    audit.record(session, actor=actor, action="issue.item_format", entity_type="issue", entity_id=issue.id,
                 changes=record)
    return item


def attach_photo(session: Session, issue: Issue, item: IssueItem, data: bytes, *, alt: str, caption: str = "",
                 credit: str = "", no_one_identifiable: bool = False, origin: str = "upload",
                 actor: User | str) -> IssueItem:
    """Derive the published copies of a picture (newsletter.media: rebuilt, bare, small) and put them on
    the item's incident. Refused with a clear message for a file that is no photo, a damaged or huge one,
    a missing alt text, or an item that may never carry a photo (anonymised or internal)."""
    incident = _incident_of(item)
    if incident.publication != "public":
        raise IssueError(N_("an anonymised or internal item never carries a photo"))
    try:
        derived = media.derive(data)
        record = media.photo_record(derived, alt=alt, caption=caption, credit=credit,
                                    no_one_identifiable=no_one_identifiable, origin=origin)
    except media.PhotoRefused as exc:
        raise IssueError(N_("photo refused: %(why)s"), why=Phrase(exc.msgid, **exc.params)) from None
    ensure_editable(session, issue, actor=actor)
    media.store(session, derived)
    incident.photo = record
    session.flush()
    audit.record(session, actor=actor, action="issue.item_photo", entity_type="issue", entity_id=issue.id,
                 changes={"item": item.id, "photo": record["web"], "origin": origin})
    return item


def update_photo_words(session: Session, issue: Issue, item: IssueItem, *, alt: str, caption: str, credit: str,
                       no_one_identifiable: bool, actor: User | str) -> IssueItem:
    """The attached photo's alt text (required), caption, credit and the editor's "shows no one identifiable"."""
    incident = _incident_of(item)
    if not incident.photo:
        raise IssueError(N_("this item has no photo"))
    try:
        words = {"alt": media.clean_words(alt, media.ALT_MAX, "alt text", required=True),
                 "caption": media.clean_words(caption, media.CAPTION_MAX, "caption"),
                 "credit": media.clean_words(credit, media.CREDIT_MAX, "credit"),
                 "no_one_identifiable": bool(no_one_identifiable)}
    except media.PhotoRefused as exc:
        raise IssueError(str(exc)) from None
    if all(incident.photo.get(k) == v for k, v in words.items()):
        return item
    ensure_editable(session, issue, actor=actor)
    incident.photo = {**incident.photo, **words}
    session.flush()
    audit.record(session, actor=actor, action="issue.item_photo", entity_type="issue", entity_id=issue.id,
                 changes={"item": item.id, "photo": "words",
                          "no_one_identifiable": words["no_one_identifiable"]})
    return item


def remove_photo(session: Session, issue: Issue, item: IssueItem, *, actor: User | str) -> IssueItem:
    incident = _incident_of(item)
    if not incident.photo:
        return item
    ensure_editable(session, issue, actor=actor)
    incident.photo = None
    session.flush()
    audit.record(session, actor=actor, action="issue.item_photo", entity_type="issue", entity_id=issue.id,
                 changes={"item": item.id, "photo": None})
    return item
