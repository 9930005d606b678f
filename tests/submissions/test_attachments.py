"""Attachments: type by content, metadata removed, active content refused, clear messages."""

from __future__ import annotations

import io
import zipfile

import pikepdf
import pytest
from PIL import Image

from newsletter.submissions.attachments import AttachmentError, IncomingFile, clean, clean_all, sniff
from tests.submissions import samples
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


def test_pdf_info_and_xmp_are_removed() -> None:
    original = samples.pdf_with_metadata()
    assert SECRET_NAME.encode() in original
    out = clean(IncomingFile("report.pdf", original))
    assert out.media_type == "application/pdf"
    assert SECRET_NAME.encode() not in out.content and CAMERA.encode() not in out.content
    with pikepdf.open(io.BytesIO(out.content)) as pdf:
        assert "/Info" not in pdf.trailer and "/Metadata" not in pdf.Root
        assert len(pdf.pages) == 1


@pytest.mark.parametrize("kwargs, message", [
    ({"javascript": True}, "scripts, automatic actions or embedded files"),
    ({"password": "s3cret"}, "password"),
])
def test_pdf_with_active_content_or_password_is_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(AttachmentError, match=message) as info:
        clean(IncomingFile("bad.pdf", samples.pdf_with_metadata(**kwargs)))
    assert "bad.pdf" in str(info.value)


def test_docx_properties_authors_and_pictures_are_cleaned() -> None:
    original = samples.docx_with_author()
    assert sniff(original) == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    out = clean(IncomingFile("statement.docx", original))
    unpacked = samples.unzip_all(out.content)
    assert SECRET_NAME.encode() not in unpacked and CAMERA.encode() not in unpacked
    assert b"Searched at dawn" in unpacked, "the text itself is kept"
    with zipfile.ZipFile(io.BytesIO(out.content)) as z:
        picture = Image.open(io.BytesIO(z.read("word/media/image1.jpeg")))
        assert picture.format == "JPEG" and not picture.getexif()


def test_docx_with_macros_is_refused() -> None:
    with pytest.raises(AttachmentError, match="macros"):
        clean(IncomingFile("m.docx", samples.docx_with_author(macro=True)))


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


def test_decompression_bomb_is_refused() -> None:
    buf = io.BytesIO()
    Image.new("1", (8000, 8000)).save(buf, "PNG")  # 64 megapixels in a few kilobytes
    with pytest.raises(AttachmentError, match="more than 50 megapixels"):
        clean(IncomingFile("bomb.png", buf.getvalue()))
