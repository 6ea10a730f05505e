"""Screenshots: re-encoded without metadata; bombs, huge and non-images refused; PDQ."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from tests.watch.conftest import png_bytes
from tocsin.watch.media import (
    MAX_IMAGE_BYTES,
    ImageRefused,
    ImageTooLarge,
    clean_image,
    hamming,
    pdq_hash,
)


def _jpeg_with_exif() -> bytes:
    image = Image.open(io.BytesIO(png_bytes((80, 60))))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {2: (48.0, 51.0, 0.0)}  # GPS info
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_metadata_is_stripped() -> None:
    raw = _jpeg_with_exif()
    assert b"SecretCam" in raw
    clean = clean_image(raw)
    assert b"SecretCam" not in clean.data
    assert not Image.open(io.BytesIO(clean.data)).getexif()
    assert clean.media_type == "image/jpeg" and len(clean.sha256) == 64


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims a huge size (a decompression bomb's header)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("size", [(30_000, 30_000), (6_000, 4_000)])
def test_huge_pixel_counts_are_refused_before_decoding(size: tuple[int, int]) -> None:
    with pytest.raises(ImageRefused, match=r"pixels|readable"):
        clean_image(_png_header_only(*size))


def test_non_images_and_oversize_are_refused() -> None:
    with pytest.raises(ImageRefused):
        clean_image(b"%PDF-1.4 not an image")
    with pytest.raises(ImageRefused):
        clean_image(b"")
    with pytest.raises(ImageTooLarge):
        clean_image(b"\x00" * (MAX_IMAGE_BYTES + 1))
    bmp = io.BytesIO()
    Image.new("RGB", (4, 4)).save(bmp, format="BMP")
    with pytest.raises(ImageRefused, match="format"):
        clean_image(bmp.getvalue())


def test_pdq_is_of_the_upload_and_survives_our_reencoding() -> None:
    raw = (Path(__file__).parent / "data" / "scene_a.png").read_bytes()
    clean = clean_image(raw)
    assert (clean.pdq, clean.pdq_quality) == pdq_hash(Image.open(io.BytesIO(raw)))
    assert len(clean.pdq) == 64 and clean.pdq_quality >= 50
    stored = pdq_hash(Image.open(io.BytesIO(clean.data)))[0]
    assert hamming(clean.pdq, stored) <= 8  # the stored JPEG, as the migration hashes it
    palette = Image.open(io.BytesIO(raw)).convert("P")
    # A palette image is hashed by its colours (ThreatExchange would hash the indices).
    assert hamming(pdq_hash(palette)[0], clean.pdq) <= 31
