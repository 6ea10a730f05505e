"""Screenshots and images: accept only real images of sane size, re-encoded without metadata.

Why re-encode: an uploaded file may carry EXIF GPS positions, the reporter's device, thumbnails of
other pictures, or bytes aimed at image parsers. Decoding with Pillow and writing fresh PNG/JPEG
pixels keeps only what the moderator must see. A decompression bomb (a small file that inflates
to billions of pixels) is refused before it is decoded.

The perceptual hash is PDQ (Meta's, the one ThreatExchange, HMA and the GIFCT database exchange),
computed by the ``pdqhash`` package (MIT; Python bindings over Meta's C++ reference, built from
its sdist with the C++ compiler CI has; no dependency of its own). The ``threatexchange`` package
was the other candidate: its PDQ signal is a thin wrapper around that very ``pdqhash`` (so the
hashes are the same, bit for bit: ``tests/watch/test_pdq_exchange.py`` checks ours against its
output), but it would bring requests, faiss-cpu, dacite and weighted-levenshtein along. The 256
bits are written as ThreatExchange writes them: bit 0 of ``pdqhash``'s vector is the most
significant bit of 64 lowercase hex digits. The hash is of the *decoded upload* (before our
re-encoding and before scaling down), as HMA hashes a file, so a partner hashing the same file
gets the same 64 digits.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

import numpy as np
import pdqhash
from PIL import Image, UnidentifiedImageError

from tocsin.core.errors import DomainError, TooLarge
from tocsin.core.offload import Lane

MAX_IMAGE_BYTES = 900_000  # below the 1 MB request limit, with room for the form
MAX_PIXELS = 20_000_000  # a 5000 x 4000 screenshot; more is refused, not decoded
MAX_SIDE = 2000  # larger images are scaled down: a moderator needs to see, not to print
ACCEPTED_FORMATS = frozenset({"PNG", "JPEG", "GIF", "WEBP"})
# ThreatExchange's PdqSignal.QUALITY_THRESHOLD: below it a hash is too unreliable to match on.
PDQ_MIN_QUALITY = 50
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
    pdq: str  # of the pixels: survives the re-encoding that changes the file hashes
    pdq_quality: int  # 0-100; HMA does not match below ``PDQ_MIN_QUALITY`` (flat images)


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
    pdq, quality = pdq_hash(probe)
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
                      hashlib.md5(raw, usedforsecurity=False).hexdigest(), pdq, quality)


def pdq_hash(image: Image.Image) -> tuple[str, int]:
    """Return the PDQ hash of ``image`` (64 hex digits) and its quality (0-100).

    Greyscale and palette images are turned into RGB first (ThreatExchange hashes a palette
    image's indices, not its colours; the colours are what a copy keeps); transparency is
    dropped, as in the re-encoded JPEG a partner would see.
    """
    pixels = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
    bits, quality = pdqhash.compute(pixels)
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)


def hamming(a: str, b: str) -> int:
    """Return the number of differing bits of two hex hashes of the same length."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
