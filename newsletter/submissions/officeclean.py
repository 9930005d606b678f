"""DOCX and ODT packages rebuilt from an allow-list, read through a bounded unzipper.

Why an allow-list: an office file hides its authors in many places (people.xml, comments,
tracked changes, property files, rsid editing-session ids, template paths with Windows user
names, thumbnails, LibreOffice's meta.xml and settings) and can call home when opened (external
relationships: tracking images, UNC template paths that hand over the reader's credentials).
Deleting known bad parts misses the next one; instead a new package is written with only:

- DOCX: the main text, styles, numbering, footnotes, endnotes, headers and footers, and the
  pictures they show (re-encoded like photos). Package relationships, content types and the
  part relationships are written afresh; only internal relationships of those kinds survive.
- ODT: content.xml, styles.xml and the pictures (re-encoded); mimetype and manifest are new.

Each kept XML part is streamed through a SAX filter (defusedxml: no DTD, no entity) that accepts
tracked changes (insertions kept, deletions dropped), drops comments, field codes, embedded
objects, controls, scripts, forms, document-information fields, links and their targets, and
every author, date, rsid and unknown-namespace attribute or element. Everything else is dropped.

Bombs: the member count comes from the end record before the archive is opened, declared sizes
are checked before anything is read, and every member is read in chunks that stop at a cap on
its inflated size and on the total, whatever the archive declares.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO
from xml.sax import SAXException
from xml.sax.handler import ContentHandler, feature_namespaces
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesNSImpl

from defusedxml import DefusedXmlException
from defusedxml.expatreader import DefusedExpatParser

MAX_MEMBERS = 2000
MAX_MEMBER_BYTES = 32 * 1024 * 1024  # inflated size of one part
MAX_TOTAL_BYTES = 100 * 1024 * 1024  # inflated size of everything read from one file
MAX_RELS_BYTES = 1024 * 1024
CHUNK = 64 * 1024

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"


class OfficeRefused(Exception):
    """Why a package was refused: "damaged", "password" or "too_large" (a bomb, or far more than a
    text needs)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- bounded reading -------------------------------------------------------------------------

def entry_count(data: bytes) -> int:
    """Entries announced by the end-of-central-directory record, read before ZipFile builds a
    list of them (a small file can announce millions). ZIP64 archives are refused."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or len(data) < end + 22:
        raise OfficeRefused("damaged")
    _sig, _disk, _cd_disk, _here, total, _size, _offset, _comment = struct.unpack("<4s4H2LH", data[end:end + 22])
    if total == 0xFFFF or data.rfind(b"PK\x06\x06", max(0, end - 4096), end) >= 0:
        raise OfficeRefused("too_large")
    return total


@dataclass
class Budget:
    """What may still be inflated from one archive."""

    left: int = MAX_TOTAL_BYTES

    def chunks(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int = MAX_MEMBER_BYTES) -> Iterator[bytes]:
        """The member's bytes in chunks, stopping at `cap` and at the total budget; the declared size
        is checked first and the actual count on every chunk (a lying header gains nothing)."""
        if info.file_size > cap or info.file_size > self.left:
            raise OfficeRefused("too_large")
        seen = 0
        with archive.open(info) as member:
            while chunk := member.read(CHUNK):
                seen += len(chunk)
                self.left -= len(chunk)
                if seen > cap or self.left < 0:
                    raise OfficeRefused("too_large")
                yield chunk

    def read(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int = MAX_MEMBER_BYTES) -> bytes:
        return b"".join(self.chunks(archive, info, cap))


def open_archive(data: bytes) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
    """The archive and its members by name, after the count and declared-size checks."""
    if entry_count(data) > MAX_MEMBERS:
        raise OfficeRefused("too_large")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
        raise OfficeRefused("damaged") from None
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS or sum(i.file_size for i in infos) > MAX_TOTAL_BYTES * 4:
        archive.close()
        raise OfficeRefused("too_large")
    return archive, {i.filename: i for i in infos if not i.is_dir()}


def package_type(data: bytes) -> str | None:
    """DOCX, ODT or None, from the member names and at most 128 bytes of `mimetype`; declared sizes
    are not checked here (the cleaner refuses a bomb with its own message). Raises OfficeRefused
    when the archive announces too many members to even list them."""
    if entry_count(data) > MAX_MEMBERS:
        raise OfficeRefused("too_large")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "word/document.xml" in names and "[Content_Types].xml" in names:
                return DOCX
            if "mimetype" in names:
                with archive.open("mimetype") as member:
                    if member.read(128).strip() == ODT.encode():
                        return ODT
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError, NotImplementedError, KeyError):
        return None
    return None


# --- the streaming XML filter ----------------------------------------------------------------

XML_NS = "http://www.w3.org/XML/1998/namespace"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
PIC = "http://schemas.openxmlformats.org/drawingml/2006/picture"
V = "urn:schemas-microsoft-com:vml"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
O = "urn:schemas-microsoft-com:office:office"
OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
XLINK = "http://www.w3.org/1999/xlink"

Name = tuple[str | None, str]


@dataclass(frozen=True)
class Rules:
    """What a filter keeps: element namespaces, subtrees to drop, elements to unwrap (children
    kept), attribute namespaces, attributes to drop, and a test for reference attributes."""

    element_namespaces: frozenset[str]
    drop: frozenset[Name]
    unwrap: frozenset[Name]
    attribute_namespaces: frozenset[str | None]
    drop_attributes: frozenset[Name]
    drop_local_attributes: tuple[str, ...] = ()
    keep_reference: Callable[[Name, str], bool] = field(default=lambda _name, _value: True)
    blank: frozenset[tuple[Name, Name]] = frozenset()  # (element, attribute) whose value is emptied
    drop_if_dangling: frozenset[Name] = frozenset()  # elements dropped when their r:id is not kept
    word_fields: bool = False  # drop the shown result of fields that print an author, user or path


# Word fields whose shown result is a name, user, path or document property (FILENAME \p prints
# C:\Users\<name>\...): the result text is dropped with the field code.
IDENTIFYING_FIELDS = frozenset({"AUTHOR", "USERNAME", "USERINITIALS", "USERADDRESS", "FILENAME", "TEMPLATE",
                                "LASTSAVEDBY", "DOCPROPERTY", "INFO"})


def _identifying(instruction: str) -> bool:
    words = instruction.split()
    return bool(words) and words[0].upper() in IDENTIFYING_FIELDS


_OOXML_NS = frozenset({
    W, R, MC, O,
    "http://schemas.openxmlformats.org/drawingml/2006/main",
    "http://schemas.openxmlformats.org/drawingml/2006/picture",
    "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "http://schemas.openxmlformats.org/officeDocument/2006/math",
    "http://schemas.microsoft.com/office/word/2010/wordml",
    "http://schemas.microsoft.com/office/word/2012/wordml",
    "http://schemas.microsoft.com/office/word/2010/wordprocessingShape",
    "http://schemas.microsoft.com/office/word/2010/wordprocessingGroup",
    "http://schemas.microsoft.com/office/word/2010/wordprocessingCanvas",
    "http://schemas.microsoft.com/office/word/2010/wordprocessingDrawing",
    "http://schemas.microsoft.com/office/drawing/2010/main",
    "urn:schemas-microsoft-com:vml",
    "urn:schemas-microsoft-com:office:word",
})
_W_DROP = ("del", "moveFrom", "rPrChange", "pPrChange", "sectPrChange", "tblPrChange", "trPrChange", "tcPrChange",
           "tblGridChange", "numberingChange", "cellDel", "cellIns", "cellMerge", "commentRangeStart",
           "commentRangeEnd", "commentReference", "annotationRef", "moveFromRangeStart", "moveFromRangeEnd",
           "moveToRangeStart", "moveToRangeEnd", "customXmlInsRangeStart", "customXmlInsRangeEnd",
           "customXmlDelRangeStart", "customXmlDelRangeEnd", "customXmlMoveFromRangeStart",
           "customXmlMoveFromRangeEnd", "customXmlMoveToRangeStart", "customXmlMoveToRangeEnd", "instrText",
           "delInstrText", "delText", "object", "control", "altChunk", "subDoc", "dataBinding", "permStart",
           "permEnd", "attachedTemplate", "docVars", "fldData", "embedRegular", "embedBold", "embedItalic",
           "embedBoldItalic", "rsid", "rsids", "rsidRoot")
_W_UNWRAP = ("ins", "moveTo", "fldSimple", "hyperlink", "smartTag", "customXml")


def docx_rules(kept_ids: frozenset[str]) -> Rules:
    """The filter for a WordprocessingML part whose kept relationship ids are `kept_ids`."""

    def keep_reference(name: Name, value: str) -> bool:
        return name[0] != R or value in kept_ids

    return Rules(
        element_namespaces=_OOXML_NS,
        drop=frozenset({(W, n) for n in _W_DROP} | {(O, "OLEObject")}),
        unwrap=frozenset({(W, n) for n in _W_UNWRAP}),
        attribute_namespaces=_OOXML_NS | {None, XML_NS},
        drop_attributes=frozenset({(W, "author"), (W, "initials"), (W, "date"), (W, "ed"), (W, "edGrp"),
                                   (O, "title"), (O, "href"), (O, "althref"), (None, "alt"),
                                   ("http://schemas.microsoft.com/office/word/2010/wordml", "paraId"),
                                   ("http://schemas.microsoft.com/office/word/2010/wordml", "textId"),
                                   ("http://schemas.microsoft.com/office/word/2012/wordml", "userId"),
                                   ("http://schemas.microsoft.com/office/word/2012/wordml", "providerId")}),
        drop_local_attributes=("rsid",),
        keep_reference=keep_reference,
        # Older Word put the inserted picture's full path (C:\Users\<name>\...) into these.
        blank=frozenset({((WP, "docPr"), (None, "name")), ((WP, "docPr"), (None, "descr")),
                         ((WP, "docPr"), (None, "title")), ((PIC, "cNvPr"), (None, "name")),
                         ((PIC, "cNvPr"), (None, "descr")), ((PIC, "cNvPr"), (None, "title"))}),
        drop_if_dangling=frozenset({(W, "headerReference"), (W, "footerReference"), (W, "printerSettings")}),
        word_fields=True,
    )


_ODF_NS = frozenset({
    OFFICE, TEXT, DRAW, TABLE,
    "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0",
    "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0",
    "urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0",
    "urn:oasis:names:tc:opendocument:xmlns:field:1.0",
    "urn:org:documentfoundation:names:experimental:office:xmlns:loext:1.0",
    "http://openoffice.org/2009/office",
    "http://openoffice.org/2009/table",
    "http://openoffice.org/2010/draw",
    "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0",
    "http://www.w3.org/TR/css3-text/",
})
_ODT_DROP = {
    (OFFICE, "annotation"), (OFFICE, "annotation-end"), (OFFICE, "scripts"), (OFFICE, "script"),
    (OFFICE, "event-listeners"), (OFFICE, "forms"), (OFFICE, "binary-data"), (OFFICE, "dde-source"),
    (TEXT, "tracked-changes"), (TEXT, "change"), (TEXT, "change-start"), (TEXT, "change-end"),
    (TEXT, "section-source"), (TEXT, "dde-connection-decls"), (TEXT, "script"), (TEXT, "author-name"),
    (TEXT, "author-initials"), (TEXT, "initial-creator"), (TEXT, "creation-date"), (TEXT, "creation-time"),
    (TEXT, "modification-date"), (TEXT, "modification-time"), (TEXT, "editing-cycles"),
    (TEXT, "editing-duration"), (TEXT, "printed-by"), (TEXT, "print-date"), (TEXT, "print-time"),
    (TEXT, "user-defined"), (TEXT, "creator"), (TEXT, "database-display"), (TEXT, "database-next"),
    (TEXT, "database-row-select"), (TEXT, "database-row-number"), (TEXT, "database-name"),
    (TEXT, "file-name"), (TEXT, "template-name"), (TEXT, "title"), (TEXT, "subject"), (TEXT, "keywords"),
    (TEXT, "description"),
    (DRAW, "object"), (DRAW, "object-ole"), (DRAW, "applet"), (DRAW, "plugin"), (DRAW, "floating-frame"),
    (TABLE, "dde-links"), (TABLE, "table-source"),
} | {(TEXT, f"sender-{n}") for n in ("firstname", "lastname", "initials", "title", "position", "email",
                                       "phone-private", "fax", "company", "phone-work", "street", "city",
                                       "postal-code", "country", "state-or-province")}
_ODT_UNWRAP = {(TEXT, "a"), (DRAW, "a"), (TEXT, "meta"), (TEXT, "meta-field")}


def odt_rules(kept_parts: frozenset[str]) -> Rules:
    """The filter for content.xml and styles.xml; links (xlink:href) survive only to kept pictures."""

    def keep_reference(name: Name, value: str) -> bool:
        if name != (XLINK, "href"):
            return True
        return value.removeprefix("./") in kept_parts

    return Rules(
        element_namespaces=_ODF_NS,
        drop=frozenset(_ODT_DROP),
        unwrap=frozenset(_ODT_UNWRAP),
        attribute_namespaces=_ODF_NS | {None, XML_NS, XLINK},
        drop_attributes=frozenset({(TEXT, "protection-key"), (TEXT, "protection-key-digest-algorithm"),
                                   (TABLE, "protection-key"), (TABLE, "protection-key-digest-algorithm")}),
        drop_local_attributes=("rsid",),
        keep_reference=keep_reference,
    )


class _Filter(ContentHandler):
    """Forwards to an XMLGenerator what the rules keep. Comments and processing instructions
    never reach it (no lexical handler), so they are dropped too."""

    def __init__(self, out: IO[bytes], rules: Rules) -> None:
        super().__init__()
        self.gen = XMLGenerator(out, encoding="utf-8", short_empty_elements=True)
        self.rules = rules
        self.dropping = 0  # depth inside a dropped subtree
        self.stack: list[bool] = []  # per open element: was it written?
        self.mappings: dict[str, list[bool]] = {}
        self.root_attributes: dict[Name, str] = {}
        self.names: list[Name] = []  # every open element, written or not
        self.fields: list[list[str | bool]] = []  # open Word fields: [instruction, showing result]

    def startDocument(self) -> None:  # noqa: N802 - SAX names
        self.gen.startDocument()

    def endDocument(self) -> None:  # noqa: N802
        self.gen.endDocument()

    def startPrefixMapping(self, prefix: str | None, uri: str) -> None:  # noqa: N802
        # A namespace off the list is not even declared: its URI could carry a name too.
        forward = self.dropping == 0 and (uri in self.rules.element_namespaces or uri in self.rules.attribute_namespaces)
        self.mappings.setdefault(prefix or "", []).append(forward)
        if forward:
            self.gen.startPrefixMapping(prefix, uri)

    def endPrefixMapping(self, prefix: str | None) -> None:  # noqa: N802
        if self.mappings[prefix or ""].pop():
            self.gen.endPrefixMapping(prefix)

    def _declared(self, prefix: str) -> bool:
        found = self.mappings.get(prefix)
        return bool(found and found[-1])

    def startElementNS(self, name: Name, qname: str | None, attrs: AttributesNSImpl) -> None:  # noqa: N802
        rules = self.rules
        if not self.stack:
            self.root_attributes = dict(attrs.items())
        self.names.append(name)
        if rules.word_fields and not self.dropping and name == (W, "fldChar"):
            kind = attrs.get((W, "fldCharType"))
            if kind == "begin":
                self.fields.append(["", False])
            elif kind == "separate" and self.fields:
                self.fields[-1][1] = True
            elif kind == "end" and self.fields:
                self.fields.pop()
        if (self.dropping or name in rules.drop or (name[0] not in rules.element_namespaces and self.stack)
                or (name == (MC, "Choice") and not all(map(self._declared, attrs.get((None, "Requires"), "").split())))
                or (name in rules.drop_if_dangling and not rules.keep_reference((R, "id"), attrs.get((R, "id"), "")))
                or (rules.word_fields and name == (W, "fldSimple") and _identifying(attrs.get((W, "instr"), "")))):
            self.dropping += 1
            self.stack.append(False)
            return
        if name in rules.unwrap:
            self.stack.append(False)
            return
        values: dict[Name, str] = {}
        qnames: dict[Name, str] = {}
        for key, value in attrs.items():
            if (key[0] not in rules.attribute_namespaces or key in rules.drop_attributes
                    or any(p in key[1].lower() for p in rules.drop_local_attributes)
                    or not rules.keep_reference(key, value)):
                continue
            if key[0] == MC and key[1] in ("Ignorable", "ProcessContent", "MustUnderstand"):
                value = " ".join(p for p in value.split() if self._declared(p.split(":")[0]))
            if (name, key) in rules.blank:
                value = ""
            values[key] = value
            qnames[key] = attrs.getQNameByName(key)
        self.gen.startElementNS(name, qname, AttributesNSImpl(values, qnames))
        self.stack.append(True)

    def endElementNS(self, name: Name, qname: str | None) -> None:  # noqa: N802
        self.names.pop()
        written = self.stack.pop()
        if written:
            self.gen.endElementNS(name, qname)
        elif self.dropping:
            self.dropping -= 1

    def characters(self, content: str) -> None:
        if self.fields and self.names and self.names[-1] == (W, "instrText"):
            self.fields[-1][0] = str(self.fields[-1][0]) + content[:1000]
        if self.dropping:
            return
        if self.fields and any(showing and _identifying(str(code)) for code, showing in self.fields):
            return
        self.gen.characters(content)

    def ignorableWhitespace(self, content: str) -> None:  # noqa: N802
        self.characters(content)

    def processingInstruction(self, target: str, data: str) -> None:  # noqa: N802
        return


def filter_xml(chunks: Iterator[bytes], out: IO[bytes], rules: Rules) -> dict[Name, str]:
    """Stream one XML part through the rules into `out`; returns the root's attributes.
    A DTD, an entity or malformed XML raises OfficeRefused("damaged")."""
    handler = _Filter(out, rules)
    parser = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.setFeature(feature_namespaces, True)
    parser.setContentHandler(handler)
    try:
        for chunk in chunks:
            parser.feed(chunk)
        parser.close()
    except (SAXException, DefusedXmlException, ValueError, KeyError, UnicodeError):
        raise OfficeRefused("damaged") from None
    return handler.root_attributes


# --- DOCX ------------------------------------------------------------------------------------

REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_PART_TYPES = {
    "styles": "application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml",
    "numbering": "application/vnd.openxmlformats-officedocument.wordprocessingml.numbering+xml",
    "footnotes": "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml",
    "endnotes": "application/vnd.openxmlformats-officedocument.wordprocessingml.endnotes+xml",
    "header": "application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml",
    "footer": "application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml",
}
_MAIN_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_IMAGE_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "gif": "image/gif"}
_PART_NAME = re.compile(r"^word/(styles|numbering|footnotes|endnotes|header\d{0,3}|footer\d{0,3})\.xml$")
_MEDIA_NAME = re.compile(r"^word/media/[A-Za-z0-9_\-]{1,64}\.(png|jpeg|jpg|gif)$", re.IGNORECASE)
_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"


@dataclass(frozen=True)
class _Rel:
    rid: str
    kind: str  # the last part of the relationship type: styles, image ...
    target: str  # the part name inside the package


def _relationships(archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], part: str,
                   budget: Budget) -> list[_Rel]:
    """The internal relationships of `part` whose kind and target are on the allow-list."""
    from defusedxml import ElementTree

    folder, base = posixpath.split(part)
    info = members.get(posixpath.join(folder, "_rels", base + ".rels"))
    if info is None:
        return []
    try:
        root = ElementTree.fromstring(budget.read(archive, info, MAX_RELS_BYTES), forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        raise OfficeRefused("damaged") from None
    found = []
    for rel in root.iter(f"{{{_RELS_NS}}}Relationship"):
        rid, kind, target = rel.get("Id", ""), rel.get("Type", ""), rel.get("Target", "")
        if rel.get("TargetMode", "Internal") != "Internal" or not kind.startswith(REL) or "://" in target:
            continue  # an external relationship (tracking image, template path) never survives
        name = posixpath.normpath(target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target))
        kind = kind.removeprefix(REL)
        allowed = (kind == "image" and _MEDIA_NAME.match(name)) or (
            part == "word/document.xml" and kind in _PART_TYPES and _PART_NAME.match(name)
            and name.startswith(f"word/{kind}"))
        if allowed and name in members and re.fullmatch(r"[A-Za-z0-9_]{1,32}", rid):
            found.append(_Rel(rid, kind, name))
    return found


def _rels_xml(rels: list[_Rel], part: str) -> bytes:
    folder = posixpath.dirname(part)
    lines = [f'<Relationship Id="{r.rid}" Type="{REL}{r.kind}" Target="{posixpath.relpath(r.target, folder)}"/>'
             for r in rels]
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_RELS_NS}">'
            + "".join(lines) + "</Relationships>").encode()


def rebuild_docx(data: bytes, clean_image: Callable[[bytes, str], bytes]) -> bytes:
    """A new DOCX with only the allow-listed parts, filtered; pictures go through `clean_image`."""
    archive, members = open_archive(data)
    budget = Budget()
    out = io.BytesIO()
    with archive, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        if "word/document.xml" not in members:
            raise OfficeRefused("damaged")
        overrides = {"word/document.xml": _MAIN_TYPE}
        media: set[str] = set()
        main_rels = _relationships(archive, members, "word/document.xml", budget)
        parts = {"word/document.xml": main_rels}
        for rel in main_rels:
            if rel.kind in _PART_TYPES and rel.target not in parts:
                parts[rel.target] = _relationships(archive, members, rel.target, budget)
                overrides[rel.target] = _PART_TYPES[rel.kind]
        for part, rels in parts.items():
            rels = [r for r in rels if r.kind != "image" or r.target in media or _add_media(
                archive, members, r.target, budget, dst, clean_image, media)]
            kept = frozenset(r.rid for r in rels)
            with dst.open(_entry(part), "w") as target:
                filter_xml(budget.chunks(archive, members[part]), target, docx_rules(kept))
            if rels:
                folder, base = posixpath.split(part)
                dst.writestr(_entry(posixpath.join(folder, "_rels", base + ".rels")), _rels_xml(rels, part))
        extensions = sorted({m.rsplit(".", 1)[1].lower() for m in media})
        types = ['<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>',
                 '<Default Extension="xml" ContentType="application/xml"/>']
        types += [f'<Default Extension="{e}" ContentType="{_IMAGE_TYPES[e]}"/>' for e in extensions]
        types += [f'<Override PartName="/{p}" ContentType="{t}"/>' for p, t in overrides.items()]
        dst.writestr(_entry("[Content_Types].xml"), (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org'
            '/package/2006/content-types">' + "".join(types) + "</Types>").encode())
        dst.writestr(_entry("_rels/.rels"), _rels_xml([_Rel("rId1", "officeDocument", "word/document.xml")], ""))
    return out.getvalue()


def _add_media(archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], name: str, budget: Budget,
               dst: zipfile.ZipFile, clean_image: Callable[[bytes, str], bytes], media: set[str]) -> bool:
    dst.writestr(_entry(name), clean_image(budget.read(archive, members[name]), name))
    media.add(name)
    return True


def _entry(name: str, method: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    """A member with a fixed date, so nothing about when or where the file was made survives."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = method
    info.external_attr = 0o644 << 16
    return info


# --- ODT -------------------------------------------------------------------------------------

_PICTURE_NAME = re.compile(r"^Pictures/[A-Za-z0-9_\-.]{1,80}\.(png|jpeg|jpg|gif)$", re.IGNORECASE)


def rebuild_odt(data: bytes, clean_image: Callable[[bytes, str], bytes]) -> bytes:
    """A new ODT: mimetype, content.xml, styles.xml, the pictures, and a new manifest."""
    archive, members = open_archive(data)
    budget = Budget()
    out = io.BytesIO()
    with archive, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        if "content.xml" not in members:
            raise OfficeRefused("damaged")
        manifest = members.get("META-INF/manifest.xml")
        if manifest is not None and b"encryption-data" in budget.read(archive, manifest, MAX_RELS_BYTES):
            raise OfficeRefused("password")
        dst.writestr(_entry("mimetype", zipfile.ZIP_STORED), ODT.encode())  # first and uncompressed, as ODF asks
        pictures = sorted(n for n in members if _PICTURE_NAME.match(n))
        for name in pictures:
            dst.writestr(_entry(name), clean_image(budget.read(archive, members[name]), name))
        rules = odt_rules(frozenset(pictures))
        version = "1.2"
        for part in ("content.xml", "styles.xml"):
            if part not in members:
                continue
            with dst.open(_entry(part), "w") as target:
                root = filter_xml(budget.chunks(archive, members[part]), target, rules)
            if part == "content.xml":
                found = root.get((OFFICE, "version"), "1.2")
                version = found if re.fullmatch(r"1\.[0-9]", found) else "1.2"
        entries = [f'<manifest:file-entry manifest:full-path="/" manifest:version="{version}" '
                   f'manifest:media-type="{ODT}"/>']
        entries += [f'<manifest:file-entry manifest:full-path="{p}" manifest:media-type="text/xml"/>'
                    for p in ("content.xml", "styles.xml") if p in members]
        entries += [f'<manifest:file-entry manifest:full-path="{p}" manifest:media-type="'
                    f'{_IMAGE_TYPES[p.rsplit(".", 1)[1].lower()]}"/>' for p in pictures]
        dst.writestr(_entry("META-INF/manifest.xml"), (
            '<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
            f'opendocument:xmlns:manifest:1.0" manifest:version="{version}">' + "".join(entries)
            + "</manifest:manifest>").encode())
    return out.getvalue()
