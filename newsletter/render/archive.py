"""The static archive: one folder per issue, an index (newest first) and an Atom feed.

The archive is a plain folder that can be copied to any web server or mirrored. Pages link to each
other relatively; only the feed carries absolute URLs, because feed readers need them.

Writing is staged: everything is rendered into a hidden folder beside the archive (same file
system), and only a complete stage is moved into place, file by file with rename (a new issue's
folder appears in one rename). A full disk or any other failure while staging leaves the public
archive exactly as it was. Publishing moves the stage in only after its transaction committed.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from newsletter.config import Settings
from newsletter.render.context import (
    Alternate, CorrectionView, IssueView, build_view, correction_view, issue_path, language_name,
)
from newsletter.render.env import format_day, render_template, text_direction, use_language
from newsletter.render.issue import MEDIA_DIR, PDF_FILE, RenderedIssue, render_issue
from newsletter.snapshot import CorrectionNote, InvalidSnapshot, Snapshot, parse_snapshot
from newsletter.render.web import INDEX_TEMPLATE, load_assets, render_content

ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
FEED_ENTRIES = 20
RECENT_CORRECTIONS = 10
Corrections = Mapping[str, Sequence[CorrectionNote]]  # an issue's period -> its dated corrections
# An issue's period -> its further editions' frozen snapshots by language (Issue.edition_snapshots).
Editions = Mapping[str, Mapping[str, "dict[str, Any] | Snapshot"]]
ET.register_namespace("", ATOM_NS)


@dataclass(frozen=True)
class ArchiveEntry:
    """What the index and the feed say about one issue."""

    period: str
    href: str
    url: str
    title: str
    heading: str
    period_label: str
    summary: str
    items: int
    language: str
    updated: dt.datetime
    published: dt.datetime | None
    content_html: str


@dataclass(frozen=True)
class ArchiveReport:
    issues_dir: Path
    periods: list[str]
    feed_entries: int
    pdf_skipped: str | None = None  # one line: why no issue.pdf was written on this machine


class ArchiveWriteError(Exception):
    """The archive could not be written (full disk, permissions); the public archive is unchanged."""


@dataclass
class StagedArchive:
    """A complete archive rendered beside the real one, waiting to be moved into place."""

    root: Path
    stage: Path
    report: ArchiveReport

    def commit(self) -> ArchiveReport:
        """Move every staged file into place: renames on one file system, so readers never see a half page."""
        if not self.stage.exists():
            return self.report
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            for entry in sorted(self.stage.iterdir()):
                target = self.root / entry.name
                if entry.is_dir() and not target.exists():
                    os.rename(entry, target)  # a new issue appears whole
                elif entry.is_dir():
                    _move_tree(entry, target)
                else:
                    os.replace(entry, target)
        except OSError as exc:
            raise ArchiveWriteError(f"could not move the archive into {self.root}: {exc.strerror or exc}") from exc
        finally:
            self.discard()
        return self.report

    def discard(self) -> None:
        shutil.rmtree(self.stage, ignore_errors=True)


def _move_tree(src: Path, dst: Path) -> None:
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if path.is_dir():
            (dst / rel).mkdir(parents=True, exist_ok=True)
        else:
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, dst / rel)


def _write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        with path.open("w", encoding="utf-8", newline="\n") as fh:
            fh.write(content)
    os.chmod(path, 0o644)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _updated(snap: Snapshot, corrections: Sequence[CorrectionNote] = ()) -> dt.datetime:
    """When readers last saw the issue change: its publication, or its latest correction."""
    published = snap.issue.published_at
    base = _aware(published) if published is not None else dt.datetime.combine(
        snap.issue.period_end, dt.time(0, 0), tzinfo=dt.UTC)
    return max([base, *(_aware(c.filed_at) for c in corrections)])


@dataclass(frozen=True)
class IndexCorrection:
    """A recent correction as the archive index lists it (newest first), linked to its note."""

    href: str
    view: CorrectionView


def recent_corrections(corrections: Corrections, base_url: str, *, limit: int = RECENT_CORRECTIONS,
                       root: str = "", language: str | None = None) -> list[IndexCorrection]:
    """`language`: the index's; each note in its words, linked to that edition of the issue where there is one."""
    notes = sorted((c for cs in corrections.values() for c in cs), key=lambda c: (_aware(c.filed_at), c.id), reverse=True)
    archive_url = f"{base_url}/issues/"
    shown = [c.in_language(language) if language else c for c in notes[:limit]]
    return [IndexCorrection(href=f"{root}{issue_path(c.issue_period, c.edition)}#correction-{c.id}",
                            view=correction_view(c, archive_url, language)) for c in shown]


def _entry(snap: Snapshot, view: IssueView, content_html: str,
           corrections: Sequence[CorrectionNote] = ()) -> ArchiveEntry:
    return ArchiveEntry(
        period=snap.issue.period, href=issue_path(snap.issue.period), url=view.issue_url,
        title=view.title, heading=view.heading, period_label=view.period_label, summary=view.preheader,
        items=snap.item_count, language=snap.issue.language, updated=_updated(snap, corrections),
        published=snap.issue.published_at, content_html=content_html,
    )


def newest_first(snapshots: list[Snapshot]) -> list[Snapshot]:
    return sorted(snapshots, key=lambda s: (s.issue.period_start, s.issue.number), reverse=True)


def _iso(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def feed_name(edition: str | None = None) -> str:
    """The archive's feed of one edition: feed.xml (the default), feed.<lang>.xml (a further edition)."""
    return f"feed.{edition}.xml" if edition else "feed.xml"


def feed_xml(entries: list[ArchiveEntry], *, title: str, base_url: str, language: str,
             now: dt.datetime | None = None, edition: str | None = None) -> str:
    """An Atom 1.0 feed (RFC 4287) of the newest issues, with each issue's full content; `edition`: the
    feed of a further edition (its own id, self link and index page)."""
    archive_url = f"{base_url}/issues/"
    home = archive_url + (f"{edition}/" if edition else "")
    feed = ET.Element(f"{{{ATOM_NS}}}feed", {XML_LANG: language})
    ET.SubElement(feed, f"{{{ATOM_NS}}}id").text = home
    ET.SubElement(feed, f"{{{ATOM_NS}}}title").text = title
    ET.SubElement(feed, f"{{{ATOM_NS}}}link", rel="self", type="application/atom+xml",
                  href=f"{archive_url}{feed_name(edition)}")
    ET.SubElement(feed, f"{{{ATOM_NS}}}link", rel="alternate", type="text/html", href=home)
    updated = max((e.updated for e in entries), default=now or dt.datetime.now(dt.UTC))
    ET.SubElement(feed, f"{{{ATOM_NS}}}updated").text = _iso(updated)
    author = ET.SubElement(feed, f"{{{ATOM_NS}}}author")
    ET.SubElement(author, f"{{{ATOM_NS}}}name").text = title
    ET.SubElement(author, f"{{{ATOM_NS}}}uri").text = base_url + "/"
    for e in entries[:FEED_ENTRIES]:
        entry = ET.SubElement(feed, f"{{{ATOM_NS}}}entry", {XML_LANG: e.language})
        ET.SubElement(entry, f"{{{ATOM_NS}}}id").text = e.url
        ET.SubElement(entry, f"{{{ATOM_NS}}}title").text = f"{e.heading}: {e.title}"
        ET.SubElement(entry, f"{{{ATOM_NS}}}link", rel="alternate", type="text/html", href=e.url)
        ET.SubElement(entry, f"{{{ATOM_NS}}}updated").text = _iso(e.updated)
        if e.published is not None:
            ET.SubElement(entry, f"{{{ATOM_NS}}}published").text = _iso(e.published)
        ET.SubElement(entry, f"{{{ATOM_NS}}}summary").text = e.summary
        ET.SubElement(entry, f"{{{ATOM_NS}}}content", {"type": "html", XML_BASE: e.url}).text = e.content_html
    ET.indent(feed, space="  ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


def empty_feed(settings: Settings) -> str:
    """A valid feed with no entries, for readers that subscribe before the first issue is out."""
    return feed_xml([], title=settings.org_name, base_url=settings.base_url, language=settings.language)


def render_index(entries: list[ArchiveEntry], settings: Settings, *, org_name: str, base_url: str,
                 corrections: Corrections | None = None, edition: str | None = None,
                 alternates: Sequence[Alternate] = ()) -> str:
    """The archive index (issues/index.html), or a further edition's (issues/<lang>/index.html: its
    entries link to that language's edition of each issue, else to the default one)."""
    lang = edition or settings.language
    root = "../" if edition else ""
    with use_language(lang):
        recent = recent_corrections(corrections or {}, base_url, root=root, language=lang)
    ctx = {
        "issues": entries, "corrections": recent, "org_name": org_name, "lang": lang,
        "archive_url": f"{base_url}/issues/" + (f"{edition}/" if edition else ""),
        "dir": text_direction(lang), "root": root, "asset_prefix": root,
        "home_href": "./" if edition else "", "feed_href": root + feed_name(edition), "alternates": list(alternates),
        "subscribe_url": f"{base_url.rstrip('/')}/subscribe" + (f"?lang={edition}" if edition else ""),
    }
    with use_language(lang):
        return render_template(settings, INDEX_TEMPLATE, ctx)


def index_alternates(languages: Sequence[str], current: str, base_url: str, default: str) -> list[Alternate]:
    """The archive index in each language: issues/ (the default) and issues/<lang>/."""
    root = "" if current == default else "../"
    return [Alternate(lang=lang, label=language_name(lang), current=lang == current,
                      href=root + ("" if lang == default else f"{lang}/") or "./",
                      url=f"{base_url}/issues/" + ("" if lang == default else f"{lang}/")) for lang in languages]


def issue_alternates(period: str, languages: Sequence[str], current: str, base_url: str,
                     default: str) -> list[Alternate]:
    """One issue's editions, as links from the page of its `current` edition."""
    root = "../" if current == default else "../../"
    return [Alternate(lang=lang, label=language_name(lang), current=lang == current,
                      href=root + issue_path(period, None if lang == default else lang),
                      url=f"{base_url}/issues/" + issue_path(period, None if lang == default else lang))
            for lang in languages]


def _parse_editions(editions: Editions, periods: Mapping[str, int]) -> dict[str, dict[str, Snapshot]]:
    """The further editions by period, validated; an edition of an issue not in the archive is an error
    (as is one whose period or language disagrees with where it is filed)."""
    out: dict[str, dict[str, Snapshot]] = {}
    for period, by_lang in editions.items():
        if period not in periods:
            raise InvalidSnapshot(f"editions given for {period}, which is not among the published issues")
        for lang, data in by_lang.items():
            snap = parse_snapshot(data)
            if snap.issue.period != period or snap.edition != lang:
                raise InvalidSnapshot(f"the {lang} edition filed under {period} is the "
                                      f"{snap.edition or 'default'} edition of {snap.issue.period}")
            out.setdefault(period, {})[lang] = snap
    return out


def _index_languages(settings: Settings, further: Mapping[str, Mapping[str, Snapshot]]) -> list[str]:
    """The archive's languages, the default first: the configured editions, and any language an issue
    was published in before (its pages must keep their index)."""
    languages = list(dict.fromkeys([settings.language, *settings.editions]))
    for by_lang in further.values():
        languages.extend(lang for lang in by_lang if lang not in languages)
    return languages


MediaLoader = Callable[[set[str]], Mapping[str, bytes]]  # file names -> their bytes (flows read the database)


def write_archive(issues_dir: Path | str, snapshots: list[dict[str, Any]] | list[Snapshot],
                  settings: Settings, corrections: Corrections | None = None, *,
                  pdf_periods: Collection[str] = (), editions: Editions | None = None,
                  media: MediaLoader | None = None) -> ArchiveReport:
    """Write every given issue's folder, then the index and the feed (staged, then moved into place).

    The caller passes the published issues; all snapshots are checked before anything is written,
    so one bad snapshot leaves the archive as it was.
    """
    return stage_archive(issues_dir, snapshots, settings, corrections, pdf_periods=pdf_periods,
                         editions=editions, media=media).commit()


def stage_archive(issues_dir: Path | str, snapshots: list[dict[str, Any]] | list[Snapshot],
                  settings: Settings, corrections: Corrections | None = None, *,
                  pdf_periods: Collection[str] = (), editions: Editions | None = None,
                  media: MediaLoader | None = None) -> StagedArchive:
    """Render the whole archive into a hidden folder beside `issues_dir`; nothing public changes yet.

    `corrections` (by period) are the dated corrections rendered beside each frozen snapshot: on
    its page, in its feed entry (with a new <updated>), in its issue.json and on the index.
    issue.pdf takes seconds per issue, so it is made for `pdf_periods` (the issue being published or
    corrected) and for any issue whose folder has none yet; other issues keep the PDF they have.

    Photos (issues/<period>/media/<content hash>.jpg) are asked of `media` for the issues being made
    anew (`pdf_periods`) and for any file the archive lacks; files already published stay as they are.

    Raises ArchiveWriteError (after removing the stage) when the disk refuses, InvalidSnapshot for
    a bad snapshot. Call .commit() on the result to publish it, .discard() to drop it.

    `editions` (by period) are the further editions of each issue: each is written to <period>/<lang>/
    with the same outputs, the same corrections (a correction shows in every edition, in the language
    it was written in), and hreflang links and a language switch between them; each further language
    gets its index (<lang>/index.html: every issue, in that language where it has that edition) and
    its feed (feed.<lang>.xml: that language's editions only).
    """
    root = Path(issues_dir)
    parsed = [parse_snapshot(s) for s in snapshots]
    seen: dict[str, int] = {}
    for snap in parsed:
        if snap.issue.period in seen:
            raise InvalidSnapshot(f"two issues for period {snap.issue.period} "
                                  f"(No. {seen[snap.issue.period]} and No. {snap.issue.number})")
        seen[snap.issue.period] = snap.issue.number
    ordered = newest_first(parsed)
    wanted = {name for snap in ordered for name in snap.media_files
              if snap.issue.period in pdf_periods or not (root / snap.issue.period / MEDIA_DIR / name).is_file()}
    photos = dict(media(wanted)) if media is not None and wanted else {}
    further = _parse_editions(editions or {}, seen)
    default = settings.language
    languages = _index_languages(settings, further)
    rendered: list[tuple[str, RenderedIssue]] = []
    entries: list[ArchiveEntry] = []
    by_language: dict[str, list[ArchiveEntry]] = {lang: [] for lang in languages[1:]}
    feeds: dict[str, list[ArchiveEntry]] = {lang: [] for lang in languages[1:]}
    corrections = corrections or {}
    base_url = ordered[0].organisation.base_url if ordered else settings.base_url
    for snap in ordered:
        period = snap.issue.period
        fixes = list(corrections.get(period, ()))
        own = further.get(period, {})
        present = [snap.issue.language, *own]
        for edition in [None, *own]:
            ed_snap = own[edition] if edition else snap
            lang = edition or snap.issue.language
            folder = issue_path(period, edition)
            alternates = (issue_alternates(period, present, lang, base_url, snap.issue.language)
                          if len(present) > 1 else [])
            wants_pdf = period in pdf_periods or not (root / folder / PDF_FILE).exists()
            rendered.append((folder, render_issue(ed_snap, settings, fixes, pdf=wants_pdf, alternates=alternates,
                                                          media=photos, folder=root / period)))
            with use_language(lang):
                view = build_view(ed_snap, fixes)
                content = render_content(view, settings)
            index_lang = edition or default
            with use_language(index_lang):
                # The index is in its own language even when an issue is not.
                label = f"{format_day(snap.issue.period_start)} – {format_day(snap.issue.period_end)}"
            entry = replace(_entry(ed_snap, view, content, fixes), period_label=label)
            if edition is None:
                entries.append(entry)
            else:
                feeds[edition].append(entry)
        for lang in by_language:  # each language's index: its edition of the issue, else the default one
            ed_snap = own.get(lang, snap)
            with use_language(lang):
                view = build_view(ed_snap, fixes)
                label = f"{format_day(snap.issue.period_start)} – {format_day(snap.issue.period_end)}"
            by_language[lang].append(replace(_entry(ed_snap, view, "", fixes), period_label=label,
                                             href="../" + issue_path(period, lang if lang in own else None)))
    org_name = ordered[0].organisation.name if ordered else settings.org_name
    files: dict[str, str | bytes] = {}
    for folder, issue in rendered:
        files.update({f"{folder}{name}": text for name, text in issue.files().items()})
        if issue.pdf is not None:
            files[f"{folder}{PDF_FILE}"] = issue.pdf
        files.update({f"{issue.period}/{MEDIA_DIR}/{name}": data for name, data in issue.media.items()})
    files.update(load_assets(settings))
    files["index.html"] = render_index(entries, settings, org_name=org_name, base_url=base_url,
                                       corrections=corrections,
                                       alternates=index_alternates(languages, default, base_url, default)
                                       if len(languages) > 1 else ())
    files["feed.xml"] = feed_xml(entries, title=org_name, base_url=base_url, language=settings.language)
    for lang, lang_entries in by_language.items():
        files[f"{lang}/index.html"] = render_index(lang_entries, settings, org_name=org_name, base_url=base_url,
                                                   corrections=corrections, edition=lang,
                                                   alternates=index_alternates(languages, lang, base_url, default))
        files[feed_name(lang)] = feed_xml(feeds[lang], title=org_name, base_url=base_url, language=lang, edition=lang)
    report = ArchiveReport(issues_dir=root, periods=[s.issue.period for s in ordered],
                           feed_entries=min(len(entries), FEED_ENTRIES),
                           pdf_skipped=next((i.pdf_skipped for _, i in rendered if i.pdf_skipped), None))
    stage: Path | None = None
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{root.name}.staging-", dir=root.parent))
        for rel, text in files.items():
            _write(stage / rel, text)
    except OSError as exc:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)
        raise ArchiveWriteError(f"could not write the archive beside {root}: {exc.strerror or exc}; "
                                "the public archive is unchanged") from exc
    return StagedArchive(root=root, stage=stage, report=report)
