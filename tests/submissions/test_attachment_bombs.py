"""Bombs: refused from headers and bounded reads, quickly and with little memory, with a clear message."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from PIL import Image

from newsletter.submissions import attachments, officeclean
from newsletter.submissions.attachments import AttachmentError, IncomingFile, clean
from tests.submissions import hostile

MB = 1024 * 1024
TOO_BIG = "would be far larger than a text document can be"


@contextmanager
def bounded(seconds: float, megabytes: int) -> Iterator[None]:
    """Fails unless the block ends within `seconds` and allocates at most `megabytes` at its peak."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        yield
    finally:
        elapsed = time.monotonic() - started
        _now, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < seconds, f"took {elapsed:.2f} s"
    assert peak < megabytes * MB, f"peak allocation {peak / MB:.0f} MB"


def _refused(name: str, data: bytes, message: str) -> str:
    with pytest.raises(AttachmentError, match=message) as info:
        clean(IncomingFile(name, data))
    assert str(info.value).startswith(name + ":"), "the message names the file"
    return str(info.value)


def test_odt_whose_mimetype_inflates_to_600_mb_is_refused_quickly_with_little_memory() -> None:
    bomb = hostile.odt_mimetype_bomb(600)
    assert len(bomb) < 1 * MB
    with bounded(seconds=2, megabytes=16):
        _refused("bomb.odt", bomb, TOO_BIG)


@pytest.mark.parametrize("build", [
    pytest.param(lambda: hostile.zip_bomb({"mimetype": (b"application/vnd.oasis.opendocument.text", 0),
                                           "content.xml": (b"<office:document-content>", 200)}), id="odt-content"),
    pytest.param(lambda: hostile.zip_bomb({"[Content_Types].xml": (b"<Types/>", 0),
                                           "word/document.xml": (b"<w:document>", 200)}), id="docx-document"),
    pytest.param(lambda: hostile.zip_with_members(officeclean.MAX_MEMBERS + 1), id="too-many-members"),
])
def test_office_bombs_are_refused_before_reading(build: Callable[[], bytes]) -> None:
    bomb = build()
    with bounded(seconds=2, megabytes=24):
        _refused("bomb.docx", bomb, TOO_BIG)


def test_a_lying_size_header_gains_nothing() -> None:
    """Declared as 1 KB, the member inflates to 200 MB: reading stops at the declared size (and the
    checksum then fails) or at the cap, never at the end of the data."""
    honest = hostile.zip_bomb({"[Content_Types].xml": (b"<Types/>", 0), "word/document.xml": (b"<w:document>", 200)})
    liar = hostile.lie_about_sizes(honest, "word/document.xml", 1024)
    with zipfile.ZipFile(io.BytesIO(liar)) as z:
        assert z.getinfo("word/document.xml").file_size == 1024
    with bounded(seconds=2, megabytes=24):
        _refused("liar.docx", liar, "damaged|" + TOO_BIG)


def test_the_total_of_all_parts_is_capped_even_when_each_part_is_under_its_cap() -> None:
    parts = {"[Content_Types].xml": (b"<Types/>", 0), "word/document.xml": (b"<w:document/>", 0)}
    parts |= {f"word/header{i}.xml": (b"<w:hdr/>", 30) for i in range(4)}
    budget = officeclean.Budget()
    archive, members = officeclean.open_archive(hostile.zip_bomb(parts))
    with archive, bounded(seconds=20, megabytes=24), pytest.raises(officeclean.OfficeRefused) as info:
        for i in range(4):
            for _chunk in budget.chunks(archive, members[f"word/header{i}.xml"]):
                pass
    assert info.value.reason == "too_large" and budget.left < 30 * MB, "stopped before the fourth part"


def test_picture_over_the_pixel_limit_is_refused_from_its_header() -> None:
    bomb = hostile.png(7070, 7070)  # the 525 MB PNG of the review, a few kilobytes on disk
    with bounded(seconds=1, megabytes=8):
        message = _refused("IMG_7070.png", bomb, "more than 25 megapixels")
    assert message == "IMG_7070.png: the picture is too large (more than 25 megapixels)."
    _refused("wide.png", hostile.png(5001, 5000), "more than 25 megapixels")
    _refused("tall.png", hostile.png(1, 70_000), "more than 25 megapixels")


def test_a_phone_photo_size_is_accepted() -> None:
    out = clean(IncomingFile("phone.png", hostile.png(5000, 5000, "L")))
    assert Image.open(io.BytesIO(out.content)).size == (5000, 5000)


def test_a_picture_bomb_inside_a_document_is_refused_with_the_documents_name() -> None:
    _refused("statement.docx", hostile.hostile_docx(picture=hostile.png(8000, 8000)), "more than 25 megapixels")


def test_pillow_global_limit_is_left_alone() -> None:
    assert Image.MAX_IMAGE_PIXELS == int(1024 * 1024 * 1024 // 4 // 3)
    assert attachments.MAX_IMAGE_PIXELS == 25_000_000 and attachments.CLEANING_SLOTS == 2
