"""Render a PDF to raw pixels in a separate, resource-limited process (run as `python -m`).

Why a separate process: PDFium parses a hostile file here. A crash, a memory bomb or an endless
page must cost this short-lived child, never the web server; the parent kills it after a
deadline and the kernel stops it at its memory limit. The child never writes an image format:
it sends bare RGB pixels, and the parent encodes them itself (see pdfclean.py).

Protocol on stdout: one JSON line {"pages": n} (or {"error": "password" | "damaged" | "pages"}),
then for every page a JSON line {"width", "height", "width_pt", "height_pt"} followed by exactly
width*height*3 bytes of RGB pixels.
"""

from __future__ import annotations

import json
import math
import resource
import sys
from typing import BinaryIO


def _limit(memory_bytes: int, cpu_seconds: int) -> None:
    """Cap this process before PDFium sees a byte: address space, CPU time, no file written (the
    pixels go to a pipe, which this limit does not cover), no core dump."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def scale_for(width_pt: float, height_pt: float, dpi: int, max_pixels: int) -> float:
    """The render scale for `dpi`, reduced so that the page stays within `max_pixels`."""
    scale = dpi / 72
    area = max(width_pt, 1.0) * max(height_pt, 1.0)
    if area * scale * scale > max_pixels:
        scale = math.sqrt(max_pixels / area)
    return scale


def _emit(out: BinaryIO, header: dict[str, object], payload: bytes = b"") -> None:
    out.write(json.dumps(header).encode() + b"\n")
    if payload:
        out.write(payload)
    out.flush()


def render(data: bytes, out: BinaryIO, *, dpi: int, max_pages: int, max_pixels: int) -> int:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        _emit(out, {"error": "password" if "password" in str(exc).lower() else "damaged"})
        return 0
    count = len(pdf)
    if count > max_pages:
        _emit(out, {"error": "pages"})
        return 0
    if count < 1:
        _emit(out, {"error": "damaged"})
        return 0
    _emit(out, {"pages": count})
    try:
        pdf.init_forms()  # filled-in form fields are part of what the page shows
    except pdfium.PdfiumError:
        pass
    for index in range(count):
        page = pdf[index]
        width_pt, height_pt = page.get_size()
        scale = scale_for(width_pt, height_pt, dpi, max_pixels)
        bitmap = page.render(scale=scale, may_draw_forms=True, draw_annots=True, rev_byteorder=True,
                             fill_color=(255, 255, 255, 255))
        image = bitmap.to_pil().convert("RGB")
        raw = image.tobytes()
        _emit(out, {"width": image.width, "height": image.height, "width_pt": width_pt, "height_pt": height_pt}, raw)
        del image, raw, bitmap
        page.close()
    pdf.close()
    return 0


def main() -> int:
    dpi, max_pages, max_pixels, memory, cpu = (int(a) for a in sys.argv[1:6])
    _limit(memory, cpu)
    data = sys.stdin.buffer.read()
    return render(data, sys.stdout.buffer, dpi=dpi, max_pages=max_pages, max_pixels=max_pixels)


if __name__ == "__main__":
    sys.exit(main())
