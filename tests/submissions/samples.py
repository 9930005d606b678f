"""Files that carry identifying metadata, built in memory for the attachment tests."""

from __future__ import annotations

import io

import pikepdf
from PIL import Image

SECRET_NAME = "Ivan Secretov"
CAMERA = "SpyCam 3000"


def jpeg_with_gps(width: int = 64, height: int = 48) -> bytes:
    """A JPEG with camera make/model, GPS position, an ICC profile, a comment and XMP."""
    img = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = CAMERA  # Make
    exif[0x013B] = SECRET_NAME  # Artist
    exif[0x0112] = 6  # Orientation: rotate 90 degrees
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (55.0, 45.0, 21.0), 3: "E", 4: (37.0, 37.0, 4.0)})
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes(), icc_profile=b"\0" * 128 + SECRET_NAME.encode(),
             comment=SECRET_NAME.encode(), xmp=f'<x:xmpmeta xmlns:x="adobe:ns:meta/">{SECRET_NAME}</x:xmpmeta>'.encode())
    data = buf.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825), "sample must carry GPS"
    return data


def png_with_text() -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", SECRET_NAME)
    info.add_itxt("Location", "55.75, 37.61")
    buf = io.BytesIO()
    Image.new("RGBA", (20, 20), (0, 0, 255, 128)).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def pdf_with_metadata(*, javascript: bool = False, password: str | None = None) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    pdf.docinfo["/Author"] = SECRET_NAME
    pdf.docinfo["/Producer"] = CAMERA
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = [SECRET_NAME]
    if javascript:
        pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
    buf = io.BytesIO()
    if password:
        pdf.save(buf, encryption=pikepdf.Encryption(owner=password, user=password))
    else:
        pdf.save(buf)
    return buf.getvalue()
