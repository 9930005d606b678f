"""Published photos: an editor's picture rebuilt from its pixels into small, bare JPEGs.

A photo that goes out with an issue is never the file an editor or a volunteer gave us: it is decoded,
turned upright (EXIF orientation applied first), converted to plain sRGB-less RGB and encoded anew, so
nothing of the original file survives but its pixels - no EXIF (GPS, camera serial), XMP, ICC profile,
comment or thumbnail. Two copies are made: one at most WEB_WIDTH pixels wide for the archive and the
PDF, one at most EMAIL_WIDTH wide for the email (linked, never embedded). Each is named by the SHA-256
of its bytes, so the same photo is stored and published once, and a URL never changes its picture.

Hostile files are refused with a clear message before their pixels are decoded: anything that is not a
JPEG, PNG or WebP by its first bytes (an SVG or an HTML page named .jpg), more than MAX_PIXELS
(decompression bombs), more than MAX_BYTES, or a picture that cannot be decoded to its end.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.i18n import N_, Refusal, Words

MAX_BYTES = 15 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 20_000
WEB_WIDTH = 1200
EMAIL_WIDTH = 600
MAX_HEIGHT_RATIO = 1.5  # a portrait photo is cut to 2:3 at most, so it never fills a phone's screen
WEB_QUALITY = 72
EMAIL_QUALITY = 68
ACCEPTED = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}
FILE_NAME = re.compile(r"^[0-9a-f]{64}\.jpg$")
ALT_MAX = 300
CAPTION_MAX = 500
# The words clean_words names (in the catalog: the desk names them in its language).
PHOTO_WORDS = (N_("alt text"), N_("caption"), N_("credit"))
CREDIT_MAX = 200


class PhotoRefused(Refusal, ValueError):
    """The file cannot be a published photo; the message says why in words an editor can act on."""


@dataclass(frozen=True)
class Copy:
    """One encoded copy of a photo: its bytes, its archive file name (content hash) and its size."""

    data: bytes
    width: int
    height: int

    @property
    def name(self) -> str:
        return f"{hashlib.sha256(self.data).hexdigest()}.jpg"


@dataclass(frozen=True)
class Derived:
    web: Copy
    email: Copy


def _kind(data: bytes) -> str:
    for magic, kind in ACCEPTED.items():
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    raise PhotoRefused(N_("the file is not a photo (only JPEG, PNG or WebP pictures can be published)"))


def _complete(data: bytes, kind: str) -> bool:
    """Whether the file ends as its format must. Decoding alone cannot tell: WeasyPrint, once imported,
    makes Pillow fill a truncated picture with grey (ImageFile.LOAD_TRUNCATED_IMAGES) for the whole process."""
    if kind == "JPEG":
        return data.rstrip(b"\0\r\n ").endswith(b"\xff\xd9")
    if kind == "PNG":
        return data[-12:-8] == b"\0\0\0\0" and data[-8:-4] == b"IEND"
    return int.from_bytes(data[4:8], "little") + 8 <= len(data)  # WebP: RIFF's own length


def _open(data: bytes) -> Image.Image:
    if not data:
        raise PhotoRefused(N_("the file is empty"))
    if len(data) > MAX_BYTES:
        raise PhotoRefused(N_("the file is too large (%(size)s MB; at most %(limit)s MB)"), size=len(data) // (1024 * 1024),
                           limit=MAX_BYTES // (1024 * 1024))
    kind = _kind(data)
    if not _complete(data, kind):
        raise PhotoRefused(N_("the picture is damaged or incomplete and cannot be read"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=[kind])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRefused(N_("the picture has too many pixels (at most %(mp)s megapixels)"), mp=MAX_PIXELS // 1_000_000) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise PhotoRefused(N_("the picture is damaged or incomplete and cannot be read")) from None
    if img.width > MAX_SIDE or img.height > MAX_SIDE or img.width * img.height > MAX_PIXELS:
        img.close()
        raise PhotoRefused(N_("the picture is too large (%(width)s × %(height)s pixels; at most %(mp)s megapixels and "
                              "%(side)s pixels a side)"), width=img.width, height=img.height,
                           mp=MAX_PIXELS // 1_000_000, side=MAX_SIDE)
    if img.width < 1 or img.height < 1:
        img.close()
        raise PhotoRefused(N_("the picture has no pixels"))
    return img


def _encode(img: Image.Image, width: int, quality: int) -> Copy:
    if img.width > width:
        img = img.resize((width, max(1, round(img.height * width / img.width))), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    # No exif=, icc_profile=, comment= and an empty info: Pillow writes the pixels and nothing else.
    img.info.clear()
    img.save(buf, "JPEG", quality=quality, optimize=True, progressive=True, subsampling="4:2:0")
    return Copy(buf.getvalue(), img.width, img.height)


def derive(data: bytes) -> Derived:
    """The two published copies of a picture, rebuilt from its pixels; PhotoRefused for anything else."""
    img = _open(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.seek(0)
            img.load()
            upright = ImageOps.exif_transpose(img) or img
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRefused(N_("the picture has too many pixels (at most %(mp)s megapixels)"), mp=MAX_PIXELS // 1_000_000) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise PhotoRefused(N_("the picture is damaged or incomplete and cannot be read")) from None
    finally:
        img.close()
    if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
        rgba = upright.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
    else:
        flat = upright.convert("RGB")
    # Pixels only: a new image holds no info, palette or profile of the original.
    bare = Image.new("RGB", flat.size)
    bare.paste(flat)
    limit = round(bare.width * MAX_HEIGHT_RATIO)
    if bare.height > limit:
        top = (bare.height - limit) // 2
        bare = bare.crop((0, top, bare.width, top + limit))
    return Derived(web=_encode(bare, WEB_WIDTH, WEB_QUALITY), email=_encode(bare, EMAIL_WIDTH, EMAIL_QUALITY))


def clean_words(value: object, limit: int, what: str, *, required: bool = False) -> str:
    """An alt text, caption or credit: one line of plain text within its limit."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise PhotoRefused(N_("the photo's %(what)s must be text"), what=Words(what))
    value = " ".join(value.split())
    if required and not value:
        raise PhotoRefused(N_("the photo needs its %(what)s (what it shows, for readers who cannot see it)"),
                           what=Words(what))
    if len(value) > limit:
        raise PhotoRefused(N_("the photo's %(what)s is too long (%(length)s characters, at most %(limit)s)"),
                           what=Words(what), length=len(value), limit=limit)
    return value


def store(session: Session, derived: Derived) -> None:
    """Keep both copies (once each: a content-hash name is the same picture) in the caller's transaction."""
    from newsletter.models import Media

    for copy in (derived.web, derived.email):
        if session.get(Media, copy.name) is None:
            session.add(Media(name=copy.name, data=copy.data, width=copy.width, height=copy.height))
    session.flush()


def load(session: Session, names: Iterable[str]) -> dict[str, bytes]:
    """The bytes of the named copies that exist (publishing writes them into the archive)."""
    from newsletter.models import Media

    wanted = sorted({n for n in names if FILE_NAME.match(n)})
    if not wanted:
        return {}
    return {m.name: m.data for m in session.scalars(select(Media).where(Media.name.in_(wanted)))}


def photo_record(derived: Derived, *, alt: object, caption: object = "", credit: object = "",
                 no_one_identifiable: bool = False, origin: str) -> dict[str, Any]:
    """What an incident keeps of its photo (Incident.photo): the copies' names and sizes and its words."""
    return {
        "web": derived.web.name, "width": derived.web.width, "height": derived.web.height,
        "email": derived.email.name, "email_width": derived.email.width, "email_height": derived.email.height,
        "alt": clean_words(alt, ALT_MAX, "alt text", required=True),
        "caption": clean_words(caption, CAPTION_MAX, "caption"),
        "credit": clean_words(credit, CREDIT_MAX, "credit"),
        "no_one_identifiable": bool(no_one_identifiable), "origin": origin,
    }
