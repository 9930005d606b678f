"""Attachments: type checked by content, metadata removed, stored outside any web root under random names.

What is done per type (the file name and the browser's stated type are ignored):
- JPEG, PNG, GIF, WebP: decoded and re-encoded from raw pixels with Pillow, so no EXIF, GPS, XMP, ICC,
  comment or text chunk survives. The EXIF orientation is applied to the pixels first. GIF and WebP become
  PNG (first frame only).
- PDF: refused when encrypted or when it carries active content (JavaScript, launch actions, automatic
  actions, embedded files, rich media, forms with XFA); otherwise the document information dictionary,
  every XMP /Metadata stream and /PieceInfo are removed and the file is rewritten with a fresh document ID.
- DOCX and ODT: refused when they contain macros, scripts or embedded objects; otherwise their property
  files (author, company, editing time ...) are replaced by empty ones, author names and dates in comments
  and tracked changes are blanked, and embedded pictures are re-encoded like photos.
Anything else is refused with a message listing what is accepted.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import secrets
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.models import Attachment
from newsletter.submissions.i18n import _

MAX_FILES = 10
MAX_IMAGE_PIXELS = 50_000_000  # a bigger "photo" is a decompression bomb, not evidence
# At DEBUG level Pillow logs every EXIF tag it parses, GPS position and camera owner included:
# the very metadata this module strips must not reach the logs either.
logging.getLogger("PIL").setLevel(max(logging.INFO, logging.getLogger("PIL").level))

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf", DOCX: "docx", ODT: "odt"}


class AttachmentError(ValueError):
    """A file was refused; the message is meant for the volunteer and names the file."""


@dataclass(frozen=True)
class IncomingFile:
    """An uploaded file as received. Its name is used only in error messages and never stored."""

    name: str
    content: bytes


@dataclass(frozen=True)
class CleanFile:
    media_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def sniff(data: bytes) -> str | None:
    """The media type recognised from the first bytes, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:1024].lstrip().startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
                if "word/document.xml" in names and "[Content_Types].xml" in names:
                    return DOCX
                if "mimetype" in names and zf.read("mimetype").strip() == ODT.encode():
                    return ODT
        except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, ValueError):
            return None
    return None


def _display(name: str) -> str:
    name = os.path.basename(name.replace("\\", "/")) or "file"
    return name[:80]


def check_sizes(files: Sequence[IncomingFile], settings: Settings) -> list[str]:
    """Errors about the number and sizes of files, before any decoding work."""
    errors = []
    if len(files) > MAX_FILES:
        errors.append(_("You can attach at most %(n)s files.", n=MAX_FILES))
    for f in files:
        if len(f.content) > settings.max_upload_bytes:
            errors.append(_("%(name)s is too large: each file can be at most %(limit)s.",
                            name=_display(f.name), limit=human_size(settings.max_upload_bytes)))
        elif not f.content:
            errors.append(_("%(name)s is empty.", name=_display(f.name)))
    total = sum(len(f.content) for f in files)
    if total > settings.max_submission_bytes:
        errors.append(_("The files together are too large: at most %(limit)s per report.",
                        limit=human_size(settings.max_submission_bytes)))
    return errors


def clean_all(files: Sequence[IncomingFile], settings: Settings) -> tuple[list[CleanFile], list[str]]:
    """Clean every file; return the clean ones and one error message per refused file."""
    errors = check_sizes(files, settings)
    if errors:
        return [], errors
    cleaned: list[CleanFile] = []
    for f in files:
        try:
            cleaned.append(clean(f))
        except AttachmentError as exc:
            errors.append(str(exc))
    return cleaned, errors


def clean(file: IncomingFile) -> CleanFile:
    name = _display(file.name)
    media_type = sniff(file.content)
    if media_type is None:
        raise AttachmentError(_("%(name)s: this type of file is not accepted. Send photos (JPEG, PNG, GIF, WebP), "
                                "PDF, DOCX or ODT documents.", name=name))
    if media_type.startswith("image/"):
        return CleanFile(*_clean_image(file.content, name))
    if media_type == "application/pdf":
        return CleanFile(media_type, _clean_pdf(file.content, name))
    return CleanFile(media_type, _clean_office(file.content, media_type, name))


def _clean_image(data: bytes, name: str) -> tuple[str, bytes]:
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise Image.DecompressionBombError("too many pixels")
            fmt = img.format
            img.seek(0)
            img = ImageOps.exif_transpose(img) or img
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise AttachmentError(_("%(name)s: the picture is too large (more than %(mp)s megapixels).",
                                name=name, mp=MAX_IMAGE_PIXELS // 1_000_000)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise AttachmentError(_("%(name)s: the picture is damaged or incomplete and cannot be read.", name=name)) from None
    if fmt == "JPEG":
        if img.mode not in ("L", "RGB", "CMYK"):
            img = img.convert("RGB")
        out_type, save_fmt, options = "image/jpeg", "JPEG", {"quality": 90, "optimize": True}
    else:
        if img.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
            img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
        out_type, save_fmt, options = "image/png", "PNG", {"optimize": False}
    # A new image built from raw pixels carries nothing of the original's info, EXIF, XMP or ICC data.
    bare = Image.frombytes(img.mode, img.size, img.tobytes())
    if img.mode == "P":
        palette = img.getpalette()
        if palette:
            bare.putpalette(palette)
        if "transparency" in img.info and isinstance(img.info["transparency"], int):
            options["transparency"] = img.info["transparency"]
    buf = io.BytesIO()
    bare.save(buf, save_fmt, **options)
    return out_type, buf.getvalue()


_PDF_ACTIVE = ("/JS", "/JavaScript", "/Launch", "/EmbeddedFiles", "/EmbeddedFile", "/RichMedia", "/XFA", "/AA",
               "/SubmitForm", "/ImportData", "/GoToE")


def _clean_pdf(data: bytes, name: str) -> bytes:
    import pikepdf

    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        raise AttachmentError(_("%(name)s: the PDF is protected by a password. Send it without the password.",
                                name=name)) from None
    except (pikepdf.PdfError, OSError, ValueError, RuntimeError):
        raise AttachmentError(_("%(name)s: the PDF is damaged and cannot be read.", name=name)) from None
    with pdf:
        if pdf.is_encrypted:
            raise AttachmentError(_("%(name)s: the PDF is encrypted. Send it without the password.", name=name))
        try:
            roots = [pdf.trailer, *pdf.objects]
            for dictionary in _pdf_dictionaries(roots):
                keys = set(dictionary.keys())
                action = dictionary.get("/S")
                if keys.intersection(_PDF_ACTIVE) or action in (pikepdf.Name.JavaScript, pikepdf.Name.Launch):
                    raise AttachmentError(_(
                        "%(name)s: the PDF contains scripts, automatic actions or embedded files, which could "
                        "reveal who you are. Print it to a new PDF, or send photos of its pages.", name=name))
                for key in ("/Metadata", "/PieceInfo"):
                    if key in keys:
                        del dictionary[key]
            if "/Info" in pdf.trailer:
                del pdf.trailer["/Info"]
            for key in ("/Metadata", "/PieceInfo", "/OpenAction"):
                if key in pdf.Root:
                    del pdf.Root[key]
            out = io.BytesIO()
            pdf.save(out, deterministic_id=True, fix_metadata_version=False)
        except AttachmentError:
            raise
        except (pikepdf.PdfError, OSError, ValueError, RuntimeError, TypeError):
            raise AttachmentError(_("%(name)s: the PDF is damaged and cannot be read.", name=name)) from None
    return out.getvalue()


def _pdf_dictionaries(roots: list) -> list:
    """Every dictionary of the file: each indirect object and the direct dictionaries nested in it
    (an /OpenAction or /AA is often a direct dictionary inside the catalog or a page)."""
    import pikepdf

    found: list = []
    seen: set[tuple[int, int]] = set()
    stack = list(roots)
    while stack:
        obj = stack.pop()
        if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
            if obj.is_indirect:
                if obj.objgen in seen:
                    continue
                seen.add(obj.objgen)
            found.append(obj)
            stack.extend(v for v in obj.values() if _direct_container(v))
        elif isinstance(obj, pikepdf.Array):
            stack.extend(v for v in obj if _direct_container(v))
    return found


def _direct_container(value: object) -> bool:
    import pikepdf

    return isinstance(value, (pikepdf.Dictionary, pikepdf.Array)) and not value.is_indirect


_OFFICE_ACTIVE = re.compile(r"(vbaProject\.bin|vbaData\.xml|/embeddings/|/activeX/|^Basic/|^Scripts/|^Object ?\d|"
                            r"\.(bin|exe|dll|js|vbs|ole)$)", re.IGNORECASE)
_DOCX_EMPTY = {
    "docProps/core.xml": b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cp:coreProperties '
                         b'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
                         b'xmlns:dc="http://purl.org/dc/elements/1.1/"/>',
    "docProps/app.xml": b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties '
                        b'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"/>',
    "docProps/custom.xml": b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties '
                           b'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"/>',
}
_ODT_EMPTY_META = (b'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-meta '
                   b'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" office:version="1.2">'
                   b'<office:meta/></office:document-meta>')
_PEOPLE_ATTRS = re.compile(rb'\s(w:author|w:initials|w:date|w15:userId|w15:providerId)="[^"]*"')
_ODT_PEOPLE = re.compile(rb"<dc:(creator|date)>[^<]*</dc:\1>")
_MAX_UNPACKED = 200 * 1024 * 1024


def _clean_office(data: bytes, media_type: str, name: str) -> bytes:
    damaged = _("%(name)s: the document is damaged and cannot be read.", name=name)
    try:
        src = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise AttachmentError(damaged) from None
    out = io.BytesIO()
    with src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        infos = src.infolist()
        if sum(i.file_size for i in infos) > _MAX_UNPACKED:
            raise AttachmentError(damaged)
        if any(_OFFICE_ACTIVE.search(i.filename) for i in infos):
            raise AttachmentError(_("%(name)s: the document contains macros or embedded objects, which could "
                                    "reveal who you are. Save it as PDF and send that.", name=name))
        try:
            for info in infos:
                content = src.read(info.filename)
                fname = info.filename
                if media_type == DOCX and fname in _DOCX_EMPTY:
                    content = _DOCX_EMPTY[fname]
                elif media_type == ODT and fname == "meta.xml":
                    content = _ODT_EMPTY_META
                elif fname.endswith(".xml") or fname.endswith(".rels"):
                    content = _PEOPLE_ATTRS.sub(b"", content)
                    content = _ODT_PEOPLE.sub(b"", content)
                elif sniff(content) in ("image/jpeg", "image/png", "image/gif", "image/webp"):
                    content = _clean_embedded_image(content, fname)
                # ODF requires "mimetype" first and stored uncompressed.
                method = zipfile.ZIP_STORED if fname == "mimetype" else zipfile.ZIP_DEFLATED
                zinfo = zipfile.ZipInfo(fname, date_time=(1980, 1, 1, 0, 0, 0))
                zinfo.compress_type = method
                dst.writestr(zinfo, content)
        except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError):
            raise AttachmentError(damaged) from None
    return out.getvalue()


def _clean_embedded_image(content: bytes, fname: str) -> bytes:
    """Re-encode a picture inside a document in its own format, so the document's references stay valid."""
    try:
        with Image.open(io.BytesIO(content)) as img:
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise Image.DecompressionBombError("too many pixels")
            fmt = img.format or "PNG"
            img.load()
            bare = Image.frombytes(img.mode, img.size, img.tobytes())
            if img.mode == "P" and img.getpalette():
                bare.putpalette(img.getpalette())
            if fmt == "JPEG" and bare.mode not in ("L", "RGB", "CMYK"):
                bare = bare.convert("RGB")
            if fmt not in ("JPEG", "PNG", "GIF", "WEBP"):
                fmt = "PNG"
            buf = io.BytesIO()
            bare.save(buf, fmt)
            return buf.getvalue()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
        raise AttachmentError(_("%(name)s: a picture inside the document is damaged.", name=fname[:80])) from None


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.0f} MB"
    return f"{max(1, n // 1024)} KB"


def store(session: Session, files: Sequence[CleanFile], *, incident_id: int, submission_id: int | None,
          settings: Settings, written: list[Path] | None = None) -> list[Attachment]:
    """Write clean files under random names (mode 0600) and add their rows; `written` collects the paths
    so a caller whose transaction fails can remove them again."""
    folder = settings.attachments_dir
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    rows = []
    for f in files:
        stored_name = f"{secrets.token_hex(16)}.{EXTENSIONS[f.media_type]}"
        path = folder / stored_name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(f.content)
            fh.flush()
            os.fsync(fh.fileno())
        if written is not None:
            written.append(path)
        row = Attachment(incident_id=incident_id, submission_id=submission_id, stored_name=stored_name,
                         media_type=f.media_type, size=len(f.content), sha256=f.sha256)
        session.add(row)
        rows.append(row)
    return rows


def discard(paths: Sequence[Path]) -> None:
    """Remove files written for a transaction that did not commit."""
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
