"""Attachments: type by content; PDFs rebuilt from pixels, office files from an allow-list; clear messages."""

from __future__ import annotations

import io
import re
import time
import zipfile
from xml.etree import ElementTree

import pikepdf
import pytest
from PIL import Image

from newsletter.submissions import pdfclean
from newsletter.submissions.attachments import AttachmentError, IncomingFile, clean, clean_all, sniff
from tests.submissions import hostile, samples
from tests.submissions.samples import CAMERA, SECRET_NAME


def _no_secrets(data: bytes) -> None:
    for needle in (SECRET_NAME.encode(), CAMERA.encode(), b"Exif\x00\x00", b"adobe:ns:meta", b"ICC_PROFILE"):
        assert needle not in data, needle


def test_jpeg_with_gps_is_reencoded_without_any_metadata() -> None:
    original = samples.jpeg_with_gps()
    out = clean(IncomingFile("IMG_0001.jpg", original))
    assert out.media_type == "image/jpeg"
    _no_secrets(out.content)
    img = Image.open(io.BytesIO(out.content))
    assert not img.getexif() and "icc_profile" not in img.info and "comment" not in img.info
    assert img.size == (48, 64), "EXIF orientation is applied to the pixels before the tag is dropped"
    assert len(out.sha256) == 64


def test_png_text_chunks_are_dropped() -> None:
    out = clean(IncomingFile("x.png", samples.png_with_text()))
    assert out.media_type == "image/png"
    _no_secrets(out.content)
    assert b"55.75" not in out.content and b"tEXt" not in out.content and b"iTXt" not in out.content
    assert Image.open(io.BytesIO(out.content)).mode == "RGBA"


def test_gif_and_webp_become_png() -> None:
    for fmt in ("GIF", "WEBP"):
        buf = io.BytesIO()
        Image.new("RGB", (10, 10), (1, 2, 3)).save(buf, fmt)
        out = clean(IncomingFile(f"a.{fmt.lower()}", buf.getvalue()))
        assert out.media_type == "image/png" and out.content.startswith(b"\x89PNG")


def _render(pdf_bytes: bytes, page: int = 0) -> Image.Image:
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf_bytes)
    try:
        return document[page].render(scale=1).to_pil().convert("RGB")
    finally:
        document.close()


def test_pdf_is_rebuilt_from_pixels_and_no_canary_survives_anywhere() -> None:
    original = hostile.hostile_pdf(pages=2)
    assert hostile.CANARY in hostile.every_pdf_byte(original).upper(), "the sample hides canaries"
    out = clean(IncomingFile("report.pdf", original))
    assert out.media_type == "application/pdf"
    everything = hostile.every_pdf_byte(out.content)
    for needle in (hostile.CANARY, hostile.CANARY.decode().encode("utf-16-be"), SECRET_NAME.encode(),
                   CAMERA.encode(), b"Exif\x00\x00", b"adobe:ns:meta", b"ICC_PROFILE"):
        assert needle not in everything.upper() and needle not in everything, needle
    with pikepdf.open(io.BytesIO(out.content)) as pdf:
        assert len(pdf.pages) == 2
        assert set(pdf.trailer.keys()) <= {"/Root", "/Size", "/ID"}, "no /Info"
        assert set(pdf.Root.keys()) == {"/Type", "/Pages"}, "no metadata, names, outline, form, action, /AF"
        photo = samples.jpeg_with_gps()
        for page in pdf.pages:
            assert set(page.obj.keys()) <= {"/Type", "/Parent", "/MediaBox", "/Resources", "/Contents"}
            assert [float(v) for v in page.MediaBox] == [0, 0, 300, 300], "the page keeps its size"
            images = list(page.get_images().values())
            assert len(images) == 1, "one image per page, made here"
            raw = images[0].read_raw_bytes()
            assert raw != photo and photo not in out.content, "the original photo stream is gone"
            assert not Image.open(io.BytesIO(raw)).getexif(), "no EXIF (so no GPS) in the new page image"
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary):
                assert not set(obj.keys()) & {"/Annots", "/AA", "/OpenAction", "/JS", "/S", "/EF", "/AF",
                                               "/Names", "/Metadata", "/AcroForm", "/Outlines", "/FS"}
    page = _render(out.content)
    scale = page.width / 300
    red = page.getpixel((int(150 * scale), int((300 - 90) * scale)))
    assert red[0] > 200 and red[1] < 60 and red[2] < 60, f"the red rectangle is still shown: {red}"
    picture = page.getpixel((int(84 * scale), int((300 - 228) * scale)))
    assert picture[0] > 150 and picture[1] < 90, f"the photo is still shown as pixels: {picture}"
    blank = page.getpixel((int(280 * scale), int(150 * scale)))
    assert min(blank) > 240, "white stays white"


def test_pdf_page_count_is_bounded() -> None:
    pdf = pikepdf.new()
    for _ in range(pdfclean.MAX_PAGES + 1):
        pdf.add_blank_page(page_size=(100, 100))
    buf = io.BytesIO()
    pdf.save(buf)
    started = time.monotonic()
    with pytest.raises(AttachmentError, match="more than 200 pages") as info:
        clean(IncomingFile("long.pdf", buf.getvalue()))
    assert "long.pdf" in str(info.value) and time.monotonic() - started < 20


def test_pdf_that_takes_too_long_is_refused_and_its_renderer_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdfclean, "SECONDS_BASE", 0.01)
    monkeypatch.setattr(pdfclean, "SECONDS_PER_PAGE", 0.0)
    with pytest.raises(AttachmentError, match="too large or too complex"):
        clean(IncomingFile("slow.pdf", hostile.hostile_pdf(pages=1)))


def test_pdf_whose_image_would_need_gigabytes_is_refused_or_rendered_within_limits() -> None:
    started = time.monotonic()
    try:
        out = clean(IncomingFile("huge.pdf", hostile.pdf_with_huge_image()))
    except AttachmentError as exc:
        assert "huge.pdf: the PDF is too large or too complex" in str(exc)
    else:
        with pikepdf.open(io.BytesIO(out.content)) as pdf:
            assert len(pdf.pages) == 1
    assert time.monotonic() - started < 60


def test_large_pages_are_rendered_at_a_bounded_resolution() -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(14_400, 14_400))  # 200 x 200 inches
    buf = io.BytesIO()
    pdf.save(buf)
    out = clean(IncomingFile("poster.pdf", buf.getvalue()))
    with pikepdf.open(io.BytesIO(out.content)) as rebuilt:
        image = next(iter(rebuilt.pages[0].get_images().values()))
        assert int(image.Width) * int(image.Height) <= pdfclean.MAX_PAGE_PIXELS * 1.02
        assert [float(v) for v in rebuilt.pages[0].MediaBox] == [0, 0, 14_400, 14_400]


def test_pdf_with_a_password_is_refused_but_an_owner_only_lock_is_rebuilt() -> None:
    with pytest.raises(AttachmentError, match="protected by a password") as info:
        clean(IncomingFile("locked.pdf", samples.pdf_with_metadata(password="s3cret")))
    assert "locked.pdf" in str(info.value)
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(100, 100))
    buf = io.BytesIO()
    pdf.save(buf, encryption=pikepdf.Encryption(owner="owner", user="", allow=pikepdf.Permissions(extract=False)))
    out = clean(IncomingFile("no-copy.pdf", buf.getvalue()))
    with pikepdf.open(io.BytesIO(out.content)) as rebuilt:
        assert not rebuilt.is_encrypted and len(rebuilt.pages) == 1


def _office_text(files: dict[str, bytes]) -> bytes:
    return b"\n".join(files.values())


def test_docx_is_rebuilt_from_an_allow_list_and_no_canary_survives() -> None:
    import docx

    original = hostile.hostile_docx()
    assert sniff(original) == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    out = clean(IncomingFile("statement.docx", original))
    files = hostile.unzip_everything(out.content)
    assert set(files) == {"[Content_Types].xml", "_rels/.rels", "word/document.xml", "word/_rels/document.xml.rels",
                          "word/styles.xml", "word/numbering.xml", "word/header1.xml", "word/media/image1.jpeg",
                          "word/media/image2.png"}
    everything = _office_text(files)
    for needle in (hostile.CANARY, SECRET_NAME.encode(), CAMERA.encode(), b"TargetMode", b"Exif\x00\x00",
                   b"tEXt", b"iTXt", b"rsid", b"macroEnabled", b"55.75"):
        assert needle not in everything.upper() and needle not in everything, needle
    for name, content in files.items():
        if name.endswith((".xml", ".rels")):
            ElementTree.fromstring(content)  # well-formed
    picture = Image.open(io.BytesIO(files["word/media/image1.jpeg"]))
    assert picture.format == "JPEG" and not picture.getexif()
    rels = ElementTree.fromstring(files["word/_rels/document.xml.rels"])
    ids = {r.get("Id") for r in rels}
    assert ids == {"rIdStyles", "rIdNum", "rIdHdr", "rIdImg", "rIdPng"}
    body = files["word/document.xml"].decode()
    assert set(re.findall(r'r:(?:id|embed|link)="([^"]+)"', body)) <= ids, "no reference to a dropped part"
    document = docx.Document(io.BytesIO(out.content))
    text = document.paragraphs[0].text
    assert text.startswith("Searched at dawn kept insertion"), "the text and accepted insertions are kept"
    assert "link text" in text and "cached result" in text and "custom xml text" in text
    assert document.sections[0].header.paragraphs[0].text == "Header text"
    assert len(document.inline_shapes) == 3 and not document.core_properties.author
    assert "statement.docx" not in text, "the shown result of a FILENAME field goes with its code"
    assert "footerReference" not in body and "printerSettings" not in body, "no element left pointing nowhere"
    assert "<v:imagedata r:id=\"rIdImg\"/>" in body, "a legacy picture keeps its (internal) reference"


def test_odt_is_rebuilt_from_an_allow_list_and_no_canary_survives() -> None:
    original = hostile.hostile_odt()
    assert sniff(original) == "application/vnd.oasis.opendocument.text"
    out = clean(IncomingFile("statement.odt", original))
    with zipfile.ZipFile(io.BytesIO(out.content)) as z:
        first = z.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
    files = hostile.unzip_everything(out.content)
    assert set(files) == {"mimetype", "content.xml", "styles.xml", "Pictures/photo.jpg", "META-INF/manifest.xml"}
    everything = _office_text(files)
    for needle in (hostile.CANARY, SECRET_NAME.encode(), CAMERA.encode(), b"Exif\x00\x00", b"rsid", b"file:///",
                   b"dc:creator", b"binary-data"):
        assert needle not in everything.upper() and needle not in everything, needle
    content = ElementTree.fromstring(files["content.xml"])
    text = "".join(content.itertext())
    assert "Searched at dawn kept insertion link text" in text and "section text" in text
    assert "Header text" in "".join(ElementTree.fromstring(files["styles.xml"]).itertext())
    manifest = ElementTree.fromstring(files["META-INF/manifest.xml"])
    paths = {e.get("{urn:oasis:names:tc:opendocument:xmlns:manifest:1.0}full-path") for e in manifest}
    assert paths == {"/", "content.xml", "styles.xml", "Pictures/photo.jpg"}
    hrefs = [e.get("{http://www.w3.org/1999/xlink}href") for e in content.iter() if e.get(
        "{http://www.w3.org/1999/xlink}href")]
    assert hrefs == ["Pictures/photo.jpg"]
    assert not Image.open(io.BytesIO(files["Pictures/photo.jpg"])).getexif()


def test_password_protected_odt_gets_its_own_message() -> None:
    with pytest.raises(AttachmentError, match="notes.odt: the document is protected by a password"):
        clean(IncomingFile("notes.odt", hostile.hostile_odt(encrypted=True)))


@pytest.mark.parametrize("xml", [
    b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><w:document '
    b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">&b;</w:document>',
    b"<w:document><unclosed>",
])
def test_docx_with_a_dtd_or_broken_xml_is_refused_as_damaged(xml: bytes) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", xml)
    with pytest.raises(AttachmentError, match="the document is damaged") as info:
        clean(IncomingFile("entity.docx", buf.getvalue()))
    assert "entity.docx" in str(info.value)


@pytest.mark.parametrize("name, content, message", [
    ("photo.jpg", b"MZ\x90\x00 this is a windows program", "type of file is not accepted"),
    ("notes.pdf", b"just some text pretending to be a pdf", "type of file is not accepted"),
    ("cut.jpg", samples.jpeg_with_gps()[:200], "damaged or incomplete"),
    ("broken.pdf", b"%PDF-1.7\n garbage without objects", "PDF is damaged"),
    ("fake.docx", b"PK\x03\x04 not really a zip", "type of file is not accepted"),
])
def test_wrong_type_and_malformed_files_get_clear_errors(name: str, content: bytes, message: str) -> None:
    with pytest.raises(AttachmentError, match=message) as info:
        clean(IncomingFile(name, content))
    assert name in str(info.value)


def test_size_limits_per_file_per_report_and_count(settings) -> None:
    big = IncomingFile("huge.jpg", b"\xff\xd8\xff" + b"0" * settings.max_upload_bytes)
    cleaned, errors = clean_all([big], settings)
    assert cleaned == [] and "huge.jpg is too large" in errors[0]
    per_file = settings.max_upload_bytes
    many = [IncomingFile(f"{i}.jpg", b"x" * per_file) for i in range(settings.max_submission_bytes // per_file + 1)]
    _, errors = clean_all(many, settings)
    assert any("together are too large" in e for e in errors)
    _, errors = clean_all([IncomingFile(f"{i}.png", samples.png_with_text()) for i in range(11)], settings)
    assert any("at most 10 files" in e for e in errors)
    _, errors = clean_all([IncomingFile("empty.png", b"")], settings)
    assert errors == ["empty.png is empty."]


