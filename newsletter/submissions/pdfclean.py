"""PDFs rebuilt from pixels (the approach of Dangerzone), so nothing of the original file survives.

A PDF can hide its author in a hundred places (document info, XMP, attached files, annotations
with authors and dates, associated files, photos with GPS, form actions that call a server).
Instead of hunting for them, each page is rendered to an image in a resource-limited child
process (pdf_render.py, PDFium through pypdfium2) and a NEW PDF is assembled from JPEG images
that this process encodes itself from bare RGB pixels. The result has one image per page and
nothing else: no text layer (no OCR: Tesseract is not part of the install), no metadata, no
annotation, action, script, form, outline, embedded file or original image stream.
"""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
import threading
from typing import IO

from PIL import Image

from newsletter.i18n import _

MAX_PAGES = 200
DPI = 150  # sharp enough to read small print and to zoom a little, files stay near 150 KB a page
MAX_PAGE_PIXELS = 4_500_000  # A3 at 150 dpi; bigger pages are rendered at a lower resolution
JPEG_QUALITY = 80
CHILD_MEMORY = 384 * 1024 * 1024  # address space of the rendering process
SECONDS_BASE = 20
SECONDS_PER_PAGE = 1.0  # 200 pages: 220 s at most, then the child is killed and the file refused
MAX_POINTS = 14_400  # the largest page size PDF allows (200 inches)


class PdfRefused(Exception):
    """Why the PDF could not be rebuilt; `reason` picks the volunteer's message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def refusal_message(reason: str, name: str) -> str:
    """The volunteer's message for a refused PDF (translated)."""
    if reason == "password":
        return _("%(name)s: the PDF is protected by a password. Send it without the password.", name=name)
    if reason == "pages":
        return _("%(name)s: the PDF has more than %(n)s pages. Send the pages that matter, or split it into "
                 "smaller files.", name=name, n=MAX_PAGES)
    if reason == "complex":
        return _("%(name)s: the PDF is too large or too complex to be cleaned safely. Send photos or "
                 "screenshots of its pages instead.", name=name)
    return _("%(name)s: the PDF is damaged and cannot be read.", name=name)


def rebuild_pdf(data: bytes) -> bytes:
    """A new PDF made of images of the pages of `data`. Raises PdfRefused."""
    import pikepdf

    child = subprocess.Popen(
        [sys.executable, "-I", "-m", "newsletter.submissions.pdf_render", str(DPI), str(MAX_PAGES),
         str(MAX_PAGE_PIXELS), str(CHILD_MEMORY), str(int(SECONDS_BASE + SECONDS_PER_PAGE * MAX_PAGES))],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}, cwd="/",
    )
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        child.kill()

    timer = threading.Timer(SECONDS_BASE, kill)
    timer.daemon = True
    timer.start()
    try:
        assert child.stdin is not None and child.stdout is not None
        try:
            child.stdin.write(data)
            child.stdin.close()
        except BrokenPipeError:
            pass
        first = _header(child.stdout)
        if "error" in first:
            raise PdfRefused(str(first["error"]) if first["error"] in ("password", "pages") else "damaged")
        pages = first.get("pages")
        if not isinstance(pages, int) or not 1 <= pages <= MAX_PAGES:
            raise PdfRefused("damaged")
        # The deadline grows with the number of pages, from the start of the child.
        timer.cancel()
        timer = threading.Timer(SECONDS_BASE + SECONDS_PER_PAGE * pages, kill)
        timer.daemon = True
        timer.start()
        pdf = pikepdf.new()
        for _index in range(pages):
            _add_page(pdf, child.stdout)
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True, fix_metadata_version=False, compress_streams=True)
        pdf.close()
        return out.getvalue()
    except PdfRefused as exc:
        try:
            code = child.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        if killed.is_set() or code != 0:
            raise PdfRefused("complex") from None  # out of memory or time, or PDFium crashed
        raise exc from None
    finally:
        timer.cancel()
        if child.poll() is None:
            child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()


def _header(stream: IO[bytes]) -> dict[str, object]:
    line = stream.readline(4096)
    if not line.endswith(b"\n"):
        raise PdfRefused("damaged")  # the child died (memory, time, crash) or wrote nonsense
    try:
        value = json.loads(line)
    except ValueError:
        raise PdfRefused("damaged") from None
    if not isinstance(value, dict):
        raise PdfRefused("damaged")
    return value


def _add_page(pdf: object, stream: IO[bytes]) -> None:
    """Read one page's pixels from the child and append it to `pdf` as a single JPEG image."""
    import pikepdf

    header = _header(stream)
    width, height = header.get("width"), header.get("height")
    if not (isinstance(width, int) and isinstance(height, int) and 0 < width and 0 < height
            and width * height <= MAX_PAGE_PIXELS * 1.02 + 10_000):
        raise PdfRefused("damaged")
    raw = _read_exactly(stream, width * height * 3)
    image = Image.frombytes("RGB", (width, height), raw)
    del raw
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=True)
    del image
    width_pt = _points(header.get("width_pt"), width)
    height_pt = _points(header.get("height_pt"), height)
    xobject = pikepdf.Stream(pdf, buf.getvalue())
    xobject.Type = pikepdf.Name.XObject
    xobject.Subtype = pikepdf.Name.Image
    xobject.Width, xobject.Height = width, height
    xobject.ColorSpace = pikepdf.Name.DeviceRGB
    xobject.BitsPerComponent = 8
    xobject.Filter = pikepdf.Name.DCTDecode
    contents = pikepdf.Stream(pdf, f"q {width_pt:.2f} 0 0 {height_pt:.2f} 0 0 cm /Im0 Do Q".encode())
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, round(width_pt, 2), round(height_pt, 2)],
        Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=xobject)),
        Contents=contents,
    )
    pdf.pages.append(pikepdf.Page(page))


def _points(value: object, pixels: int) -> float:
    """The page side in points as reported by the child, kept within what PDF allows."""
    if isinstance(value, (int, float)) and math.isfinite(value) and 1 <= value <= MAX_POINTS:
        return float(value)
    return max(1.0, min(float(MAX_POINTS), pixels * 72 / DPI))


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    buf = bytearray()
    while len(buf) < size:
        chunk = stream.read(min(1 << 20, size - len(buf)))
        if not chunk:
            raise PdfRefused("damaged")
        buf.extend(chunk)
    return bytes(buf)
