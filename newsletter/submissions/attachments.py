"""Attachments: type checked by content, rebuilt without what could identify anyone, stored outside any
web root under random names.

What is done per type (the file name and the browser's stated type are ignored):
- JPEG, PNG, GIF, WebP: the header is read first and a picture over MAX_IMAGE_PIXELS is refused before
  it is decoded; then it is re-encoded from raw pixels with Pillow, so no EXIF, GPS, XMP, ICC, comment or
  text chunk survives. The EXIF orientation is applied to the pixels first. GIF and WebP become PNG
  (first frame only).
- PDF: rebuilt from pixels (pdfclean.py): every page is rendered to an image in a limited child process
  and a new PDF is made of those images, so nothing of the original file survives.
- DOCX and ODT: rebuilt from an allow-list of parts, elements and attributes (officeclean.py), pictures
  re-encoded like photos; read through a bounded unzipper (zip bombs are refused).
Anything else is refused with a message listing what is accepted. At most CLEANING_SLOTS files are
cleaned at once in the process, so parallel hostile uploads cannot add up to more memory than that.

The read side (end of the module) is for the editors' desk only: the list of an incident's files, a
small re-encoded thumbnail of a picture, and a download that is recorded in the audit log (who, which
attachment; never the content). Files are named by their incident and number, never by the sender's
file name, which is not stored.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import secrets
import threading
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter import audit
from newsletter.config import Settings
from newsletter.i18n import _
from newsletter.models import Attachment, User

MAX_FILES = 10
# 25 MP holds the photos of today's phones (12 MP, and 24 MP: 5712x4284); a bigger "photo" is a bomb.
# Decoded it takes up to 100 MB (RGBA), twice that while it is turned upright; the slots below bound the sum.
MAX_IMAGE_PIXELS = 25_000_000
CLEANING_SLOTS = 2
LARGE_IMAGE_PIXELS = 12_000_000  # a 12 MP phone photo is "small": two of them may be cleaned at once
SLOT_WAIT_SECONDS = 120
_slots = threading.BoundedSemaphore(CLEANING_SLOTS)
_large = threading.Lock()
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
    """The media type recognised from the first bytes, or None. A zip is opened through the bounded
    reader: a `mimetype` member that inflates to gigabytes is read no further than its first bytes."""
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
        from newsletter.submissions import officeclean

        try:
            return officeclean.package_type(data)
        except officeclean.OfficeRefused:
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
    """One file, cleaned in one of the process's CLEANING_SLOTS (waiting for a free one)."""
    name = _display(file.name)
    media_type = sniff(file.content)
    if media_type is None and file.content.startswith(b"PK\x03\x04") and _too_many_members(file.content):
        media_type = DOCX  # a zip too big to even list its members: refused as a bomb by the office cleaner
    if media_type is None:
        raise AttachmentError(_("%(name)s: this type of file is not accepted. Send photos (JPEG, PNG, GIF, WebP), "
                                "PDF, DOCX or ODT documents.", name=name))
    if not _slots.acquire(timeout=SLOT_WAIT_SECONDS):
        raise _busy(name)
    try:
        if media_type.startswith("image/"):
            return CleanFile(*_clean_image(file.content, name))
        if media_type == "application/pdf":
            return CleanFile(media_type, _clean_pdf(file.content, name))
        return CleanFile(media_type, _clean_office(file.content, media_type, name))
    finally:
        _slots.release()


def _too_many_members(data: bytes) -> bool:
    from newsletter.submissions import officeclean

    try:
        return officeclean.entry_count(data) > officeclean.MAX_MEMBERS
    except officeclean.OfficeRefused as exc:
        return exc.reason == "too_large"


def _too_many_pixels(name: str) -> AttachmentError:
    return AttachmentError(_("%(name)s: the picture is too large (more than %(mp)s megapixels).",
                             name=name, mp=MAX_IMAGE_PIXELS // 1_000_000))


def _open_image(data: bytes, name: str) -> Image.Image:
    """The picture with only its header read, refused above MAX_IMAGE_PIXELS before any decoding."""
    try:
        img = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(name) from None
    if img.width * img.height > MAX_IMAGE_PIXELS or img.width > 65_000 or img.height > 65_000:
        img.close()
        raise _too_many_pixels(name)
    return img


def _bare(img: Image.Image) -> Image.Image:
    """`img` with its info (EXIF, XMP, ICC, comments, text chunks ...) emptied. Pillow's savers take
    metadata only from the save options and, failing those, from `img.info`: with it empty and the
    options written here, only pixels (and a palette) are written. No second copy of the pixels
    is made, which halves the memory a big photo needs."""
    img.info.clear()
    return img


@contextmanager
def _room_for(img: Image.Image, name: str) -> Iterator[None]:
    """A picture over LARGE_IMAGE_PIXELS also takes the one large-picture turn: with CLEANING_SLOTS,
    at most one such picture (200 MB at most while it is turned) and one smaller job run at once."""
    if img.width * img.height <= LARGE_IMAGE_PIXELS:
        yield
        return
    if not _large.acquire(timeout=SLOT_WAIT_SECONDS):
        raise _busy(name)
    try:
        yield
    finally:
        _large.release()


def _busy(name: str) -> AttachmentError:
    return AttachmentError(_("%(name)s could not be checked now because many files are being processed. "
                             "Send it again in a few minutes.", name=name))


def _clean_image(data: bytes, name: str) -> tuple[str, bytes]:
    try:
        img = _open_image(data, name)
    except AttachmentError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise AttachmentError(_("%(name)s: the picture is damaged or incomplete and cannot be read.", name=name)) from None
    with img, _room_for(img, name):
        return _reencode(img, name)


def _replace(old: Image.Image, new: Image.Image) -> Image.Image:
    """`new`, with `old` closed so that its pixels are freed now rather than at the end."""
    if new is not old:
        old.close()
    return new


def _reencode(img: Image.Image, name: str) -> tuple[str, bytes]:
    try:
        fmt = img.format
        img.seek(0)
        transparency = img.info.get("transparency")
        img.load()
        img = _replace(img, ImageOps.exif_transpose(img) or img)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(name) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise AttachmentError(_("%(name)s: the picture is damaged or incomplete and cannot be read.", name=name)) from None
    if fmt == "JPEG":
        if img.mode not in ("L", "RGB", "CMYK"):
            img = _replace(img, img.convert("RGB"))
        out_type, save_fmt, options = "image/jpeg", "JPEG", {"quality": 90, "optimize": True}
    else:
        if img.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
            img = _replace(img, img.convert("RGBA" if "A" in img.getbands() else "RGB"))
        out_type, save_fmt, options = "image/png", "PNG", {"optimize": False}
    if img.mode == "P" and isinstance(transparency, int):
        options["transparency"] = transparency
    bare = _bare(img)
    buf = io.BytesIO()
    bare.save(buf, save_fmt, **options)
    bare.close()
    return out_type, buf.getvalue()


def _clean_pdf(data: bytes, name: str) -> bytes:
    from newsletter.submissions import pdfclean

    try:
        return pdfclean.rebuild_pdf(data)
    except pdfclean.PdfRefused as exc:
        raise AttachmentError(pdfclean.refusal_message(exc.reason, name)) from None


def _clean_office(data: bytes, media_type: str, name: str) -> bytes:
    from newsletter.submissions import officeclean

    def picture(content: bytes, part: str) -> bytes:
        return _clean_embedded_image(content, name)

    try:
        if media_type == DOCX:
            return officeclean.rebuild_docx(data, picture)
        return officeclean.rebuild_odt(data, picture)
    except AttachmentError:
        raise
    except officeclean.OfficeRefused as exc:
        if exc.reason == "too_large":
            raise AttachmentError(_(
                "%(name)s: unpacked, the document would be far larger than a text document can be, so it was "
                "not opened. Save it again as PDF, or send it in smaller parts.", name=name)) from None
        if exc.reason == "password":
            raise AttachmentError(_("%(name)s: the document is protected by a password. Send it without the "
                                    "password.", name=name)) from None
        raise AttachmentError(_("%(name)s: the document is damaged and cannot be read.", name=name)) from None
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError, NotImplementedError):
        raise AttachmentError(_("%(name)s: the document is damaged and cannot be read.", name=name)) from None


def _clean_embedded_image(content: bytes, name: str) -> bytes:
    """Re-encode a picture inside a document in its own format, so the document's references stay valid."""
    try:
        img = _open_image(content, name)
        with img, _room_for(img, name):
            fmt = img.format or "PNG"
            img.load()
            bare = _bare(img)
            if fmt == "JPEG" and bare.mode not in ("L", "RGB", "CMYK"):
                bare = _replace(bare, bare.convert("RGB"))
            if fmt not in ("JPEG", "PNG", "GIF"):
                fmt = "PNG"
            buf = io.BytesIO()
            bare.save(buf, fmt)
            return buf.getvalue()
    except AttachmentError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
        raise AttachmentError(_("%(name)s: a picture inside the document is damaged.", name=name)) from None


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


# ---------------------------------------------------------------- read side (the editors' desk)

THUMBNAIL_PIXELS = 320


class AttachmentNotFound(LookupError):
    """No such attachment on this incident, or its file is gone; the desk answers 404 either way."""


@dataclass(frozen=True)
class StoredFile:
    """A stored attachment ready to be sent: the bytes and the names the desk gives it."""

    attachment_id: int
    incident_id: int
    media_type: str
    content: bytes

    @property
    def filename(self) -> str:
        return download_name(self.incident_id, self.attachment_id, self.media_type)


def download_name(incident_id: int, attachment_id: int, media_type: str) -> str:
    return f"incident-{incident_id}-attachment-{attachment_id}.{EXTENSIONS.get(media_type, 'bin')}"


def is_picture(attachment: Attachment) -> bool:
    return attachment.media_type in ("image/jpeg", "image/png")


def for_incident(session: Session, incident_id: int) -> list[Attachment]:
    """The incident's cleaned files, oldest first."""
    return list(session.scalars(select(Attachment).where(Attachment.incident_id == incident_id).order_by(Attachment.id)))


def _find(session: Session, incident_id: int, attachment_id: int) -> Attachment:
    """The attachment only through its own incident: another incident's number finds nothing."""
    row = session.scalar(select(Attachment).where(Attachment.id == attachment_id, Attachment.incident_id == incident_id))
    if row is None:
        raise AttachmentNotFound(attachment_id)
    return row


def _read(row: Attachment, settings: Settings) -> bytes:
    folder = settings.attachments_dir.resolve()
    path = (folder / row.stored_name).resolve()
    if path.parent != folder:  # a stored name is ours (random hex); never follow one out of the folder
        raise AttachmentNotFound(row.id)
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise AttachmentNotFound(row.id) from None


def download(session: Session, *, incident_id: int, attachment_id: int, settings: Settings, actor: User) -> StoredFile:
    """The file for an editor, with the download recorded in the caller's transaction (who and which
    attachment; never the content)."""
    row = _find(session, incident_id, attachment_id)
    content = _read(row, settings)
    audit.record(session, actor=actor, action="attachment.downloaded", entity_type="attachment", entity_id=row.id,
                 changes={"incident_id": incident_id, "media_type": row.media_type, "size": row.size})
    return StoredFile(row.id, incident_id, row.media_type, content)


def thumbnail(session: Session, *, incident_id: int, attachment_id: int, settings: Settings) -> StoredFile:
    """A picture made small (at most THUMBNAIL_PIXELS a side) and encoded anew, so the desk page loads a few
    kilobytes instead of a 12-megapixel photo. Decoded in a cleaning slot, like an upload."""
    row = _find(session, incident_id, attachment_id)
    if not is_picture(row):
        raise AttachmentNotFound(attachment_id)
    data = _read(row, settings)
    if not _slots.acquire(timeout=SLOT_WAIT_SECONDS):
        raise AttachmentNotFound(attachment_id)
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise AttachmentNotFound(attachment_id)
            img.draft("RGB", (THUMBNAIL_PIXELS * 2, THUMBNAIL_PIXELS * 2))  # JPEG: decode at a reduced scale
            small = img.convert("RGBA" if "A" in img.getbands() or "transparency" in img.info else "RGB")
            small.thumbnail((THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))
            buf = io.BytesIO()
            if small.mode == "RGBA":
                small.save(buf, "PNG")
                media_type = "image/png"
            else:
                small.save(buf, "JPEG", quality=80)
                media_type = "image/jpeg"
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
        raise AttachmentNotFound(attachment_id) from None
    finally:
        _slots.release()
    return StoredFile(row.id, incident_id, media_type, buf.getvalue())
