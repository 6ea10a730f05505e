"""Photos of missing persons: uploaded, checked, re-encoded, stripped of every metadata.

A phone photo carries EXIF: the camera, the time and often the GPS position of the person who
took it (for a family photo: their home). We never store the uploaded bytes: the image is
decoded (refusing anything that is not JPEG, PNG, WebP or GIF, and decompression bombs),
turned upright from its EXIF orientation, scaled to at most 1600 px and written anew as a JPEG
with no EXIF, XMP, ICC or comment. The PFIF ``photo_url`` then points at our copy; the photo is
purged with the record that cites it, or after the default retention.

Limits (what a photo of a person needs, no more): at most ``MAX_PHOTO_BYTES`` uploaded, at most
``MAX_DECLARED_SIDE`` px on a side and ``MAX_PIXELS`` in all as the image's header declares
them. A 12-16 Mpx phone photo (4032 x 3024, 4624 x 3472) fits; a small PNG declaring 6,000 x
6,000 px (36 Mpx, 108 MB once decoded) does not. The header is read first (:func:`check_header`,
cheap: Pillow's ``Image.open`` reads no pixel), so an oversized image is refused with 413 before
anything is decoded.

Where the work runs: the decode and re-encode (:func:`reencode`) run in the worker's process
pool (``tocsin.core.offload``, lane :data:`LANE`), never on the event loop that also answers
the silent SOS; the database write (:func:`save`) runs afterwards in a thread, in its own short
transaction.
"""

from __future__ import annotations

import io
import secrets
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tocsin.core.db import session_scope, utcnow
from tocsin.core.errors import Invalid, NotFound, TooLarge
from tocsin.core.offload import Lane
from tocsin.persons.models import PersonPhoto
from tocsin.persons.service import DEFAULT_RETENTION

# A phone JPEG at full resolution is 2-5 MB (the request-wide body limit, TOCSIN_MAX_BODY_BYTES,
# 1 MB by default, applies first: the page scales the photo down before sending it).
MAX_PHOTO_BYTES = 5_000_000
# 4096 x 4096: a 16 Mpx photo fits, 108 MB of decoded pixels (6,000 x 6,000) does not.
MAX_PIXELS_SQUARE = 4096
MAX_PIXELS = MAX_PIXELS_SQUARE * MAX_PIXELS_SQUARE
# A side longer than this is a strip, not a photo of a person (and not a 16 Mpx phone photo).
MAX_DECLARED_SIDE = 8192
MAX_SIDE = 1600  # the stored copy: enough to recognise a face, small to serve
FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF"})
PATH = "/api/v1/persons/photos/"
# One decode at a time per worker (each up to MAX_PIXELS * 4 bytes of memory), 8 in line; past
# that 503 + Retry-After. A decode of a 16 Mpx image takes well under a second.
LANE = Lane("persons.photo", concurrency=1, waiting=8, timeout_s=20.0, retry_after_s=5)
_NOT_AN_IMAGE = "the file is not an image (JPEG, PNG, WebP or GIF expected)"
_IMAGE_ERRORS = (UnidentifiedImageError, Image.DecompressionBombError,
                 Image.DecompressionBombWarning, OSError, ValueError, SyntaxError)


class PhotoTooLarge(TooLarge):
    pass


def _open(data: bytes) -> Image.Image:
    """Open ``data`` reading only its header; refuse it past the byte and pixel limits."""
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoTooLarge(f"the photo is larger than {MAX_PHOTO_BYTES:,} bytes",
                            details={"max_bytes": MAX_PHOTO_BYTES})
    try:
        image: Image.Image = Image.open(io.BytesIO(data), formats=sorted(FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoTooLarge(f"the image declares more than {MAX_PIXELS:,} pixels "
                            f"({MAX_PIXELS_SQUARE} x {MAX_PIXELS_SQUARE})",
                            details={"max_pixels": MAX_PIXELS}) from exc
    except _IMAGE_ERRORS as exc:
        raise Invalid(_NOT_AN_IMAGE) from exc
    width, height = image.size
    if width < 1 or height < 1:
        raise Invalid(_NOT_AN_IMAGE)
    if max(width, height) > MAX_DECLARED_SIDE or width * height > MAX_PIXELS:
        raise PhotoTooLarge(
            f"the image declares {width} x {height} pixels; a photo may have at most "
            f"{MAX_PIXELS:,} pixels ({MAX_PIXELS_SQUARE} x {MAX_PIXELS_SQUARE}) and "
            f"{MAX_DECLARED_SIDE} on a side",
            details={"width": width, "height": height, "max_pixels": MAX_PIXELS,
                     "max_side": MAX_DECLARED_SIDE},
        )
    return image


def check_header(data: bytes) -> tuple[int, int]:
    """Return the declared size of the image in ``data``; refuse it past the limits (cheap)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = _open(data)
        return image.size


def _target(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, MAX_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def reencode(data: bytes) -> tuple[bytes, int, int]:
    """Return a clean JPEG of the image in ``data`` and its size; refuse what is not one.

    CPU-heavy: run it in the process pool (``runtime.offload.run(LANE, reencode, data)``).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = _open(data)  # the limits again: this function must be safe on its own
        try:
            # JPEG: let libjpeg decode at 1/2, 1/4 or 1/8 scale when the stored copy is that
            # much smaller (a no-op for the other formats).
            image.draft("RGB", _target(*image.size))
            image.load()
            image = ImageOps.exif_transpose(image) or image
            image = image.convert("RGB")
        except _IMAGE_ERRORS as exc:
            raise Invalid(_NOT_AN_IMAGE) from exc
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)  # no exif=, no icc_profile=
    return out.getvalue(), image.width, image.height


def keep(session: Session, *, clean: bytes, width: int, height: int) -> PersonPhoto:
    """Add an already re-encoded photo to the session (flushed, not committed)."""
    now = utcnow()
    photo = PersonPhoto(photo_id=secrets.token_urlsafe(16), data=clean, width=width,
                        height=height, created_at=now, purge_at=now + DEFAULT_RETENTION)
    session.add(photo)
    session.flush()
    return photo


def save(sessions: sessionmaker[Session], clean: bytes, width: int, height: int) -> str:
    """Store a re-encoded photo in its own short transaction; return its id (blocking)."""
    with session_scope(sessions) as session:
        return keep(session, clean=clean, width=width, height=height).photo_id


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
