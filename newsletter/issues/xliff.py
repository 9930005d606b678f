"""XLIFF 2.0 exchange with outside translators: one further edition of an issue out, translated words back in.

Export: one <file id="issue-N"> per issue; first one <unit id="issue"> for the issue's own texts, with a
<segment> per text the edition needs (id "issue-title", "-intro", "-preheader", "-editors_note",
"-editors_note_signature"; an automatic week title is not among them), then one <unit id="item-ID"> per
published item, one <segment> per part the original has (id "item-ID-headline", "-text", "-quote",
"-photo_caption": stable per item and part); the original as <source>, the current translation as
<target>, and the segment's state (initial: no translation; translated: a draft; final: done).

Import is all or nothing and trusts nothing: the file is parsed by lxml with no DTD, no entities and no
network (a DOCTYPE or entity declaration is refused before parsing: XXE, billion laughs); the root must be
XLIFF 2.0 in its namespace; trgLang a further edition; the issue must exist and not be frozen; every unit
an item of that issue; a <target> plain text or Markdown (inline XLIFF markup is refused, the words are
cleaned as the desk cleans them). Every problem is reported with its line; any problem changes nothing
(ImportRefused; the caller's transaction is rolled back). A target whose <source> no longer matches the
item's original (it was edited after the export) is kept as a draft, never done.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.issues import issue_texts
from newsletter.issues import translations as tr
from newsletter.issues.errors import IssueError, IssueNotFound
from newsletter.issues.service import resolve_issue
from newsletter.models import Issue, IssueItem, User
from newsletter.states import issue_frozen

NS = "urn:oasis:names:tc:xliff:document:2.0"
MAX_BYTES = 10 * 1024 * 1024
STATE_OUT = {"missing": "initial", "draft": "translated", "done": "final"}
_Q = f"{{{NS}}}"
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_FILE_ID = re.compile(r"issue-(\d+)")
_UNIT_ID = re.compile(r"item-([1-9]\d*)")  # never 0: that is the issue unit's key in _read
_SEGMENT_ID = re.compile(r"item-(\d+)-(headline|text|quote|photo_caption)")
ISSUE_UNIT = "issue"
_ISSUE_SEGMENT_ID = re.compile(r"issue-(" + "|".join(issue_texts.FIELDS) + ")")

__all__ = ["ImportRefused", "ImportReport", "NS", "export_xliff", "import_xliff"]


class ImportRefused(IssueError):
    """The file was refused; `errors` lists every problem found, each with its line. Nothing was changed."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} problem(s): " + "; ".join(errors[:3]))


@dataclass
class ImportReport:
    issue_number: int
    language: str
    units: int = 0
    done: int = 0
    draft: int = 0
    unchanged: int = 0
    stale: list[int] = field(default_factory=list)  # items whose original changed since the export
    issue_texts: str = ""  # the issue's own texts: "" (not in the file), "done", "draft" or "unchanged"
    issue_texts_stale: bool = False  # kept as draft: an original text changed since the export


# ---------------------------------------------------------------- export


def export_xliff(session: Session, issue_ref: str, language: str, *, settings: Settings) -> tuple[Issue, bytes]:
    """The issue's published items for translation into `language`, as an XLIFF 2.0 document."""
    issue = resolve_issue(session, issue_ref)
    _check_language(language, settings)
    root = etree.Element(f"{_Q}xliff", nsmap={None: NS}, version="2.0", srcLang=settings.default_language,
                         trgLang=language)
    file_el = etree.SubElement(root, f"{_Q}file", id=f"issue-{issue.number}", original=issue.period)
    notes = etree.SubElement(file_el, f"{_Q}notes")
    etree.SubElement(notes, f"{_Q}note").text = (
        f"Issue {issue.number} ({issue.period}) into {language}. Translate the targets as plain text or Markdown "
        "(no markup inside <target>); set a segment's state to final when it is done.")
    _export_issue_unit(file_el, issue, language)
    for item in tr.translatable_items(issue):
        row = tr.row_for(item, language, issue)
        original = tr.original_fields(item).as_dict()
        unit = etree.SubElement(file_el, f"{_Q}unit", id=f"item-{item.id}")
        if row.allow_original:
            unit_notes = etree.SubElement(unit, f"{_Q}notes")
            etree.SubElement(unit_notes, f"{_Q}note").text = "The editors allowed the original in this edition."
        for name in tr.FIELDS:
            if not original[name].strip():
                continue
            target = getattr(row, name) or ""
            state = STATE_OUT[row.state] if target else "initial"
            segment = etree.SubElement(unit, f"{_Q}segment", id=f"item-{item.id}-{name}", state=state)
            etree.SubElement(segment, f"{_Q}source").text = original[name]
            if target:
                etree.SubElement(segment, f"{_Q}target").text = target
    return issue, etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _export_issue_unit(file_el: etree._Element, issue: Issue, language: str) -> None:
    """The issue's own texts as the first unit (none when every one is empty or automatic)."""
    needed = issue_texts.to_translate(issue)
    if not needed:
        return
    row = issue_texts.row_for(issue, language)
    original = issue_texts.original_texts(issue).as_dict()
    unit = etree.SubElement(file_el, f"{_Q}unit", id=ISSUE_UNIT)
    unit_notes = etree.SubElement(unit, f"{_Q}notes")
    etree.SubElement(unit_notes, f"{_Q}note").text = (
        "The issue's own texts: its title (the email's subject), intro, preheader and editor's note (Markdown)."
        + (" The editors allowed the original in this edition." if row.allow_original else ""))
    for name in needed:
        target = getattr(row, name) or ""
        state = STATE_OUT[row.state] if target else "initial"
        segment = etree.SubElement(unit, f"{_Q}segment", id=f"issue-{name}", state=state)
        etree.SubElement(segment, f"{_Q}source").text = original[name]
        if target:
            etree.SubElement(segment, f"{_Q}target").text = target


def _check_language(language: str, settings: Settings) -> None:
    if language not in tr.further_editions(settings):
        editions = ", ".join(tr.further_editions(settings)) or "none: NEWSLETTER_LANGUAGES lists one language"
        raise IssueError(f"{language!r} is not a further edition of this newsletter (further editions: {editions})")


# ---------------------------------------------------------------- import


@dataclass
class _Segment:
    item_id: int  # 0: the issue's own texts (unit "issue")
    name: str
    state: str
    source: str
    target: str | None
    line: int


def _parse(data: bytes) -> etree._Element:
    """The document's root, parsed safely; ImportRefused (with the line) for anything that is not plain XML."""
    if len(data) > MAX_BYTES:
        raise ImportRefused([f"line 1: the file is larger than {MAX_BYTES // (1024 * 1024)} MB"])
    if m := _DECLARATION.search(data):
        line = data.count(b"\n", 0, m.start()) + 1
        raise ImportRefused([f"line {line}: a DOCTYPE or entity declaration is not allowed in a translation file"])
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ImportRefused([f"line {exc.lineno or 1}: not well-formed XML ({exc.msg})"]) from None
    if root.tag != f"{_Q}xliff" or root.get("version") != "2.0":
        found = etree.QName(root).namespace or "no namespace"
        raise ImportRefused([f"line {root.sourceline}: not an XLIFF 2.0 document (expected <xliff version=\"2.0\"> "
                             f"in {NS}; found <{etree.QName(root).localname}> in {found}, version "
                             f"{root.get('version')!r})"])
    return root


def _text_only(el: etree._Element, errors: list[str]) -> str:
    """An element's words; inline XLIFF or HTML markup inside it is refused (plain text or Markdown only)."""
    for child in el:
        errors.append(f"line {child.sourceline}: markup <{etree.QName(child).localname}> inside "
                      f"<{etree.QName(el).localname}> is not allowed: plain text or Markdown only")
    return el.text or ""


def _read(root: etree._Element, errors: list[str]) -> tuple[int | None, list[_Segment], dict[int, int]]:
    """The file's issue number, its segments, and each unit's line (by item id; 0: the issue's own texts)."""
    files = root.findall(f"{_Q}file")
    if len(files) != 1:
        errors.append(f"line {root.sourceline}: expected exactly one <file> (one issue), found {len(files)}")
        return None, [], {}
    file_el = files[0]
    m = _FILE_ID.fullmatch(file_el.get("id") or "")
    if m is None:
        errors.append(f"line {file_el.sourceline}: <file id> must name the issue as issue-NUMBER "
                      f"(found {file_el.get('id')!r})")
        return None, [], {}
    segments: list[_Segment] = []
    units: dict[int, int] = {}
    for child in file_el:
        name = etree.QName(child).localname
        if name == "notes":
            continue
        if name != "unit" or etree.QName(child).namespace != NS:
            errors.append(f"line {child.sourceline}: unexpected <{name}> in <file> (only <unit> and <notes>)")
            continue
        if child.get("id") == ISSUE_UNIT:
            _read_issue_unit(child, errors, segments, units)
            continue
        um = _UNIT_ID.fullmatch(child.get("id") or "")
        if um is None:
            errors.append(f"line {child.sourceline}: unit id {child.get('id')!r} is neither {ISSUE_UNIT} nor item-ID")
            continue
        item_id = int(um.group(1))
        if item_id in units:
            errors.append(f"line {child.sourceline}: unit item-{item_id} appears twice (first on line {units[item_id]})")
            continue
        units[item_id] = child.sourceline
        for seg in child.iter(f"{_Q}segment"):
            sm = _SEGMENT_ID.fullmatch(seg.get("id") or "")
            if sm is None or int(sm.group(1)) != item_id:
                errors.append(f"line {seg.sourceline}: segment id {seg.get('id')!r} is not item-{item_id}-PART "
                              f"(PART: {', '.join(tr.FIELDS)})")
                continue
            _read_segment(seg, item_id, sm.group(2), errors, segments)
    return int(m.group(1)), segments, units


def _read_issue_unit(unit: etree._Element, errors: list[str], segments: list[_Segment], units: dict[int, int]) -> None:
    """The issue's own texts: segments issue-TEXT, each TEXT at most once."""
    if 0 in units:
        errors.append(f"line {unit.sourceline}: unit {ISSUE_UNIT} appears twice (first on line {units[0]})")
        return
    units[0] = unit.sourceline
    seen: set[str] = set()
    for seg in unit.iter(f"{_Q}segment"):
        sm = _ISSUE_SEGMENT_ID.fullmatch(seg.get("id") or "")
        if sm is None:
            errors.append(f"line {seg.sourceline}: segment id {seg.get('id')!r} is not issue-TEXT "
                          f"(TEXT: {', '.join(issue_texts.FIELDS)})")
            continue
        if sm.group(1) in seen:
            errors.append(f"line {seg.sourceline}: segment {seg.get('id')} appears twice")
            continue
        seen.add(sm.group(1))
        _read_segment(seg, 0, sm.group(1), errors, segments)


def _read_segment(seg: etree._Element, item_id: int, name: str, errors: list[str], segments: list[_Segment]) -> None:
    state = seg.get("state", "initial")
    if state not in ("initial", "translated", "reviewed", "final"):
        errors.append(f"line {seg.sourceline}: state {state!r} is not initial, translated, reviewed or final")
        return
    source_el, target_el = seg.find(f"{_Q}source"), seg.find(f"{_Q}target")
    source = _text_only(source_el, errors) if source_el is not None else ""
    target = _text_only(target_el, errors) if target_el is not None else None
    segments.append(_Segment(item_id, name, state, source, target, seg.sourceline))


def import_xliff(session: Session, data: bytes, *, settings: Settings, actor: User | str) -> ImportReport:
    """Apply a translated XLIFF 2.0 file to its issue's edition, all or nothing (ImportRefused lists the problems)."""
    root = _parse(data)
    errors: list[str] = []
    language = root.get("trgLang") or ""
    if language not in tr.further_editions(settings):
        errors.append(f"line {root.sourceline}: trgLang {language!r} is not a further edition of this newsletter "
                      f"(further editions: {', '.join(tr.further_editions(settings)) or 'none'})")
    number, segments, units = _read(root, errors)
    issue: Issue | None = None
    if number is not None:
        try:
            issue = resolve_issue(session, number)
        except IssueNotFound:
            errors.append(f"line {root.find(f'{_Q}file').sourceline}: there is no issue {number}")
    if issue is not None and issue_frozen(issue):
        errors.append(f"line {root.find(f'{_Q}file').sourceline}: issue {issue.number} was already sent or published; "
                      "its translations cannot change")
    if errors or issue is None:
        raise ImportRefused(errors or ["line 1: the file names no issue"])
    items = {i.id: i for i in tr.translatable_items(issue)}
    for item_id, line in units.items():
        if item_id and item_id not in items:
            errors.append(f"line {line}: unit item-{item_id} is not a published item of issue {issue.number}")
    for seg in segments:
        if seg.target is not None:
            try:
                seg.target = (issue_texts.clean if seg.item_id == 0 else tr.clean_field)(seg.name, seg.target)
            except IssueError as exc:
                errors.append(f"line {seg.line}: {exc}")
    if errors:
        raise ImportRefused(errors)
    report = ImportReport(issue.number, language)
    if 0 in units:
        _apply_issue_unit(session, issue, language, [s for s in segments if s.item_id == 0], settings=settings,
                          actor=actor, report=report, line=units[0], errors=errors)
    for item_id, line in units.items():
        if item_id == 0:
            continue
        _apply_unit(session, issue, items[item_id], language, [s for s in segments if s.item_id == item_id],
                    settings=settings, actor=actor, report=report, line=line, errors=errors)
    if errors:
        raise ImportRefused(errors)
    return report


def _apply_unit(session: Session, issue: Issue, item: IssueItem, language: str, segments: list[_Segment], *,
                settings: Settings, actor: User | str, report: ImportReport, line: int, errors: list[str]) -> None:
    """One unit's targets onto the item's row: done when every segment is final and its source still current."""
    row = tr.row_for(item, language, issue)
    words = {name: getattr(row, name) or "" for name in tr.FIELDS}
    original = tr.original_fields(item).as_dict()
    given = [s for s in segments if s.target is not None]
    for seg in given:
        words[seg.name] = seg.target or ""
    stale = any(s.source.strip() != original[s.name].strip() for s in given)
    if not given:
        report.unchanged += 1
        return
    if all(s.state == "final" for s in segments) and segments and not stale:
        state = "done"
    else:
        state = "draft" if any(words.values()) else "missing"
    if stale:
        report.stale.append(item.id)
    before = (row.state, *(getattr(row, n) for n in tr.FIELDS))
    try:
        saved = tr.set_translation(session, issue, item, language, tr.TranslationFields(**words), state=state,
                                   settings=settings, actor=actor)
    except IssueError as exc:
        errors.append(f"line {line}: unit item-{item.id}: {exc}")
        return
    if before == (saved.state, *(getattr(saved, n) for n in tr.FIELDS)):
        report.unchanged += 1
        return
    report.units += 1
    if saved.state == "done":
        report.done += 1
    else:
        report.draft += 1


def _apply_issue_unit(session: Session, issue: Issue, language: str, segments: list[_Segment], *, settings: Settings,
                      actor: User | str, report: ImportReport, line: int, errors: list[str]) -> None:
    """The issue unit's targets onto the issue's row: done when every segment is final, its source still the
    current original, and every text the edition needs has its words; a draft otherwise."""
    row = issue_texts.row_for(issue, language)
    words = {name: getattr(row, name) or "" for name in issue_texts.FIELDS}
    original = issue_texts.original_texts(issue).as_dict()
    given = [s for s in segments if s.target is not None]
    if not given:
        report.issue_texts = "unchanged"
        return
    for seg in given:
        words[seg.name] = seg.target or ""
    stale = any(s.source.strip() != original[s.name].strip() for s in given)
    complete = all(words[name] for name in issue_texts.to_translate(issue))
    if all(s.state == "final" for s in segments) and complete and not stale:
        state = "done"
    else:
        state = "draft" if any(words.values()) else "missing"
    report.issue_texts_stale = stale
    before = (row.state, *(getattr(row, n) for n in issue_texts.FIELDS))
    try:
        saved = issue_texts.set_texts(session, issue, language, issue_texts.IssueTexts(**words), state=state,
                                      editions=tr.further_editions(settings), actor=actor)
    except IssueError as exc:
        errors.append(f"line {line}: unit {ISSUE_UNIT}: {exc}")
        return
    after = (saved.state, *(getattr(saved, n) for n in issue_texts.FIELDS))
    report.issue_texts = "unchanged" if before == after else saved.state
