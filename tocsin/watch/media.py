"""Screenshots and images: accept only real images of sane size, re-encoded without metadata.

Why re-encode: an uploaded file may carry EXIF GPS positions, the reporter's device, thumbnails of
other pictures, or bytes aimed at image parsers. Decoding with Pillow and writing fresh PNG/JPEG
pixels keeps only what the moderator must see. A decompression bomb (a small file that inflates
to billions of pixels) is refused before it is decoded.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from tocsin.core.errors import DomainError, TooLarge
from tocsin.core.offload import Lane

MAX_IMAGE_BYTES = 900_000  # below the 1 MB request limit, with room for the form
MAX_PIXELS = 20_000_000  # a 5000 x 4000 screenshot; more is refused, not decoded
MAX_SIDE = 2000  # larger images are scaled down: a moderator needs to see, not to print
ACCEPTED_FORMATS = frozenset({"PNG", "JPEG", "GIF", "WEBP"})
# Decoding and re-encoding costs 25 ms for a 1 MP screenshot, 0.4-0.8 s at MAX_PIXELS: run in the
# process pool (``tocsin.core.offload``), one at a time per worker, four waiting.
IMAGE_LANE = Lane("watch.image", concurrency=1, waiting=4, timeout_s=20.0, retry_after_s=5)


class ImageRefused(DomainError):
    """The upload is not an image this service accepts (422, nothing stored)."""

    status = 422
    code = "invalid_image"


class ImageTooLarge(TooLarge):
    pass


@dataclass(frozen=True)
class CleanImage:
    """A re-encoded image and its hashes."""

    data: bytes
    media_type: str
    sha256: str  # of the file as uploaded: partners' hash lists hash original files
    md5: str
    dhash: str  # of the pixels: survives the re-encoding that changes the file hashes


def check_size(raw: bytes) -> None:
    """Refuse an empty image or one over ``MAX_IMAGE_BYTES`` (cheap: before any decoding)."""
    if len(raw) > MAX_IMAGE_BYTES:
        raise ImageTooLarge(f"image is {len(raw)} bytes; at most {MAX_IMAGE_BYTES} accepted",
                            details={"limit": "max_image_bytes", "max": MAX_IMAGE_BYTES})
    if not raw:
        raise ImageRefused("image is empty")


def clean_image(raw: bytes) -> CleanImage:
    """Decode ``raw``, refuse bombs and non-images, re-encode without metadata, hash it.

    The pixel count is read from the header (``Image.open`` decodes nothing) and refused over
    ``MAX_PIXELS`` before any pixel is decoded. CPU-heavy: the API runs it in the process pool.
    """
    check_size(raw)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(raw))
            if probe.format not in ACCEPTED_FORMATS:
                raise ImageRefused(f"image format {probe.format} not accepted "
                                   f"(use {', '.join(sorted(ACCEPTED_FORMATS))})")
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise ImageRefused(f"image has {width}x{height} pixels; at most "
                                   f"{MAX_PIXELS} pixels accepted",
                                   details={"limit": "max_pixels", "max": MAX_PIXELS})
            probe.seek(0)
            probe.load()
    except ImageRefused:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError,
            Image.DecompressionBombWarning, OSError, ValueError, SyntaxError) as exc:
        raise ImageRefused(f"not a readable image: {exc.__class__.__name__}") from None
    image = probe.convert("RGBA" if probe.mode in ("RGBA", "LA", "P") else "RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    # A fresh image from the pixels alone: no EXIF, no ICC, no text chunks survive.
    fresh = Image.frombytes(image.mode, image.size, image.tobytes())
    if fresh.mode == "RGBA":
        fresh.save(out, format="PNG", optimize=True)
        media_type = "image/png"
    else:
        fresh.save(out, format="JPEG", quality=85)
        media_type = "image/jpeg"
    data = out.getvalue()
    return CleanImage(data, media_type, hashlib.sha256(raw).hexdigest(),
                      hashlib.md5(raw, usedforsecurity=False).hexdigest(), dhash(fresh))


def dhash(image: Image.Image, size: int = 8) -> str:
    """Return the 64-bit difference hash of ``image`` as 16 hex digits.

    dHash (Krawetz): grey, shrink to 9x8, one bit per "left brighter than right". It survives
    re-encoding and rescaling, is a few lines of Pillow, and needs no native dependency; PDQ
    (Meta's, used by HMA) is stronger against crops and would replace it where installed.
    """
    small = image.convert("L").resize((size + 1, size), Image.Resampling.LANCZOS)
    pixels = small.tobytes()  # mode L: one byte per pixel, row by row
    bits = 0
    for row in range(size):
        for col in range(size):
            left = pixels[row * (size + 1) + col]
            right = pixels[row * (size + 1) + col + 1]
            bits = (bits << 1) | int(left > right)
    return f"{bits:0{size * size // 4}x}"


def hamming(a: str, b: str) -> int:
    """Return the number of differing bits of two hex hashes of the same length."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
