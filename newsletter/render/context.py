"""From a validated snapshot to what templates need: URLs, anchors, dates, translated lines.

Every output (email, text, web page, feed) is rendered from this one view so they cannot drift
apart: the web archive shows exactly what was emailed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup

from newsletter import markup
from newsletter.render.env import translate, translate_plural, format_day, paragraphs, text_direction
from collections.abc import Sequence

from newsletter.snapshot import CorrectionNote, Link, Photo, Quote, RoleGroup, Snapshot, TimelineLine

UNSUBSCRIBE_PLACEHOLDER = "%%UNSUBSCRIBE_URL%%"
# Where each recipient's own page to choose their edition's language goes (delivery fills it in).
PREFERENCES_PLACEHOLDER = "%%PREFERENCES_URL%%"

# Light and dark palettes; every text/background pair keeps a WCAG contrast of at least 4.5:1.
LIGHT = {"page": "#f2f4f7", "card": "#ffffff", "text": "#1b1f24", "muted": "#505a66", "link": "#0b5cad",
         "accent": "#7a1f1f", "line": "#d0d7de", "notice": "#fdf6e3"}
DARK = {"page": "#0d1117", "card": "#161b22", "text": "#e6edf3", "muted": "#a8b3bf", "link": "#79c0ff",
        "accent": "#ffa198", "line": "#30363d", "notice": "#2b2411"}


@dataclass(frozen=True)
class RefLink:
    """A link as the email shows it: numbered for the plain-text reference list."""

    title: str
    url: str
    ref: int


@dataclass(frozen=True)
class CorrectionView:
    """A dated correction as pages show it: beside the corrected item, or in a later issue's block."""

    id: int
    anchor: str
    item_id: int
    item_anchor: str
    headline: str
    paragraphs: list[str]
    text: str
    filed_label: str
    issue_heading: str
    item_url: str  # absolute: the corrected item on its archive page (the reader's edition of it, if any)
    # Editions: the note is in its original words (not translated into the page's language): which, and a
    # short note saying so in the reader's language ("(in English)"), as untranslated items are marked.
    original_language: str | None = None
    original_note: str = ""


@dataclass(frozen=True)
class Alternate:
    """This page in another edition (or this one): for <link rel="alternate" hreflang> and the switch."""

    lang: str
    label: str  # the language's own name ("Русский"), as a reader of it looks for it
    href: str  # relative to the page
    url: str  # absolute
    current: bool = False


def language_name(lang: str) -> str:
    """A language in its own words, capitalised as a menu item: "English", "Русский", "Қазақ тілі"."""
    from newsletter.i18n import babel_locale

    try:
        name = babel_locale(lang).get_display_name(babel_locale(lang)) or lang
    except Exception:  # noqa: BLE001 - an unknown tag is shown as the tag
        name = lang
    return name[:1].upper() + name[1:]


@dataclass(frozen=True)
class PhotoView:
    """A photo as pages and mail show it: absolute URLs inside the issue's media/ folder on our own site,
    a large copy for the web page and the PDF, a small one for the email, each with its size."""

    src: str
    width: int
    height: int
    email_src: str
    email_width: int  # as displayed in the 600 px email column (at most EMAIL_COLUMN)
    email_height: int
    alt: str
    caption: str
    credit: str


EMAIL_COLUMN = 552  # the email's 600 px body less its 24 px padding on each side


def photo_view(photo: Photo, issue_url: str) -> PhotoView:
    width = min(EMAIL_COLUMN, photo.email_width)
    return PhotoView(
        src=f"{issue_url}media/{photo.file}", width=photo.width, height=photo.height,
        email_src=f"{issue_url}media/{photo.email_file}", email_width=width,
        email_height=max(1, round(photo.email_height * width / photo.email_width)),
        alt=photo.alt, caption=photo.caption, credit=photo.credit,
    )


@dataclass(frozen=True)
class ItemView:
    id: int
    anchor: str
    headline: str
    paragraphs: list[str]
    date_label: str
    place: str | None
    kind: str | None
    links: list[Link]
    email_links: list[RefLink]
    web_url: str
    corrections: list[CorrectionView] = field(default_factory=list)
    kind_label: str | None = None
    subjects: list[str] = field(default_factory=list)
    related: list[RefLink] = field(default_factory=list)  # "See also", numbered after the item's links
    html: Markup | None = None  # an editor's Markdown, sanitised: the web page and the feed
    email_html: Markup | None = None  # the same with inline styles, linking to our own site only
    # Editions: the item shows the original words (no translation yet); their language, and the note.
    original_language: str | None = None
    original_note: str = ""
    email_html: Markup | None = None  # the same with inline styles (older issues: our own site's links only)
    text_links: list[RefLink] = field(default_factory=list)  # the text's links, numbered for the text part
    lead: bool = False
    subhead: str | None = None
    paragraph: bool = False  # shown without its headline
    section_title: str = ""

    @property
    def name(self) -> str:
        """The item's accessible name: its headline, or a paragraph item's first words."""
        if self.headline:
            return self.headline
        words = " ".join(" ".join(self.paragraphs).split())
        return words if len(words) <= 80 else words[:80].rsplit(" ", 1)[0] + "…"
    format: str = "news"  # news | testimony | statement | timeline
    quote: Quote | None = None
    timeline: list[TimelineLine] = field(default_factory=list)
    photo: PhotoView | None = None

    @property
    def meta(self) -> str:
        return " · ".join(p for p in (self.date_label, self.kind_label or "", self.place or "") if p)

    @property
    def subjects_line(self) -> str:
        """'Aya Sadvakasova, human rights defender; B. N., trade unionist' (seed 004's subject list)."""
        return "; ".join(self.subjects)


@dataclass(frozen=True)
class SubheadGroup:
    """Items of a section under one sub-head (None: the items before or without any), in order."""

    subhead: str | None
    anchor: str
    items: list[ItemView]


@dataclass(frozen=True)
class SectionView:
    slug: str
    anchor: str
    title: str
    description: str
    items: list[ItemView]

    @property
    def groups(self) -> list[SubheadGroup]:
        """The section's items grouped under their sub-heads, each group where its first item stands;
        a section without sub-heads is one group without a heading."""
        order: dict[str | None, list[ItemView]] = {}
        for item in self.items:
            order.setdefault(item.subhead, []).append(item)
        return [SubheadGroup(sub, f"{self.anchor}-{n}", items) for n, (sub, items) in enumerate(order.items(), 1)]


@dataclass(frozen=True)
class FooterLink:
    label: str
    url: str


@dataclass
class IssueView:
    snapshot: Snapshot
    lang: str
    dir: str
    org_name: str
    base_url: str
    issue_url: str
    archive_url: str
    feed_url: str
    subject: str
    preheader: str
    title: str
    heading: str
    number: int
    period: str
    period_label: str
    published_label: str
    intro: list[str]
    sections: list[SectionView]
    withheld_line: str | None
    persons: dict[str, Any] | None
    places: dict[str, Any] | None = None
    light: dict[str, str] = field(default_factory=lambda: dict(LIGHT))
    dark: dict[str, str] = field(default_factory=lambda: dict(DARK))
    unsubscribe_url: str = UNSUBSCRIBE_PLACEHOLDER
    refs: list[str] = field(default_factory=list)
    corrections: list[CorrectionView] = field(default_factory=list)  # of this issue (the archive's layer)
    earlier_corrections: list[CorrectionView] = field(default_factory=list)  # the "Corrections" block
    # Editions: which one this is (None: the default), its own archive index, the other editions of this
    # issue, and the recipient's language page (set when there is more than one edition to choose).
    edition: str | None = None
    home_url: str = ""
    alternates: list[Alternate] = field(default_factory=list)
    preferences_url: str | None = None
    lead: ItemView | None = None  # the lead story, first and larger (taken out of its section)
    editors_note: dict[str, Any] | None = None  # {"html", "email_html", "paragraphs", "signature"}
    subscribe_url: str | None = None  # our /subscribe page (None: an issue frozen before footers)
    footer_links: list[FooterLink] = field(default_factory=list)

    def as_context(self) -> dict[str, Any]:
        return {"v": self, "issue": self.snapshot.issue, "org": self.snapshot.organisation}


def _lower_roles(language: str) -> bool:
    """A role after a name reads in lower case ("Aya Sadvakasova, human rights defender") in the
    languages whose role words are common nouns (all we publish in so far, but not German)."""
    return not language.lower().startswith("de")


def _same_host(url: str, base_url: str) -> bool:
    return urlsplit(url).netloc.lower() == urlsplit(base_url).netloc.lower()


def issue_path(period: str, edition: str | None = None) -> str:
    """The folder of an issue (a further edition: its language's subfolder) inside the archive, also its
    URL path below /issues/."""
    return f"{period}/{edition}/" if edition else f"{period}/"


def withheld_line(snapshot: Snapshot) -> str | None:
    w = snapshot.withheld
    if w.incidents <= 0:
        return None
    if w.cities > 0:
        cities = translate_plural("%(num)d city", "%(num)d cities", w.cities)
        return translate_plural(
            "%(num)d further case in %(cities)s is not published for the safety of those involved.",
            "%(num)d further cases in %(cities)s are not published for the safety of those involved.",
            w.incidents, cities=cities)
    return translate_plural(
        "%(num)d further case is not published for the safety of those involved.",
        "%(num)d further cases are not published for the safety of those involved.",
        w.incidents)


def _who(groups: list[RoleGroup]) -> str:
    """'civil activists: Aya Sadvakasova, B. N. and 3 not named; trade unionists: 2 not named' - empty
    when nobody in the status may be named, so a block of bare counts reads as before."""
    if not any(g.names for g in groups):
        return ""
    parts = []
    for g in groups:
        unnamed = translate_plural("%(num)d not named", "%(num)d not named", g.unnamed) if g.unnamed else ""
        names = ", ".join(g.names)
        if names and unnamed:
            body = translate("%(names)s and %(unnamed)s", names=names, unnamed=unnamed)
        else:
            body = names or unnamed
        parts.append(f"{g.label}: {body}")
    return "; ".join(parts)


def _persons(snapshot: Snapshot) -> dict[str, Any] | None:
    summary = snapshot.persons_summary
    if summary is None or not summary.counts:
        return None
    return {
        "as_of": format_day(summary.as_of),
        "rows": [{"label": c.label, "count": c.count, "status": c.status, "who": _who(c.groups)}
                 for c in summary.counts],
        "total": sum(c.count for c in summary.counts),
    }


def _primary(tag: str) -> str:
    return tag.replace("_", "-").split("-")[0].lower()


def original_language_note(language: str, reader: str) -> str:
    """"(in English)" in the reader's language: words shown untranslated, named in the reader's words."""
    from newsletter.i18n import babel_locale

    try:
        name = babel_locale(language).get_language_name(babel_locale(reader)) or language
    except Exception:  # noqa: BLE001 - an unknown tag is shown as the tag
        name = language
    return translate("(in %(language)s)", language=name)


def correction_view(note: CorrectionNote, archive_url: str, language: str | None = None) -> CorrectionView:
    """A correction for readers of the `language` edition (None: as filed): its words in that language
    when translated, else the original marked as such; linked to the corrected issue's page in that edition."""
    if language is not None:
        note = note.in_language(language)
    item_anchor = f"item-{note.item_id}"
    original = note.language if language is not None and _primary(note.language) != _primary(language) else None
    return CorrectionView(
        id=note.id, anchor=f"correction-{note.id}", item_id=note.item_id, item_anchor=item_anchor,
        headline=note.headline, paragraphs=paragraphs(note.text), text=" ".join(note.text.split()),
        filed_label=format_day(note.filed_at.date()),
        issue_heading=translate("No. %(number)d", number=note.issue_number),
        item_url=f"{archive_url}{issue_path(note.issue_period, note.edition)}#{item_anchor}",
        original_language=original, original_note=original_language_note(original, language or original)
        if original else "",
    )


def _places(snapshot: Snapshot) -> dict[str, Any] | None:
    """The places table and its chart: one row per region, its public cities indented below it."""
    places = snapshot.places
    if places is None or not places.rows:
        return None
    regions = [r for r in places.rows if r.city is None]
    top = max((r.count for r in regions), default=1) or 1
    bar_h, gap, label_w, chart_w = 18, 6, 170, 320
    bars = [{"label": r.region, "count": r.count, "y": i * (bar_h + gap),
             "width": max(2, round((chart_w - label_w - 40) * r.count / top))} for i, r in enumerate(regions)]
    summary = translate_plural("%(num)d incident", "%(num)d incidents", places.incidents)
    if places.cities:
        summary = translate("%(incidents)s registered in %(cities)s", incidents=summary,
                            cities=translate_plural("%(num)d city", "%(num)d cities", places.cities))
    return {
        "summary": summary,
        "rows": [{"label": r.city or r.region, "count": r.count, "city": r.city is not None} for r in places.rows],
        "chart": {"bars": bars, "bar_h": bar_h, "label_w": label_w, "width": chart_w,
                  "height": max(1, len(bars)) * (bar_h + gap)},
        "text_alternative": "; ".join(f"{r.region}: {r.count}" for r in regions),
    }


_EMAIL_STYLES = {
    "p": "margin:0 0 8px;",
    "ul": "margin:0 0 8px;padding-left:20px;",
    "ol": "margin:0 0 8px;padding-left:20px;",
    "li": "margin:0 0 4px;",
    "blockquote": f"margin:0 0 8px;padding-left:12px;border-left:3px solid {LIGHT['line']};",
    "a": f"color:{LIGHT['link']};",
}
_OPEN_TAG = re.compile(r"<(p|ul|ol|li|blockquote|a)(?=[\s>])")


def email_markup(html: str) -> str:
    """Inline styles on an item's (already clean) HTML, as the email's own paragraphs and links carry them:
    many mail apps drop a <style> block."""
    return _OPEN_TAG.sub(lambda m: f'<{m.group(1)} style="{_EMAIL_STYLES[m.group(1)]}"', html)


def build_view(snapshot: Snapshot, corrections: Sequence[CorrectionNote] = (),
               alternates: Sequence[Alternate] = ()) -> IssueView:
    """Call inside env.use_language(snapshot.issue.language) so labels come out in that language.

    `corrections` are the dated corrections of this issue (a layer beside the frozen snapshot,
    shown on the web page and in the feed); the snapshot's own `earlier_corrections` is its block.
    """
    meta, org = snapshot.issue, snapshot.organisation
    archive_url = f"{org.base_url}/issues/"
    issue_url = archive_url + issue_path(meta.period, snapshot.edition)
    not_translated = translate("Not yet translated; shown in the original language.")
    media_base = f"{archive_url}{meta.period}/"  # photos live in the default edition's media/, shared by all
    layer = [correction_view(c, archive_url, meta.language) for c in corrections]
    by_item: dict[int, list[CorrectionView]] = {}
    for c in layer:
        by_item.setdefault(c.item_id, []).append(c)
    sections: list[SectionView] = []
    refs = [issue_url]
    note = _editors_note(snapshot, refs)  # read first, after the intro
    # Items in reading order: the lead story first (it renders before every section), so the text part's
    # link numbers run in the order readers meet them. An issue without a lead keeps its old numbering.
    order = [(section, it) for section in snapshot.sections for it in section.items]
    first_lead = next((pair for pair in order if pair[1].lead), None)
    if first_lead is not None:
        order = [first_lead, *(pair for pair in order if pair is not first_lead)]
    views: dict[int, ItemView] = {}
    for section, it in order:
        anchor = f"item-{it.id}"
        web_url = f"{issue_url}#{anchor}"
        email_links = []
        for link in it.links:
            if _same_host(link.url, org.base_url):
                refs.append(link.url)
                email_links.append(RefLink(link.title or link.url, link.url, len(refs)))
        leaves = markup.offsite(org.base_url)
        offsite_text_links = any(leaves(href) for href in markup.hrefs(it.html or ""))
        text_links: list[RefLink] = []
        if snapshot.direct_links:
            # The primary source linked directly; the web page lists every source.
            email_links = []
            for words, url in markup.body_links(it.html or ""):
                refs.append(url)
                text_links.append(RefLink(words, url, len(refs)))
            if it.links:
                refs.append(it.links[0].url)
                email_links.append(RefLink(it.links[0].title or it.links[0].url, it.links[0].url, len(refs)))
            if len(it.links) > 1:
                refs.append(web_url)
                email_links.append(RefLink(translate("Sources and details"), web_url, len(refs)))
        elif len(email_links) < len(it.links) or offsite_text_links:
            # Sources off our own site are linked from the web page only, never from the email.
            refs.append(web_url)
            email_links.append(RefLink(translate("Sources and details"), web_url, len(refs)))
        related = []
        for link in it.related:
            if _same_host(link.url, org.base_url):  # our archive only, as in the snapshot builder
                refs.append(link.url)
                related.append(RefLink(link.title or link.url, link.url, len(refs)))
        views[it.id] = ItemView(
            id=it.id, anchor=anchor, headline=it.headline, paragraphs=paragraphs(it.text),
            date_label=format_day(it.date, it.date_precision), place=it.place, kind=it.kind,
            links=list(it.links), email_links=email_links, web_url=web_url, kind_label=it.kind_label,
            subjects=[f"{s.name}, {s.role.lower() if _lower_roles(meta.language) else s.role}" if s.role
                      else s.name for s in it.subjects],
            related=related,
            corrections=by_item.get(it.id, []),
            html=Markup(markup.clean(it.html)) if it.html else None,
            email_html=Markup(email_markup(
                markup.clean(it.html) if snapshot.direct_links else markup.unlink(markup.clean(it.html), leaves)
            )) if it.html else None,
            text_links=text_links, lead=it.lead, subhead=it.subhead, paragraph=it.paragraph,
            section_title=section.title,
            original_language=it.original_language,
            original_note=not_translated if it.original_language else "",
            format=it.format, quote=it.quote, timeline=list(it.timeline),
            photo=photo_view(it.photo, media_base) if it.photo else None,
        )
    lead = views[first_lead[1].id] if first_lead is not None else None
    for section in snapshot.sections:
        items = [views[it.id] for it in section.items if lead is None or it.id != lead.id]
        if not items:
            continue
        sections.append(SectionView(slug=section.slug, anchor=f"section-{section.slug}", title=section.title,
                                    description=section.description, items=items))
    number_label = translate("No. %(number)d", number=meta.number)
    period_label = translate("%(start)s – %(end)s", start=format_day(meta.period_start), end=format_day(meta.period_end))
    title = meta.title.strip() or translate("Issue %(number)d", number=meta.number)
    intro = paragraphs(meta.intro)
    preheader = " ".join(meta.preheader.split()) or (intro[0][:140] if intro else period_label)
    subject = " ".join(f"{org.name} {number_label}: {title}".split())
    return IssueView(
        snapshot=snapshot, lang=meta.language, dir=text_direction(meta.language), org_name=org.name,
        base_url=org.base_url, issue_url=issue_url, archive_url=archive_url,
        feed_url=archive_url + (f"feed.{snapshot.edition}.xml" if snapshot.edition else "feed.xml"),
        subject=subject, preheader=preheader, title=title, heading=number_label, number=meta.number,
        period=meta.period, period_label=period_label,
        published_label=format_day(meta.published_at.date()) if meta.published_at else "",
        intro=intro, sections=sections, withheld_line=withheld_line(snapshot), persons=_persons(snapshot),
        places=_places(snapshot), refs=refs, corrections=layer,
        earlier_corrections=[correction_view(c, archive_url, meta.language) for c in snapshot.earlier_corrections],
        edition=snapshot.edition, home_url=archive_url + (f"{snapshot.edition}/" if snapshot.edition else ""),
        alternates=list(alternates),
        lead=lead, editors_note=note,
        subscribe_url=snapshot.footer.subscribe_url if snapshot.footer else None,
        footer_links=_footer_links(snapshot),
    )


def _editors_note(snapshot: Snapshot, refs: list[str]) -> dict[str, Any] | None:
    """The note's HTML (web, email) and its paragraphs with its links numbered for the text part."""
    note = snapshot.editors_note
    if note is None:
        return None
    html = markup.clean(note.html)
    links = []
    for words, url in markup.body_links(html):
        refs.append(url)
        links.append(RefLink(words, url, len(refs)))
    return {"html": Markup(html), "email_html": Markup(email_markup(html)), "paragraphs": paragraphs(note.text),
            "signature": note.signature, "links": links}


def _footer_links(snapshot: Snapshot) -> list[FooterLink]:
    """The organisation's footer links in a fixed order, labelled in the issue's language."""
    f = snapshot.footer
    if f is None:
        return []
    links = [(translate("Sign up"), f.signup_url), (translate("Contact us"), f.contact_url),
             (translate("Write to us"), f"mailto:{f.contact_email}" if f.contact_email else None),
             (translate("Donate"), f.donate_url), (translate("Privacy"), f.privacy_url)]
    return [FooterLink(label, url) for label, url in links if url]
