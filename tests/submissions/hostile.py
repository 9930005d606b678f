"""Hostile attachments built in memory: canaries planted in every place a file can hide its author,
and bombs. Every canary contains CANARY, so one search (case-insensitive) finds any survivor."""

from __future__ import annotations

import io
import zipfile
import zlib
from functools import lru_cache

import pikepdf
from PIL import Image

from tests.submissions import samples

CANARY = b"CNRY"


def canary(where: str) -> str:
    return f"CNRY-{where}"


# --- PDF -------------------------------------------------------------------------------------

def _filespec(pdf: pikepdf.Pdf, where: str) -> pikepdf.Dictionary:
    embedded = pikepdf.Stream(pdf, f"attached file {canary(where)}".encode() * 20)
    embedded.Type = pikepdf.Name.EmbeddedFile
    embedded.Params = pikepdf.Dictionary(ModDate=pikepdf.String(f"D:20261101 {canary(where + '-date')}"))
    return pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Filespec, F=pikepdf.String(f"{canary(where)}.txt"),
        UF=pikepdf.String(f"{canary(where)}.txt"), Desc=pikepdf.String(canary(where + "-desc")),
        AFRelationship=pikepdf.Name.Source, EF=pikepdf.Dictionary(F=embedded)))


def _action(kind: str, **entries: object) -> pikepdf.Dictionary:
    return pikepdf.Dictionary(Type=pikepdf.Name.Action, S=pikepdf.Name("/" + kind), **entries)


def hostile_pdf(*, pages: int = 2) -> bytes:
    """A PDF whose page shows a red rectangle and a GPS-tagged JPEG, and that hides canaries in the
    document info, XMP, attached files (annotation, EmbeddedFiles name tree, PDF/A-3 /AF), comment
    authors and dates, every kind of action, an outline and a form. Streams are compressed."""
    pdf = pikepdf.new()
    photo = pikepdf.Stream(pdf, samples.jpeg_with_gps())
    photo.Type, photo.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    photo.Width, photo.Height, photo.BitsPerComponent = 64, 48, 8
    photo.ColorSpace, photo.Filter = pikepdf.Name.DeviceRGB, pikepdf.Name.DCTDecode
    for number in range(pages):
        pdf.add_blank_page(page_size=(300, 300))
        page = pdf.pages[number]
        page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Photo=photo))
        # A red rectangle in the lower half, the photo in the upper left, a comment in a content stream.
        page.Contents = pdf.make_stream(f"% {canary('content-comment')}\n1 0 0 rg 50 40 200 100 re f\n"
                                        "q 128 0 0 96 20 180 cm /Photo Do Q\n".encode())
        annots = [
            pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.FileAttachment,
                               Rect=[260, 260, 280, 280], FS=_filespec(pdf, f"annot-file-{number}"),
                               T=pikepdf.String(canary("annot-author")), M=pikepdf.String(f"D:2026 {canary('m')}"),
                               Contents=pikepdf.String(canary("annot-contents"))),
            pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Text, Rect=[10, 10, 20, 20],
                               T=pikepdf.String(canary("comment-author")),
                               CreationDate=pikepdf.String(canary("creation-date")),
                               Contents=pikepdf.String(canary("comment-text"))),
            pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 5, 5],
                               A=_action("SubmitForm", F=pikepdf.Dictionary(
                                   FS=pikepdf.Name.URL, F=pikepdf.String(f"https://{canary('submit')}.example/")))),
            pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[5, 0, 10, 5],
                               A=_action("ImportData", F=pikepdf.String(canary("import-data")))),
            pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[10, 0, 15, 5],
                               A=_action("GoToR", F=pikepdf.String(f"\\\\{canary('unc')}\\share\\x.pdf"),
                                         D=pikepdf.Array([0, pikepdf.Name.Fit]))),
            pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[15, 0, 20, 5],
                               A=_action("Launch", F=pikepdf.String(canary("launch.exe")))),
        ]
        page.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(a) for a in annots]))
        page.AA = pikepdf.Dictionary(O=_action("JavaScript", JS=pdf.make_stream(canary("page-js").encode())))
    pdf.Root.OpenAction = _action("JavaScript", JS=pikepdf.String(f"app.alert('{canary('open-js')}')"))
    pdf.Root.Names = pikepdf.Dictionary(
        EmbeddedFiles=pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("a"), _filespec(pdf, "name-tree")])),
        JavaScript=pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("b"), _action(
            "JavaScript", JS=pikepdf.String(canary("named-js")))])))
    pdf.Root.AF = pikepdf.Array([_filespec(pdf, "pdfa3-af")])
    outline = pdf.make_indirect(pikepdf.Dictionary(Title=pikepdf.String(canary("outline")), Parent=None))
    outlines = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Outlines, First=outline, Last=outline, Count=1))
    outline.Parent = outlines
    pdf.Root.Outlines = outlines
    field = pdf.make_indirect(pikepdf.Dictionary(FT=pikepdf.Name.Tx, T=pikepdf.String(canary("field-name")),
                                                 V=pikepdf.String(canary("field-value"))))
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([field]))
    pdf.docinfo["/Author"] = canary("info-author")
    pdf.docinfo["/Creator"] = canary("info-creator")
    pdf.docinfo["/Producer"] = samples.CAMERA
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = [canary("xmp-creator")]
        meta["xmp:CreatorTool"] = canary("xmp-tool")
    buf = io.BytesIO()
    pdf.save(buf, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return buf.getvalue()


def every_pdf_byte(data: bytes) -> bytes:
    """The file as stored plus every stream decompressed, plus every string as text: what a search
    for a canary has to look through."""
    chunks = [data]
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Stream):
                chunks.append(obj.read_raw_bytes())
                try:
                    chunks.append(obj.read_bytes())
                except pikepdf.PdfError:
                    pass
            chunks.append(repr(obj).encode("utf-8", "replace"))
        chunks.append(repr(pdf.trailer).encode("utf-8", "replace"))
    return b"\n".join(chunks)


def pdf_with_huge_image(side: int = 30_000) -> bytes:
    """One page showing a 1-bit image of side x side pixels: 100 KB on disk, gigabytes decoded."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(300, 300))
    row = (side + 7) // 8
    raw = zlib.compress(b"\x00" * (row * side), 9)
    image = pikepdf.Stream(pdf, raw)
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Width, image.Height, image.BitsPerComponent = side, side, 1
    image.ColorSpace, image.Filter = pikepdf.Name.DeviceGray, pikepdf.Name.FlateDecode
    page = pdf.pages[0]
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Big=image))
    page.Contents = pdf.make_stream(b"q 300 0 0 300 0 0 cm /Big Do Q")
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


# --- DOCX ------------------------------------------------------------------------------------

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
NS = (f'xmlns:w="{W}" xmlns:r="{REL}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
      'xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml" '
      'xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml" '
      'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
      'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
      'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture" '
      'xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:v="urn:schemas-microsoft-com:vml" '
      'xmlns:x="urn:cnry-unknown-namespace" mc:Ignorable="w14 w15"')


def _rels(*rels: tuple[str, str, str, str]) -> str:
    items = "".join(f'<Relationship Id="{i}" Type="{REL}/{t}" Target="{target}"'
                    + (' TargetMode="External"' if mode else "") + "/>" for i, t, target, mode in rels)
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{PKG}">{items}</Relationships>'


def _picture(rel_attr: str) -> str:
    """A picture as Word writes it; older Word put the file's full path into the names and description."""
    path = f"C:\\Users\\{canary('picture-path')}\\Pictures\\IMG_0001.jpg"
    return (f'<w:r><w:drawing><wp:inline><wp:extent cx="600000" cy="450000"/><wp:docPr id="1" name="{path}" '
            f'descr="{path}" title="{canary("picture-title")}"/><a:graphic><a:graphicData uri="http://schemas.'
            f'openxmlformats.org/drawingml/2006/picture"><pic:pic><pic:nvPicPr><pic:cNvPr id="0" name="{path}"/>'
            f"<pic:cNvPicPr/></pic:nvPicPr><pic:blipFill><a:blip {rel_attr}/></pic:blipFill></pic:pic>"
            f"</a:graphicData></a:graphic></wp:inline></w:drawing></w:r>")


def hostile_docx(*, picture: bytes | None = None) -> bytes:
    """A DOCX with canaries in people.xml, comments, property files, the thumbnail, rsids, tracked
    changes, field codes, permissions, custom XML, an unknown namespace, an OLE object, macros,
    ActiveX, external relationships (tracking image, hyperlink, UNC template path) and settings."""
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><!-- {canary("xml-comment")} -->'
        f'<?cnry-pi {canary("pi")}?><w:document {NS}><w:body>'
        f'<w:p w:rsidR="{canary("rsid-r")}" w:rsidRDefault="{canary("rsid-default")}" w14:paraId="{canary("para")}" '
        f'w14:textId="{canary("textid")}" x:tag="{canary("unknown-attr")}"><w:pPr><w:rPr><w:ins w:id="9" '
        f'w:author="{canary("mark-author")}" w:date="2026-11-01T10:00:00Z"/></w:rPr></w:pPr>'
        f'<w:r w:rsidRPr="{canary("rsid-rpr")}"><w:rPr><w:b/><w:rPrChange w:id="3" w:author="{canary("fmt-author")}"'
        f' w:date="2026-11-01T10:00:00Z"><w:rPr/></w:rPrChange></w:rPr><w:t xml:space="preserve">Searched at dawn'
        f"</w:t></w:r>"
        f'<w:ins w:id="1" w:author="{canary("ins-author")}" w:date="2026-11-01T10:00:00Z"><w:r><w:t> kept insertion'
        f"</w:t></w:r></w:ins>"
        f'<w:del w:id="2" w:author="{canary("del-author")}" w:date="2026-11-01T10:00:00Z"><w:r><w:delText>'
        f"{canary('deleted-text')}</w:delText></w:r></w:del>"
        f'<w:commentRangeStart w:id="0"/><w:r><w:t> commented words</w:t></w:r><w:commentRangeEnd w:id="0"/>'
        f'<w:r><w:commentReference w:id="0"/></w:r>'
        f'<w:hyperlink r:id="rIdLink"><w:r><w:t> link text</w:t></w:r></w:hyperlink>'
        f'<w:fldSimple w:instr="INCLUDEPICTURE &quot;\\\\{canary("unc-field")}\\share\\a.png&quot;"><w:r><w:t> field '
        f"result</w:t></w:r></w:fldSimple>"
        f'<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>INCLUDETEXT "{canary("instr")}"</w:instrText>'
        f'</w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t> cached result</w:t></w:r>'
        f'<w:r><w:fldChar w:fldCharType="end"/></w:r>'
        f'<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> FILE</w:instrText></w:r><w:r>'
        f'<w:instrText>NAME \\p </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>'
        f'C:\\Users\\{canary("filename-field")}\\statement.docx</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/>'
        f'</w:r><w:fldSimple w:instr=" AUTHOR \\* MERGEFORMAT "><w:r><w:t>{canary("author-field")}</w:t></w:r>'
        f'</w:fldSimple><w:r><w:pict><v:shape alt="{canary("vml-alt")}" o:href="https://{canary("vml")}.example/">'
        f'<v:imagedata r:id="rIdImg" o:title="{canary("vml-title")}"/></v:shape></w:pict></w:r>'
        f'<w:permStart w:id="5" w:ed="{canary("perm-editor")}"/><w:permEnd w:id="5"/>'
        f'<w:customXml w:element="{canary("custom-element")}"><w:r><w:t> custom xml text</w:t></w:r></w:customXml>'
        f'<x:secret>{canary("unknown-element")}</x:secret>'
        f"</w:p>"
        f'<w:p><w:r><w:object><o:OLEObject r:id="rIdOle" ProgID="{canary("progid")}"/></w:object></w:r>'
        f"{_picture('r:embed=' + chr(34) + 'rIdImg' + chr(34))}{_picture('r:embed=' + chr(34) + 'rIdPng' + chr(34))}"
        f"{_picture('r:link=' + chr(34) + 'rIdTrack' + chr(34))}</w:p>"
        f'<w:sectPr w:rsidR="{canary("rsid-sect")}"><w:headerReference w:type="default" r:id="rIdHdr"/>'
        f'<w:footerReference w:type="default" r:id="rIdFtrGone"/><w:printerSettings r:id="rIdPrinter"/></w:sectPr>'
        f"</w:body></w:document>")
    rels = _rels(("rIdStyles", "styles", "styles.xml", ""), ("rIdNum", "numbering", "numbering.xml", ""),
                 ("rIdHdr", "header", "header1.xml", ""), ("rIdImg", "image", "media/image1.jpeg", ""),
                 ("rIdPng", "image", "media/image2.png", ""),
                 ("rIdTrack", "image", f"https://{canary('tracker')}.example/pixel.png", "External"),
                 ("rIdLink", "hyperlink", f"https://{canary('link')}.example/", "External"),
                 ("rIdOle", "oleObject", "embeddings/oleObject1.bin", ""),
                 ("rIdComments", "comments", "comments.xml", ""),
                 ("rIdPeople", "http://schemas.microsoft.com/office/2011/relationships/people"[len(REL) + 1:],
                  "people.xml", ""),
                 ("rIdSettings", "settings", "settings.xml", ""),
                 ("rIdPrinter", "printerSettings", "printerSettings/printerSettings1.bin", ""),
                 ("rIdFtrGone", "footer", f"file:///{canary('footer-path')}/footer1.xml", "External"), ("rIdFonts", "fontTable", "fontTable.xml", ""),
                 ("rIdTheme", "theme", "theme/theme1.xml", ""), ("rIdWeb", "webSettings", "webSettings.xml", ""),
                 ("rIdCx", "customXml", "../customXml/item1.xml", ""),
                 ("rIdSneaky", "styles", f"file:///C:/Users/{canary('winuser')}/x.xml", "External"))
    styles = (f'<?xml version="1.0" encoding="UTF-8"?><w:styles {NS}><w:style w:type="paragraph" w:styleId="Normal">'
              f'<w:name w:val="Normal"/><w:rsid w:val="{canary("style-rsid")}"/></w:style></w:styles>')
    numbering = f'<?xml version="1.0" encoding="UTF-8"?><w:numbering {NS}/>'
    header = (f'<?xml version="1.0" encoding="UTF-8"?><w:hdr {NS}><w:p w:rsidR="{canary("hdr-rsid")}"><w:r><w:t>'
              f"Header text</w:t></w:r></w:p></w:hdr>")
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
        '+xml"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="jpeg" ContentType='
        '"image/jpeg"/><Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.'
        f'macroEnabled.main+xml"/><!-- {canary("ct")} --></Types>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", content_types)
        z.writestr("_rels/.rels", _rels(("rId1", "officeDocument", "word/document.xml", ""),
                                        ("rId2", "metadata/core-properties", "docProps/core.xml", ""),
                                        ("rId3", "extended-properties", "docProps/app.xml", ""),
                                        ("rId4", "metadata/thumbnail", "docProps/thumbnail.jpeg", "")))
        z.writestr("docProps/core.xml", f'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/'
                   f'2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>'
                   f"{canary('core-creator')}</dc:creator><cp:lastModifiedBy>{samples.SECRET_NAME}"
                   f"</cp:lastModifiedBy></cp:coreProperties>")
        z.writestr("docProps/app.xml", f"<Properties><Company>{canary('company')}</Company><Template>"
                   f"{canary('template')}</Template></Properties>")
        z.writestr("docProps/custom.xml", f"<Properties><property name='{canary('custom')}'/></Properties>")
        z.writestr("docProps/thumbnail.jpeg", samples.jpeg_with_gps())
        z.writestr("word/document.xml", document)
        z.writestr("word/_rels/document.xml.rels", rels)
        z.writestr("word/styles.xml", styles)
        z.writestr("word/numbering.xml", numbering)
        z.writestr("word/header1.xml", header)
        z.writestr("word/_rels/header1.xml.rels", _rels(
            ("rIdT", "image", f"\\\\{canary('unc-header')}\\share\\logo.png", "External")))
        z.writestr("word/media/image1.jpeg", picture if picture is not None else samples.jpeg_with_gps())
        z.writestr("word/media/image2.png", samples.png_with_text())
        z.writestr("word/people.xml", f'<w15:people {NS}><w15:person w15:author="{canary("people")}">'
                   f'<w15:presenceInfo w15:providerId="AD" w15:userId="{canary("sid")}"/></w15:person></w15:people>')
        z.writestr("word/comments.xml", f'<w:comments {NS}><w:comment w:id="0" w:author="{canary("comment-author")}"'
                   f' w:initials="CN"><w:p><w:r><w:t>{canary("comment-text")}</w:t></w:r></w:p></w:comment>'
                   f"</w:comments>")
        z.writestr("word/settings.xml", f'<w:settings {NS}><w:attachedTemplate r:id="rIdTpl"/><w:rsids><w:rsidRoot '
                   f'w:val="{canary("rsid-root")}"/></w:rsids></w:settings>')
        z.writestr("word/_rels/settings.xml.rels", _rels(
            ("rIdTpl", "attachedTemplate", f"file:///\\\\{canary('unc-template')}\\Users\\Ivan\\Normal.dotm",
             "External")))
        z.writestr("word/fontTable.xml", f'<w:fonts {NS}><w:font w:name="{canary("font")}"/></w:fonts>')
        z.writestr("word/theme/theme1.xml", f"<a:theme xmlns:a='x' name='{canary('theme')}'/>")
        z.writestr("word/webSettings.xml", f"<w:webSettings {NS}><!-- {canary('web')} --></w:webSettings>")
        z.writestr("word/printerSettings/printerSettings1.bin", canary("printer").encode())
        z.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0" + canary("macro").encode())
        z.writestr("word/embeddings/oleObject1.bin", b"\xd0\xcf\x11\xe0" + canary("ole").encode())
        z.writestr("word/activeX/activeX1.xml", f"<ax>{canary('activex')}</ax>")
        z.writestr("customXml/item1.xml", f"<x>{canary('customxml')}</x>")
    return buf.getvalue()


# --- ODT -------------------------------------------------------------------------------------

ODF_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
          'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
          'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
          'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
          'xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:dc="http://purl.org/dc/elements/1.1/" '
          'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
          'xmlns:script="urn:oasis:names:tc:opendocument:xmlns:script:1.0" '
          'xmlns:form="urn:oasis:names:tc:opendocument:xmlns:form:1.0" '
          'xmlns:officeooo="http://openoffice.org/2009/office" office:version="1.3"')


def hostile_odt(*, encrypted: bool = False) -> bytes:
    """An ODT with canaries in meta.xml, settings, thumbnails, configurations, macros, embedded
    objects, annotations, tracked changes, author fields, rsids, links, external images, linked
    sections, forms and event listeners."""
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODF_NS}>'
        f'<office:scripts><office:event-listeners><script:event-listener script:event-name="dom:load" '
        f'xlink:href="vnd.sun.star.script:{canary("macro-link")}"/></office:event-listeners></office:scripts>'
        f'<office:automatic-styles><style:style style:name="P1" style:family="paragraph"><style:text-properties '
        f'officeooo:rsid="{canary("rsid")}" officeooo:paragraph-rsid="{canary("prsid")}"/></style:style>'
        f"</office:automatic-styles><office:body><office:text>"
        f'<office:forms><form:form form:name="{canary("form")}" xlink:href="https://{canary("form-url")}.example/"/>'
        f"</office:forms>"
        f'<text:tracked-changes><text:changed-region text:id="ct1"><text:deletion><office:change-info><dc:creator>'
        f'{canary("change-author")}</dc:creator><dc:date>2026-11-01T10:00:00</dc:date></office:change-info><text:p>'
        f'{canary("deleted-text")}</text:p></text:deletion></text:changed-region><text:changed-region text:id="ct2">'
        f"<text:insertion><office:change-info><dc:creator>{canary('ins-author')}</dc:creator></office:change-info>"
        f"</text:insertion></text:changed-region></text:tracked-changes>"
        f'<text:p text:style-name="P1">Searched at dawn<text:change text:change-id="ct1"/>'
        f'<text:change-start text:change-id="ct2"/> kept insertion<text:change-end text:change-id="ct2"/>'
        f"<office:annotation><dc:creator>{canary('annotation-author')}</dc:creator><dc:date>2026-11-01</dc:date>"
        f"<text:p>{canary('annotation-text')}</text:p></office:annotation>"
        f"<text:author-name>{canary('author-field')}</text:author-name>"
        f"<text:sender-email>{canary('sender-email')}</text:sender-email>"
        f"<text:file-name>{canary('file-name')}</text:file-name>"
        f"<text:template-name>{canary('template-name')}</text:template-name>"
        f'<text:a xlink:type="simple" xlink:href="https://{canary("link")}.example/"> link text</text:a></text:p>'
        f'<text:p><draw:frame draw:name="img1"><draw:image xlink:href="Pictures/photo.jpg" xlink:type="simple"/>'
        f'</draw:frame><draw:frame draw:name="img2"><draw:image xlink:href="https://{canary("tracker")}.example/'
        f'p.png"/></draw:frame><draw:frame draw:name="obj"><draw:object xlink:href="./Object 1"/></draw:frame>'
        f"<draw:frame><draw:image><office:binary-data>{canary('binary')}</office:binary-data></draw:image>"
        f"</draw:frame></text:p>"
        f'<text:section text:name="S1"><text:section-source xlink:href="file:///{canary("unc-section")}/x.odt"/>'
        f"<text:p>section text</text:p></text:section>"
        f"</office:text></office:body></office:document-content>")
    styles = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-styles {ODF_NS}><office:master-styles>'
              f'<style:master-page style:name="Standard"><style:header><text:p>Header text <text:initial-creator>'
              f"{canary('initial-creator')}</text:initial-creator></text:p></style:header></style:master-page>"
              f"</office:master-styles></office:document-styles>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
                'opendocument:xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/"'
                f' manifest:media-type="application/vnd.oasis.opendocument.text"/><!-- {canary("manifest")} -->'
                + ('<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">'
                   '<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="x"/>'
                   "</manifest:file-entry>" if encrypted else "")
                + "</manifest:manifest>")
    thumbnail = io.BytesIO()
    Image.new("RGB", (16, 16)).save(thumbnail, "PNG")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), b"application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", content)
        z.writestr("styles.xml", styles)
        z.writestr("meta.xml", f"<office:document-meta {ODF_NS}><office:meta><meta:initial-creator>"
                   f"{canary('meta-creator')}</meta:initial-creator><dc:creator>{samples.SECRET_NAME}</dc:creator>"
                   f"</office:meta></office:document-meta>")
        z.writestr("settings.xml", f"<office:document-settings {ODF_NS}><office:settings>{canary('printer')}"
                   f"</office:settings></office:document-settings>")
        z.writestr("manifest.rdf", f"<rdf>{canary('rdf')}</rdf>")
        z.writestr("META-INF/manifest.xml", manifest)
        z.writestr("Pictures/photo.jpg", samples.jpeg_with_gps())
        z.writestr("Pictures/vector.svg", f"<svg><script>{canary('svg')}</script></svg>")
        z.writestr("Thumbnails/thumbnail.png", thumbnail.getvalue() + canary("thumbnail").encode())
        z.writestr("Configurations2/accelerator/current.xml", f"<x>{canary('config')}</x>")
        z.writestr("Basic/Standard/Module1.xml", f"<x>{canary('basic')}</x>")
        z.writestr("Scripts/python/run.py", f"# {canary('python')}")
        z.writestr("Object 1/content.xml", f"<x>{canary('object')}</x>")
        z.writestr("layout-cache", canary("layout").encode())
    return buf.getvalue()


# --- bombs -----------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def odt_mimetype_bomb(megabytes: int = 600) -> bytes:
    """An ODT of about 0.6 MB whose `mimetype` member inflates to `megabytes` MB (the type, then spaces)."""
    return zip_bomb({"mimetype": (b"application/vnd.oasis.opendocument.text", megabytes),
                     "content.xml": (b"<x/>", 0)})


def zip_bomb(members: dict[str, tuple[bytes, int]]) -> bytes:
    """A zip whose members are a prefix followed by so many megabytes of spaces."""
    buf = io.BytesIO()
    block = b" " * (1 << 20)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, (prefix, megabytes) in members.items():
            with z.open(name, "w", force_zip64=False) as member:
                member.write(prefix)
                for _ in range(megabytes):
                    member.write(block)
    return buf.getvalue()


def lie_about_sizes(data: bytes, name: str, size: int) -> bytes:
    """The zip with `name` declared (central directory and local header) as `size` bytes unpacked."""
    out = bytearray(data)
    encoded = name.encode()
    for signature, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        start = 0
        while (found := out.find(signature, start)) >= 0:
            name_at = found + (46 if signature == b"PK\x01\x02" else 30)
            if out[name_at:name_at + len(encoded)] == encoded:
                out[found + offset:found + offset + 4] = size.to_bytes(4, "little")
            start = found + 4
    return bytes(out)


@lru_cache(maxsize=None)
def png(width: int, height: int, mode: str = "1") -> bytes:
    """A PNG of one colour: megapixels in kilobytes."""
    buf = io.BytesIO()
    Image.new(mode, (width, height), 0 if mode == "1" else (30, 90, 160, 255)[:len(mode)]).save(
        buf, "PNG", compress_level=1)
    return buf.getvalue()


def zip_with_members(count: int) -> bytes:
    """A DOCX-looking zip with `count` tiny members."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
        for i in range(count):
            z.writestr(f"x/{i}", b"")
    return buf.getvalue()


def unzip_everything(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}
