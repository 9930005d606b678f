"""Every item format in every output (email, plain text, web page, issue.json, PDF), and photos:
linked from our own archive only, with their size and alt text, bare of any metadata."""

from __future__ import annotations

import copy
import io
import json
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image

from newsletter import media
from newsletter.config import Settings
from newsletter.render import render_email, render_issue, write_archive
from newsletter.render.mjml_check import check_mjml
from newsletter.render.pdf import pdf_unavailable
from newsletter.snapshot import InvalidSnapshot, parse_snapshot
from tests.render.builders import BASE_URL, demo_picture, make_snapshot, with_formats
from tests.render.conftest import html_references

MEDIA_URL = f"{BASE_URL}/issues/2026-W47/media/"


@pytest.fixture(scope="module")
def formatted() -> tuple[dict[str, Any], dict[str, bytes]]:
    return with_formats(make_snapshot(40), photos=5)


def _items(snap: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for s in snap["sections"] for i in s["items"]]


def test_every_format_renders_in_email_text_web_and_json(formatted: tuple[dict[str, Any], dict[str, bytes]],
                                                         render_settings: Settings) -> None:
    snap, files = formatted
    email = render_email(snap, render_settings)
    assert check_mjml(email.mjml) == [] and email.warnings == ()
    rendered = render_issue(snap, render_settings, media=files)
    data = json.loads(rendered.issue_json)
    by_format = {i.get("format", "news"): i for i in _items(data)}
    assert set(by_format) == {"news", "testimony", "statement", "timeline"}
    testimony, statement, timeline = by_format["testimony"], by_format["statement"], by_format["timeline"]
    assert testimony["quote"]["speaker"] == "a trade unionist from Zhanaozen"
    assert statement["quote"]["addressee"] == "The President of Kazakhstan"
    assert timeline["timeline"][0] == {"date": "January 4–5, 2022", "text": "Protests spread from Zhanaozen to Almaty."}
    text = " ".join(rendered.email_text.split())
    web = rendered.web_html
    for out in (email.html, web):
        assert "They took my phone and told me to forget about the union." in out
        assert "— a trade unionist from Zhanaozen" in out
        assert "The President of Kazakhstan" in out and "Twelve human rights organisations" in out
        assert "January 4–5, 2022" in out and "Shoot-to-kill order announced." in out
    assert "| They took my phone and told me to forget about the union." in text
    assert "From: Twelve human rights organisations" in text and "To: The President of Kazakhstan" in text
    assert "- January 4–5, 2022: Protests spread from Zhanaozen to Almaty." in text
    assert '<article class="item format-testimony"' in web and '<ol class="timeline">' in web
    assert "[Photo: Hills and a building at dusk (1)] Zhanaozen, January 2022 (Photo: Open Dialogue Foundation)" in text


def test_pages_with_every_format_are_valid_html5(formatted: tuple[dict[str, Any], dict[str, bytes]],
                                                 render_settings: Settings) -> None:
    import html5lib

    rendered = render_issue(formatted[0], render_settings, media=formatted[1])
    for html in (rendered.web_html, rendered.email_html):
        html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(html)


def test_photos_are_linked_from_the_archive_with_size_and_alt(formatted: tuple[dict[str, Any], dict[str, bytes]],
                                                              render_settings: Settings) -> None:
    snap, files = formatted
    rendered = render_issue(snap, render_settings, media=files)
    for html, key in ((rendered.email_html, "email_file"), (rendered.web_html, "file")):
        images = [u for u in html_references(html) if u.endswith(".jpg")]
        assert len(images) == 5
        assert all(u.startswith(MEDIA_URL) for u in images), images
        for item in (i for i in _items(snap) if "photo" in i):
            assert f'src="{MEDIA_URL}{item["photo"][key]}"' in html
            assert f'alt="{item["photo"]["alt"]}"' in html
    assert 'width="552" height="345"' in rendered.email_html  # 600 × 375 shown in the 552 px column
    assert 'width="1200" height="750"' in rendered.web_html
    for url in html_references(rendered.email_html):
        assert urlsplit(url).netloc in ("", urlsplit(BASE_URL).netloc), url
    assert set(rendered.media) == {n for i in _items(snap) if "photo" in i
                                   for n in (i["photo"]["file"], i["photo"]["email_file"])}


def test_forty_items_and_five_photos_stay_under_gmail_clipping(formatted: tuple[dict[str, Any], dict[str, bytes]],
                                                               render_settings: Settings) -> None:
    snap, files = formatted
    size = len(render_issue(snap, render_settings, media=files).email_html.encode())
    assert size < 102 * 1024, size


def test_published_photos_carry_no_metadata(formatted: tuple[dict[str, Any], dict[str, bytes]],
                                            render_settings: Settings, tmp_path: Path) -> None:
    snap, files = formatted
    write_archive(tmp_path / "issues", [snap], render_settings, media=lambda names: {n: files[n] for n in names})
    written = sorted((tmp_path / "issues" / "2026-W47" / "media").iterdir())
    assert len(written) == 10
    for path in written:
        with Image.open(path) as img:
            assert img.format == "JPEG" and img.width <= 1200
            assert not img.getexif()
            assert not {"exif", "icc_profile", "comment", "xmp", "photoshop", "adobe", "dpi"} & set(img.info), img.info
        raw = path.read_bytes()
        assert b"Exif" not in raw and b"PhoneMaker" not in raw and b"volunteer" not in raw
        assert len(raw) < 60_000


def test_a_snapshot_cannot_point_a_photo_elsewhere(formatted: tuple[dict[str, Any], dict[str, bytes]]) -> None:
    snap = copy.deepcopy(formatted[0])
    item = next(i for i in _items(snap) if "photo" in i)
    for bad in ("https://tracker.example.com/p.jpg", "../../etc/passwd", "x.jpg"):
        item["photo"]["file"] = bad
        with pytest.raises(InvalidSnapshot, match="photo.file"):
            parse_snapshot(snap)
    item["photo"]["file"] = "a" * 64 + ".jpg"
    item["photo"]["alt"] = " "
    with pytest.raises(InvalidSnapshot, match="photo.alt"):
        parse_snapshot(snap)


def test_a_news_only_snapshot_keeps_its_bytes() -> None:
    snap = make_snapshot(8)
    assert parse_snapshot(snap).model_dump(mode="json")["sections"] == json.loads(json.dumps(snap["sections"]))


@pytest.mark.skipif(pdf_unavailable() is not None, reason=f"{pdf_unavailable()} (scripts/test installs it)")
def test_every_format_and_the_photos_are_in_the_pdf(formatted: tuple[dict[str, Any], dict[str, bytes]],
                                                   render_settings: Settings, tmp_path: Path) -> None:
    snap, files = formatted
    rendered = render_issue(snap, render_settings, media=files, pdf=True)
    assert rendered.pdf is not None
    pdf = rendered.write(tmp_path / "out") / "issue.pdf"
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split())
    assert "They took my phone and told me to forget about the union." in text
    assert "January 4–5, 2022" in text and "The President of Kazakhstan" in text
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert len([line for line in images.splitlines()[2:] if " image " in line]) == 5
    # Without the bytes (and no archive folder) the PDF still renders: nothing is fetched over the network.
    assert render_issue(snap, render_settings, pdf=True).pdf is not None


@pytest.mark.parametrize(("data", "message"), [
    (demo_picture()[:3000], "damaged or incomplete"),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "not a photo"),
    (b"<html><body onload=alert(1)>", "not a photo"),
    (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "not a photo"),
    (b"\xff\xd8\xff" + b"\x00" * 100 + b"\xff\xd9", "damaged or incomplete"),
])
def test_hostile_files_are_refused_with_a_clear_message(data: bytes, message: str) -> None:
    with pytest.raises(media.PhotoRefused, match=message):
        media.derive(data)


def _png(width: int, height: int) -> bytes:
    """A valid PNG header claiming `width` × `height` (a decompression bomb needs no more than that)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = zlib.compress(b"\0" * (1 + width) * 1, 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", rows) + chunk(b"IEND", b""))


@pytest.mark.parametrize(("width", "height"), [(30_000, 30_000), (60_000, 10), (9_000, 9_000)])
def test_decompression_bombs_and_huge_pictures_are_refused_before_decoding(width: int, height: int) -> None:
    with pytest.raises(media.PhotoRefused, match="too (large|many pixels)"):
        media.derive(_png(width, height))


def test_orientation_is_applied_before_the_metadata_goes() -> None:
    img = Image.new("RGB", (400, 200), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes())
    derived = media.derive(out.getvalue())
    assert (derived.web.width, derived.web.height) == (200, 300)  # upright 200 × 400, cut to 2:3
    with Image.open(io.BytesIO(derived.web.data)) as back:
        assert not back.getexif()
