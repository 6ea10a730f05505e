"""Photos of missing persons: uploaded, checked, re-encoded, stripped of every metadata.

A phone photo carries EXIF: the camera, the time and often the GPS position of the person who
took it (for a family photo: their home). We never store the uploaded bytes: the image is
decoded (refusing anything that is not JPEG, PNG, WebP or GIF, and decompression bombs),
turned upright from its EXIF orientation, scaled to at most 1600 px and written anew as a JPEG
with no EXIF, XMP, ICC or comment. The PFIF ``photo_url`` then points at our copy; the photo is
purged with the record that cites it, or after the default retention.
"""

from __future__ import annotations

import io
import secrets
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.core.db import utcnow
from tocsin.core.errors import Invalid, NotFound, TooLarge
from tocsin.persons.models import PersonPhoto
from tocsin.persons.service import DEFAULT_RETENTION

MAX_PHOTO_BYTES = 5_000_000
MAX_PIXELS = 40_000_000
MAX_SIDE = 1600
FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF"})
PATH = "/api/v1/persons/photos/"


class PhotoTooLarge(TooLarge):
    pass


def reencode(data: bytes) -> tuple[bytes, int, int]:
    """Return a clean JPEG of the image in ``data`` and its size; refuse what is not one."""
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoTooLarge(f"the photo is larger than {MAX_PHOTO_BYTES} bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data), formats=sorted(FORMATS))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise Invalid(f"the image has more than {MAX_PIXELS} pixels")
            image.load()
            image = ImageOps.exif_transpose(image) or image
    except (UnidentifiedImageError, Image.DecompressionBombError,
            Image.DecompressionBombWarning, OSError, ValueError, SyntaxError) as exc:
        raise Invalid("the file is not an image (JPEG, PNG, WebP or GIF expected)") from exc
    image = image.convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)  # no exif=, no icc_profile=
    return out.getvalue(), image.width, image.height


def store(session: Session, *, data: bytes) -> PersonPhoto:
    """Re-encode and keep a photo; return it (its URL is ``PATH + photo_id``)."""
    clean, width, height = reencode(data)
    now = utcnow()
    photo = PersonPhoto(photo_id=secrets.token_urlsafe(16), data=clean, width=width,
                        height=height, created_at=now, purge_at=now + DEFAULT_RETENTION)
    session.add(photo)
    session.flush()
    return photo


def get(session: Session, photo_id: str) -> PersonPhoto:
    """Return a stored photo or raise NotFound."""
    photo = session.scalar(select(PersonPhoto).where(PersonPhoto.photo_id == photo_id))
    if photo is None or photo.purge_at <= utcnow():
        raise NotFound("no such photo")
    return photo


def photo_id_of(url: str | None) -> str | None:
    """Return our photo id if ``url`` points at a photo stored here."""
    if not url or PATH not in url:
        return None
    return url.rsplit(PATH, 1)[1].split("?")[0][:32] or None
